"""Serving runtimes side by side, and the rest of the request: which runtime runs the packed model fastest
here, and what decode, tensor conversion, threads and batching add or could save.

The model is the serving benchmarks' (benchmarks/served_model.py: ResNet-50, head trained by train.py, packed
with the int8 gate). The candidates (benchmarks/runtime_candidates.py: torch fp32, ONNX Runtime fp32 and
int8, OpenVINO fp32 and int8, PyTorch's own int8) run the same input, interleaved round by round in a
shuffled order so the shared machine's noise hits all alike, at 1 thread (the serving default: one thread per
worker, a worker per CPU) and at all cores (one worker). Each is also checked against torch fp32 on
validation images (top-1 agreement, largest probability difference).

The rest of the request (benchmarks/request_costs.py): JPEG draft vs full decode on the photo mix, PNG (no
reduced-size decode exists), the eval transform vs PIL + numpy; the served runtime at batch 1 and 4.
TorchServe batching (SAGEMAKER_TS_BATCH_SIZE, SAGEMAKER_TS_MAX_BATCH_DELAY) is not measured under load: the
SageMaker toolkit's Transformer.transform (sagemaker_inference/transformer.py) calls input_fn, predict_fn and
output_fn once per request of a batch, with the first request's Content-Type and Accept for all of them, so
a batch never reaches the network as one tensor; batch size > 1 would only add the batch delay and mix up
content types. The batch-4 row says what a batched forward could save if the hooks took whole batches.

    python -m benchmarks.serving_runtimes [--quick]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchmarks import served_model
from benchmarks.common import SummaryRow, base_parser, photo, torch_threads, write_results
from benchmarks.request_costs import measure_decode
from benchmarks.runtime_candidates import SERVED, Candidate, build_candidates
from dogbreed.packing import quantize
from dogbreed.packing.gate import softmax
from dogbreed.preprocessing import Preprocessing
from dogbreed.utils.cpus import usable_cpus

NAME = "serving_runtimes"
REFERENCE = "torch fp32"
CORES = usable_cpus()


@dataclass(frozen=True)
class Plan:
    rounds: int  # least forward rounds
    max_rounds: int
    budget_s: float  # more rounds while within this
    agreement_images: int
    batch_sizes: tuple[int, ...]
    batch_rounds: int
    decode_rounds: int
    photos: tuple[tuple[str, float, str], ...]  # name, megapixels, format


FULL = Plan(
    rounds=5, max_rounds=30, budget_s=45.0, agreement_images=40, batch_sizes=(1, 4), batch_rounds=5,
    decode_rounds=5,
    photos=(("jpeg 0.3 MP", 0.3, "JPEG"), ("jpeg 3 MP", 3, "JPEG"), ("jpeg 12 MP", 12, "JPEG"),
            ("png 3 MP", 3, "PNG")),
)  # fmt: skip
QUICK = Plan(
    rounds=1, max_rounds=1, budget_s=5.0, agreement_images=2, batch_sizes=(1, 2), batch_rounds=1,
    decode_rounds=1, photos=(("jpeg 0.3 MP", 0.3, "JPEG"), ("png 0.3 MP", 0.3, "PNG")),
)  # fmt: skip


def get_args_parser():
    return base_parser(__doc__.split("\n\n")[0])


def thread_counts() -> tuple[int, ...]:
    return tuple(sorted({1, CORES}))


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def measure_forwards(candidates: list[Candidate], image: np.ndarray, plan: Plan) -> dict:
    """{name: {threads: [seconds]}}, every (candidate, threads) once per round in a shuffled order."""
    jobs = [(c, threads) for c in candidates for threads in c.forwards]
    for candidate, threads in jobs:  # warm-up: first-run allocations, lazy kernels
        candidate.forwards[threads](image)
    samples = {c.name: {threads: [] for threads in c.forwards} for c in candidates}
    order, started = random.Random(0), time.perf_counter()
    for index in tqdm(range(plan.max_rounds), desc="forward rounds", file=sys.stderr):
        if index >= plan.rounds and time.perf_counter() - started > plan.budget_s:
            break
        order.shuffle(jobs)
        for candidate, threads in jobs:
            samples[candidate.name][threads].append(timed(partial(candidate.forwards[threads], image)))
    return samples


def measure_agreement(candidates: list[Candidate], images: np.ndarray) -> dict:
    """Each candidate against torch fp32 on the same validation images (all cores)."""
    logits = {
        c.name: np.concatenate([c.forwards[CORES](image[None]) for image in images]) for c in candidates
    }
    reference = logits[REFERENCE]
    return {
        name: {
            "images": len(images),
            "top1_agreement": float((values.argmax(1) == reference.argmax(1)).mean()),
            "max_probability_diff": round(float(np.abs(softmax(values) - softmax(reference)).max()), 6),
        }
        for name, values in logits.items()
    }


def measure_batching(candidate: Candidate, image: np.ndarray, plan: Plan) -> dict:
    """{threads: {batch: ms per image (p50)}} for the served runtime."""
    result = {}
    for threads, forward in candidate.forwards.items():
        samples = {batch: [] for batch in plan.batch_sizes}
        batches = {batch: np.repeat(image, batch, axis=0) for batch in plan.batch_sizes}
        for batch in plan.batch_sizes:
            forward(batches[batch])  # warm-up of the shape
        for _ in range(plan.batch_rounds):
            for batch in plan.batch_sizes:
                samples[batch].append(timed(partial(forward, batches[batch])) / batch)
        result[threads] = {batch: round(statistics.median(v) * 1000, 2) for batch, v in samples.items()}
    return result


def validation_images(data_dir: Path, preprocessing: Preprocessing, count: int) -> np.ndarray:
    from dogbreed.data.dogimages import index_split

    samples, _ = index_split(data_dir / "valid")
    paths = quantize.calibration_paths([sample.path for sample in samples], count)
    return np.concatenate(
        [batch for batch, _ in quantize.served_batches(((p, 0) for p in paths), preprocessing)]
    )


def forward_table(samples: dict) -> dict:
    return {
        name: {
            str(threads): round(statistics.median(values) * 1000, 2) for threads, values in by_threads.items()
        }
        for name, by_threads in samples.items()
    }


def summary_rows(
    forward_ms: dict, agreement: dict, skipped: dict, batching: dict, decode: dict
) -> list[SummaryRow]:
    rows = []
    for threads in thread_counts():
        key = str(threads)
        reference = forward_ms[REFERENCE][key]
        fastest = min(forward_ms, key=lambda name: forward_ms[name][key])
        label = f"{threads} thread{'s' if threads > 1 else ''}"
        for name, by_threads in forward_ms.items():
            rows.append(SummaryRow(f"forward p50, {name}, {label}", by_threads[key], "ms"))
        for name, by_threads in forward_ms.items():
            if name != REFERENCE:
                rows.append(
                    SummaryRow(
                        f"forward speedup over torch fp32, {name}, {label}",
                        round(reference / by_threads[key], 2),
                        "x",
                    )
                )
        rows.append(
            SummaryRow(
                f"served runtime ({SERVED}) forward / fastest candidate's ({fastest}), {label}",
                round(forward_ms[SERVED][key] / forward_ms[fastest][key], 2),
                "x",
            )
        )
    for name, numbers in agreement.items():
        if name != REFERENCE:
            rows.append(
                SummaryRow(
                    f"top-1 agreement with torch fp32, {name} ({numbers['images']} validation images)",
                    round(100 * numbers["top1_agreement"], 2),
                    "%",
                )
            )
            rows.append(
                SummaryRow(
                    f"max probability difference from torch fp32, {name}",
                    numbers["max_probability_diff"],
                    "abs",
                )
            )
    rows += [SummaryRow(f"skipped: {name} ({reason})", 0, "skipped") for name, reason in skipped.items()]
    rows += _request_rows(batching, decode)
    return rows


def _request_rows(batching: dict, decode: dict) -> list[SummaryRow]:
    rows = []
    one, *more = sorted(batching)
    if more:
        ratio = batching[one][1] / batching[more[-1]][1]
        rows.append(SummaryRow(f"{SERVED} forward speedup, {more[-1]} threads over 1", round(ratio, 2), "x"))
    for threads, by_batch in batching.items():
        largest = max(by_batch)
        rows.append(
            SummaryRow(
                f"{SERVED} forward per image, batch {largest} vs batch 1, {threads} thread(s)",
                round(by_batch[1] / by_batch[largest], 2),
                "x",
            )
        )
    for name, variants in decode.items():
        if "decode, draft mode" in variants:
            rows.append(
                SummaryRow(f"decode p50, {name}, draft mode (served)", variants["decode, draft mode"], "ms")
            )
        rows.append(SummaryRow(f"decode p50, {name}, full", variants["decode, full"], "ms"))
        rows.append(
            SummaryRow(
                f"tensor conversion p50 after decode, {name}, eval transform (served) / PIL + numpy",
                round(
                    variants["conversion, torchvision eval transform"] / variants["conversion, PIL + numpy"],
                    2,
                ),
                "x",
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    plan = QUICK if args.quick else FULL
    model = served_model.served_model(served_model.QUICK if args.quick else served_model.FULL)
    preprocessing = Preprocessing.from_dict(model.meta["preprocessing"])
    with torch_threads(), tempfile.TemporaryDirectory(prefix="serving-runtimes-") as scratch:
        candidates, skipped = build_candidates(
            model.model_dir, model.meta, model.data_dir, Path(scratch), thread_counts()
        )
        images = validation_images(model.data_dir, preprocessing, plan.agreement_images)
        samples = measure_forwards(candidates, images[:1], plan)
        agreement = measure_agreement(candidates, images)
        served = next(c for c in candidates if c.name == SERVED)
        batching = measure_batching(served, images[:1], plan)
        photos = {name: photo(mp, seed, fmt) for seed, (name, mp, fmt) in enumerate(plan.photos)}
        decode = measure_decode(photos, preprocessing, plan.decode_rounds)
    forward_ms = forward_table(samples)
    details = {
        "model": {
            "arch": model.meta["arch"],
            "serving": model.serving["precision"],
            "crop": preprocessing.crop,
        },
        "threads": list(thread_counts()),
        "forward_p50_ms": forward_ms,
        "forward_rounds": len(samples[REFERENCE][1]),
        "agreement": agreement,
        "skipped": skipped,
        "batching_ms_per_image": {str(t): {str(b): v for b, v in by.items()} for t, by in batching.items()},
        "decode_ms": decode,
        "torchserve_batching": __doc__.split("\n\n")[2].replace("\n", " "),
    }
    write_results(
        args.results_dir,
        NAME,
        summary_rows(forward_ms, agreement, skipped, batching, decode),
        details,
        quick=args.quick,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
