"""The serving runtimes benchmarks/serving_runtimes.py compares, each built from the same packed model and
callable the same way: (N, 3, H, W) float32 images in, (N, classes) logits out, at a fixed thread count.

    torch fp32        model.pt, eager, channels_last: what the hooks served before int8
    onnxruntime fp32  model.pt exported as packing exports it (dogbreed.packing.quantize.export_fp32)
    onnxruntime int8  the artifact's model.int8.onnx (QDQ, u8 activations, s8 per-channel weights, head fp32)
    openvino fp32     the ONNX fp32 model compiled by OpenVINO's CPU plugin
    openvino int8     the same QDQ int8 model: OpenVINO runs QDQ graphs with its int8 kernels
    torch int8        PyTorch's own static quantization (torch.ao FX graph mode, x86 backend), calibrated on
                      the same training images

A runtime whose package is not importable here is reported as skipped, with the reason.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dogbreed.model import build_model
from dogbreed.packing import quantize
from dogbreed.preprocessing import Preprocessing
from dogbreed.serving.runtime import onnx_session

Forward = Callable[[np.ndarray], np.ndarray]
SERVED = "onnxruntime int8"


@dataclass
class Candidate:
    name: str
    forwards: dict[int, Forward]  # threads -> forward


def torch_network(model_dir: Path, meta: dict) -> torch.nn.Module:
    network = build_model(meta["arch"], int(meta["num_classes"]), pretrained=False)
    network.load_state_dict(torch.load(model_dir / "model.pt", map_location="cpu", weights_only=True))
    return network.eval()


def _torch_forward(module: torch.nn.Module, threads: int, layout=torch.channels_last) -> Forward:
    def forward(images: np.ndarray) -> np.ndarray:
        torch.set_num_threads(threads)
        with torch.inference_mode():
            return module(torch.from_numpy(images).to(memory_format=layout)).float().numpy()

    return forward


def _onnx_forward(model: Path, threads: int) -> Forward:
    session = onnx_session(model, threads)
    return lambda images: session.run(None, {quantize.INPUT_NAME: images})[0]


def _openvino_forward(model: Path, threads: int) -> Forward:
    import openvino

    config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1}
    compiled = openvino.Core().compile_model(str(model), "CPU", config)
    request, output = compiled.create_infer_request(), compiled.output(0)
    return lambda images: request.infer({0: images})[output].copy()


def torch_int8(network: torch.nn.Module, calibration: list[np.ndarray]) -> torch.nn.Module:
    """torch.ao FX static quantization with the x86 backend's default qconfig, calibrated on `calibration`."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    torch.backends.quantized.engine = "x86"
    example = (torch.from_numpy(calibration[0]),)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # torch.ao.quantization's deprecation notice (torchao replaces it)
        prepared = prepare_fx(network.cpu().eval(), get_default_qconfig_mapping("x86"), example)
        with torch.inference_mode():
            for image in calibration:
                prepared(torch.from_numpy(image))
        return convert_fx(prepared)


def calibration_images(data_dir: Path, preprocessing: Preprocessing, count: int) -> list[np.ndarray]:
    """The training images packing calibrates on, decoded and transformed as predict_fn does."""
    from dogbreed.data.dogimages import index_split

    samples, _ = index_split(data_dir / "train")
    paths = quantize.calibration_paths([sample.path for sample in samples], count)
    return [batch for batch, _ in quantize.served_batches(((path, 0) for path in paths), preprocessing, 1)]


def build_candidates(
    model_dir: Path, meta: dict, data_dir: Path, workdir: Path, thread_counts: tuple[int, ...]
) -> tuple[list[Candidate], dict[str, str]]:
    """Every runtime that can be built here, and why the others were skipped."""
    preprocessing = Preprocessing.from_dict(meta["preprocessing"])
    network = torch_network(model_dir, meta)
    fp32_onnx = quantize.export_fp32(network, preprocessing.crop, workdir / "model.onnx")
    int8_onnx = model_dir / "model.int8.onnx"
    calibration = calibration_images(data_dir, preprocessing, meta["serving"]["calibration"]["images"])
    if not int8_onnx.is_file():  # the gate shipped fp32: measure the int8 model it rejected all the same
        int8_onnx = quantize.quantize_int8(fp32_onnx, calibration, workdir / "model.int8.onnx")
    channels_last = network.to(memory_format=torch.channels_last)
    builders: dict[str, Callable[[int], Forward]] = {
        "torch fp32": lambda threads: _torch_forward(channels_last, threads),
        "onnxruntime fp32": lambda threads: _onnx_forward(fp32_onnx, threads),
        SERVED: lambda threads: _onnx_forward(int8_onnx, threads),
    }
    skipped = {}
    if importlib.util.find_spec("openvino") is None:
        skipped["openvino fp32"] = skipped["openvino int8"] = "openvino is not installed"
    else:
        builders["openvino fp32"] = lambda threads: _openvino_forward(fp32_onnx, threads)
        builders["openvino int8"] = lambda threads: _openvino_forward(int8_onnx, threads)
    try:
        quantized = torch_int8(torch_network(model_dir, meta), calibration)
        builders["torch int8"] = lambda threads: _torch_forward(quantized, threads, torch.contiguous_format)
    except Exception as error:  # noqa: BLE001 - any failure of the candidate is its result, reported
        skipped["torch int8"] = f"{type(error).__name__}: {error}"[:300]
    candidates = [
        Candidate(name, {threads: build(threads) for threads in thread_counts})
        for name, build in builders.items()
    ]
    return candidates, skipped
