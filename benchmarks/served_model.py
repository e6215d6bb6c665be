"""The model the serving benchmarks measure, trained and packed by train.py, int8 for ONNX Runtime.

A ResNet-50 at 224 px, the course's network, so that speed is compared on the same compute: random-init
backbone (--no-pretrained: nothing can be downloaded here), head trained by train.py --freeze-backbone
--cache-features on a generated dataset, packed with the serving runtime's wheels for the local stack's Python
(build/wheelhouse, scripts/setup.sh).

Packed with the accuracy gate opened (--serving-precision int8, any agreement, any drop): a random backbone
makes a weak classifier whose near-tied classes int8 rounding flips, and the default gate refuses it (its
numbers are still measured and kept in model_meta.json, and reported). Speed does not depend on the weight
values; whether int8 is accurate enough is answered where the weights are trained, by the gate itself
(benchmarks/int8_agreement.py).

Built once per version of the code that trains and packs it (src/dogbreed, training/train.py) and per plan,
cached in build/benchmarks/: the benchmarks of one run measure the same artifact, and a code change is
always what gets measured.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import astuple, dataclass
from pathlib import Path

from dogbreed.data.synthetic import generate
from dogbreed.utils.repo import BUILD_DIR, REPO_ROOT

DEFAULT_CACHE_DIR = BUILD_DIR / "benchmarks"
TRAIN_SCRIPT = REPO_ROOT / "training" / "train.py"
CODE_ROOTS = (REPO_ROOT / "src" / "dogbreed", TRAIN_SCRIPT)


OPEN_GATE = ("--serving-precision", "int8", "--gate-min-agreement", "0", "--gate-max-accuracy-drop", "100")


@dataclass(frozen=True)
class ModelPlan:
    arch: str
    classes: int
    train_per_class: int
    valid_per_class: int
    test_per_class: int
    epochs: int
    packing: tuple[str, ...] = OPEN_GATE


FULL = ModelPlan("resnet50", classes=5, train_per_class=6, valid_per_class=10, test_per_class=1, epochs=30)
QUICK = ModelPlan("resnet18", classes=2, train_per_class=2, valid_per_class=2, test_per_class=1, epochs=1)


@dataclass(frozen=True)
class ServedModel:
    archive: Path  # model.tar.gz as train.py packed it
    model_dir: Path  # the same, extracted (what /opt/ml/model holds)
    data_dir: Path  # the generated dataset (train/ calibrated, valid/ gated)
    meta: dict  # model_meta.json

    @property
    def serving(self) -> dict:
        return self.meta["serving"]


def code_version() -> str:
    digest = hashlib.sha256()
    for root in CODE_ROOTS:
        for path in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
            digest.update(path.relative_to(REPO_ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def served_model(plan: ModelPlan, cache_dir: Path = DEFAULT_CACHE_DIR) -> ServedModel:
    """The packed model of `plan`, built now unless this code version already built it."""
    key = hashlib.sha256((code_version() + repr(astuple(plan))).encode()).hexdigest()[:12]
    root = cache_dir / f"served-{plan.arch}-{key}"
    if not (root / "model.tar.gz").is_file():
        cache_dir.mkdir(parents=True, exist_ok=True)
        for stale in cache_dir.glob(f"served-{plan.arch}-*"):
            shutil.rmtree(stale)
        scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=cache_dir))
        try:
            _build(plan, scratch)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        scratch.rename(root)
    return ServedModel(
        root / "model.tar.gz",
        root / "extracted",
        root / "data",
        json.loads((root / "extracted" / "model_meta.json").read_text()),
    )


def _build(plan: ModelPlan, root: Path) -> None:
    print(f"building the served model ({plan}) with train.py ...", file=sys.stderr, flush=True)
    splits = {"train": plan.train_per_class, "valid": plan.valid_per_class, "test": plan.test_per_class}
    generate(root / "data", plan.classes, splits, seed=0, min_size=520, max_size=720)  # draft-mode sizes
    command = [
        sys.executable, str(TRAIN_SCRIPT), "--data-dir", str(root / "data"),
        "--model-dir", str(root / "model"), "--output-dir", str(root / "output"),
        "--checkpoint-dir", str(root / "checkpoints"), "--arch", plan.arch, "--no-pretrained",
        "--freeze-backbone", "--cache-features", "--epochs", str(plan.epochs), "--patience", "0",
        "--learning-rate", "0.001", "--batch-size", "16", "--num-workers", "0",
        "--serving-python", _local_serving_python(), *plan.packing,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=_training_env(), timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"train.py failed ({result.returncode}):\n{result.stderr[-3000:]}")
    shutil.move(root / "model" / "model.tar.gz", root / "model.tar.gz")
    with tarfile.open(root / "model.tar.gz") as archive:
        archive.extractall(root / "extracted", filter="data")
    shutil.copy(root / "output" / "metrics.json", root / "metrics.json")
    for scratch in ("model", "checkpoints"):
        shutil.rmtree(root / scratch, ignore_errors=True)


def _local_serving_python() -> str:
    """The local serving stack's CPython: the wheels packed into the artifact must install there."""
    from dogbreed.local_endpoint.instance import python_version, serving_python

    return python_version(serving_python())


def _training_env() -> dict[str, str]:
    """A bare environment; PYTHONPATH passes through: train.py runs this checkout's package."""
    env = {"PYTHONUNBUFFERED": "1", "PATH": "/usr/bin:/bin"}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env
