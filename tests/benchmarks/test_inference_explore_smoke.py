"""inference_explore.py --quick: eager forward measured and checked, absent optional runtimes reported."""

from __future__ import annotations

import importlib.util

from results_contract import assert_png, load_results

from benchmarks import inference_explore


def test_quick_run_writes_the_results_contract_and_names_what_it_skipped(tmp_path):
    assert inference_explore.main(["--quick", "--results-dir", str(tmp_path)]) == 0

    results = load_results(tmp_path, inference_explore.NAME)
    details = results["details"]
    assert details["skipped"]["torch.compile"] == "not run in --quick"
    if importlib.util.find_spec("onnxruntime") is None:
        assert details["skipped"]["ONNX Runtime"].startswith("not installed")
    eager = details["accuracy_vs_fp32_eager"][inference_explore.EAGER]
    assert eager["top1_agreement"] == 1.0 and eager["max_probability_error"] < 1e-3
    assert_png(tmp_path / details["plot"])
