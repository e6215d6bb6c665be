"""cost.py: the arithmetic against the repository's prices table, what is marked extrapolated, bad inputs."""

from __future__ import annotations

import csv

import pytest
from results_contract import assert_png, load_results

from benchmarks import cost
from benchmarks.common import SummaryRow, write_results

MEASURED_RPS = 6.0  # on a 2-core machine: 3 requests/s per core


@pytest.fixture
def capacity_results(tmp_path, monkeypatch):
    monkeypatch.setattr("benchmarks.common.usable_cpus", lambda: 2)
    details = {
        "max_sustainable_rps": MEASURED_RPS,
        "model": {"arch": "resnet50"},
        "slo": {"text": "p99 <= 1000 ms and no failed request"},
    }
    row = SummaryRow("endpoint max sustainable throughput", MEASURED_RPS, "requests/s")
    write_results(tmp_path, "endpoint_capacity", [row], details, quick=True)
    return tmp_path


def prices(instance_type: str) -> float:
    with cost.DEFAULT_PRICES.open(newline="") as file:
        return next(
            float(r["sagemaker_usd_per_hour"])
            for r in csv.DictReader(file)
            if r["instance_type"] == instance_type
        )


def test_quick_run_costs_cpu_instances_from_the_measured_throughput(capacity_results):
    assert cost.main(["--quick", "--results-dir", str(capacity_results)]) == 0

    results = load_results(capacity_results, cost.NAME)
    lines = {line["instance_type"]: line for line in results["details"]["lines"]}
    c5 = lines["ml.c5.xlarge"]  # 4 vCPU -> 3 x 4 = 12 requests/s, 6 at the autoscaling target
    assert c5["requests_per_s"] == pytest.approx(12.0)
    assert c5["usd_per_million_at_target"] == pytest.approx(
        prices("c5.xlarge") / (6.0 * 3600) * 1e6, rel=1e-3
    )
    assert c5["usd_per_million_at_max"] == pytest.approx(c5["usd_per_million_at_target"] / 2, rel=1e-3)
    assert_png(capacity_results / results["details"]["plot"])


def test_extrapolated_numbers_are_marked_and_gpus_get_no_throughput(capacity_results):
    cost.main(["--quick", "--results-dir", str(capacity_results)])

    results = load_results(capacity_results, cost.NAME)
    by_metric = {row["metric"]: row for row in results["summary"]}
    measured = [row for row in by_metric.values() if row["measured"]]
    assert [row["value"] for row in measured] == [MEASURED_RPS, MEASURED_RPS / 2]
    assert all(not row["measured"] for row in by_metric.values() if "ml." in row["metric"])
    gpu_lines = [line for line in results["details"]["lines"] if line["gpu"]]
    assert gpu_lines and all(line["requests_per_s"] is None for line in gpu_lines)
    assert all(line["break_even_requests_per_s"] > 0 for line in gpu_lines)


def test_without_capacity_results_it_says_what_to_run(tmp_path, capsys):
    assert cost.main(["--results-dir", str(tmp_path)]) == 2
    assert "run benchmarks/endpoint_capacity.py first" in capsys.readouterr().err


def test_a_missing_prices_table_is_a_clear_error(capacity_results, tmp_path, capsys):
    assert cost.main(["--results-dir", str(capacity_results), "--prices", str(tmp_path / "none.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_prices_table_without_the_expected_columns_is_a_clear_error(capacity_results, tmp_path, capsys):
    table = tmp_path / "prices.csv"
    table.write_text("instance_type,usd\nc5.xlarge,0.2\n")
    assert cost.main(["--results-dir", str(capacity_results), "--prices", str(table)]) == 2
    assert "unexpected columns" in capsys.readouterr().err
