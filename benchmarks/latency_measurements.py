"""The measurement loops of benchmarks/inference_latency.py: request latency, forward vs FLOP floor, decode
variants and prediction agreement, each interleaved round by round so the shared machine's noise hits every
variant alike."""

from __future__ import annotations

import copy
import functools
import io
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from tqdm import tqdm

from benchmarks.course_baseline import CoursePath
from benchmarks.served_model import ModelPlan
from dogbreed.preprocessing import Preprocessing, to_upright_rgb
from dogbreed.serving import hooks
from dogbreed.utils.cpus import usable_cpus

DEFAULT_THREADS = torch.get_num_threads()  # what the course code runs with: it never sets a thread count
CORES = usable_cpus()
PER_WORKER = "ours_1_thread_per_worker"
TORCH_PATH = "ours_fp32_torch"  # the hooks serving model.pt (INFERENCE_RUNTIME=torch), as before int8
LATENCY_BUDGET_S, FORWARD_BUDGET_S = 30.0, 10.0  # per phase; the whole script must stay within 2 minutes
FORWARD, FORWARD_1 = "torch fp32 channels_last", "torch fp32 channels_last, 1 thread"
SERVED, SERVED_1 = "served", "served, 1 thread"  # the artifact's network as model_fn loads it
RATE, RATE_1 = "matmul_gflops", "matmul_gflops_1_thread"
INT8_RATE, INT8_RATE_1 = "int8_matmul_gops", "int8_matmul_gops_1_thread"
MATMUL_SIZE = 1024
OUR_DECODE, COURSE_DECODE = (
    "ours: draft decode, Resize(256), CenterCrop",
    "course: full decode, Resize((224, 224))",
)


@dataclass(frozen=True)
class Photo:
    name: str
    megapixels: float
    format: str  # JPEG or PNG

    @property
    def content_type(self) -> str:
        return "image/jpeg" if self.format == "JPEG" else "image/png"


@dataclass(frozen=True)
class Plan:
    rounds: int  # least latency rounds; each sends every photo once through every path
    forward_rounds: int  # least forward rounds
    max_rounds: int  # more rounds run while a phase is within its time budget, up to this many
    decode_rounds: int
    photos: tuple[Photo, ...]
    model: ModelPlan  # the served model (benchmarks/served_model.py)


class OurPath:
    """model_fn / input_fn / predict_fn / output_fn of dogbreed.serving.hooks (what the artifact ships)."""

    def __init__(self, model, threads: int):
        self.model, self.threads = model, threads

    @classmethod
    def load(cls, model_dir: Path, workers: int, runtime: str | None = None) -> OurPath:
        """model_fn as a server with `workers` model workers runs it (INFERENCE_RUNTIME=`runtime` when
        given); keeps the thread count it chose."""
        settings = {hooks.WORKERS_ENV: str(workers), hooks.RUNTIME_ENV: runtime}
        previous = {name: os.environ.get(name) for name in settings}
        _set_env(settings)
        try:
            model = hooks.model_fn(str(model_dir))
        finally:
            _set_env(previous)
        return cls(model, torch.get_num_threads())

    def request(self, body: bytes, content_type: str) -> str:
        request = hooks.input_fn(body, content_type)
        return hooks.output_fn(hooks.predict_fn(request, self.model), "application/json")[0]


