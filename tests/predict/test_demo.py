"""`make demo`'s program runs end to end (a smaller configuration of the same steps)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_runs_every_event_form_end_to_end(tmp_path):
    workdir = tmp_path / "demo"
    result = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "tools" / "demo.py"),
            "--workdir",
            str(workdir),
            "--classes",
            "2",
            "--arch",
            "mobilenet_v3_small",
            "--epochs",
            "1",
            "--images",
            "1",
            "--repeats",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "demo finished" in result.stdout
    results = json.loads((workdir / "demo_results.json").read_text())
    forms = {r["form"] for r in results}
    assert forms == {
        "rest-v1-json",
        "rest-v1-binary",
        "http-v2-json",
        "http-v2-binary",
        "function-url-json-b64",
        "direct",
        "direct-url",
    }
    assert all(r["status"] == 200 and len(r["body"]["predictions"]) == 2 for r in results)
    logs = [json.loads(line) for line in (workdir / "lambda_logs.jsonl").read_text().splitlines()]
    assert len(logs) == len(results) and all(log["status"] == 200 for log in logs)
