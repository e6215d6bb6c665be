"""input_pipeline.py --quick end to end: both loaders over the same generated images, the contract."""

from __future__ import annotations

from results_contract import assert_png, load_results

from benchmarks import input_pipeline


def test_quick_run_writes_the_results_contract_and_a_plot(tmp_path):
    assert input_pipeline.main(["--quick", "--results-dir", str(tmp_path)]) == 0

    results = load_results(tmp_path, input_pipeline.NAME)
    rates = results["details"]["images_per_s"]
    assert set(rates) == {"course (ImageFolder)", "ours, full decode", "ours, draft decode (kept)"}
    assert all(rate > 0 for rate in rates.values())
    assert results["details"]["images"] == 4
    assert_png(tmp_path / results["details"]["plot"])
