"""Serving cost: $/hour and $/1M predictions per candidate SageMaker instance type.

Inputs: the maximum sustainable throughput measured by ``benchmarks/endpoint_capacity.py`` (its results JSON)
and the repository's prices table ``docs/instance_prices.csv`` (hand-entered list prices; this script never
writes prices of its own).

What is measured and what is not:
  * measured here: requests/s within the SLO on this machine, and so requests/s per core;
  * extrapolated (``measured: false``): CPU instance throughput = measured requests/s per core x the
    instance's vCPUs. This assumes one vCPU there does the work of one core here and that throughput grows
    linearly with cores (a model server with one worker per vCPU, as the SageMaker PyTorch container runs);
    re-run endpoint_capacity.py on the instance type to replace the assumption by a measurement;
  * GPU instances: no CPU number carries over to a GPU, so they get no throughput; instead the break-even
    throughput they would need to match the cheapest CPU instance's $/1M predictions.
$/1M predictions is given at the autoscaling target (target tracking keeps instances at MAX_RPS x 0.5, so
each prediction costs twice what it would at full load) and at full sustainable load.

    python -m benchmarks.cost [--prices docs/instance_prices.csv]
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from benchmarks.capacity_model import SAFETY_FACTOR
from benchmarks.common import REPO_ROOT, SummaryRow, base_parser, png_figure, write_results
from benchmarks.endpoint_capacity import NAME as CAPACITY_NAME

NAME = "cost"
DEFAULT_PRICES = REPO_ROOT / "docs" / "instance_prices.csv"
INFERENCE_USE = "real-time inference"  # sagemaker_price_for values that include endpoint hosting
SECONDS_PER_HOUR = 3600
PER_MILLION = 1_000_000


class CostInputError(ValueError):
    """A missing or malformed input (capacity results, prices table)."""


@dataclass(frozen=True)
class Candidate:
    instance_type: str  # SageMaker name, ml.<type>
    vcpu: int
    gpu_count: int
    gpu_model: str
    usd_per_hour: float


@dataclass(frozen=True)
class CostLine:
    instance_type: str
    vcpu: int
    gpu: str
    usd_per_hour: float
    requests_per_s: float | None  # extrapolated; None for GPU instances
    usd_per_million_at_target: float | None
    usd_per_million_at_max: float | None
    break_even_requests_per_s: float | None  # GPU: throughput needed to match the cheapest CPU instance
    basis: str


def get_args_parser():
    parser = base_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--prices", type=Path, default=DEFAULT_PRICES, help="prices table (CSV)")
    return parser


def load_candidates(prices: Path) -> list[Candidate]:
    """Instance types the prices table lists for SageMaker real-time inference."""
    if not prices.is_file():
        raise CostInputError(f"prices table {prices} does not exist")
    with prices.open(newline="") as file:
        rows = list(csv.DictReader(file))
    try:
        return [
            Candidate(
                instance_type=f"ml.{row['instance_type']}",
                vcpu=int(row["vcpu"]),
                gpu_count=int(row["gpu_count"] or 0),
                gpu_model=row["gpu_model"],
                usd_per_hour=float(row["sagemaker_usd_per_hour"]),
            )
            for row in rows
            if INFERENCE_USE in row["sagemaker_price_for"]
        ]
    except (KeyError, ValueError) as error:
        raise CostInputError(f"{prices}: unexpected columns or values ({error})") from None


def load_capacity(results_dir: Path) -> dict:
    path = results_dir / f"{CAPACITY_NAME}.json"
    if not path.is_file():
        raise CostInputError(f"{path} does not exist: run benchmarks/endpoint_capacity.py first")
    capacity = json.loads(path.read_text())
    if not capacity["details"].get("max_sustainable_rps"):
        raise CostInputError(f"{path}: no load met the SLO, so there is no sustainable throughput to cost")
    return capacity


def usd_per_million(usd_per_hour: float, requests_per_s: float) -> float:
    return usd_per_hour / (requests_per_s * SECONDS_PER_HOUR) * PER_MILLION


def cost_lines(candidates: list[Candidate], rps_per_core: float) -> list[CostLine]:
    cpu_lines = [_cpu_line(c, rps_per_core) for c in candidates if c.gpu_count == 0]
    cheapest = min((line.usd_per_million_at_target for line in cpu_lines), default=None)
    gpu_lines = [_gpu_line(c, cheapest) for c in candidates if c.gpu_count > 0]
    return cpu_lines + gpu_lines


def _cpu_line(candidate: Candidate, rps_per_core: float) -> CostLine:
    rps = rps_per_core * candidate.vcpu
    return CostLine(
        instance_type=candidate.instance_type,
        vcpu=candidate.vcpu,
        gpu="",
        usd_per_hour=candidate.usd_per_hour,
        requests_per_s=round(rps, 3),
        usd_per_million_at_target=round(usd_per_million(candidate.usd_per_hour, rps * SAFETY_FACTOR), 3),
        usd_per_million_at_max=round(usd_per_million(candidate.usd_per_hour, rps), 3),
        break_even_requests_per_s=None,
        basis=f"extrapolated: measured {rps_per_core:.3f} req/s per core here x {candidate.vcpu} vCPU",
    )


def _gpu_line(candidate: Candidate, cheapest_cpu_usd_per_million: float | None) -> CostLine:
    break_even = None
    if cheapest_cpu_usd_per_million:
        # throughput at which this instance, run at the same autoscaling target, costs the same per prediction
        break_even = round(
            candidate.usd_per_hour
            / (cheapest_cpu_usd_per_million / PER_MILLION * SECONDS_PER_HOUR)
            / SAFETY_FACTOR,
            1,
        )
    return CostLine(
        instance_type=candidate.instance_type,
        vcpu=candidate.vcpu,
        gpu=f"{candidate.gpu_count}x {candidate.gpu_model}",
        usd_per_hour=candidate.usd_per_hour,
        requests_per_s=None,
        usd_per_million_at_target=None,
        usd_per_million_at_max=None,
        break_even_requests_per_s=break_even,
        basis="not measured (no GPU here): break-even throughput against the cheapest CPU instance",
    )


def summary_rows(rps: float, cores: int, lines: list[CostLine]) -> list[SummaryRow]:
    rows = [
        SummaryRow(f"serving throughput within the SLO on this machine ({cores} cores)", rps, "requests/s"),
        SummaryRow("serving throughput per core, this machine", round(rps / cores, 3), "requests/s/core"),
    ]
    for line in lines:
        if line.requests_per_s is not None:
            rows.append(
                SummaryRow(
                    f"{line.instance_type} ({line.vcpu} vCPU, ${line.usd_per_hour}/h): $ per 1M predictions "
                    "at the autoscaling target",
                    line.usd_per_million_at_target,
                    "USD",
                    measured=False,
                )
            )
        elif line.break_even_requests_per_s is not None:
            rows.append(
                SummaryRow(
                    f"{line.instance_type} ({line.gpu}, ${line.usd_per_hour}/h): throughput needed to match "
                    "the cheapest CPU instance per prediction",
                    line.break_even_requests_per_s,
                    "requests/s",
                    measured=False,
                )
            )
    return rows


def plot(lines: list[CostLine], path: Path) -> Path:
    cpu = [line for line in lines if line.usd_per_million_at_target is not None]
    names = [line.instance_type for line in cpu]
    with png_figure(path, figsize=(8, 3.8)) as ax:
        ax.bar(
            names, [line.usd_per_million_at_target for line in cpu], label="at autoscaling target (50% load)"
        )
        ax.bar(names, [line.usd_per_million_at_max for line in cpu], label="at max sustainable load")
        ax.set(ylabel="USD per 1M predictions", title="Serving cost per prediction (throughput extrapolated)")
        ax.grid(axis="y", alpha=0.3)
        ax.legend()
    return path


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    try:
        capacity = load_capacity(args.results_dir)
        candidates = load_candidates(args.prices)
    except CostInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not candidates:
        print(f"error: {args.prices} lists no instance type for {INFERENCE_USE}", file=sys.stderr)
        return 2
    rps = capacity["details"]["max_sustainable_rps"]
    cores = capacity["device"]["cores"]
    lines = cost_lines(
        list(tqdm(candidates, desc="cost", unit="instance type", file=sys.stderr)), rps / cores
    )
    plot_path = plot(lines, args.results_dir / f"{NAME}.png")
    details = {
        "capacity_source": {
            "file": f"{CAPACITY_NAME}.json",
            "date": capacity["date"],
            "quick": capacity["quick"],
            "device": capacity["device"],
            "arch": capacity["details"]["model"]["arch"],
            "slo": capacity["details"]["slo"]["text"],
            "max_sustainable_rps": rps,
        },
        "prices_source": str(
            args.prices.relative_to(REPO_ROOT) if args.prices.is_relative_to(REPO_ROOT) else args.prices
        ),
        "safety_factor": SAFETY_FACTOR,
        "lines": [asdict(line) for line in lines],
        "assumptions": __doc__.split("\n\n")[2],
        "plot": plot_path.name,
    }
    for line in lines:
        print(
            f"  {line.instance_type}: ${line.usd_per_hour}/h, {line.usd_per_million_at_target} $/1M at target"
        )
    write_results(args.results_dir, NAME, summary_rows(rps, cores, lines), details, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
