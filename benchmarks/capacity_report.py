"""What benchmarks/endpoint_capacity.py reports: the summary rows and the latency/throughput plot."""

from __future__ import annotations

from pathlib import Path

from benchmarks.capacity_load import Slo, StepResult
from benchmarks.capacity_model import SAFETY_FACTOR
from benchmarks.common import SummaryRow, png_figure


def summary_rows(
    steps: list[StepResult], best: StepResult | None, target: int | None, slo: Slo
) -> list[SummaryRow]:
    rows = [SummaryRow("endpoint p50 latency, 1 request at a time", steps[0].p50_ms, "ms")]
    if best is None:
        return rows + [
            SummaryRow("endpoint max sustainable throughput", 0.0, "requests/s", slo.describe(), False)
        ]
    return rows + [
        SummaryRow(
            f"endpoint max sustainable throughput ({slo.describe()})", best.throughput_rps, "requests/s"
        ),
        SummaryRow(
            f"endpoint p99 latency at max sustainable load ({best.concurrency} concurrent)",
            best.p99_ms,
            "ms",
            f"<= {slo.p99_ms:g} ms",
            best.p99_ms <= slo.p99_ms,
        ),
        SummaryRow(
            "autoscaling target SageMakerVariantInvocationsPerInstance (MAX_RPS x 60 x 0.5)",
            target,
            "invocations/instance/min",
        ),
    ]


def plot(steps: list[StepResult], best: StepResult | None, slo: Slo, path: Path) -> Path:
    users = [s.concurrency for s in steps]
    with png_figure(path, 1, 2, figsize=(11, 4.2)) as (latency_ax, throughput_ax):
        _plot_latency(latency_ax, steps, slo)
        _plot_throughput(throughput_ax, steps, best)
        for ax in (latency_ax, throughput_ax):
            ax.set_xticks(users)
            ax.grid(alpha=0.3)
    return path


def _plot_latency(ax, steps: list[StepResult], slo: Slo) -> None:
    users = [s.concurrency for s in steps]
    for key, style in (("p50_ms", "o-"), ("p95_ms", "s--"), ("p99_ms", "^-")):
        ax.plot(users, [getattr(s, key) for s in steps], style, label=key.replace("_ms", ""))
    ax.axhline(slo.p99_ms, color="red", linestyle=":", label=f"SLO p99 {slo.p99_ms:g} ms")
    ax.set(xlabel="concurrent requests (locust users)", ylabel="latency (ms)", title="Latency vs load")
    ax.legend()


def _plot_throughput(ax, steps: list[StepResult], best: StepResult | None) -> None:
    ax.plot([s.concurrency for s in steps], [s.throughput_rps for s in steps], "o-", label="measured")
    if best is not None:
        ax.plot([best.concurrency], [best.throughput_rps], "r*", markersize=14, label="max within SLO")
        ax.axhline(
            best.throughput_rps * SAFETY_FACTOR,
            color="gray",
            linestyle=":",
            label="autoscaling target, per second",
        )
    ax.set(xlabel="concurrent requests (locust users)", ylabel="requests/s", title="Throughput vs load")
    ax.set_ylim(bottom=0)
    ax.legend()
