"""What a packed model serves with, decided at pack time on the user's own data: int8, ONNX Runtime fp32, or
the fp32 torch network.

--serving-precision auto (default): build the int8 model (dogbreed.packing.quantize), compare it with the fp32
torch network on the validation split (dogbreed.packing.gate) and ship it if it passes the gate. Otherwise
ship the ONNX Runtime fp32 model if it matches the torch network (same top-1 on the split, every probability
within 0.001): the research measured it 2.2x faster than eager torch on a ResNet-50 and exact. Otherwise, or
when onnxruntime/onnx is not importable here, there is no data to calibrate and validate on, or the
wheelhouse lacks the serving runtime for the container's Python, ship the fp32 torch network (model.pt),
which needs nothing the container lacks. Every decision says why (`reason`).
--serving-precision int8: as auto, but anything other than int8 is a PackError (no artifact).
--serving-precision fp32: no int8 model; ONNX Runtime fp32 if it matches, else torch.

model.pt is always in the artifact; an ONNX model comes with the runtime's wheels in code/wheels/ and the
code/requirements.txt that installs them offline (dogbreed.packing.wheels).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from dogbreed.data.dogimages import index_split
from dogbreed.packing import quantize, wheels
from dogbreed.packing.gate import FP32_MAX_PROBABILITY_DIFF, GateThresholds, compare, judge
from dogbreed.packing.options import PackOptions
from dogbreed.preprocessing import Preprocessing
from dogbreed.serving.runtime import ONNX_RUNTIME, TORCH_RUNTIME

log = logging.getLogger(__name__)

INT8_FILE, FP32_ONNX_FILE, TORCH_FILE = "model.int8.onnx", "model.onnx", "model.pt"
WHEELS_DIR = "wheels"  # under code/


class PackError(RuntimeError):
    """The requested serving precision cannot be shipped."""


@dataclass
class ServingBuild:
    serving: dict  # model_meta.json "serving"
    members: dict[str, bytes] = field(default_factory=dict)  # archive entries besides model.pt/meta/code


def torch_only(options: PackOptions, reason: str, **numbers) -> ServingBuild:
    if options.precision == "int8":
        raise PackError(f"int8 was required but cannot be shipped: {reason}")
    log.warning("serving precision: fp32 torch (%s)", reason)
    serving = {
        "runtime": TORCH_RUNTIME,
        "precision": "fp32",
        "file": TORCH_FILE,
        "requested": options.precision,
    }
    return ServingBuild({**serving, "reason": reason, **numbers})


def build_serving(network: torch.nn.Module, meta: dict, options: PackOptions) -> ServingBuild:
    """Decide what the artifact serves with and build its files; see the module docstring."""
    blocker = _blocker(options)
    if blocker:
        return torch_only(options, blocker)
    runtime_wheels = wheels.select(options.wheelhouse, wheels.SERVING_PINS, options.serving_python)
    preprocessing = Preprocessing.from_dict(meta["preprocessing"])
    reference = network.eval().cpu().to(memory_format=torch.channels_last)  # as the torch path serves
    with tempfile.TemporaryDirectory(prefix="dogbreed-pack-") as scratch:
        workdir = Path(scratch)
        fp32_model = quantize.export_fp32(network, preprocessing.crop, workdir / FP32_ONNX_FILE)
        candidates = {"onnxruntime fp32": fp32_model}
        calibration = []
        if options.precision != "fp32":
            calibration = _calibration(options, preprocessing)
            arrays = [image[None] for batch, _ in quantize.served_batches(calibration, preprocessing, 1)
                      for image in batch]  # fmt: skip
            candidates["onnxruntime int8"] = quantize.quantize_int8(fp32_model, arrays, workdir / INT8_FILE)
        reports = _evaluate(reference, candidates, options, preprocessing)
        chosen = _choose(reports)
        if options.precision == "int8" and chosen != "onnxruntime int8":
            raise PackError(f"int8 was required but did not pass: {reports['onnxruntime int8'].summary()}")
        if chosen is None:
            reasons = "; ".join(report.summary() for report in reports.values())
            return torch_only(options, f"no ONNX model passed its gate: {reasons}", **_numbers(reports))
        file = candidates[chosen].name
        members = {file: candidates[chosen].read_bytes()}
    members |= {f"code/{WHEELS_DIR}/{path.name}": path.read_bytes() for path in runtime_wheels}
    members["code/requirements.txt"] = wheels.requirements_text(wheels.SERVING_PINS, WHEELS_DIR).encode()
    precision = "int8" if chosen.endswith("int8") else "fp32"
    reason = reports[chosen].summary()
    if precision == "fp32" and "onnxruntime int8" in reports:
        reason = f"int8 not shipped: {reports['onnxruntime int8'].summary()}; shipping {reason}"
    log.info("serving precision: %s %s (%s)", ONNX_RUNTIME, precision, reason)
    serving = {
        "runtime": ONNX_RUNTIME,
        "precision": precision,
        "file": file,
        "input": quantize.INPUT_NAME,
        "onnxruntime": quantize.onnxruntime_version(),
        "serving_python": options.serving_python,
        "wheels": sorted(path.name for path in runtime_wheels),
        "requested": options.precision,
        "reason": reason,
        **_numbers(reports),
        "calibration": {
            "images": len(calibration),
            "files": [p.relative_to(options.data_dir).as_posix() for p, _ in calibration],
        },
    }
    return ServingBuild(serving, members)


def _blocker(options: PackOptions) -> str | None:
    """Why no ONNX model can be built or shipped here, or None."""
    missing = quantize.runtime_missing()
    if missing:
        return (
            f"pack-time module(s) {', '.join(missing)} not importable here (requirements/dev.txt pins them)"
        )
    if options.data_dir is None:
        return "no data directory: nothing to calibrate and validate an ONNX model on"
    if not (options.data_dir / "valid").is_dir():
        return f"no validation split at {options.data_dir / 'valid'}"
    if options.wheelhouse is None:
        return "no wheelhouse: the serving runtime's wheels cannot travel in the artifact"
    try:
        wheels.select(options.wheelhouse, wheels.SERVING_PINS, options.serving_python)
    except wheels.WheelhouseError as error:
        return f"the serving runtime cannot be installed offline: {error}"
    return None


def _calibration(options: PackOptions, preprocessing: Preprocessing) -> list[tuple[Path, int]]:
    samples, _ = index_split(options.data_dir / "train")
    by_path = {sample.path: sample.label for sample in samples}
    chosen = quantize.calibration_paths(list(by_path), options.calibration_images)
    return [(path, by_path[path]) for path in chosen]


def _evaluate(reference, candidates: dict[str, Path], options: PackOptions, preprocessing: Preprocessing):
    samples, _ = index_split(options.data_dir / "valid")
    threads = torch.get_num_threads()
    sessions = {name: quantize.ort_session(path, threads) for name, path in candidates.items()}

    def run_torch(images: np.ndarray) -> np.ndarray:
        batch = torch.from_numpy(images).to(memory_format=torch.channels_last)
        with torch.inference_mode():
            return reference(batch).float().numpy()

    def runner(session):
        return lambda images: session.run(None, {quantize.INPUT_NAME: images})[0]

    batches = quantize.served_batches(((s.path, s.label) for s in samples), preprocessing, options.batch_size)
    logits, labels = compare(run_torch, {name: runner(s) for name, s in sessions.items()}, batches)
    fp32_thresholds = GateThresholds(
        options.thresholds.min_agreement,
        options.thresholds.max_accuracy_drop_points,
        FP32_MAX_PROBABILITY_DIFF,
    )
    reports = {}
    for name in candidates:
        thresholds = options.thresholds if name.endswith("int8") else fp32_thresholds
        reports[name] = judge(name, logits["fp32"], logits[name], labels, thresholds)
        log.info("gate: %s", reports[name].summary())
    return reports


def _choose(reports: dict) -> str | None:
    for name in ("onnxruntime int8", "onnxruntime fp32"):
        if name in reports and reports[name].passed:
            return name
    return None


def _numbers(reports: dict) -> dict:
    keys = {"onnxruntime int8": "gate", "onnxruntime fp32": "fp32_check"}
    return {keys[name]: report.to_dict() for name, report in reports.items()}
