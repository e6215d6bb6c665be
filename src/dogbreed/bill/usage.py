"""What one prediction uses: the measured durations and request sizes the per-prediction costs scale with.

They come from the benchmark results committed in benchmarks/results/ (each run records its date and
machine); nothing here is a measurement of AWS. A flag overrides each of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dogbreed.utils.repo import REPO_ROOT

RESULTS = REPO_ROOT / "benchmarks" / "results"
ENDPOINT_LATENCY_METRIC = "p50 latency through the stack, ours"  # one request at a time, the photo mix
LAMBDA_OVERHEAD_METRIC = "Powertools handler (zip + layer): warm overhead p50, 0.3MP photo"


class UsageError(ValueError):
    """A benchmark result the bill needs is missing."""


@dataclass(frozen=True)
class Usage:
    endpoint_ms: float  # model latency per request: serverless bills it, the Lambda waits for it
    lambda_overhead_ms: float  # the handler's own work per warm request
    request_bytes: float  # image bytes sent to the endpoint per request
    source: str

    @property
    def lambda_ms(self) -> float:
        return self.endpoint_ms + self.lambda_overhead_ms


def usage_from_benchmarks(results: Path = RESULTS) -> Usage:
    capacity = _read(results / "endpoint_capacity.json")
    overhead = _read(results / "lambda_overhead.json")
    latency = _read(results / "inference_latency.json")
    return Usage(
        endpoint_ms=_metric(capacity, ENDPOINT_LATENCY_METRIC),
        lambda_overhead_ms=_metric(overhead, LAMBDA_OVERHEAD_METRIC),
        request_bytes=_jpeg_mix_bytes(latency),
        source=(
            f"benchmarks/results/endpoint_capacity.json ({capacity['date']}, {capacity['device']['cores']} "
            f"{capacity['device']['cpu_model']} cores: p50 latency through the serving stack of its JPEG "
            f"photo mix), inference_latency.json ({latency['date']}: the mean size of those JPEGs) and "
            f"lambda_overhead.json ({overhead['date']}: warm handler overhead p50)"
        ),
    )


def _jpeg_mix_bytes(result: dict) -> float:
    """The mean size of the JPEG photos (0.3, 3 and 12 MP) the capacity benchmark sends, as the latency
    benchmark records them (the capacity results record no sizes)."""
    try:
        sizes = [row["bytes"] for row in result["details"]["latency"] if row["input"].startswith("jpeg")]
    except (KeyError, TypeError) as error:
        raise UsageError(f"{result.get('name')} results have no per-photo sizes ({error})") from None
    if not sizes:
        raise UsageError(f"{result.get('name')} results have no JPEG photo")
    return sum(sizes) / len(sizes)


def _read(path: Path) -> dict:
    if not path.is_file():
        raise UsageError(f"{path} is missing: run the benchmarks (make bench) or pass the values as flags")
    return json.loads(path.read_text())


def _metric(result: dict, prefix: str) -> float:
    for row in result.get("summary", []):
        if row.get("metric", "").startswith(prefix):
            return float(row["value"])
    raise UsageError(f"{result.get('name')} results have no metric starting with {prefix!r}")