def _set_env(values: dict[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def timed(call: Callable[[], object], threads: int) -> float:
    torch.set_num_threads(threads)
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def rounds_within(least: int, most: int, budget_s: float, description: str) -> Iterator[int]:
    """Round indices: `least` of them, then more while the phase has run under `budget_s`, `most` at most.
    On a quiet machine that buys more samples; on a busy one the benchmark still ends in time."""
    start = time.perf_counter()
    with tqdm(total=most, desc=description, file=sys.stderr) as progress:
        for index in range(most):
            if index >= least and time.perf_counter() - start > budget_s:
                break
            yield index
            progress.update()


def measure_latency(
    course: CoursePath, ours: dict[str, OurPath], inputs: dict[Photo, bytes], plan: Plan
) -> dict:
    """Every round sends every photo through every path (the course's and each of `ours`), in a shuffled
    order (seeded)."""
    paths = {"course": lambda photo, body: timed(lambda: course.request(body), DEFAULT_THREADS)}
    for name, path in ours.items():
        paths[name] = lambda photo, body, path=path: timed(
            lambda: path.request(body, photo.content_type), path.threads
        )
    for path in paths.values():  # warm-up: first-call allocations and lazy initialisation
        path(next(iter(inputs)), next(iter(inputs.values())))
    samples = {(name, photo): [] for name in paths for photo in inputs}
    order = random.Random(0)
    jobs = [(name, photo) for name in paths for photo in inputs]
    for _ in rounds_within(plan.rounds, plan.max_rounds, LATENCY_BUDGET_S, "latency rounds"):
        order.shuffle(jobs)
        for name, photo in jobs:
            samples[name, photo].append(paths[name](photo, inputs[photo]))
    return {name: {photo: samples[name, photo] for photo in inputs} for name in paths}


def model_flops(network: nn.Module, crop: int) -> int:
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        network(torch.zeros(1, 3, crop, crop))
    return counter.get_total_flops()


def matmul_rate(threads: int, size: int = MATMUL_SIZE, repeats: int = 3) -> float:
    """fp32 GFLOP/s of a square matmul, best of `repeats`."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    best = min(timed(lambda: a @ b, threads) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


@functools.cache
def _int8_gemm(threads: int, size: int):
    """An ONNX Runtime session of one u8 x s8 MatMulInteger (weights constant, so prepacked) and its input."""
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper

    weights = np.random.default_rng(0).integers(-128, 128, (size, size), dtype=np.int8)
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "b"], ["y"])],
        "int8_gemm",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, [size, size])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [size, size])],
        initializer=[numpy_helper.from_array(weights, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return session, np.random.default_rng(1).integers(0, 256, (size, size), dtype=np.uint8)


def int8_matmul_rate(threads: int, size: int = MATMUL_SIZE, repeats: int = 3) -> float:
    """int8 GOP/s (a multiply-add counted as 2, like a FLOP) of a square u8 x s8 integer matmul in ONNX
    Runtime: the MLAS integer GEMM kernels its int8 convolutions and matmuls run on."""
    session, a = _int8_gemm(threads, size)
    session.run(None, {"a": a})
    best = min(timed(lambda: session.run(None, {"a": a}), threads) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def forward_variants(network: nn.Module, served, served_1, threads: int) -> dict[str, tuple]:
    """name -> (callable, threads, memory format): the fp32 torch network (channels_last at `threads` and 1,
    contiguous) and the served network as model_fn loaded it, at `threads` and 1."""
    contiguous = copy.deepcopy(network).to(memory_format=torch.contiguous_format)
    return {
        FORWARD: (network, threads, torch.channels_last),
        "torch fp32 contiguous": (contiguous, threads, torch.contiguous_format),
        FORWARD_1: (network, 1, torch.channels_last),
        SERVED: (served, threads, torch.contiguous_format),
        SERVED_1: (served_1, 1, torch.contiguous_format),
    }


def measure_forward(network: nn.Module, served, served_1, threads: int, crop: int, plan: Plan) -> dict:
    """Forward passes of each variant and the fp32 and int8 matmul rates, interleaved round by round."""
    variants = forward_variants(network, served, served_1, threads)
    batch = torch.randn(1, 3, crop, crop)
    samples = {name: [] for name in variants} | {RATE: [], RATE_1: [], INT8_RATE: [], INT8_RATE_1: []}
    with torch.inference_mode():
        for module, count, layout in variants.values():  # warm-up
            timed(partial(module, batch.to(memory_format=layout)), count)
        for _ in rounds_within(plan.forward_rounds, plan.max_rounds, FORWARD_BUDGET_S, "forward rounds"):
            for name, (module, count, layout) in variants.items():
                samples[name].append(timed(partial(module, batch.to(memory_format=layout)), count))
            samples[RATE].append(matmul_rate(threads))
            samples[RATE_1].append(matmul_rate(1))
            samples[INT8_RATE].append(int8_matmul_rate(threads))
            samples[INT8_RATE_1].append(int8_matmul_rate(1))
    return samples


def measure_decode(body: bytes, rounds: int, threads: int) -> dict:
    """Our decode + preprocessing of one JPEG with and without draft mode (the network is not run)."""
    transform = Preprocessing().eval_transform()
    variants = {
        OUR_DECODE: lambda: transform(to_upright_rgb(Image.open(io.BytesIO(body)), min_side=256)),
        "ours without draft: full decode": lambda: transform(to_upright_rgb(Image.open(io.BytesIO(body)))),
        COURSE_DECODE: lambda: CoursePath.transform(Image.open(io.BytesIO(body))),
    }
    samples = {name: [] for name in variants}
    for _ in range(rounds):
        for name, call in variants.items():
            samples[name].append(timed(call, threads))
    return samples


def reference_probabilities(network: nn.Module, meta: dict, body: bytes) -> torch.Tensor:
    """fp32 reference: full-size decode, our eval transform, contiguous eager network."""
    transform = Preprocessing.from_dict(meta["preprocessing"]).eval_transform()
    image = to_upright_rgb(Image.open(io.BytesIO(body)))
    with torch.inference_mode():
        return torch.softmax(network(transform(image).unsqueeze(0)), dim=1)[0]


def measure_agreement(
    ours: OurPath, network: nn.Module, model_dir: Path, bodies: list[tuple[bytes, str]]
) -> dict:
    """Our answers (whatever the artifact serves) against the fp32 torch `network` on full decodes."""
    meta = json.loads((model_dir / "model_meta.json").read_text())
    reference = copy.deepcopy(network).to(memory_format=torch.contiguous_format)
    torch.set_num_threads(ours.threads)
    agree, errors, top1_probabilities, margins = 0, [], [], []
    for body, content_type in tqdm(bodies, desc="agreement images", file=sys.stderr):
        expected = reference_probabilities(reference, meta, body)
        answer = json.loads(ours.request(body, content_type))["predictions"]
        got = torch.zeros_like(expected)
        for entry in answer:
            got[entry["index"]] = entry["probability"]
        agree += int(answer[0]["index"] == int(expected.argmax()))
        errors.append(float((got - expected).abs().max()))
        top2 = expected.topk(2).values
        top1_probabilities.append(float(top2[0]))
        margins.append(float(top2[0] - top2[1]))
    return {
        "images": len(bodies),
        "top1_agreement": agree / len(bodies),
        "max_abs_probability_error": max(errors),
        "reference_top1_probability_mean": statistics.fmean(top1_probabilities),
        "reference_top1_margin_min": min(margins),
        "classes": meta["num_classes"],
    }


def agreement_set(data_dir: Path, inputs: dict[Photo, bytes]) -> list[tuple[bytes, str]]:
    """The synthetic dataset's valid and test images, and the request photos."""
    images = [path for split in ("valid", "test") for path in sorted((data_dir / split).glob("*/*"))]
    bodies = [(path.read_bytes(), "image/png" if path.suffix == ".png" else "image/jpeg") for path in images]
    return bodies + [(body, photo.content_type) for photo, body in inputs.items()]
