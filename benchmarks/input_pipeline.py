"""Training input pipeline: images/s of one DataLoader worker, the course loader against ours, same images.

Course loader (re-implemented): torchvision ImageFolder with its default loader (full PIL decode, convert to
RGB) and the course's transform: RandomHorizontalFlip, Resize((224, 224)), ToTensor, Normalize.
Ours: `dogbreed.data.DogImages` with `Preprocessing.train_transform()` (RandomResizedCrop(224), flip,
ToTensor, Normalize) after `to_upright_rgb` (EXIF orientation, transparency onto white), as train.py builds
it, with and without the JPEG draft-mode decode sized for RandomResizedCrop
(`Preprocessing.train_decode_min_side`).

One worker = one process at one intra-op thread (DataLoader workers run with torch.set_num_threads(1)), so
the datasets are read in this process directly; rounds alternate between the loaders on the same shuffled
indices. The images: photo-like JPEGs (and a few PNG/grayscale/CMYK/palette files, as in the synthetic
dataset generator) from dogImages-like sizes up to phone-photo sizes.

    python -m benchmarks.input_pipeline [--quick]
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from benchmarks.common import SummaryRow, base_parser, png_figure, torch_threads, write_results
from benchmarks.course_baseline import course_loader_dataset
from dogbreed.data.dogimages import DogImages, index_split
from dogbreed.data.synthetic import generate
from dogbreed.preprocessing import Preprocessing

NAME = "input_pipeline"


@dataclass(frozen=True)
class Plan:
    classes: int
    per_class: int
    sizes: tuple[tuple[int, int], ...]  # (min side, max side) ranges, one dataset part each
    rounds: int
    batch: int  # images per timed batch


FULL = Plan(classes=2, per_class=4, sizes=((300, 600), (1000, 1800), (2400, 3200)), rounds=2, batch=8)
QUICK = Plan(classes=2, per_class=2, sizes=((300, 500),), rounds=1, batch=4)


def make_dataset(root: Path, plan: Plan) -> Path:
    """One train/ split whose classes hold images of every size range."""
    for part, (low, high) in enumerate(plan.sizes):
        generate(
            root / f"part{part}",
            plan.classes,
            {"train": plan.per_class},
            seed=part,
            min_size=low,
            max_size=high,
        )
        for folder in (root / f"part{part}" / "train").iterdir():
            target = root / "train" / folder.name
            target.mkdir(parents=True, exist_ok=True)
            for image in folder.iterdir():
                image.rename(target / f"part{part}_{image.name}")
    return root / "train"


def our_datasets(train_dir: Path) -> dict:
    samples, _ = index_split(train_dir)
    preprocessing = Preprocessing()
    transform = preprocessing.train_transform()
    return {
        "ours, full decode": DogImages(samples, transform),
        "ours, draft decode (kept)": DogImages(
            samples, transform, decode_min_side=preprocessing.train_decode_min_side
        ),
    }


def measure(loaders: dict, indices: list[int], plan: Plan) -> dict[str, list[float]]:
    """Seconds per image, one sample per loader per batch of indices, loaders in alternating order."""
    samples = {name: [] for name in loaders}
    order = list(loaders)
    batches = [indices[start : start + plan.batch] for start in range(0, len(indices), plan.batch)]
    for dataset in loaders.values():  # warm-up
        dataset[indices[0]]
    for round_index in tqdm(range(plan.rounds), desc="input pipeline rounds", file=sys.stderr):
        for batch_index, batch in enumerate(batches):
            names = order if (round_index + batch_index) % 2 == 0 else order[::-1]
            for name in names:
                start = time.perf_counter()
                for index in batch:
                    loaders[name][index]
                samples[name].append((time.perf_counter() - start) / len(batch))
    return samples


def main(argv: list[str] | None = None) -> int:
    args = base_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    plan = QUICK if args.quick else FULL
    with torch_threads(1), tempfile.TemporaryDirectory(prefix="input-pipeline-") as scratch:
        train_dir = make_dataset(Path(scratch), plan)
        course = course_loader_dataset(train_dir)
        ours = our_datasets(train_dir)
        assert [Path(path).name for path, _ in course.samples] == [
            s.path.name for s in ours["ours, full decode"].samples
        ]
        indices = list(range(len(course)))
        random.Random(0).shuffle(indices)
        seconds = measure({"course (ImageFolder)": course, **ours}, indices, plan)
        megapixels = _megapixels(ours["ours, full decode"].samples)
    rates = {name: round(1 / float(np.mean(values)), 2) for name, values in seconds.items()}  # equal batches
    course_rate = rates["course (ImageFolder)"]
    rows = [SummaryRow(f"images/s per worker, {name}", rate, "images/s") for name, rate in rates.items()]
    rows += [
        SummaryRow(f"speedup over the course loader, {name}", round(rate / course_rate, 2), "x")
        for name, rate in rates.items()
        if name != "course (ImageFolder)"
    ]
    args.results_dir.mkdir(parents=True, exist_ok=True)
    plot_path = plot(rates, args.results_dir / f"{NAME}.png")
    details = {
        "images": len(indices),
        "megapixels": {
            "min": min(megapixels),
            "median": float(np.median(megapixels)),
            "max": max(megapixels),
        },
        "rounds": plan.rounds,
        "images_per_timed_batch": plan.batch,
        "threads": 1,
        "images_per_s": rates,
        "seconds_per_image": {name: [round(v, 5) for v in values] for name, values in seconds.items()},
        "plot": plot_path.name,
    }
    write_results(args.results_dir, NAME, rows, details, quick=args.quick)
    return 0


def _megapixels(samples) -> list[float]:
    sizes = []
    for sample in samples:
        with Image.open(sample.path) as image:
            sizes.append(round(image.width * image.height / 1e6, 3))
    return sizes


def plot(rates: dict[str, float], path: Path) -> Path:
    with png_figure(path, figsize=(8, 3.5)) as ax:
        ax.barh(list(rates), list(rates.values()), color=["tab:red", "tab:blue", "tab:green"][: len(rates)])
        ax.set(xlabel="images/s per DataLoader worker", title="Training input pipeline")
        ax.grid(alpha=0.3, axis="x")
    return path


if __name__ == "__main__":
    sys.exit(main())
