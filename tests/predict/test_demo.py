"""`make demo`'s program runs end to end (a smaller configuration of the same steps)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dev.demo import dogimages_slice

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_runs_every_event_form_end_to_end(tmp_path):
    workdir = tmp_path / "demo"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dev.demo",
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
        "function-url-json",
        "function-url-binary",
        "function-url-json-b64",
        "direct",
        "direct-url",
    }
    assert all(r["status"] == 200 and len(r["body"]["predictions"]) == 2 for r in results)
    logs = [json.loads(line) for line in (workdir / "lambda_logs.jsonl").read_text().splitlines()]
    assert len(logs) == len(results) and all(log["status"] == 200 for log in logs)
    metrics = [json.loads(line) for line in (workdir / "lambda_metrics.jsonl").read_text().splitlines()]
    assert sum("Latency" in blob for blob in metrics) == len(results)


def test_a_real_dogimages_folder_is_sliced_per_breed_by_links(tmp_path):
    """--data-dir: every breed of every split keeps its first images, linked (the dataset is never copied)."""
    source = tmp_path / "dogImages"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "dogbreed.data.synthetic",
            "--output",
            str(source),
            "--classes",
            "3",
            "--train",
            "5",
            "--valid",
            "3",
            "--test",
            "3",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    sliced = dogimages_slice(source, tmp_path / "slice", per_class=3)
    for split, per_breed in {"train": 3, "valid": 1, "test": 1}.items():
        breeds = sorted(p.name for p in (sliced / split).iterdir())
        assert breeds == sorted(p.name for p in (source / split).iterdir())
        for breed in breeds:
            links = list((sliced / split / breed).iterdir())
            assert len(links) == per_breed and all(link.is_symlink() for link in links)


def test_a_folder_without_the_dogimages_layout_is_refused(tmp_path):
    (tmp_path / "train").mkdir()
    with pytest.raises(SystemExit, match="no breed folders"):
        dogimages_slice(tmp_path, tmp_path / "slice", per_class=3)
