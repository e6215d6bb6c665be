"""inference_latency.py --quick end to end: the served model (train.py, the int8 gate), every request path,
the contract."""

from __future__ import annotations

import pytest
from results_contract import assert_png, load_results

from benchmarks import inference_latency
from benchmarks.course_baseline import course_key


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_quick_run_writes_the_results_contract_and_a_plot(tmp_path):
    assert inference_latency.main(["--quick", "--results-dir", str(tmp_path)]) == 0

    results = load_results(tmp_path, inference_latency.NAME)
    details = results["details"]
    rows = {row["metric"]: row for row in results["summary"]}
    assert rows["p50 speedup over the course path, JPEG photo mix"]["goal"] == ">= 3x"
    precision = details["model"]["serving"]["precision"]
    floor_row = f"model forward / FLOP floor, served {precision}, 1 thread (median of interleaved rounds)"
    assert rows[floor_row]["goal"] == "<= 1.3x"
    assert all(row["measured"] for row in rows.values())
    assert {row["input"] for row in details["latency"]} == {"jpeg 0.3 MP", "png 0.3 MP"}
    paths = ("ours_ms", "course_ms", "ours_1_thread_per_worker_ms", "ours_fp32_torch_ms")
    assert all(row[path]["p50"] > 0 for row in details["latency"] for path in paths)
    assert details["forward"]["gflops_per_forward"] > 0
    floor = details["forward"]["floor"]
    assert set(floor) == {
        "torch fp32, all cores",
        "torch fp32, 1 thread",
        "served, all cores",
        "served, 1 thread",
    }
    expected_rate = "int8_matmul_gops_1_thread" if precision == "int8" else "matmul_gflops_1_thread"
    assert floor["served, 1 thread"]["rate"] == expected_rate
    agreement = details["agreement"]
    assert agreement["images"] >= 2 and 0 <= agreement["top1_agreement"] <= 1
    assert 0 <= agreement["max_abs_probability_error"] < 1
    assert_png(tmp_path / details["plot"])


def test_course_path_loads_our_weights_under_the_course_names():
    assert course_key("backbone.layer1.0.conv1.weight") == "layer1.0.conv1.weight"
    assert course_key("head.weight") == "fc.0.weight"
    assert course_key("head.bias") == "fc.0.bias"
