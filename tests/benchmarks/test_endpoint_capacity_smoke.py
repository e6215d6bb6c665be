"""endpoint_capacity.py: a --quick run end to end (real endpoint process, real locust), and its decisions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from results_contract import assert_png, load_results

from benchmarks import endpoint_capacity as capacity
from benchmarks import served_model
from benchmarks.capacity_load import LoadPlan, Slo, StepResult, summarize_step
from benchmarks.capacity_model import TFVARS_VARIABLE, invocations_target, max_sustainable

SLO = Slo(p99_ms=1000.0, max_error_rate=0.0)
PLAN = LoadPlan((1, 2), step_seconds=10.0, warmup_seconds=2.0, max_seconds=60.0, megapixels=(0.3,))


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("capacity")
    argv = [
        "--quick",
        "--results-dir",
        str(root / "results"),
        "--tfvars",
        str(root / "autoscaling.auto.tfvars.json"),
    ]
    exit_code = capacity.main([*argv, "--cache-dir", str(root / "cache")])
    return exit_code, root


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_quick_run_writes_results_plot_and_a_consistent_target(quick_run):
    exit_code, root = quick_run
    results = load_results(root / "results", capacity.NAME)
    details = results["details"]
    tfvars = json.loads((root / "autoscaling.auto.tfvars.json").read_text())

    assert exit_code == 0
    for name in ("ours", "course"):
        deployment = details["deployments"][name]
        steps = deployment["steps"]
        assert [step["concurrency"] for step in steps] == [1, 2][: len(steps)]
        assert len(steps) == 2 or deployment["stop_reason"].startswith("concurrency 1 broke the SLO")
        assert all(step["requests"] > 0 for step in steps)
    assert details["max_sustainable_rps"] == details["deployments"]["ours"]["max_sustainable_rps"]
    latency = details["sequential_latency"]
    assert latency["ours"]["requests"] > 0 and latency["course"]["requests"] == latency["ours"]["requests"]
    assert tfvars == {TFVARS_VARIABLE: round(details["max_sustainable_rps"] * 60 * 0.5)}
    assert details["invocations_per_instance_target"] == tfvars[TFVARS_VARIABLE]
    summary = {row["metric"]: row for row in results["summary"]}
    assert any(row["value"] == details["max_sustainable_rps"] for row in summary.values())
    assert_png(root / "results" / details["plot"])


def samples(latencies_s, ok=None, start=1000.0, spacing=0.1):
    """Rows (start, latency, ok, image 0) of requests started `spacing` seconds apart."""
    ok = [True] * len(latencies_s) if ok is None else ok
    return np.array(
        [
            (start + i * spacing, lat, float(good), 0.0)
            for i, (lat, good) in enumerate(zip(latencies_s, ok, strict=True))
        ]
    )


def test_step_statistics_drop_the_warm_up_and_count_completions_in_the_window():
    # 100 requests 0.1 s apart over 10 s, 50 ms each; the first 2 s (20 requests) are warm-up
    step = summarize_step(4, samples([0.05] * 100), PLAN, SLO)

    assert step.requests == 80
    assert step.throughput_rps == pytest.approx(80 / 8.0)
    assert step.p99_ms == pytest.approx(50.0)
    assert step.meets_slo


def test_latency_is_also_reported_per_request_image():
    rows = samples([0.05] * 100)
    rows[1::2, 1], rows[1::2, 3] = 0.2, 1  # every other request is image 1 and takes 200 ms

    assert summarize_step(2, rows, PLAN, SLO).p50_ms_by_image == {0: 50.0, 1: 200.0}


def test_a_step_over_the_p99_slo_breaks_it():
    latencies = [0.05] * 90 + [1.5] * 10  # p99 = 1500 ms
    assert not summarize_step(4, samples(latencies), PLAN, SLO).meets_slo


def test_a_single_failed_request_breaks_the_slo():
    ok = [True] * 99 + [False]
    step = summarize_step(4, samples([0.05] * 100, ok), PLAN, SLO)

    assert step.failures == 1
    assert not step.meets_slo


def step(concurrency, rps, meets):
    return StepResult(concurrency, 100, 0, 8.0, rps, 10, 20, 30, 40, 0.0, meets, {0: 10})


def test_max_sustainable_is_the_best_throughput_that_met_the_slo():
    steps = [step(1, 3.0, True), step(2, 5.5, True), step(4, 5.2, True), step(8, 6.0, False)]
    assert max_sustainable(steps).concurrency == 2
    assert max_sustainable([step(1, 3.0, False)]) is None


def test_invocations_target_is_max_rps_x_60_x_half():
    assert invocations_target(7.3) == 219
    assert invocations_target(0.001) == 1  # never 0: the stack refuses a non-positive target


def test_quick_runs_leave_the_repository_tfvars_alone_unless_asked():
    parser = capacity.get_args_parser()
    assert capacity.tfvars_path(parser.parse_args(["--quick"])) is None
    assert capacity.tfvars_path(parser.parse_args([])) == capacity.DEFAULT_TFVARS
    assert str(capacity.tfvars_path(parser.parse_args(["--quick", "--tfvars", "x.json"]))) == "x.json"


def test_the_served_model_is_rebuilt_when_the_code_changes(tmp_path, monkeypatch):
    built = []

    def fake_build(plan, root):
        built.append(root)
        (root / "extracted").mkdir(parents=True)
        (root / "extracted" / "model_meta.json").write_text('{"serving": {}}')
        (root / "model.tar.gz").write_bytes(b"archive")

    monkeypatch.setattr(served_model, "_build", fake_build)
    monkeypatch.setattr(served_model, "code_version", lambda: "v1")
    first = served_model.served_model(served_model.QUICK, tmp_path)
    assert served_model.served_model(served_model.QUICK, tmp_path) == first and len(built) == 1  # reused
    monkeypatch.setattr(served_model, "code_version", lambda: "v2")
    second = served_model.served_model(served_model.QUICK, tmp_path)
    assert len(built) == 2 and second.archive != first.archive
    assert second.archive.is_file() and not first.archive.exists()  # one cached model per arch
    assert not list(tmp_path.glob(".building-*"))
