"""CPU inference: the course's inference2.py path against our SageMaker hooks, side by side in one process.

Course path (re-implemented faithfully, minus its URL download): PIL opens the full image, Resize((224, 224)),
ToTensor, Normalize, fp32 eager ResNet-50 under torch.no_grad at torch's default thread count, one request
at a time, model built the course way (torchvision resnet50 with its `fc` replaced), raw logits as JSON.
Ours: model_fn / input_fn / predict_fn / output_fn from the `code/inference.py` of a packed model.tar.gz,
in two thread layouts model_fn picks from SAGEMAKER_MODEL_SERVER_WORKERS: one worker using every core (the
layout for one request at a time, compared with the course at the same thread count) and the toolkit's
default of one worker per CPU at one thread each (the layout for concurrent load).
Both load the same weights: a ResNet-50 (random init, --no-pretrained: no download is possible here) whose
head train.py trained briefly on a synthetic dataset (--freeze-backbone --cache-features), so predictions are
confident rather than near-uniform and top-1 agreement means something.

Measured, interleaved round by round so the shared machine's noise hits both alike:
  * per-request latency (p50/p99) and images/s on photo-like JPEGs of 0.3, 3 and 12 MP and PNGs;
  * the model forward alone against the FLOP floor (model FLOPs / fp32 matmul rate measured beside it);
  * forward variants (memory layout, thread count) and decode variants (draft mode on/off, the course's
    full decode + squash), which split the speedup into its sources;
  * our predictions against an fp32 reference (full decode, contiguous eager network): top-1 agreement and
    the largest probability difference.

    python -m benchmarks.inference_latency [--quick] [--explore]
"""

from __future__ import annotations

import copy
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
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
from torchvision import models, transforms
from tqdm import tqdm

from benchmarks.common import (
    REPO_ROOT,
    SummaryRow,
    base_parser,
    percentiles_ms,
    write_results,
)
from dogbreed.data.synthetic import class_picture, generate

NAME = "inference_latency"
TRAIN_SCRIPT = REPO_ROOT / "training" / "train.py"
DEFAULT_THREADS = torch.get_num_threads()  # what the course code runs with: it never sets a thread count
CORES = len(os.sched_getaffinity(0))
PER_WORKER = "ours_1_thread_per_worker"
LATENCY_BUDGET_S, FORWARD_BUDGET_S = 30.0, 10.0  # per phase; the whole script must stay within 2 minutes
FORWARD, FORWARD_1 = "ours (channels_last)", "channels_last, 1 thread"
RATE, RATE_1 = "matmul_gflops", "matmul_gflops_1_thread"
SPEEDUP_GOAL = 3.0
FLOOR_GOAL = 1.3
AGREEMENT_GOAL = 0.99
MATMUL_SIZE = 1024
OUR_DECODE, COURSE_DECODE = (
    "ours: draft decode, Resize(256), CenterCrop",
    "course: full decode, Resize((224, 224))",
)
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


@dataclass(frozen=True)
class Photo:
    name: str
    megapixels: float
    format: str  # JPEG or PNG

    @property
    def content_type(self) -> str:
        return "image/jpeg" if self.format == "JPEG" else "image/png"


PHOTO_MIX = (
    Photo("jpeg 0.3 MP", 0.3, "JPEG"),
    Photo("jpeg 3 MP", 3, "JPEG"),
    Photo("jpeg 12 MP", 12, "JPEG"),
)
PNGS = (Photo("png 0.3 MP", 0.3, "PNG"), Photo("png 3 MP", 3, "PNG"))


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


FULL = Plan(
    "resnet50", rounds=2, forward_rounds=3, max_rounds=8, decode_rounds=2, photos=PHOTO_MIX + PNGS,
    classes=3, train_per_class=6, eval_per_class=3, epochs=20,
)  # fmt: skip
QUICK = Plan(
    "resnet18", rounds=1, forward_rounds=1, max_rounds=1, decode_rounds=1, photos=PHOTO_MIX[:1] + PNGS[:1],
    classes=2, train_per_class=2, eval_per_class=1, epochs=1,
)  # fmt: skip


# ---------------------------------------------------------------------------------------------- inputs


def photo_bytes(photo: Photo, seed: int) -> bytes:
    """A photo-like picture (gradients, stripes, blur, sensor noise; 4:3) encoded as `photo.format`."""
    width = round((photo.megapixels * 1e6 * 4 / 3) ** 0.5)
    picture = class_picture(np.random.default_rng(seed), seed % 133, 133, (width, round(width * 3 / 4)))
    buffer = io.BytesIO()
    picture.save(buffer, format=photo.format, **({"quality": 90} if photo.format == "JPEG" else {}))
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------- the two paths


