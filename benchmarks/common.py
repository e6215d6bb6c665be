"""What every benchmark shares: the results contract, the machine description, realistic request images,
torch thread settings that do not leak, and the plots' file format.

Results contract: each script writes ``<results-dir>/<name>.json`` with ``device``, ``versions``, ``date``,
``details`` and a top-level ``summary`` list of rows
``{"metric", "value", "unit", "goal", "met", "measured"}`` (``measured`` false = extrapolated, not run here).
``docs/benchmarks.md`` is generated from those rows only.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import math
import os
import platform
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from dogbreed.data.synthetic import class_picture
from dogbreed.utils.cpus import usable_cpus
from dogbreed.utils.fileio import write_json_atomically
from dogbreed.utils.repo import REPO_ROOT

DEFAULT_RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
DOG_BREEDS = 133  # the dogImages classes: models and photos are sized for the real task
PLOT_DPI = 110
VERSIONED_PACKAGES = (
    "torch",
    "torchvision",
    "pillow",
    "numpy",
    "boto3",
    "botocore",
    "locust",
)


@dataclass(frozen=True)
class SummaryRow:
    metric: str
    value: float
    unit: str
    goal: str | None = None
    met: bool | None = None
    measured: bool = True  # False: extrapolated to hardware we did not run on

    def __post_init__(self):
        if not isinstance(self.value, (int, float)) or isinstance(self.value, bool):
            raise TypeError(f"{self.metric}: value must be a number, got {self.value!r}")
        if not math.isfinite(self.value):
            raise ValueError(f"{self.metric}: value must be finite, got {self.value!r}")
        if (self.goal is None) != (self.met is None):
            raise ValueError(f"{self.metric}: give both goal and met, or neither")


def base_parser(description: str) -> argparse.ArgumentParser:
    """The flags every benchmark script takes."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: tiny sizes, seconds; numbers meaningless"
    )
    parser.add_argument(
        "--results-dir", type=Path, default=DEFAULT_RESULTS_DIR, help="where <name>.json and the PNGs go"
    )
    return parser


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_info() -> dict:
    return {
        "cpu_model": cpu_model(),
        "cores": usable_cpus(),
        "machine": platform.machine(),
        "os": platform.platform(terse=True),
        "load_average_1m": round(os.getloadavg()[0], 2),  # the machine is shared: context for the noise
    }


def versions() -> dict:
    found = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def write_results(
    results_dir: Path, name: str, summary: list[SummaryRow], details: dict, *, quick: bool
) -> Path:
    """Writes `<results_dir>/<name>.json` in the shared contract, prints its summary; returns its path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    document = {
        "name": name,
        "date": utc_now(),
        "quick": quick,
        "device": device_info(),
        "versions": versions(),
        "summary": [asdict(row) for row in summary],
        "details": details,
    }
    path = write_json_atomically(results_dir / f"{name}.json", document)
    for row in summary:
        goal = f" (goal {row.goal}: {row.met})" if row.goal else ""
        print(f"  {row.metric}: {row.value} {row.unit}{goal}")
    print(f"wrote {path}")
    return path


def env_without_aws() -> dict[str, str]:
    """This environment minus every AWS_ setting: no profile, credentials or endpoint override of the machine
    leaks into a benchmark's subprocess."""
    return {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}


def percentiles_ms(
    seconds: list[float] | np.ndarray, points=(50, 95, 99), digits: int = 3
) -> dict[str, float]:
    """{"p50": ms, ...} of durations given in seconds, rounded to `digits` decimals."""
    values = np.asarray(seconds, dtype=np.float64) * 1000.0
    if values.size == 0:
        raise ValueError("no samples")
    return {f"p{p}": round(float(np.percentile(values, p)), digits) for p in points}


def photo(megapixels: float, seed: int = 0, image_format: str = "JPEG", quality: int = 90) -> bytes:
    """A photo-like picture (gradients, blur, sensor noise, 4:3) of about `megapixels` as a camera would send
    it, encoded as `image_format` (JPEG at `quality`, or PNG); the dataset generator's photo model.

    Noise matters: it keeps the file as large as a real photo's, so decode and transfer costs are realistic.
    """
    width = int(round(math.sqrt(megapixels * 1e6 * 4 / 3)))
    height = int(round(width * 3 / 4))
    picture = class_picture(np.random.default_rng(seed), seed % DOG_BREEDS, DOG_BREEDS, (width, height))
    buffer = io.BytesIO()
    picture.save(buffer, format=image_format, **({"quality": quality} if image_format == "JPEG" else {}))
    return buffer.getvalue()


def photo_jpeg(megapixels: float, seed: int = 0, quality: int = 90) -> bytes:
    return photo(megapixels, seed, "JPEG", quality)


@contextlib.contextmanager
def torch_threads(count: int | None = None) -> Iterator[None]:
    """The block runs at `count` intra-op threads (None: whatever the block sets); torch's setting is restored
    after, so one measurement's thread count never leaks into the next."""
    import torch

    before = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def png_figure(path: Path, *subplots_args, **subplots_kwargs):
    """Yields the axes of `plt.subplots(...)`; on success lays them out and writes `path` as a PNG.

    matplotlib is imported here, on the file-only Agg backend, so a benchmark pays for it only when plotting.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(*subplots_args, **subplots_kwargs)
    try:
        yield axes
        figure.tight_layout()
        figure.savefig(path, dpi=PLOT_DPI)
    finally:
        plt.close(figure)
