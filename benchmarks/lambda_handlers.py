"""The two prediction handlers benchmarks/lambda_overhead.py compares, each as Lambda would hold it.

    stdlib       the single-file stdlib + boto3 handler before Powertools, taken from git history at run time
                 (BASELINE_COMMIT:functions/predict/handler.py; unmeasured where git or the commit is missing)
    powertools   today's: build/predict_lambda.zip extracted (handler.py + dogbreed/...), Powertools from this
                 environment standing in for the AWS-managed layer, with X-Ray tracing active as deployed

Both run in fresh interpreters under the same environment: the configuration Terraform gives the function,
fake credentials, and what the Lambda runtime sets when tracing is Active (LAMBDA_TASK_ROOT, the trace header,
the X-Ray daemon address, here a local UDP socket that drops what it gets). Nothing leaves the host.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import REPO_ROOT

BASELINE_COMMIT = "5d46415"
BASELINE_PATH = "functions/predict/handler.py"
COLD_PROBE = Path(__file__).resolve().parent / "lambda_cold_probe.py"
FUNCTION_ENV = {  # the configuration Terraform gives the function; fake credentials, nothing leaves the host
    "ENDPOINT_NAME": "dogbreed-endpoint",
    "POWERTOOLS_SERVICE_NAME": "dogbreed-predict",
    "POWERTOOLS_METRICS_NAMESPACE": "DogBreed",
    "AWS_ACCESS_KEY_ID": "benchmark",
    "AWS_SECRET_ACCESS_KEY": "benchmark",
    "AWS_SESSION_TOKEN": "benchmark",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
TRACE_HEADER = "Root=1-6740b1a0-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"


@dataclass(frozen=True)
class Handler:
    name: str
    label: str
    function_dir: Path | None  # what /var/task holds; None: unmeasured
    zip_bytes: int | None = None
    unmeasured: str | None = None  # why, when function_dir is None


def baseline_handler(scratch: Path) -> Handler:
    """The stdlib handler from git history, or an unmeasured entry saying why it could not be had."""
    label = f"stdlib handler ({BASELINE_COMMIT})"
    try:
        source = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "show", f"{BASELINE_COMMIT}:{BASELINE_PATH}"],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        return Handler(
            "stdlib", label, None, unmeasured=f"git show {BASELINE_COMMIT}:{BASELINE_PATH}: {error}"
        )
    function_dir = scratch / "stdlib"
    function_dir.mkdir()
    (function_dir / "handler.py").write_bytes(source)
    return Handler("stdlib", label, function_dir, zip_bytes=_single_file_zip_size(function_dir, scratch))


def powertools_handler(scratch: Path, zip_path: Path) -> Handler:
    """Today's zip, built and extracted as the Lambda runtime extracts it into /var/task."""
    from dogbreed.packing.lambda_zip import FUNCTION_DIR, build_zip

    build_zip(FUNCTION_DIR, zip_path)
    function_dir = scratch / "powertools"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(function_dir)
    return Handler("powertools", "Powertools handler (zip + layer)", function_dir, zip_path.stat().st_size)


def _single_file_zip_size(function_dir: Path, scratch: Path) -> int:
    """What that handler's zip was: handler.py alone, stored like dogbreed-build-lambda-zip stores entries."""
    path = scratch / "stdlib.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.write(function_dir / "handler.py", "handler.py")
    return path.stat().st_size


@contextlib.contextmanager
def xray_daemon():
    """A local UDP socket standing in for the X-Ray daemon; it is never read, so what it gets is dropped."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{listener.getsockname()[1]}"


def lambda_env(handler: Handler, daemon_address: str) -> dict[str, str]:
    """The function's environment for `handler`: its folder first on the path, as /var/task is."""
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "LAMBDA_", "_X_AMZN"))
    }
    return (
        inherited
        | FUNCTION_ENV
        | {
            "PYTHONPATH": os.pathsep.join([str(handler.function_dir), str(REPO_ROOT)]),
            "LAMBDA_TASK_ROOT": str(handler.function_dir),
            "_X_AMZN_TRACE_ID": TRACE_HEADER,
            "AWS_XRAY_DAEMON_ADDRESS": daemon_address,
        }
    )


def cold_start(handler: Handler, env: dict[str, str], event_file: Path) -> dict:
    """One fresh interpreter importing the handler and answering its first request."""
    with tempfile.TemporaryDirectory(prefix="lambda-cold-") as scratch:
        result_file = Path(scratch) / "result.json"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(COLD_PROBE), str(event_file), str(result_file)],
            env=env,
            stdout=subprocess.DEVNULL,  # the handler's log lines, as CloudWatch would take them
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            cwd=scratch,
        )
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"{handler.name} cold-start probe failed:\n{done.stderr[-2000:]}")
        result = json.loads(result_file.read_text())
    if result["status"] != 200 or result["endpoint_calls"] != 1:
        raise RuntimeError(f"{handler.name} cold start did not answer through the canned endpoint: {result}")
    return result | {"process_wall_s": wall}


def warm_samples(handler: Handler, env: dict[str, str], events_file: Path, rounds: int) -> dict:
    """Warm requests in one fresh interpreter (benchmarks/lambda_warm_probe.py)."""
    with tempfile.TemporaryDirectory(prefix="lambda-warm-") as scratch:
        result_file = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "benchmarks.lambda_warm_probe", str(events_file), str(rounds)]
        done = subprocess.run(
            [*command, str(result_file)], env=env, capture_output=True, text=True, timeout=1800, cwd=scratch
        )
        if done.returncode != 0:
            raise RuntimeError(f"{handler.name} warm probe failed:\n{done.stderr[-2000:]}")
        return json.loads(result_file.read_text())
