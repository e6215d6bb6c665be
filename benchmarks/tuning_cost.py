"""Tuning cost with a frozen backbone: one train.py trial without and with the feature cache.

Each trial is what a SageMaker tuning job runs: `train.py --freeze-backbone` (data indexing, model build,
training, test evaluation, checkpoints, packing model.tar.gz), called through its `main()` in this process at
one thread, so interpreter start-up and imports (the same for both modes) stay out of the numbers. Without
the cache the backbone runs over every training and validation image in every epoch; with `--cache-features`
a first run computes the features once (the one-time build, reported apart) and every later trial on the
same data and weights trains the head on them. Trials alternate on the same synthetic dataset and seed.

The per-image backbone cost measured here is extrapolated (marked `measured: false`) to a tuning trial on the
real dogImages split sizes; the validation metric of the two modes is compared against its sampling noise.

    python -m benchmarks.tuning_cost [--quick]
"""

from __future__ import annotations

import json
import logging
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from benchmarks.common import SummaryRow, base_parser, png_figure, torch_threads, write_results
from dogbreed.data.synthetic import generate
from dogbreed.training import train

NAME = "tuning_cost"
GOAL = 20.0
DOG_IMAGES = {"train": 6680, "valid": 835, "test": 836}  # the real dataset's split sizes
FULL_EPOCHS = 10  # train.py's default
DOG_IMAGES_BYTES = 1.1e9  # dogImages.zip unpacked, about


@dataclass(frozen=True)
class Plan:
    arch: str
    crop: int
    classes: int
    per_split: dict
    epochs: int
    pairs: int  # uncached/cached trial pairs after the cache build

    @property
    def images(self) -> dict:
        return {split: count * self.classes for split, count in self.per_split.items()}


FULL = Plan("resnet50", 224, 3, {"train": 6, "valid": 4, "test": 1}, epochs=2, pairs=1)
QUICK = Plan("resnet18", 64, 2, {"train": 3, "valid": 2, "test": 1}, epochs=1, pairs=1)


@dataclass
class Trial:
    mode: str  # "uncached", "cache build" or "cached"
    seconds: float
    best_valid_accuracy: float
    best_valid_loss: float
    test_accuracy: float


def run_trial(workdir: Path, data: Path, plan: Plan, mode: str, index: int) -> Trial:
    run = workdir / f"{mode.replace(' ', '-')}-{index}"
    argv = [
        "--data-dir", str(data), "--model-dir", str(run / "model"), "--output-dir", str(run / "output"),
        "--checkpoint-dir", str(run / "checkpoints"), "--arch", plan.arch, "--no-pretrained",
        "--crop-size", str(plan.crop), "--freeze-backbone", "--epochs", str(plan.epochs), "--patience", "0",
        "--batch-size", "16", "--num-workers", "0",
    ]  # fmt: skip
    if mode != "uncached":
        argv += ["--cache-features", "--feature-cache-dir", str(workdir / "feature-cache")]
    args = train.get_args_parser().parse_args(argv)
    start = time.perf_counter()
    exit_code = train.main(args)
    seconds = time.perf_counter() - start
    if exit_code != 0:
        raise RuntimeError(f"{mode} trial: train.py exited with {exit_code}")
    metrics = json.loads((run / "output" / "metrics.json").read_text())
    return Trial(
        mode, seconds, metrics["best_valid_accuracy"], metrics["best_valid_loss"], metrics["test_accuracy"]
    )


def run_trials(workdir: Path, data: Path, plan: Plan) -> list[Trial]:
    """The trials at one thread; train.py's logging set-up (it reconfigures the root logger) is undone."""
    schedule = ["cache build"] + ["uncached", "cached"] * plan.pairs
    handlers, level = logging.root.handlers[:], logging.root.level
    try:
        with torch_threads(1):
            return [
                run_trial(workdir, data, plan, mode, index)
                for index, mode in enumerate(tqdm(schedule, desc="tuning trials", file=sys.stderr))
            ]
    finally:
        logging.root.handlers[:], logging.root.level = handlers, level


