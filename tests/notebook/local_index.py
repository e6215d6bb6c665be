"""A local package index for offline installs: the installed distributions of this environment as wheels.

The launcher's lock (requirements/launcher.txt) pins the versions requirements/dev.txt installs here, so each
pinned distribution can be packed back into a wheel from its installed files (the RECORD every installed
distribution carries, PEP 376/627) and pip can install the lock from that folder with --no-index. Files
outside site-packages (console scripts, data files) are left out: pip writes console scripts from
entry_points.txt again, and the launcher's kernel needs no data files. Dev-only: a test stand-in for PyPI.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as metadata
import os
import zipfile
from pathlib import Path

from packaging.utils import canonicalize_name

INSTALL_ONLY = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def pins(lock: Path) -> dict[str, str]:
    """name -> version of every `name==version` line."""
    found = {}
    for line in lock.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            found[canonicalize_name(name)] = version.strip()
    return found


def wheel_tag(distribution: metadata.Distribution) -> str:
    """The compressed tag set (`py2.py3-none-any`) from the WHEEL file's Tag lines."""
    lines = (distribution.read_text("WHEEL") or "").splitlines()
    tags = [line.split(":", 1)[1].strip().split("-") for line in lines if line.startswith("Tag:")]
    return "-".join(".".join(dict.fromkeys(tag[i] for tag in tags)) for i in range(3))


def repack(distribution: metadata.Distribution, folder: Path) -> Path:
    site = Path(distribution.locate_file("")).resolve()
    name = distribution.metadata["Name"].replace("-", "_").replace(".", "_")
    target = folder / f"{name}-{distribution.version}-{wheel_tag(distribution)}.whl"
    records = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as wheel:
        for file in distribution.files or []:
            path = Path(distribution.locate_file(file)).resolve()
            relative = Path(os.path.relpath(path, site))
            installer_only = relative.parent.name.endswith(".dist-info") and relative.name in INSTALL_ONLY
            if relative.parts[0] == ".." or "__pycache__" in relative.parts or installer_only:
                continue
            if path.is_file():
                data = path.read_bytes()
                wheel.writestr(relative.as_posix(), data)
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                records.append(f"{relative.as_posix()},sha256={digest},{len(data)}")
        record = f"{Path(distribution._path).name}/RECORD"  # the .dist-info folder's own name
        wheel.writestr(record, "\n".join([*records, f"{record},,"]) + "\n")
    return target


def build_index(lock: Path, folder: Path) -> Path:
    """One wheel per pin of `lock`, from this environment; the installed version must be the pinned one."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, version in pins(lock).items():
        distribution = metadata.distribution(name)
        if distribution.version != version:
            raise AssertionError(f"{name} is {distribution.version} here, the lock pins {version}")
        repack(distribution, folder)
    return folder