def train_packed_model(workdir: Path, plan: Plan) -> Path:
    """Generate a synthetic dataset, train a head on the frozen random-init backbone with train.py, unpack the
    model.tar.gz; return the extracted model directory."""
    data = workdir / "data"
    splits = {"train": plan.train_per_class, "valid": plan.eval_per_class, "test": plan.eval_per_class}
    generate(data, plan.classes, splits, seed=0, min_size=520, max_size=720)  # large enough for draft mode
    command = [
        sys.executable, str(TRAIN_SCRIPT), "--data-dir", str(data),
        "--model-dir", str(workdir / "model"), "--output-dir", str(workdir / "output"),
        "--checkpoint-dir", str(workdir / "checkpoints"), "--arch", plan.arch, "--no-pretrained",
        "--freeze-backbone", "--cache-features", "--epochs", str(plan.epochs), "--patience", "0",
        "--learning-rate", "0.01", "--batch-size", "16", "--num-workers", "0",
    ]  # fmt: skip
    env = {"OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"train.py failed ({result.returncode}):\n{result.stderr[-2000:]}")
    extracted = workdir / "extracted"
    with tarfile.open(workdir / "model" / "model.tar.gz") as archive:
        archive.extractall(extracted, filter="data")
    return extracted


def load_our_hooks(model_dir: Path):
    """The serving hooks the artifact ships: its code/dogbreed is a copy of these package modules."""
    from dogbreed.serving import hooks

    return hooks


class CoursePath:
    """inference2.py of the course project: model_fn / input_fn / predict_fn with its transforms.

    Not reproduced: the `url` JSON request that downloads arbitrary URLs, and `pretrained=True` (a download at
    serve time whose weights load_state_dict overwrites anyway)."""

    transform = transforms.Compose(
        [transforms.Resize((224, 224)), transforms.ToTensor(), transforms.Normalize(MEAN, STD)]
    )

    def __init__(self, model_dir: Path):
        meta = json.loads((model_dir / "model_meta.json").read_text())
        model = getattr(models, meta["arch"])(weights=None)
        for parameter in model.parameters():
            parameter.requires_grad = False
        model.fc = nn.Sequential(nn.Linear(model.fc.in_features, meta["num_classes"]))
        state = torch.load(model_dir / "model.pt", map_location="cpu", weights_only=True)
        model.load_state_dict({_course_key(key): value for key, value in state.items()})
        self.model = model.eval()

    def request(self, body: bytes) -> str:
        image = Image.open(io.BytesIO(body))  # input_fn
        with torch.no_grad():  # predict_fn
            prediction = self.model(self.transform(image).unsqueeze(0))
        return json.dumps(prediction.tolist())  # the toolkit's default output_fn: raw logits


def _course_key(key: str) -> str:
    return key.replace("backbone.", "", 1) if key.startswith("backbone.") else key.replace("head.", "fc.0.")


class OurPath:
    def __init__(self, hooks, model, threads: int):
        self.hooks, self.model, self.threads = hooks, model, threads

    @classmethod
    def load(cls, hooks, model_dir: Path, workers: int) -> OurPath:
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
        return cls(hooks, model, torch.get_num_threads())

    def request(self, body: bytes, content_type: str) -> str:
        request = self.hooks.input_fn(body, content_type)
        return self.hooks.output_fn(self.hooks.predict_fn(request, self.model), "application/json")[0]


# ---------------------------------------------------------------------------------------------- measurements


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


def measure_decode(hooks, body: bytes, rounds: int, threads: int) -> dict:
    """Our decode + preprocessing of one JPEG with and without draft mode (the network is not run)."""
    from dogbreed.preprocessing import Preprocessing, to_upright_rgb

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
    from dogbreed.preprocessing import Preprocessing, to_upright_rgb

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


def agreement_set(model_dir: Path, workdir: Path, inputs: dict[Photo, bytes]) -> list[tuple[bytes, str]]:
    images = [path for split in ("valid", "test") for path in sorted((workdir / "data" / split).glob("*/*"))]
    bodies = [(path.read_bytes(), "image/png" if path.suffix == ".png" else "image/jpeg") for path in images]
    return bodies + [(body, photo.content_type) for photo, body in inputs.items()]


# ---------------------------------------------------------------------------------------------- report


def ms(seconds: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(seconds) * 1e3, q)), 2)


def latency_table(latency: dict, inputs: dict[Photo, bytes]) -> list[dict]:
    rows = []
    for photo in inputs:
        course, ours, per_worker = (latency[name][photo] for name in ("course", "ours", PER_WORKER))
        rows.append(
            {
                "input": photo.name,
                "bytes": len(inputs[photo]),
                "requests_per_path": len(ours),
                "course_ms": percentiles_ms(course),
                "ours_ms": percentiles_ms(ours),
                "ours_1_thread_per_worker_ms": percentiles_ms(per_worker),
                "p50_speedup": round(np.median(course) / np.median(ours), 2),
                "p50_speedup_1_thread_per_worker": round(np.median(course) / np.median(per_worker), 2),
            }
        )
    return rows


