"""The code a SageMaker training job runs: `train.py`, the parts of the package training imports and, when a
wheelhouse is given, the wheels packing needs, so the job packs int8 without reaching a package index.

SageMaker unpacks it as the job's source dir and runs `train.py` with that dir first on the import path, so
the `dogbreed` package travels next to it. The launcher, the local endpoint and caches stay out.

With wheels (`source_tarball(ShippedWheels(...))`) the tarball also holds

    wheelhouse/*.whl      the pack-time tools for the training image's CPython (onnx, onnxscript,
                          onnxruntime, ...) and the serving runtime for the inference image's CPython
    requirements.txt      --no-index --find-links wheelhouse + the pack-time pins

and the job's SourceCode names requirements.txt (dogbreed.orchestration.sdk): the SDK's sm_train.sh runs
`install_requirements.py requirements.txt` (pip install -r) in the unpacked source dir before the entry
point (sagemaker/train/templates.py INSTALL_REQUIREMENTS, model_trainer.py _prepare_train_script), which
works in a private subnet without internet because nothing is fetched. train.py finds wheelhouse/ beside the
package (dogbreed.packing.options) and copies the serving wheels into model.tar.gz's code/wheels/.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

import dogbreed
from dogbreed.packing import wheels
from dogbreed.utils.repo import REPO_ROOT

ENTRY_POINT = "train.py"
ENTRY_SCRIPT = REPO_ROOT / "training" / ENTRY_POINT
PACKAGE_DIR = Path(dogbreed.__file__).resolve().parent
# Subpackages a training job never imports (they need the SDK, boto3 or the inference toolkit).
NOT_SHIPPED = frozenset({"orchestration", "local_endpoint"})
WHEELHOUSE_DIR = "wheelhouse"  # dogbreed.packing.options looks for it beside the package
REQUIREMENTS = "requirements.txt"


@dataclass(frozen=True)
class ShippedWheels:
    """Which wheels of `wheelhouse` travel: pack-time tools for the training image's CPython, the serving
    runtime for the inference image's."""

    wheelhouse: Path
    training_python: str
    serving_python: str = wheels.SERVING_PYTHON

    def select(self) -> list[Path]:
        """The wheels; WheelhouseError if either set is not a complete offline install."""
        pack = wheels.select(self.wheelhouse, wheels.PACK_PINS, self.training_python)
        serve = wheels.select(self.wheelhouse, wheels.SERVING_PINS, self.serving_python)
        return sorted(set(pack) | set(serve))


def source_files(shipped: ShippedWheels | None = None) -> dict[str, Path | bytes]:
    """Archive name -> file (or content), sorted: `train.py`, every package module training may import, and
    the wheels with their requirements file when `shipped` is given."""
    files: dict[str, Path | bytes] = {ENTRY_POINT: ENTRY_SCRIPT}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        relative = path.relative_to(PACKAGE_DIR)
        if relative.parts[0] not in NOT_SHIPPED:
            files[f"dogbreed/{relative.as_posix()}"] = path
    if shipped is not None:
        for wheel in shipped.select():
            files[f"{WHEELHOUSE_DIR}/{wheel.name}"] = wheel
        files[REQUIREMENTS] = wheels.requirements_text(wheels.PACK_PINS, WHEELHOUSE_DIR).encode()
    return dict(sorted(files.items()))


def source_tarball(shipped: ShippedWheels | None = None) -> bytes:
    """The source files as a reproducible sourcedir.tar.gz (same files, same bytes)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for name, source in source_files(shipped).items():
            data = source if isinstance(source, bytes) else source.read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.uid, info.gid, info.uname, info.gname = len(data), 0, 0, 0, "", ""
            info.mode = 0o644  # the same bytes from every checkout, whatever its umask
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
