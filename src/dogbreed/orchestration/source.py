"""The code a SageMaker training job runs: `train.py` plus the parts of the package training imports.

SageMaker unpacks it as the job's source dir and runs `train.py` with that dir as `sys.path[0]`, so the
`dogbreed` package travels next to it. The launcher, the local endpoint and caches stay out.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import dogbreed
from dogbreed.utils.repo import REPO_ROOT

ENTRY_POINT = "train.py"
ENTRY_SCRIPT = REPO_ROOT / "training" / ENTRY_POINT
PACKAGE_DIR = Path(dogbreed.__file__).resolve().parent
# Subpackages a training job never imports (they need the SDK, boto3 or the inference toolkit).
NOT_SHIPPED = frozenset({"orchestration", "local_endpoint"})


def source_files() -> dict[str, Path]:
    """Archive name -> file, sorted: `train.py` and every package module training may import."""
    files = {ENTRY_POINT: ENTRY_SCRIPT}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        relative = path.relative_to(PACKAGE_DIR)
        if relative.parts[0] not in NOT_SHIPPED:
            files[f"dogbreed/{relative.as_posix()}"] = path
    return dict(sorted(files.items()))


def source_tarball() -> bytes:
    """The source files as a reproducible sourcedir.tar.gz (same files, same bytes)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for name, path in source_files().items():
            info = tar.gettarinfo(str(path), arcname=name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            info.mode = 0o644  # the same bytes from every checkout, whatever its umask
            with path.open("rb") as file:
                tar.addfile(info, file)
    return buffer.getvalue()
