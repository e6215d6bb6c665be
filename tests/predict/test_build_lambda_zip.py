"""The Lambda zip is byte-identical for the same sources, and the handler imports and answers from it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dogbreed.packing.lambda_zip import build_zip

REPO_ROOT = Path(__file__).resolve().parents[2]

SOURCE = REPO_ROOT / "functions" / "predict"


@pytest.fixture
def source_copy(tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_two_builds_are_byte_identical(tmp_path):
    first = tmp_path / "a" / "predict_lambda.zip"
    second = tmp_path / "b" / "predict_lambda.zip"
    subprocess.run(
        [sys.executable, "-m", "dogbreed.packing.lambda_zip", "--output", str(first)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "-m", "dogbreed.packing.lambda_zip", "--output", str(second)],
        check=True,
        capture_output=True,
    )
    assert first.read_bytes() == second.read_bytes()


def test_timestamps_modes_and_caches_do_not_change_the_bytes(source_copy, tmp_path):
    before = build_zip(source_copy, tmp_path / "before.zip")
    handler = source_copy / "handler.py"
    os.utime(handler, (0, 2_000_000_000))
    handler.chmod(0o600)
    (source_copy / "__pycache__").mkdir()
    (source_copy / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"cache")
    assert build_zip(source_copy, tmp_path / "after.zip") == before


def test_a_code_change_changes_the_hash(source_copy, tmp_path):
    before = build_zip(source_copy, tmp_path / "before.zip")
    with (source_copy / "handler.py").open("a") as f:
        f.write("\n# changed\n")
    assert build_zip(source_copy, tmp_path / "after.zip") != before


def test_entries_are_at_the_root_with_fixed_metadata(tmp_path):
    archive = tmp_path / "predict_lambda.zip"
    build_zip(SOURCE, archive)
    with zipfile.ZipFile(archive) as zipped:
        infos = zipped.infolist()
    assert [i.filename for i in infos] == ["handler.py"]  # stdlib + boto3 only: nothing else to ship
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) and i.external_attr >> 16 == 0o100644 for i in infos)


def test_the_packaged_handler_imports_from_the_zip_and_answers(tmp_path):
    archive = tmp_path / "predict_lambda.zip"
    build_zip(SOURCE, archive)
    script = "import json, handler; print(json.dumps(handler.handler({}, None)))"
    env = {k: v for k, v in os.environ.items() if k != "ENDPOINT_NAME"} | {
        "PYTHONPATH": str(archive),
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True, cwd=tmp_path
    )
    response = json.loads(result.stdout.strip().splitlines()[-1])
    assert response["statusCode"] == 500
    assert json.loads(response["body"])["error"]["code"] == "Misconfiguration"


def test_empty_source_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        build_zip(tmp_path, tmp_path / "out.zip")
