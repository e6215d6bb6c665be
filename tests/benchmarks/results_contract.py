"""The results contract every benchmark script honours, checked the same way for each."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

SUMMARY_KEYS = {"metric", "value", "unit", "goal", "met", "measured"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def load_results(results_dir: Path, name: str) -> dict:
    """Reads <results_dir>/<name>.json and asserts the shared contract; returns the document."""
    document = json.loads((results_dir / f"{name}.json").read_text())
    assert isinstance(document["device"]["cpu_model"], str) and document["device"]["cpu_model"]
    assert isinstance(document["device"]["cores"], int) and document["device"]["cores"] >= 1
    assert {"python", "torch", "boto3"} <= set(document["versions"])
    dt.datetime.fromisoformat(document["date"].replace("Z", "+00:00"))
    assert isinstance(document["details"], dict)
    assert document["summary"], "a results file without summary rows"
    for row in document["summary"]:
        assert set(row) == SUMMARY_KEYS, row
        assert isinstance(row["metric"], str) and row["metric"]
        assert isinstance(row["value"], (int, float)) and not isinstance(row["value"], bool)
        assert isinstance(row["unit"], str) and row["unit"]
        assert row["goal"] is None or isinstance(row["goal"], str)
        assert (row["goal"] is None) == (row["met"] is None), row
        assert isinstance(row["measured"], bool)
    return document


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