def mix_stats(latency: dict, photos: tuple[Photo, ...]) -> dict:
    """Pooled over the JPEG photo mix (each size equally often)."""
    pooled = {name: [s for photo in photos for s in latency[name][photo]] for name in latency}
    return {
        name: {
            "p50_ms": ms(values, 50),
            "p99_ms": ms(values, 99),
            "images_per_s": round(1 / np.mean(values), 3),
        }
        for name, values in pooled.items()
    }


def forward_summary(samples: dict, flops: int) -> dict:
    """Forward time over the FLOP floor (model FLOPs / matmul rate measured in the same round), per layout."""
    forward_ms = {
        name: percentiles_ms(values) for name, values in samples.items() if name not in (RATE, RATE_1)
    }
    layouts = {"all cores": (FORWARD, RATE), "1 thread": (FORWARD_1, RATE_1)}
    floor = {}
    for layout, (variant, rate_name) in layouts.items():
        times, rates = samples[variant], samples[rate_name]
        ratios = [time_s * rate * 1e9 / flops for time_s, rate in zip(times, rates, strict=True)]
        floor[layout] = {
            "matmul_gflops_median": round(statistics.median(rates), 1),
            "floor_ms_at_median_rate": round(flops / (statistics.median(rates) * 1e9) * 1e3, 1),
            "forward_p50_ms": forward_ms[variant]["p50"],
            "forward_over_floor_median": round(statistics.median(ratios), 2),
        }
    return {"gflops_per_forward": round(flops / 1e9, 3), "forward_ms": forward_ms, "floor": floor}


def summary_rows(
    table: list[dict], mix: dict, forward: dict, decode: dict, agreement: dict, threads: int
) -> list[SummaryRow]:
    speedup = mix["course"]["p50_ms"] / mix["ours"]["p50_ms"]
    floor = forward["floor"]
    ratio = floor["1 thread"]["forward_over_floor_median"]  # the serving default: one thread per worker
    forward_ms = {name: values["p50"] for name, values in forward["forward_ms"].items()}
    rows = [
        SummaryRow("p50 latency, course path, JPEG photo mix", mix["course"]["p50_ms"], "ms"),
        SummaryRow("p50 latency, ours, JPEG photo mix", mix["ours"]["p50_ms"], "ms"),
        SummaryRow(
            "p50 speedup over the course path, JPEG photo mix",
            round(speedup, 2),
            "x",
            goal=f">= {SPEEDUP_GOAL:g}x",
            met=speedup >= SPEEDUP_GOAL,
        ),
        SummaryRow(
            f"p50 speedup over the course path, ours with {CORES} workers x 1 thread (serving default)",
            round(mix["course"]["p50_ms"] / mix[PER_WORKER]["p50_ms"], 2),
            "x",
        ),
        SummaryRow(
            f"source: forward speedup of {threads} thread(s) over 1 thread",
            round(forward_ms["channels_last, 1 thread"] / forward_ms["ours (channels_last)"], 2),
            "x",
        ),
        SummaryRow(
            "source: forward speedup from channels_last alone",
            round(forward_ms["contiguous"] / forward_ms["ours (channels_last)"], 2),
            "x",
        ),
        SummaryRow(
            f"source: decode + preprocessing speedup, {decode['input']} (draft vs course)",
            round(decode[COURSE_DECODE]["p50"] / decode[OUR_DECODE]["p50"], 2),
            "x",
        ),
        SummaryRow("p99 latency, ours, JPEG photo mix", mix["ours"]["p99_ms"], "ms"),
        SummaryRow("throughput, ours, one request at a time", mix["ours"]["images_per_s"], "images/s"),
        SummaryRow(
            "throughput, course path, one request at a time", mix["course"]["images_per_s"], "images/s"
        ),
    ]
    rows += [SummaryRow(f"p50 speedup, {row['input']}", row["p50_speedup"], "x") for row in table]
    rows += [
        SummaryRow(
            "fp32 matmul rate, 1 thread (median)", floor["1 thread"]["matmul_gflops_median"], "GFLOP/s"
        ),
        SummaryRow("model forward p50, 1 thread", floor["1 thread"]["forward_p50_ms"], "ms"),
        SummaryRow(
            f"model forward / FLOP floor, {threads} thread(s)",
            floor["all cores"]["forward_over_floor_median"],
            "x",
        ),
        SummaryRow(
            "model forward / FLOP floor, 1 thread (median of interleaved rounds)",
            ratio,
            "x",
            goal=f"<= {FLOOR_GOAL:g}x",
            met=ratio <= FLOOR_GOAL,
        ),
        SummaryRow(
            "top-1 agreement with the fp32 reference",
            round(100 * agreement["top1_agreement"], 2),
            "%",
            goal=f">= {100 * AGREEMENT_GOAL:g}%",
            met=agreement["top1_agreement"] >= AGREEMENT_GOAL,
        ),
        SummaryRow(
            "max probability error vs the fp32 reference", agreement["max_abs_probability_error"], "abs"
        ),
    ]
    return rows


