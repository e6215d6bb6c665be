"""lambda_overhead.py: a --quick run end to end, and the stub that replaces only the network."""

from __future__ import annotations

import zipfile

import pytest
from results_contract import assert_png, load_results

from benchmarks import lambda_overhead
from benchmarks.common import photo_jpeg
from benchmarks.lambda_stub import CANNED_PREDICTIONS, CannedEndpoint
from dev.lambda_events import FakeLambdaContext, events_for


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_quick_run_writes_results_with_the_warm_goal_and_the_zip(tmp_path):
    zip_path = tmp_path / "predict_lambda.zip"
    exit_code = lambda_overhead.main(["--quick", "--results-dir", str(tmp_path), "--zip", str(zip_path)])

    results = load_results(tmp_path, lambda_overhead.NAME)
    details = results["details"]
    goal_rows = [row for row in results["summary"] if row["goal"] == "<= 5 ms"]
    assert exit_code == 0
    assert len(goal_rows) == 1 and isinstance(goal_rows[0]["met"], bool)
    assert goal_rows[0]["met"] == (goal_rows[0]["value"] <= 5.0)
    assert {row["event"] for row in details["warm"]} == {
        "rest-v1-json", "rest-v1-binary", "http-v2-json", "http-v2-binary", "function-url-json-b64", "direct"
    }  # fmt: skip
    assert all(run["status"] == 200 and run["endpoint_calls"] == 1 for run in details["cold"]["runs"])
    assert details["zip"]["bytes"] == zip_path.stat().st_size
    with zipfile.ZipFile(zip_path) as archive:
        assert "handler.py" in archive.namelist()
    assert_png(tmp_path / details["plot"])


def test_the_stub_answers_after_signing_with_the_image_as_sent():
    handler = lambda_overhead.load_handler()
    endpoint = CannedEndpoint(handler.RUNTIME)
    image = photo_jpeg(0.05)

    elapsed, cpu, log = lambda_overhead._call(
        handler, events_for(image)["http-v2-binary"], FakeLambdaContext()
    )

    assert endpoint.calls == 1
    assert endpoint.last_body == image  # the bytes InvokeEndpoint would carry
    assert endpoint.last_headers["Authorization"].startswith(b"AWS4-HMAC-SHA256")  # signing still ran
    assert log["status"] == 200 and log["response_bytes"] > 0
    assert elapsed > 0 and cpu >= 0
    assert CANNED_PREDICTIONS["predictions"][0]["label"] == "Labrador_retriever"


def test_a_handler_error_is_not_counted_as_a_measurement():
    handler = lambda_overhead.load_handler()
    CannedEndpoint(handler.RUNTIME)
    with pytest.raises(RuntimeError, match="handler answered 400"):
        lambda_overhead._call(handler, {"image": "not base64!"}, None)
