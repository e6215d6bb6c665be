"""Let the serving venv see the project venv's PyTorch stack, and nothing else of it.

    .venv/bin/python scripts/serving_layer.py .venv-serving

The PyTorch inference container has torch, torchvision, Pillow, NumPy, SciPy and boto3 beside TorchServe and
the SageMaker toolkit. Installing PyTorch a second time would add several GB (PyPI's build pulls the CUDA
libraries), so the serving venv gets the project venv's copy instead: this script links exactly those
distributions and what they require (markers evaluated for this interpreter) into ``<venv>/project-layer``
and appends that folder to the serving venv's ``sys.path`` with a ``.pth`` file. Distributions the serving
venv installs itself (setuptools < 81 for ``pkg_resources``, PyYAML, psutil, packaging) are not linked, and
the serving venv's own ``site-packages`` comes first, so its versions win. Nothing else of the project venv
is visible there (not moto, not tqdm, not the editable ``dogbreed``): an artifact that imports what the
container lacks fails here as it would on SageMaker.
"""

from __future__ import annotations

import re
import shutil
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

# What the DLC image installs that the toolkit and our artifact import (aws/deep-learning-containers,
# pytorch/inference/docker/2.6/py3/Dockerfile.cpu; sagemaker-pytorch-inference 2.0.25's install_requires).
ROOTS = ("torch", "torchvision", "pillow", "numpy", "scipy", "boto3", "six")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(roots: tuple[str, ...]) -> dict[str, metadata.Distribution]:
    """The installed distributions of `roots` and, transitively, of their requirements for this platform."""
    found: dict[str, metadata.Distribution] = {}
    seen: set[tuple[str, str]] = set()
    pending = [(name, "") for name in roots]
    while pending:
        name, extra = pending.pop()
        name = canonical(name)
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        found.setdefault(name, metadata.distribution(name))
        for line in found[name].requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": extra}):
                pending += [(requirement.name, "")] + [(requirement.name, e) for e in requirement.extras]
    return found


def top_level_entries(distribution: metadata.Distribution) -> set[str]:
    """The names a distribution puts directly into site-packages (packages, modules, .libs, .dist-info)."""
    return {file.parts[0] for file in distribution.files or [] if file.parts[0] not in ("..", "__pycache__")}


def main(venv: str) -> int:
    venv_dir = Path(venv).resolve()
    serving_site = Path(
        sysconfig.get_paths(vars={"base": str(venv_dir), "platbase": str(venv_dir)})["purelib"]
    )
    own = {canonical(d.metadata["Name"]) for d in metadata.distributions(path=[str(serving_site)])}
    project_site = Path(sysconfig.get_paths()["purelib"])
    layer = venv_dir / "project-layer"
    shutil.rmtree(layer, ignore_errors=True)
    layer.mkdir()
    linked = sorted(name for name in closure(ROOTS) if name not in own)
    for name in linked:
        for entry in top_level_entries(metadata.distribution(name)):
            target = layer / entry
            if not target.exists() and (project_site / entry).exists():
                target.symlink_to(project_site / entry)
    (serving_site / "_project_layer.pth").write_text(f"{layer}\n")
    print(f"linked {len(linked)} distributions of {project_site} into {layer}: {', '.join(linked)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
