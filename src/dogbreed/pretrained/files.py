"""Weights files: the name torchvision publishes, the hash that name carries, and where training finds them.

torchvision names every weights file `<name>-<hash>.pth`, `<hash>` being the first (8 or more) hex digits of
the file's SHA-256; torch.hub checks a download against it with `HASH_REGEX` (torch/hub.py
`load_state_dict_from_url(check_hash=True)` -> `download_url_to_file(..., hash_prefix)`). A file found in a
cache or a folder is loaded by torch.hub with no check at all, so everything here verifies it again.

The bucket layout (`dogbreed-stage-weights`): `s3://<bucket>/weights/<arch>/<file name>`; a job gets
`weights/<arch>/` as its `weights` channel, the EC2 trainer syncs it to a local folder.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlparse

from torch.hub import HASH_REGEX

STAGE_TOOL = "dogbreed-stage-weights"
S3_PREFIX = "weights"
MIN_HASH_DIGITS = 8  # torch.hub: "the first eight or more digits of the SHA256 hash of the contents"


class WeightsError(RuntimeError):
    """Staged weights are missing, misnamed or not the file their name promises (a one-line message)."""


def default_weights(arch: str):
    """torchvision's DEFAULT weights enum member for `arch` (its URL and metadata; nothing is downloaded)."""
    from torchvision import models

    try:
        return models.get_model_weights(arch).DEFAULT
    except (ValueError, KeyError) as error:
        raise WeightsError(f"torchvision publishes no pretrained weights for {arch!r}") from error


def file_name_of(url: str) -> str:
    """The file name torch.hub stores a download under: the last path segment of its URL."""
    return Path(urlparse(url).path).name


def default_file_name(arch: str) -> str:
    return file_name_of(default_weights(arch).url)


def hash_prefix(file_name: str) -> str:
    """The SHA-256 prefix the name carries (torch.hub's HASH_REGEX), at least 8 hex digits."""
    match = HASH_REGEX.search(file_name)
    prefix = match.group(1) if match else ""
    if len(prefix) < MIN_HASH_DIGITS:
        raise WeightsError(
            f"{file_name} carries no SHA-256 prefix: weights files are named <name>-<8+ hex digits>.pth"
        )
    return prefix


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path) -> Path:
    """`path` itself when its SHA-256 starts with the prefix in its name; WeightsError otherwise."""
    path = Path(path)
    expected = hash_prefix(path.name)
    actual = sha256_of(path)
    if not actual.startswith(expected):
        raise WeightsError(
            f"{path.name} is not the file its name promises: sha256 {actual[: len(expected)]}..., "
            f"expected {expected}... (stage it again with {STAGE_TOOL})"
        )
    return path


def locate(weights_dir: Path, arch: str, file_name: str | None = None) -> Path:
    """The staged weights file for `arch` in `weights_dir` (or its `<arch>/` subfolder), verified.

    `file_name` defaults to torchvision's DEFAULT weights file for `arch`.
    """
    name = file_name or default_file_name(arch)
    weights_dir = Path(weights_dir)
    for candidate in (weights_dir / name, weights_dir / arch / name):
        if candidate.is_file():
            return verify(candidate)
    raise WeightsError(
        f"no pretrained {arch} weights: {weights_dir / name} is missing; stage them once with "
        f"`{STAGE_TOOL} --arch {arch}` (they land in s3://<bucket>/{S3_PREFIX}/{arch}/), "
        "or train with --no-pretrained"
    )
