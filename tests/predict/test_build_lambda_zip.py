"""The Lambda zip: byte-identical for the same sources, our code only, and it serves from its own files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dogbreed.packing.lambda_zip import LAMBDA_MODULES, PACKAGE_DIR, build_zip

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE = REPO_ROOT / "functions" / "predict"
PACKAGE_ENTRIES = sorted(f"dogbreed/{module}" for module in LAMBDA_MODULES)
EXPECTED_ENTRIES = sorted(["handler.py", *PACKAGE_ENTRIES])
# Distributions a deployed function finds besides the zip: the Lambda Python runtime's boto3 (and its
# dependencies) and the AWS-managed Powertools layer (Powertools, its dependencies and the tracer extra).
RUNTIME_AND_LAYER = {
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "six",
    "urllib3",
    "aws-lambda-powertools",
    "typing-extensions",
    "aws-xray-sdk",
    "wrapt",
    # imported only when present, and done without otherwise: certifi by botocore, brotli by urllib3
    "certifi",
    "brotli",
}

# Run in a fresh interpreter whose sys.path starts with the extracted zip, as /var/task does in Lambda.
# The repo root is appended only after the handler is imported, for the canned endpoint (lambda_stub.py).
SERVE_SCRIPT = """
import importlib.metadata, json, sys
already_loaded = set(sys.modules)  # the interpreter's start-up, not the function's
import handler
from dogbreed.predict_api import app
sys.path.append(sys.argv[1])
from benchmarks.lambda_stub import CannedEndpoint
from dev.lambda_events import FakeLambdaContext
endpoint = CannedEndpoint(app.RUNTIME)
request = json.load(open(sys.argv[2]))
response = handler.handler(request, FakeLambdaContext())
dists = importlib.metadata.packages_distributions()
third_party = sorted({
    dist.lower().replace("_", "-")
    for name, module in list(sys.modules.items())
    if name not in already_loaded and getattr(module, "__file__", None)
    and name.split(".")[0] not in sys.stdlib_module_names
    and name.split(".")[0] not in {"handler", "dogbreed", "benchmarks", "dev"}
    for dist in dists.get(name.split(".")[0], [name.split(".")[0]])
})
print(json.dumps({
    "response": response,
    "endpoint_calls": endpoint.calls,
    "handler_is_the_apps": handler.handler is app.handler,
    "handler_file": handler.__file__,
    "dogbreed_files": sorted(m.__file__ for n, m in sys.modules.items() if n.split(".")[0] == "dogbreed"),
    "third_party": third_party,
}))
"""


@pytest.fixture
def sources(tmp_path):
    """Copies of the function folder and of the package's Lambda modules, free to touch."""
    function = tmp_path / "function"
    shutil.copytree(SOURCE, function, ignore=shutil.ignore_patterns("__pycache__"))
    package = tmp_path / "dogbreed"
    for module in LAMBDA_MODULES:
        (package / module).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PACKAGE_DIR / module, package / module)
    return function, package


def test_two_builds_are_byte_identical(tmp_path):
    first = tmp_path / "a" / "predict_lambda.zip"
    second = tmp_path / "b" / "predict_lambda.zip"
    for output in (first, second):
        subprocess.run(
            [sys.executable, "-m", "dogbreed.packing.lambda_zip", "--output", str(output)],
            check=True,
            capture_output=True,
        )
    assert first.read_bytes() == second.read_bytes()


def test_timestamps_modes_and_caches_do_not_change_the_bytes(sources, tmp_path):
    function, package = sources
    before = build_zip(function, tmp_path / "before.zip", package)
    for path in (function / "handler.py", package / "predict_api" / "app.py"):
        os.utime(path, (0, 2_000_000_000))
        path.chmod(0o600)
    for folder in (function, package / "predict_api"):
        (folder / "__pycache__").mkdir()
        (folder / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"cache")
    assert build_zip(function, tmp_path / "after.zip", package) == before


@pytest.mark.parametrize("changed", ["handler.py", "predict_api/request.py", "contract.py"])
def test_a_code_change_changes_the_hash(sources, tmp_path, changed):
    function, package = sources
    before = build_zip(function, tmp_path / "before.zip", package)
    with (function / changed if changed == "handler.py" else package / changed).open("a") as f:
        f.write("\n# changed\n")
    assert build_zip(function, tmp_path / "after.zip", package) != before


def test_entries_are_our_code_only_with_fixed_metadata(tmp_path):
    archive = tmp_path / "predict_lambda.zip"
    build_zip(SOURCE, archive)
    with zipfile.ZipFile(archive) as zipped:
        infos = zipped.infolist()
    assert [i.filename for i in infos] == EXPECTED_ENTRIES  # no Powertools, no boto3: the layer and runtime
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) and i.external_attr >> 16 == 0o100644 for i in infos)


def test_the_extracted_zip_serves_from_its_own_files(tmp_path):
    archive = tmp_path / "predict_lambda.zip"
    build_zip(SOURCE, archive)
    task = tmp_path / "task"  # /var/task
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(task)
    request = tmp_path / "request.json"
    request.write_text((REPO_ROOT / "dev" / "events" / "direct.json").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBDA_", "POWERTOOLS_"))}
    env |= {
        "PYTHONPATH": str(task),  # the zip first; Powertools and boto3 from the venv (the layer and runtime)
        "ENDPOINT_NAME": "dogbreed-endpoint",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    done = subprocess.run(
        [sys.executable, "-c", SERVE_SCRIPT, str(REPO_ROOT), str(request)],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])

    assert result["response"]["statusCode"] == 200, result["response"]
    assert len(json.loads(result["response"]["body"])["predictions"]) == 3 and result["endpoint_calls"] == 1
    assert result["handler_is_the_apps"] and Path(result["handler_file"]) == task / "handler.py"
    imported = sorted(Path(f).relative_to(task).as_posix() for f in result["dogbreed_files"])
    assert imported == PACKAGE_ENTRIES  # every module it imported came from the zip, and it needs them all
    assert set(result["third_party"]) <= RUNTIME_AND_LAYER, result["third_party"]


def test_empty_source_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        build_zip(tmp_path, tmp_path / "out.zip")
