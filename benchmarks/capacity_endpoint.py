"""The systems under test of benchmarks/endpoint_capacity.py and what they are sent: two deployments of the
same weights, each served by ``dogbreed-local-endpoint`` in its own process (the container's real serving
stack, TorchServe + the SageMaker toolkit in a network namespace, behind the InvokeEndpoint front), and
photo-like request JPEGs.

    ours     the model.tar.gz train.py packed (benchmarks/served_model.py): the runtime the gate chose
    course   the course deployment of the same weights (benchmarks/course_baseline.py: its inference2.py)
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks.common import REPO_ROOT, photo_jpeg
from benchmarks.course_baseline import pack_course_deployment
from benchmarks.served_model import ServedModel

ENDPOINT_NAME = "capacity-bench"
ENDPOINT_START_TIMEOUT_S = 180


def deployments(model: ServedModel) -> dict[str, Path]:
    """{"ours": the packed model, "course": the course deployment of its weights} (built beside it once)."""
    course = model.archive.with_name("course.model.tar.gz")
    if not course.is_file():
        pack_course_deployment(model.model_dir, course)
    return {"ours": model.archive, "course": course}


def request_images(megapixels: tuple[float, ...], cache_dir: Path) -> Path:
    """A folder of photo-like JPEGs, one per size, which the load generator sends in turn."""
    folder = cache_dir / ("images-" + "-".join(f"{mp:g}mp" for mp in megapixels))
    folder.mkdir(parents=True, exist_ok=True)
    for index, mp in enumerate(megapixels):
        path = folder / f"{index:02d}-{mp:g}mp.jpg"
        if not path.is_file():
            path.write_bytes(photo_jpeg(mp, seed=index))
    return folder


class EndpointProcess:
    """``dogbreed-local-endpoint`` in its own process: the load generator never shares its interpreter."""

    def __init__(self, archive: Path, max_concurrency: int):
        self._command = [
            sys.executable, "-m", "dogbreed.local_endpoint.cli",
            "--model", str(archive),
            "--endpoint-name", ENDPOINT_NAME,
            "--port", "0",
            "--max-concurrency", str(max_concurrency),
        ]  # fmt: skip
        self._process: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> EndpointProcess:
        self._process = subprocess.Popen(
            self._command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_pump, args=(self._process.stdout, lines), daemon=True).start()
        self.url = _wait_for_url(lines, self._process)
        return self

    def __exit__(self, *exc_info) -> None:
        self._process.terminate()  # SIGTERM: the CLI stops serving and exits
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _pump(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)


def _wait_for_url(lines: queue.Queue, process: subprocess.Popen) -> str:
    deadline, seen = time.monotonic() + ENDPOINT_START_TIMEOUT_S, []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        if " ready at " in line:
            return line.rsplit(" ready at ", 1)[1].strip()
    process.kill()
    raise RuntimeError("the local endpoint did not start:\n" + "".join(seen[-20:]))
