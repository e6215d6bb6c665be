"""CPU inference: the course's inference2.py path against our SageMaker hooks, side by side in one process.

Course path (benchmarks/course_baseline.py, re-implemented faithfully, minus its URL download): PIL opens the
full image, Resize((224, 224)), ToTensor, Normalize, fp32 eager ResNet-50 under torch.no_grad at torch's
default thread count, one request at a time, model built the course way (torchvision resnet50 with its `fc`
replaced), raw logits as JSON.
Ours: model_fn / input_fn / predict_fn / output_fn of dogbreed.serving.hooks (what a packed model.tar.gz's
code/ holds a copy of) loading the packed model, in two thread layouts model_fn picks from
SAGEMAKER_MODEL_SERVER_WORKERS: one worker using every core (the layout for one request at a time, compared
with the course at the same thread count) and the toolkit's default of one worker per CPU at one thread each
(the layout for concurrent load).
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

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import REPO_ROOT, base_parser, photo, torch_threads, write_results
from benchmarks.course_baseline import CoursePath
from benchmarks.latency_measurements import (
    CORES,
    DEFAULT_THREADS,
    OurPath,
    Photo,
    Plan,
    agreement_set,
    measure_agreement,
    measure_decode,
    measure_forward,
    measure_latency,
    model_flops,
)
from benchmarks.latency_report import (
    decode_summary,
    forward_summary,
    latency_table,
    mix_stats,
    plot,
    summary_rows,
)
from dogbreed.data.synthetic import generate
from dogbreed.preprocessing import Preprocessing

NAME = "inference_latency"
TRAIN_SCRIPT = REPO_ROOT / "training" / "train.py"

PHOTO_MIX = (
    Photo("jpeg 0.3 MP", 0.3, "JPEG"),
    Photo("jpeg 3 MP", 3, "JPEG"),
    Photo("jpeg 12 MP", 12, "JPEG"),
)
PNGS = (Photo("png 0.3 MP", 0.3, "PNG"), Photo("png 3 MP", 3, "PNG"))
FULL = Plan(
    "resnet50", rounds=2, forward_rounds=3, max_rounds=8, decode_rounds=2, photos=PHOTO_MIX + PNGS,
    classes=3, train_per_class=6, eval_per_class=3, epochs=20,
)  # fmt: skip
QUICK = Plan(
    "resnet18", rounds=1, forward_rounds=1, max_rounds=1, decode_rounds=1, photos=PHOTO_MIX[:1] + PNGS[:1],
    classes=2, train_per_class=2, eval_per_class=1, epochs=1,
)  # fmt: skip


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
    result = subprocess.run(command, capture_output=True, text=True, env=_training_env(), timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"train.py failed ({result.returncode}):\n{result.stderr[-2000:]}")
    extracted = workdir / "extracted"
    with tarfile.open(workdir / "model" / "model.tar.gz") as archive:
        archive.extractall(extracted, filter="data")
    return extracted


def _training_env() -> dict[str, str]:
    """A bare environment at one thread; PYTHONPATH passes through: train.py runs this checkout's package."""
    env = {"OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", "PATH": "/usr/bin:/bin"}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def get_args_parser():
    return base_parser(__doc__.split("\n\n")[0])


@dataclass(frozen=True)
class Measurements:
    inputs: dict[Photo, bytes]
    latency: dict  # path name -> photo -> seconds per request
    forward: dict
    decode_ms: dict
    agreement: dict
    threads: dict[str, int]  # what each path ran at
    our_threads: int  # ours, 1 worker: the thread count the forward variants compare against 1


def measure(workdir: Path, plan: Plan) -> Measurements:
    """Everything this benchmark measures, on a head trained in `workdir`."""
    print("training a head on the synthetic dataset (train.py --cache-features) ...", file=sys.stderr)
    model_dir = train_packed_model(workdir, plan)
    course, ours = CoursePath(model_dir), OurPath.load(model_dir, workers=1)
    per_worker = OurPath.load(model_dir, workers=CORES)
    inputs = {p: photo(p.megapixels, seed, p.format) for seed, p in enumerate(plan.photos)}
    latency = measure_latency(course, ours, per_worker, inputs, plan)
    meta = json.loads((model_dir / "model_meta.json").read_text())
    crop = Preprocessing.from_dict(meta["preprocessing"]).crop
    network = ours.model.network
    forward = forward_summary(measure_forward(network, ours.threads, crop, plan), model_flops(network, crop))
    largest_jpeg = max((p for p in inputs if p.format == "JPEG"), key=lambda p: p.megapixels)
    decode = measure_decode(inputs[largest_jpeg], plan.decode_rounds, ours.threads)
    agreement = measure_agreement(per_worker, model_dir, agreement_set(workdir, inputs))  # serving default
    threads = {
        "course (torch default)": DEFAULT_THREADS,
        "ours (model_fn, 1 worker)": ours.threads,
        f"ours (model_fn, {CORES} workers, the toolkit's default)": per_worker.threads,
    }
    decode_ms = decode_summary(decode, largest_jpeg)
    return Measurements(inputs, latency, forward, decode_ms, agreement, threads, ours.threads)


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    plan = QUICK if args.quick else FULL
    with torch_threads(), tempfile.TemporaryDirectory(prefix="inference-latency-") as scratch:
        measured = measure(Path(scratch), plan)
    table = latency_table(measured.latency, measured.inputs)
    mix = mix_stats(measured.latency, tuple(p for p in measured.inputs if p.format == "JPEG"))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    plot_path = plot(table, measured.forward, args.results_dir / f"{NAME}.png")
    details = {
        "arch": plan.arch,
        "weights": "random init (--no-pretrained) backbone; head trained by train.py --freeze-backbone "
        f"--cache-features for {plan.epochs} epochs on {plan.classes} synthetic classes",
        "threads": measured.threads,
        "latency": table,
        "photo_mix": mix,
        "forward": measured.forward,
        "decode_ms": measured.decode_ms,
        "agreement": measured.agreement,
        "plot": plot_path.name,
    }
    rows = summary_rows(
        table, mix, measured.forward, measured.decode_ms, measured.agreement, measured.our_threads
    )
    write_results(args.results_dir, NAME, rows, details, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
