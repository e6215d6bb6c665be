"""lambda_overhead.py: a --quick run of both handlers, and the stub that replaces only the network."""

from __future__ import annotations

import subprocess
import zipfile

import pytest
from results_contract import assert_png, load_results

from benchmarks import lambda_handlers, lambda_overhead
from benchmarks.common import photo_jpeg
from benchmarks.lambda_stub import CANNED_PREDICTIONS, CannedEndpoint
from dev.lambda_events import FakeLambdaContext, events_for

EVENT_SHAPES = {"function-url-json", "function-url-binary", "function-url-json-b64", "direct"}


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_quick_run_writes_both_handlers_with_the_warm_goal_and_the_zip(tmp_path):
    zip_path = tmp_path / "predict_lambda.zip"
    exit_code = lambda_overhead.main(["--quick", "--results-dir", str(tmp_path), "--zip", str(zip_path)])

    results = load_results(tmp_path, lambda_overhead.NAME)
    details = results["details"]
    goal_rows = [row for row in results["summary"] if row["goal"] == "<= 5 ms"]
    assert exit_code == 0
    assert len(goal_rows) == 1 and goal_rows[0]["metric"].startswith("Powertools handler")
    assert goal_rows[0]["met"] == (goal_rows[0]["value"] <= 5.0)
    assert set(details["handlers"]) == {"stdlib", "powertools"}
    for name, handler in details["handlers"].items():
        assert {row["event"] for row in handler["warm"]} == EVENT_SHAPES, name
        assert all(run["status"] == 200 and run["endpoint_calls"] == 1 for run in handler["cold"]["runs"])
        cold_rows = [
            row for row in results["summary"] if row["metric"].startswith(handler["label"] + ": cold")
        ]
        assert len(cold_rows) == 2, name
    assert (
        details["zip"]["bytes"] == zip_path.stat().st_size == details["handlers"]["powertools"]["zip_bytes"]
    )
    with zipfile.ZipFile(zip_path) as archive:
        assert "handler.py" in archive.namelist() and "dogbreed/predict_api/app.py" in archive.namelist()
    assert_png(tmp_path / details["plot"])


def test_without_the_baseline_commit_the_stdlib_handler_is_unmeasured(tmp_path, monkeypatch):
    monkeypatch.setattr(lambda_handlers, "BASELINE_COMMIT", "0000000")
    handler = lambda_handlers.baseline_handler(tmp_path)
    assert handler.function_dir is None and "0000000" in handler.unmeasured


def test_the_baseline_is_the_stdlib_handler_from_git(tmp_path):
    handler = lambda_handlers.baseline_handler(tmp_path)
    if handler.function_dir is None:
        pytest.skip(f"no git history here: {handler.unmeasured}")
    source = (handler.function_dir / "handler.py").read_text()
    expected = subprocess.run(
        ["git", "show", f"{lambda_handlers.BASELINE_COMMIT}:{lambda_handlers.BASELINE_PATH}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert source == expected and "aws_lambda_powertools" not in source


def test_the_stub_answers_after_signing_with_the_image_as_sent():
    handler = lambda_overhead.load_handler()
    endpoint = CannedEndpoint(handler.RUNTIME)
    image = photo_jpeg(0.05)

    elapsed, cpu, log = lambda_overhead._call(
        handler, events_for(image)["function-url-binary"], FakeLambdaContext()
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
        lambda_overhead._call(handler, {"image": "not base64!"}, FakeLambdaContext())
