"""run_all.py runs what it is given, lists it, never reports stale numbers; docs come from the JSON."""

from __future__ import annotations

import json
import sys

import pytest
from results_contract import load_results

from benchmarks import report, run_all


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_quick_run_lists_what_ran_and_writes_the_summary_from_the_results(tmp_path):
    docs = tmp_path / "docs" / "benchmarks.md"
    results_dir = tmp_path / "results"
    argv = ["--quick", "--only", "lambda_overhead", "--results-dir", str(results_dir), "--docs", str(docs)]

    assert run_all.main(argv) == 0

    runner = load_results(results_dir, run_all.NAME)
    assert [(r["script"], r["status"]) for r in runner["details"]["ran"]] == [
        ("benchmarks/lambda_overhead.py", "ok")
    ]
    text = docs.read_text()
    for row in load_results(results_dir, "lambda_overhead")["summary"]:
        assert f"| {row['metric']} | {report._number(row['value'])} | {row['unit']} |" in text
    assert "](../results/lambda_overhead.png)" in text
    assert "Smoke run" in text


def test_results_the_run_did_not_produce_are_marked_with_their_own_date(tmp_path):
    results_dir = tmp_path / "results"
    common = ["--quick", "--results-dir", str(results_dir)]
    run_all.main([*common, "--only", "lambda_overhead", "--docs", str(tmp_path / "first.md")])
    (results_dir / "lambda_overhead.json").rename(results_dir / "by_hand.json")
    run_all.main([*common, "--only", "cost", "--docs", str(tmp_path / "b.md")])  # fails: no capacity results

    text = (tmp_path / "b.md").read_text()
    date = json.loads((results_dir / "by_hand.json").read_text())["date"]
    assert f"*Not part of this run: `by_hand.json` is from a run by hand on {date}.*" in text


def stale_results(results_dir, name):
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"{name}.json").write_text(json.dumps({"stale": True}))
    (results_dir / f"{name}.png").write_bytes(b"old plot")


def test_a_failing_benchmark_fails_the_run_and_leaves_no_stale_numbers(tmp_path, monkeypatch):
    crash = [sys.executable, "-c", "raise RuntimeError('benchmark broke')"]
    monkeypatch.setattr(run_all, "command_for", lambda name, argv: crash)
    stale_results(tmp_path, "lambda_overhead")
    argv = ["--only", "lambda_overhead", "--results-dir", str(tmp_path), "--docs", str(tmp_path / "b.md")]

    assert run_all.main(argv) == 1

    runner = load_results(tmp_path, run_all.NAME)
    assert runner["details"]["ran"][0]["status"] == "failed (exit 1)"
    assert (
        not (tmp_path / "lambda_overhead.json").exists() and not (tmp_path / "lambda_overhead.png").exists()
    )
    assert "| `benchmarks/lambda_overhead.py` | failed (exit 1) |" in (tmp_path / "b.md").read_text()


def test_a_benchmark_missing_from_the_checkout_is_listed_and_fails_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr(run_all, "BENCHMARKS_DIR", tmp_path / "no-benchmarks-here")

    assert run_all.main(["--quick", "--only", "tuning_cost", "--results-dir", str(tmp_path)]) == 1

    ran = load_results(tmp_path, run_all.NAME)["details"]["ran"]
    assert ran == [{"script": "benchmarks/tuning_cost.py", "status": "missing", "seconds": 0.0}]


def test_each_benchmark_runs_in_a_fresh_interpreter_calling_its_main(tmp_path):
    command = run_all.command_for("cost", ["--quick", "--results-dir", str(tmp_path)])

    assert command[0] == sys.executable and "from benchmarks.cost import main" in command[2]
    assert command[3:] == ["--quick", "--results-dir", str(tmp_path)]


def test_unknown_benchmark_names_are_refused():
    with pytest.raises(SystemExit, match="unknown benchmark"):
        run_all.main(["--only", "endpoint_capacity,nonsense"])
