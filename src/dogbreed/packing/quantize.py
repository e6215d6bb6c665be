"""Pack time only: the fp32 classifier as ONNX, and its static int8 quantization for ONNX Runtime.

Needs torch, onnx, onnxscript (torch's ONNX exporter) and onnxruntime's quantization tool; never shipped in
the artifact, never imported by the hooks. `runtime_missing()` says what is not importable, so packing can
fall back to fp32 and say why instead of failing.

The int8 model is what /work/research/quant measured fastest here among runtimes that fit the container
(benchmarks/serving_runtimes.py re-measures it side by side): QDQ format, uint8 activations (int8 x int8 ran
2-2.5x slower on x86), int8 weights per output channel, MinMax ranges calibrated on training images decoded
and transformed exactly as predict_fn does (draft decode at the resize, the eval transform). The classifier
(the last Gemm/MatMul) stays fp32: quantizing its output clipped confident logits on a ResNet-50 in the
research (max probability change 0.815 with it, 0.124 without), at no measurable speed cost.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from dogbreed.preprocessing import Preprocessing, to_upright_rgb

log = logging.getLogger(__name__)

INPUT_NAME, OUTPUT_NAME = "images", "logits"
# What the export and the quantization import; their pins are in requirements/dev.txt (pack time).
PACK_MODULES = ("onnx", "onnxscript", "onnxruntime")
MAX_EXPORT_BATCH = 64


def runtime_missing() -> list[str]:
    """The pack-time modules that are not importable here (empty: int8 packing can run)."""
    return [name for name in PACK_MODULES if importlib.util.find_spec(name) is None]


def onnxruntime_version() -> str:
    import onnxruntime

    return onnxruntime.__version__


def served_input(path: Path, preprocessing: Preprocessing, transform) -> np.ndarray:
    """One image as predict_fn feeds the network: upright RGB, JPEG draft decode at the resize, eval
    transform, (1, 3, crop, crop) float32."""
    with Image.open(path) as image:
        return transform(to_upright_rgb(image, min_side=preprocessing.resize)).unsqueeze(0).numpy()


def served_batches(
    samples: Iterable[tuple[Path, int]], preprocessing: Preprocessing, batch_size: int = 32
) -> Iterator[tuple[np.ndarray, list[int]]]:
    """(images, labels) batches of at most batch_size, each image as served_input makes it; an image that
    fails to decode is left out (and logged), as training skips it."""
    transform, images, labels = preprocessing.eval_transform(), [], []
    for path, label in samples:
        try:
            images.append(served_input(path, preprocessing, transform))
        except (OSError, SyntaxError, ValueError) as error:  # what a corrupt image raises in Pillow
            log.warning("skipping %s: cannot decode it (%s)", path, error)
            continue
        labels.append(label)
        if len(images) == batch_size:
            yield np.concatenate(images), labels
            images, labels = [], []
    if images:
        yield np.concatenate(images), labels


def calibration_paths(train_paths: list[Path], count: int) -> list[Path]:
    """`count` training images evenly spread through the class-sorted list, so every class is represented
    and the choice is the same on every pack of the same data (no randomness)."""
    ordered = sorted(train_paths)
    if count >= len(ordered):
        return ordered
    step = len(ordered) / count
    return [ordered[int(index * step)] for index in range(count)]


def export_fp32(network: torch.nn.Module, crop: int, output: Path) -> Path:
    """The eval-mode network as an ONNX graph with a dynamic batch dimension (torch.onnx's dynamo exporter;
    the TorchScript exporter is deprecated for removal). Weights are embedded in the file."""
    network = network.eval().cpu()
    batch = torch.export.Dim("batch", min=1, max=MAX_EXPORT_BATCH)
    with _quiet(), torch.inference_mode(False):
        torch.onnx.export(
            network,
            (torch.zeros(2, 3, crop, crop),),
            str(output),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamo=True,
            external_data=False,
            optimize=True,
            dynamic_shapes={INPUT_NAME: {0: batch}},
            verbose=False,
        )
    return output


def quantize_int8(fp32_model: Path, calibration: list[np.ndarray], output: Path) -> Path:
    """Static int8 QDQ model of `fp32_model`, ranges from `calibration` (one (1, 3, H, W) array each)."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Calibration(CalibrationDataReader):
        def __init__(self):
            self._items = iter([{INPUT_NAME: item} for item in calibration])

        def get_next(self):
            return next(self._items, None)

    prepared = output.with_name(output.stem + ".prepared.onnx")
    with _quiet():
        quant_pre_process(str(fp32_model), str(prepared))  # shape inference, BatchNorm folded into Conv
        nodes = onnx.load(str(prepared)).graph.node
        classifier = [next(n.name for n in reversed(nodes) if n.op_type in ("Gemm", "MatMul"))]
        quantize_static(
            str(prepared),
            str(output),
            Calibration(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            reduce_range=False,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=classifier,
            calibrate_method=CalibrationMethod.MinMax,
        )
    prepared.unlink(missing_ok=True)
    return output


def ort_session(model: Path, threads: int):
    """An ONNX Runtime CPU session as the hooks create it (dogbreed.serving.runtime)."""
    from dogbreed.serving.runtime import onnx_session

    return onnx_session(model, threads)


CHATTY_LOGGERS = ("onnxscript", "onnx_ir", "onnxruntime", "torch.onnx")


@contextlib.contextmanager
def _quiet():
    """The exporter and the quantizer print progress to stdout and log every pass at INFO; keep both out of
    training's output (its metric lines are parsed) unless debugging."""
    sink, levels = io.StringIO(), {}
    for name in CHATTY_LOGGERS:
        levels[name] = logging.getLogger(name).level
        logging.getLogger(name).setLevel(max(logging.WARNING, log.getEffectiveLevel()))
    try:
        with contextlib.redirect_stdout(sink):
            yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    for line in sink.getvalue().splitlines():
        log.debug("%s", line)
