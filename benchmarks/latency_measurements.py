"""The measurement loops of benchmarks/inference_latency.py: request latency, forward vs FLOP floor, decode
variants and prediction agreement, each interleaved round by round so the shared machine's noise hits every
variant alike."""

from __future__ import annotations

import copy
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

import torch
from PIL import Image
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from tqdm import tqdm

from benchmarks.course_baseline import CoursePath
from dogbreed.preprocessing import Preprocessing, to_upright_rgb
from dogbreed.serving import hooks
from dogbreed.utils.cpus import usable_cpus

DEFAULT_THREADS = torch.get_num_threads()  # what the course code runs with: it never sets a thread count
CORES = usable_cpus()
PER_WORKER = "ours_1_thread_per_worker"
LATENCY_BUDGET_S, FORWARD_BUDGET_S = 30.0, 10.0  # per phase; the whole script must stay within 2 minutes
FORWARD, FORWARD_1 = "ours (channels_last)", "channels_last, 1 thread"
RATE, RATE_1 = "matmul_gflops", "matmul_gflops_1_thread"
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
    arch: str
    rounds: int  # least latency rounds; each sends every photo once through every path
    forward_rounds: int  # least forward rounds
    max_rounds: int  # more rounds run while a phase is within its time budget, up to this many
    decode_rounds: int
    photos: tuple[Photo, ...]
    classes: int
    train_per_class: int
    eval_per_class: int  # valid and test images per class; both splits form the agreement set
    epochs: int


class OurPath:
    """model_fn / input_fn / predict_fn / output_fn of dogbreed.serving.hooks (what the artifact ships)."""

    def __init__(self, model, threads: int):
        self.model, self.threads = model, threads

    @classmethod
    def load(cls, model_dir: Path, workers: int) -> OurPath:
        """model_fn as a server with `workers` model workers runs it; keeps the thread count it chose."""
        previous = os.environ.get(hooks.WORKERS_ENV)
        os.environ[hooks.WORKERS_ENV] = str(workers)
        try:
            model = hooks.model_fn(str(model_dir))
        finally:
            if previous is None:
                del os.environ[hooks.WORKERS_ENV]
            else:
                os.environ[hooks.WORKERS_ENV] = previous
        return cls(model, torch.get_num_threads())

    def request(self, body: bytes, content_type: str) -> str:
        request = hooks.input_fn(body, content_type)
        return hooks.output_fn(hooks.predict_fn(request, self.model), "application/json")[0]


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
    course: CoursePath, ours: OurPath, per_worker: OurPath, inputs: dict[Photo, bytes], plan: Plan
) -> dict:
    """Every round sends every photo through every path, in a shuffled order (seeded)."""
    paths = {
        "course": lambda photo, body: timed(lambda: course.request(body), DEFAULT_THREADS),
        "ours": lambda photo, body: timed(lambda: ours.request(body, photo.content_type), ours.threads),
        PER_WORKER: lambda photo, body: timed(
            lambda: per_worker.request(body, photo.content_type), per_worker.threads
        ),
    }
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


def forward_variants(
    network: nn.Module, threads: int
) -> dict[str, tuple[nn.Module, int, torch.memory_format]]:
    contiguous = copy.deepcopy(network).to(memory_format=torch.contiguous_format)
    return {
        FORWARD: (network, threads, torch.channels_last),
        "contiguous": (contiguous, threads, torch.contiguous_format),
        FORWARD_1: (network, 1, torch.channels_last),
    }


def measure_forward(network: nn.Module, threads: int, crop: int, plan: Plan) -> dict:
    """Forward passes of each variant and the matmul rate, interleaved round by round."""
    variants = forward_variants(network, threads)
    batch = torch.randn(1, 3, crop, crop)
    samples = {name: [] for name in variants} | {RATE: [], RATE_1: []}
    with torch.inference_mode():
        for module, count, layout in variants.values():  # warm-up
            timed(partial(module, batch.to(memory_format=layout)), count)
        for _ in rounds_within(plan.forward_rounds, plan.max_rounds, FORWARD_BUDGET_S, "forward rounds"):
            for name, (module, count, layout) in variants.items():
                samples[name].append(timed(partial(module, batch.to(memory_format=layout)), count))
            samples[RATE].append(matmul_rate(threads))
            samples[RATE_1].append(matmul_rate(1))
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


def measure_agreement(ours: OurPath, model_dir: Path, bodies: list[tuple[bytes, str]]) -> dict:
    meta = json.loads((model_dir / "model_meta.json").read_text())
    reference = copy.deepcopy(ours.model.network).to(memory_format=torch.contiguous_format)
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


def agreement_set(workdir: Path, inputs: dict[Photo, bytes]) -> list[tuple[bytes, str]]:
    """The synthetic dataset's valid and test images, and the request photos."""
    images = [path for split in ("valid", "test") for path in sorted((workdir / "data" / split).glob("*/*"))]
    bodies = [(path.read_bytes(), "image/png" if path.suffix == ".png" else "image/jpeg") for path in images]
    return bodies + [(body, photo.content_type) for photo, body in inputs.items()]
