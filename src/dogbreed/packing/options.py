"""The packing options train.py and dogbreed-pack share: serving precision, the gate's thresholds,
calibration, the wheelhouse and the container's Python. Imports no torch: train.py's parser
(dogbreed.training.options) adds these flags, and the launcher checks a job's hyperparameters with that
parser without torch."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

import dogbreed
from dogbreed.packing import wheels
from dogbreed.packing.gate import DEFAULT_MAX_ACCURACY_DROP_POINTS, DEFAULT_MIN_AGREEMENT, GateThresholds
from dogbreed.training.flags import add_flag
from dogbreed.utils.repo import BUILD_DIR

PRECISIONS = ("auto", "int8", "fp32")
DEFAULT_CALIBRATION_IMAGES = 128


@dataclass(frozen=True)
class PackOptions:
    precision: str = "auto"
    data_dir: Path | None = None  # dogImages layout: train/ calibrates, valid/ validates
    wheelhouse: Path | None = None  # where the serving runtime's wheels are found
    serving_python: str = wheels.SERVING_PYTHON  # the container's CPython, which the wheels must fit
    thresholds: GateThresholds = field(default_factory=GateThresholds)
    calibration_images: int = DEFAULT_CALIBRATION_IMAGES
    batch_size: int = 32

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"serving precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"
            )
        if self.calibration_images < 1:
            raise ValueError(f"calibration images must be positive, got {self.calibration_images}")


# Where the wheels are when --wheelhouse is not given: beside the package in a training job's source dir
# (dogbreed.orchestration.source ships wheelhouse/ next to dogbreed/), else the checkout's build/wheelhouse
# (filled by scripts/setup.sh and `python -m dogbreed.packing.wheels`).
WHEELHOUSE_CANDIDATES = (
    Path(dogbreed.__file__).resolve().parent.parent / "wheelhouse",
    BUILD_DIR / "wheelhouse",
)


def default_wheelhouse() -> Path | None:
    return next((path for path in WHEELHOUSE_CANDIDATES if path.is_dir()), None)


def add_packing_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    add_flag(
        parser,
        "serving-precision",
        choices=PRECISIONS,
        default="auto",
        help="auto: int8 if it passes the accuracy gate on the validation split, else fp32 (ONNX Runtime "
        "if it matches torch, else torch); int8: fail the pack unless int8 passes; fp32: no int8 "
        "(default: %(default)s)",
    )
    add_flag(
        parser,
        "gate-min-agreement",
        type=float,
        default=DEFAULT_MIN_AGREEMENT,
        help="int8 ships only if its top-1 prediction equals fp32's on at least this share of the validation "
        "images (default: %(default)s)",
    )
    add_flag(
        parser,
        "gate-max-accuracy-drop",
        type=float,
        default=DEFAULT_MAX_ACCURACY_DROP_POINTS,
        help="... and its validation accuracy is at most this many points below fp32's "
        "(default: %(default)s)",
    )
    add_flag(
        parser,
        "gate-max-probability-diff",
        type=float,
        default=None,
        help="... and no class probability of any validation image moves by more than this (default: not "
        "checked; the fp32 ONNX model is always held to 0.001)",
    )
    add_flag(
        parser,
        "calibration-images",
        type=int,
        default=DEFAULT_CALIBRATION_IMAGES,
        help="training images, spread over the classes, that set the int8 ranges (default: %(default)s)",
    )
    add_flag(
        parser,
        "wheelhouse",
        type=Path,
        default=None,
        help="folder with the serving runtime's wheels (default: wheelhouse/ beside the package, else "
        "build/wheelhouse)",
    )
    add_flag(
        parser,
        "serving-python",
        default=wheels.SERVING_PYTHON,
        help="CPython version of the inference container, which the shipped wheels must fit "
        "(default: %(default)s, the PyTorch 2.6 CPU inference image)",
    )


def pack_options(args: argparse.Namespace, data_dir: Path | None) -> PackOptions:
    """PackOptions from the flags above; ValueError for values out of range."""
    return PackOptions(
        precision=args.serving_precision,
        data_dir=data_dir,
        wheelhouse=args.wheelhouse or default_wheelhouse(),
        serving_python=args.serving_python,
        thresholds=GateThresholds(
            args.gate_min_agreement, args.gate_max_accuracy_drop, args.gate_max_probability_diff
        ),
        calibration_images=args.calibration_images,
    )