def mean_seconds(trials: list[Trial], mode: str) -> float:
    values = [trial.seconds for trial in trials if trial.mode == mode]
    return sum(values) / len(values)


@dataclass(frozen=True)
class ScanCost:
    """Per-trial work that grows with the dataset but not with the epochs, measured on the synthetic set."""

    index_s_per_image: float  # train.py's index_split (header check of every file), both modes
    hash_s_per_byte: float  # reading + hashing image contents for the cache key, cached mode only


def measure_scan_cost(data: Path) -> ScanCost:
    import hashlib

    from dogbreed.data.dogimages import SPLITS, index_split

    start = time.perf_counter()
    paths = [sample.path for split in SPLITS for sample in index_split(data / split)[0]]
    index_s = time.perf_counter() - start
    start = time.perf_counter()
    total_bytes = 0
    for path in paths:
        content = path.read_bytes()
        hashlib.sha256(content).digest()
        total_bytes += len(content)
    return ScanCost(index_s / len(paths), (time.perf_counter() - start) / total_bytes)


def extrapolate(plan: Plan, uncached_s: float, cached_s: float, scan: ScanCost) -> dict:
    """Scale the measured per-image backbone cost and scan costs to a dogImages trial; the remaining fixed
    costs (model build, checkpoints, packing) stay as measured."""
    images = plan.images
    backbone_passes = plan.epochs * (images["train"] + images["valid"]) + images["test"]
    per_image_s = max(uncached_s - cached_s, 0.0) / backbone_passes
    full_passes = FULL_EPOCHS * (DOG_IMAGES["train"] + DOG_IMAGES["valid"]) + DOG_IMAGES["test"]
    index_s = scan.index_s_per_image * sum(DOG_IMAGES.values())
    uncached_full = cached_s + index_s + per_image_s * full_passes
    cached_full = cached_s + index_s + scan.hash_s_per_byte * DOG_IMAGES_BYTES
    return {
        "per_image_backbone_ms": round(per_image_s * 1e3, 2),
        "backbone_passes_per_trial_here": backbone_passes,
        "backbone_passes_per_dogimages_trial": full_passes,
        "index_s": round(index_s, 1),
        "hash_s": round(scan.hash_s_per_byte * DOG_IMAGES_BYTES, 1),
        "uncached_trial_s": round(uncached_full, 1),
        "cached_trial_s": round(cached_full, 1),
        "cache_build_s": round(cached_full + per_image_s * sum(DOG_IMAGES.values()), 1),
        "speedup": round(uncached_full / cached_full, 1),
        "assumes": f"same machine and arch; dogImages = {DOG_IMAGES} images, {DOG_IMAGES_BYTES / 1e9:g} GB; "
        "model build, checkpoint and packing costs as measured here; the head's own epochs on 8,351 cached "
        "2048-d features (about 14 GFLOP per epoch, seconds in all) not added",
    }


def metric_noise(trials: list[Trial], valid_images: int) -> dict:
    """Difference of the best validation accuracy, against the binomial standard error of that difference."""
    cached = [trial.best_valid_accuracy for trial in trials if trial.mode != "uncached"]
    uncached = [trial.best_valid_accuracy for trial in trials if trial.mode == "uncached"]
    cached_mean, uncached_mean = sum(cached) / len(cached), sum(uncached) / len(uncached)
    pooled = (cached_mean + uncached_mean) / 2
    standard_error = math.sqrt(max(2 * pooled * (1 - pooled) / valid_images, 1 / valid_images**2))
    difference = cached_mean - uncached_mean
    return {
        "valid_images": valid_images,
        "valid_accuracy_cached": round(cached_mean, 4),
        "valid_accuracy_uncached": round(uncached_mean, 4),
        "difference": round(difference, 4),
        "standard_error_of_difference": round(standard_error, 4),
        "within_two_standard_errors": abs(difference) <= 2 * standard_error,
    }


