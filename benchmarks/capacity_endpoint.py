"""The system under test of benchmarks/endpoint_capacity.py and what it is sent: a model.tar.gz packed by the
training code, served by ``dogbreed-local-endpoint`` in its own process (the container's real serving stack,
TorchServe + the SageMaker toolkit in a network namespace, behind the InvokeEndpoint front), and photo-like
request JPEGs."""

from __future__ import annotations

import hashlib
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks.common import DOG_BREEDS, REPO_ROOT, photo_jpeg

ENDPOINT_NAME = "capacity-bench"
NUM_CLASSES = DOG_BREEDS
ENDPOINT_START_TIMEOUT_S = 180


def model_archive(arch: str, cache_dir: Path) -> Path:
    """A model.tar.gz packed by the training code (random weights, seed 0).

    Cached per arch and per version of the serving code it ships (code/inference.py and what it imports), so
    a change to the hooks is always what gets measured."""
    from dogbreed.packing.artifact import code_members

    members = code_members()
    code = hashlib.sha256(b"".join(members[name] for name in sorted(members)))
    archive = cache_dir / f"{arch}-{NUM_CLASSES}-classes-{code.hexdigest()[:12]}.model.tar.gz"
    if not archive.is_file():
        for stale in cache_dir.glob(f"{arch}-{NUM_CLASSES}-classes-*.model.tar.gz"):
            stale.unlink()
        _pack_random_model(arch, archive)
    return archive


def _pack_random_model(arch: str, archive: Path) -> Path:
    import torch

    from dogbreed.data.synthetic import breed_name
    from dogbreed.model import build_model
    from dogbreed.packing.artifact import model_meta, pack_model_artifact
    from dogbreed.preprocessing import Preprocessing

    torch.manual_seed(0)
    network = build_model(arch, NUM_CLASSES, pretrained=False)
    meta = model_meta(arch, [breed_name(i) for i in range(NUM_CLASSES)], Preprocessing().to_dict())
    return pack_model_artifact(network.state_dict(), meta, archive)


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
