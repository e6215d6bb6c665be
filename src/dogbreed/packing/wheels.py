"""Wheels that travel with the code, for machines without internet: the serving runtime inside model.tar.gz,
the pack-time tools inside the training job's source tarball.

    python -m dogbreed.packing.wheels --python 3.12 --python 3.13 --output build/wheelhouse

downloads (on a machine that reaches a package index) the pinned wheels below for each target CPython on
manylinux x86_64. Nothing here needs the network afterwards:

* `select(wheelhouse, SERVING_PINS, "3.12")` picks the wheels a target interpreter can install and checks
  that they form a complete offline install: every Requires-Dist of every shipped wheel (markers evaluated
  for the target) is met by another shipped wheel or by a distribution the container already has
  (CONTAINER_PROVIDED). pip installs exactly that closure with --no-index; a missing dependency wheel would
  be a container that never starts ("No matching distribution found", then the toolkit's ValueError), so
  packing refuses it instead.
* `requirements_text(...)` is the requirements file that installs them: `--no-index` (an isolated
  endpoint has no index to ask; without it pip retries the network first) and `--find-links <dir>`, which
  pip resolves against the requirements file's own folder (pypa/pip src/pip/_internal/req/req_file.py,
  handle_option_line), whatever the working directory of the installing process.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path
from zipfile import ZipFile

from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

# The serving runtime (installed at container start from code/wheels/) and its dependencies the container
# lacks; onnxruntime also needs numpy and packaging, which the image has. Same pins as requirements/dev.txt.
SERVING_PINS = ("onnxruntime==1.31.1", "flatbuffers==25.12.19", "protobuf==6.33.6")
# The pack-time tools a training job installs from the source tarball's wheelhouse/ before train.py runs.
PACK_PINS = (
    "onnx==1.23.2",
    "onnxscript==0.7.2",
    "onnx-ir==1.1.0",
    "ml-dtypes==0.7.0",
    *SERVING_PINS,
)
# What the AWS PyTorch DLCs install that these wheels require (aws/deep-learning-containers,
# pytorch/inference/docker/2.6/py3/Dockerfile.cpu and the training images: numpy, packaging, typing
# extensions and sympy with torch). Versions are not pinned there, so only the names are checked.
CONTAINER_PROVIDED = frozenset(
    {"numpy", "packaging", "typing-extensions", "sympy", "torch", "torchvision", "pillow", "setuptools"}
)
CONTAINER_GLIBC = (2, 35)  # Ubuntu 22.04, the DLCs' base image
SERVING_PYTHON = "3.12"  # the PyTorch 2.6 CPU inference image (terraform endpoint image_tag 2.6.0-cpu-py312)


class WheelhouseError(RuntimeError):
    """The wheels cannot form a complete offline install for the target."""


@dataclass(frozen=True)
class Wheel:
    path: Path
    name: str  # canonical
    version: Version
    tags: frozenset[Tag]


def target_tags(python: str) -> set[Tag]:
    """Every tag a CPython `python` (e.g. "3.12") on manylinux x86_64 with CONTAINER_GLIBC installs."""
    major, minor = (int(part) for part in python.split(".")[:2])
    platforms = [f"manylinux_2_{m}_x86_64" for m in range(CONTAINER_GLIBC[1], 4, -1)]
    platforms += ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
    version = (major, minor)
    return set(cpython_tags(version, platforms=platforms)) | set(
        compatible_tags(version, f"cp{major}{minor}", platforms=platforms)
    )


def marker_environment(python: str) -> dict[str, str]:
    return {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "platform_system": "Linux",
        "sys_platform": "linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
        "extra": "",
    }


def wheels_in(folder: Path) -> list[Wheel]:
    found = []
    for path in sorted(folder.glob("*.whl")):
        name, version, _, tags = parse_wheel_filename(path.name)
        found.append(Wheel(path, canonicalize_name(name), version, frozenset(tags)))
    return found


def requires(wheel: Path) -> list[str]:
    """The Requires-Dist lines of a wheel's METADATA."""
    with ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        headers = Parser().parsestr(archive.read(metadata).decode("utf-8", errors="replace"))
    return headers.get_all("Requires-Dist") or []


def select(folder: Path, pins: tuple[str, ...], python: str) -> list[Path]:
    """The wheels of `folder` that install `pins` offline on CPython `python`; WheelhouseError if any pin or
    any dependency of a shipped wheel is missing."""
    if not folder.is_dir():
        raise WheelhouseError(f"no wheelhouse at {folder}")
    tags, environment = target_tags(python), marker_environment(python)
    available = [wheel for wheel in wheels_in(folder) if wheel.tags & tags]
    chosen: dict[str, Wheel] = {}
    for pin in pins:
        requirement = Requirement(pin)
        match = _best(available, requirement)
        if match is None:
            raise WheelhouseError(f"{folder} has no wheel of {pin} for CPython {python} on manylinux x86_64")
        chosen[match.name] = match
    for wheel in list(chosen.values()):
        for line in requires(wheel.path):
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate(environment):
                continue
            name = canonicalize_name(requirement.name)
            if name in CONTAINER_PROVIDED:
                continue
            shipped = chosen.get(name)
            if shipped is None or not requirement.specifier.contains(shipped.version, prereleases=True):
                raise WheelhouseError(
                    f"{wheel.path.name} requires {requirement}, which neither the wheels for CPython "
                    f"{python} "
                    f"({', '.join(sorted(w.path.name for w in chosen.values()))}) nor the container provide: "
                    "pip would fail offline"
                )
    return sorted(wheel.path for wheel in chosen.values())


def _best(available: list[Wheel], requirement: Requirement) -> Wheel | None:
    name = canonicalize_name(requirement.name)
    matches = [w for w in available if w.name == name and requirement.specifier.contains(w.version, True)]
    return max(matches, key=lambda wheel: wheel.version) if matches else None


def requirements_text(pins: tuple[str, ...], find_links: str) -> str:
    return "\n".join(["--no-index", f"--find-links {find_links}", *pins]) + "\n"


def download(pins: tuple[str, ...], python: str, output: Path) -> None:
    """`pip download` of exactly `pins` (no dependency resolution: the pins are the closure, which
    `select` then checks) as binary wheels for CPython `python` on manylinux x86_64."""
    output.mkdir(parents=True, exist_ok=True)
    major, minor = python.split(".")[:2]
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--only-binary=:all:",
        "--no-deps",
        "--dest",
        str(output),
    ]
    command += ["--python-version", f"{major}.{minor}", "--implementation", "cp"]
    command += [item for abi in (f"cp{major}{minor}", "abi3", "none") for item in ("--abi", abi)]
    for platform in ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"):
        command += ["--platform", platform]
    subprocess.run([*command, *pins], check=True)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--python", action="append", required=True, help="target CPython, e.g. 3.12 (repeatable)"
    )
    parser.add_argument("--output", type=Path, required=True, help="the wheelhouse folder")
    parser.add_argument(
        "--serving-only", action="store_true", help="only the serving runtime (no pack-time tools)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    pins = SERVING_PINS if args.serving_only else PACK_PINS
    for python in args.python:
        download(pins, python, args.output)
        select(args.output, pins, python)
        print(f"{args.output}: complete offline install of {', '.join(pins)} for CPython {python}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