def summary_rows(trials: list[Trial], extrapolated: dict, noise: dict) -> list[SummaryRow]:
    uncached_s, cached_s = mean_seconds(trials, "uncached"), mean_seconds(trials, "cached")
    measured_speedup = uncached_s / cached_s
    return [
        SummaryRow("trial time without cache (small synthetic set)", round(uncached_s, 2), "s"),
        SummaryRow("trial time with warm cache (small synthetic set)", round(cached_s, 2), "s"),
        SummaryRow(
            "one-time cache build trial (small synthetic set)",
            round(mean_seconds(trials, "cache build"), 2),
            "s",
        ),
        SummaryRow(
            "trial cost reduction, small synthetic set (fixed start-up/packing costs dominate)",
            round(measured_speedup, 2),
            "x",
            goal=f">= {GOAL:g}x",
            met=measured_speedup >= GOAL,
        ),
        SummaryRow(
            f"trial cost reduction, dogImages-sized trial ({FULL_EPOCHS} epochs), extrapolated",
            extrapolated["speedup"],
            "x",
            goal=f">= {GOAL:g}x",
            met=extrapolated["speedup"] >= GOAL,
            measured=False,
        ),
        SummaryRow(
            "trial time without cache, dogImages-sized, extrapolated",
            extrapolated["uncached_trial_s"],
            "s",
            measured=False,
        ),
        SummaryRow(
            "best validation accuracy difference, cached - uncached",
            noise["difference"],
            "abs",
            goal="within 2 standard errors",
            met=noise["within_two_standard_errors"],
        ),
    ]


def plot(trials: list[Trial], extrapolated: dict, path: Path) -> Path:
    modes = ["uncached", "cache build", "cached"]
    with png_figure(path, 1, 2, figsize=(10, 4)) as (measured_ax, full_ax):
        measured_ax.bar(
            modes, [mean_seconds(trials, mode) for mode in modes], color=["tab:red", "tab:gray", "tab:green"]
        )
        measured_ax.set(ylabel="seconds per trial", title="Measured: small synthetic set")
        full_ax.bar(
            ["uncached", "cached"],
            [extrapolated["uncached_trial_s"], extrapolated["cached_trial_s"]],
            color=["tab:red", "tab:green"],
        )
        full_ax.set(
            ylabel="seconds per trial (log)", yscale="log", title="Extrapolated: dogImages, 10 epochs"
        )
        for ax in (measured_ax, full_ax):
            ax.grid(alpha=0.3, axis="y")
    return path


def main(argv: list[str] | None = None) -> int:
    args = base_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    plan = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="tuning-cost-") as scratch:
        workdir = Path(scratch)
        generate(workdir / "data", plan.classes, plan.per_split, seed=0, min_size=160, max_size=320)
        trials = run_trials(workdir, workdir / "data", plan)
        scan = measure_scan_cost(workdir / "data")
    uncached_s, cached_s = mean_seconds(trials, "uncached"), mean_seconds(trials, "cached")
    extrapolated = extrapolate(plan, uncached_s, cached_s, scan)
    noise = metric_noise(trials, plan.images["valid"])
    args.results_dir.mkdir(parents=True, exist_ok=True)
    plot_path = plot(trials, extrapolated, args.results_dir / f"{NAME}.png")
    details = {
        "arch": plan.arch,
        "crop": plan.crop,
        "epochs": plan.epochs,
        "images": plan.images,
        "weights": "random init (--no-pretrained)",
        "trials": [trial.__dict__ for trial in trials],
        "extrapolated_dogimages_trial": extrapolated,
        "validation_metric": noise,
        "trade_off": "cached features use the eval transform (no RandomResizedCrop/flip) and an eval-mode "
        "backbone; uncached frozen-backbone training augments and its BatchNorm layers run in train mode",
        "plot": plot_path.name,
    }
    rows = summary_rows(trials, extrapolated, noise)
    write_results(args.results_dir, NAME, rows, details, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
