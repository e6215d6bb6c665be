"""Atomic file writes: readers (a resuming job, SageMaker's upload, terraform plan) never see half a file."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO


@contextlib.contextmanager
def atomic_write(path: Path, mode: int = 0o644) -> Iterator[BinaryIO]:
    """Yield a binary file in `path`'s directory; on success fsync it and rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_bytes_atomically(path: Path, data: bytes) -> Path:
    with atomic_write(path) as file:
        file.write(data)
    return Path(path)


def write_json_atomically(path: Path, document: Any) -> Path:
    """`document` as indented JSON with a final newline (the layout terraform and reviewers read)."""
    return write_bytes_atomically(path, (json.dumps(document, indent=2) + "\n").encode())
