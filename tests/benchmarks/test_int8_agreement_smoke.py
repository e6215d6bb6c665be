"""int8_agreement.py --quick end to end: the demo's training and the served model, their gate numbers."""

from __future__ import annotations

import pytest
from results_contract import load_results

from benchmarks import int8_agreement


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_quick_run_reports_the_gates_numbers_of_both_datasets(tmp_path):
    assert int8_agreement.main(["--quick", "--results-dir", str(tmp_path)]) == 0

    results = load_results(tmp_path, int8_agreement.NAME)
    rows = {row["metric"]: row for row in results["summary"]}
    for label in ("demo dataset", "larger generated dataset"):
        gate = results["details"][label]["gate"]
        agreement = rows[f"{label}: top-1 agreement int8 vs fp32"]
        assert agreement["value"] == round(100 * gate["top1_agreement"], 2)
        assert agreement["goal"] == ">= 99%" and agreement["met"] == (gate["top1_agreement"] >= 0.99)
        assert rows[f"{label}: validation images compared"]["value"] == gate["images"] > 0


def test_a_pack_that_built_no_int8_model_is_an_error_not_a_number():
    with pytest.raises(RuntimeError, match="packing built no int8 model to compare: no data directory"):
        int8_agreement.rows_for(
            "x", {"precision": "fp32", "reason": "no data directory: nothing to calibrate"}
        )
