"""serving_runtimes.py --quick end to end: every runtime built from the packed model, the contract."""

from __future__ import annotations

import pytest
from results_contract import load_results

from benchmarks import serving_runtimes
from benchmarks.request_costs import numpy_transform
from dogbreed.preprocessing import Preprocessing


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_quick_run_measures_every_candidate_side_by_side(tmp_path):
    assert serving_runtimes.main(["--quick", "--results-dir", str(tmp_path)]) == 0

    details = load_results(tmp_path, serving_runtimes.NAME)["details"]
    measured = set(details["forward_p50_ms"])
    assert {"torch fp32", "onnxruntime fp32", "onnxruntime int8"} <= measured
    assert measured | set(details["skipped"]) == {
        "torch fp32", "onnxruntime fp32", "onnxruntime int8", "openvino fp32", "openvino int8", "torch int8"
    }  # fmt: skip
    assert all(
        value > 0 for by_threads in details["forward_p50_ms"].values() for value in by_threads.values()
    )
    assert set(details["agreement"]) == measured
    assert details["agreement"]["torch fp32"]["top1_agreement"] == 1.0
    assert (
        "jpeg 0.3 MP" in details["decode_ms"] and "decode, draft mode" in details["decode_ms"]["jpeg 0.3 MP"]
    )
    assert "decode, draft mode" not in details["decode_ms"]["png 0.3 MP"]  # no reduced-size PNG decode


def test_the_numpy_conversion_computes_what_the_eval_transform_does():
    """The two conversions compared are the same computation (up to resize rounding), or the timing says
    nothing."""
    import numpy as np
    from PIL import Image

    preprocessing = Preprocessing()
    gradient = Image.linear_gradient("L").resize((400, 300))
    image = Image.merge(
        "RGB", (gradient, gradient.rotate(90), gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    )
    ours = numpy_transform(preprocessing)(image)
    reference = preprocessing.eval_transform()(image).numpy()
    assert ours.shape == reference.shape == (3, preprocessing.crop, preprocessing.crop)
    assert float(np.abs(ours - reference).mean()) < 0.02