def plot(table: list[dict], forward: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (latency_ax, forward_ax) = plt.subplots(
        1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [2, 1]}
    )
    names = [row["input"] for row in table]
    x = np.arange(len(names))
    paths = (
        ("course_ms", "course path"),
        ("ours_ms", "ours, 1 worker x all cores"),
        ("ours_1_thread_per_worker_ms", "ours, 1 thread per worker"),
    )
    for offset, (key, label) in enumerate(paths):
        latency_ax.bar(x + (offset - 1) * 0.27, [row[key]["p50"] for row in table], 0.27, label=label)
    latency_ax.set(xticks=x, xticklabels=names, ylabel="p50 ms per request (log)", yscale="log")
    latency_ax.set_title("Request latency, one at a time")
    latency_ax.legend()
    variants = forward["forward_ms"]
    forward_ax.barh(list(variants), [values["p50"] for values in variants.values()], color="tab:gray")
    for layout, style in (("all cores", "--"), ("1 thread", ":")):
        floor_ms = forward["floor"][layout]["floor_ms_at_median_rate"]
        forward_ax.axvline(floor_ms, color="tab:red", linestyle=style, label=f"FLOP floor, {layout}")
    forward_ax.set(xlabel="p50 ms per forward", title="Model forward vs FLOP floor")
    forward_ax.legend()
    for ax in (latency_ax, forward_ax):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def get_args_parser():
    parser = base_parser(__doc__.split("\n\n")[0])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    plan = QUICK if args.quick else FULL
    threads_before = torch.get_num_threads()
    try:
        with tempfile.TemporaryDirectory(prefix="inference-latency-") as scratch:
            workdir = Path(scratch)
            print("training a head on the synthetic dataset (train.py --cache-features) ...", file=sys.stderr)
            model_dir = train_packed_model(workdir, plan)
            hooks = load_our_hooks(model_dir)
            course, ours = CoursePath(model_dir), OurPath.load(hooks, model_dir, workers=1)
            per_worker = OurPath.load(hooks, model_dir, workers=CORES)
            inputs = {photo: photo_bytes(photo, seed) for seed, photo in enumerate(plan.photos)}
            latency = measure_latency(course, ours, per_worker, inputs, plan)
            crop = hooks.Preprocessing.from_dict(
                json.loads((model_dir / "model_meta.json").read_text())["preprocessing"]
            ).crop
            forward = forward_summary(
                measure_forward(ours.model.network, ours.threads, crop, plan),
                model_flops(ours.model.network, crop),
            )
            largest_jpeg = max((p for p in inputs if p.format == "JPEG"), key=lambda p: p.megapixels)
            decode = measure_decode(hooks, inputs[largest_jpeg], plan.decode_rounds, ours.threads)
            bodies = agreement_set(model_dir, workdir, inputs)
            agreement = measure_agreement(per_worker, model_dir, bodies)  # the default serving layout
    finally:
        torch.set_num_threads(threads_before)
    table = latency_table(latency, inputs)
    mix = mix_stats(latency, tuple(p for p in inputs if p.format == "JPEG"))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    plot_path = plot(table, forward, args.results_dir / f"{NAME}.png")
    decode_ms = {"input": largest_jpeg.name, **{name: percentiles_ms(v, (50,)) for name, v in decode.items()}}
    details = {
        "arch": plan.arch,
        "weights": "random init (--no-pretrained) backbone; head trained by train.py --freeze-backbone "
        f"--cache-features for {plan.epochs} epochs on {plan.classes} synthetic classes",
        "threads": {
            "course (torch default)": DEFAULT_THREADS,
            "ours (model_fn, 1 worker)": ours.threads,
            f"ours (model_fn, {CORES} workers, the toolkit's default)": per_worker.threads,
        },
        "latency": table,
        "photo_mix": mix,
        "forward": forward,
        "decode_ms": decode_ms,
        "agreement": agreement,
        "plot": plot_path.name,
    }
    rows = summary_rows(table, mix, forward, decode_ms, agreement, ours.threads)
    write_results(args.results_dir, NAME, rows, details, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
