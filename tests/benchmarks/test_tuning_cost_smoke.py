"""tuning_cost.py --quick end to end: real train.py trials with and without the cache, the contract."""

from __future__ import annotations

import pytest
from results_contract import assert_png, load_results

from benchmarks import tuning_cost


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_quick_run_writes_the_results_contract_and_a_plot(tmp_path):
    assert tuning_cost.main(["--quick", "--results-dir", str(tmp_path)]) == 0

    results = load_results(tmp_path, tuning_cost.NAME)
    details = results["details"]
    assert [trial["mode"] for trial in details["trials"]] == ["cache build", "uncached", "cached"]
    assert all(trial["seconds"] > 0 for trial in details["trials"])
    rows = {row["metric"]: row for row in results["summary"]}
    extrapolated = [row for row in rows.values() if not row["measured"]]
    assert extrapolated and all("extrapolated" in row["metric"] for row in extrapolated)
    assert_png(tmp_path / details["plot"])


def test_extrapolation_scales_the_backbone_passes_and_the_scan_costs():
    plan = tuning_cost.Plan("resnet18", 64, 2, {"train": 3, "valid": 2, "test": 1}, epochs=1, pairs=1)
    scan = tuning_cost.ScanCost(index_s_per_image=0.001, hash_s_per_byte=1e-9)
    # 1 epoch x (6 train + 4 valid) + 2 test = 12 backbone passes cost 12 s more than the cached trial
    result = tuning_cost.extrapolate(plan, uncached_s=22.0, cached_s=10.0, scan=scan)
    assert result["per_image_backbone_ms"] == 1000.0
    index_s, hash_s = 0.001 * (6680 + 835 + 836), 1e-9 * tuning_cost.DOG_IMAGES_BYTES
    full_passes = 10 * (6680 + 835) + 836
    assert result["uncached_trial_s"] == round(10.0 + index_s + full_passes, 1)
    assert result["cached_trial_s"] == round(10.0 + index_s + hash_s, 1)
    assert result["speedup"] == round((10.0 + index_s + full_passes) / (10.0 + index_s + hash_s), 1)


def test_metric_difference_is_judged_against_its_standard_error():
    trial = tuning_cost.Trial
    close = [
        trial("cache build", 1, 0.50, 1, 0),
        trial("uncached", 1, 0.45, 1, 0),
        trial("cached", 1, 0.50, 1, 0),
    ]
    far = [
        trial("cache build", 1, 0.95, 1, 0),
        trial("uncached", 1, 0.20, 1, 0),
        trial("cached", 1, 0.95, 1, 0),
    ]
    assert tuning_cost.metric_noise(close, valid_images=20)["within_two_standard_errors"]
    assert not tuning_cost.metric_noise(far, valid_images=20)["within_two_standard_errors"]
