"""What benchmarks/endpoint_capacity.py reports: the sequential latency table, the summary rows with their
goals, and the latency/throughput plot of both deployments."""

from __future__ import annotations

from pathlib import Path

from benchmarks.capacity_load import Slo, StepResult
from benchmarks.capacity_model import SAFETY_FACTOR
from benchmarks.common import SummaryRow, percentiles_ms, png_figure

SPEEDUP_GOAL = 3.0  # p50 on the photo mix, and max requests/s within the SLO, over the course deployment


def latency_summary(samples: dict) -> dict:
    """{deployment: {"by_image": {image: p50 ms}, "mix": {p50, p99 ms}, "requests": n}} and the speedup."""
    summary = {}
    for name, by_image in samples.items():
        pooled = [value for values in by_image.values() for value in values]
        summary[name] = {
            "by_image": {image: percentiles_ms(values, (50,))["p50"] for image, values in by_image.items()},
            "mix": percentiles_ms(pooled, (50, 99), digits=1),
            "requests": len(pooled),
        }
    summary["p50_speedup"] = round(summary["course"]["mix"]["p50"] / summary["ours"]["mix"]["p50"], 2)
    return summary


def summary_rows(
    steps: dict[str, list[StepResult]],
    best: dict[str, StepResult | None],
    target: int | None,
    slo: Slo,
    details: dict,
) -> list[SummaryRow]:
    latency = details["sequential_latency"]
    served = details["model"]["serving"]
    rows = [
        SummaryRow(
            "p50 latency through the stack, course deployment, photo mix",
            latency["course"]["mix"]["p50"],
            "ms",
        ),
        SummaryRow(
            f"p50 latency through the stack, ours ({served['runtime']} {served['precision']}), photo mix",
            latency["ours"]["mix"]["p50"],
            "ms",
        ),
        SummaryRow(
            "p50 speedup through the stack over the course deployment, JPEG photo mix",
            latency["p50_speedup"],
            "x",
            goal=f">= {SPEEDUP_GOAL:g}x",
            met=latency["p50_speedup"] >= SPEEDUP_GOAL,
        ),
    ]
    for image in latency["ours"]["by_image"]:
        ratio = latency["course"]["by_image"][image] / latency["ours"]["by_image"][image]
        rows.append(SummaryRow(f"p50 speedup through the stack, {Path(image).stem}", round(ratio, 2), "x"))
    for name in ("ours", "course"):
        step = best[name]
        rows.append(
            SummaryRow(
                f"max sustainable throughput, {name} ({slo.describe()})",
                step.throughput_rps if step else 0.0,
                "requests/s",
            )
        )
        if step:
            rows.append(
                SummaryRow(
                    f"p99 latency at max sustainable load, {name} ({step.concurrency} concurrent)",
                    step.p99_ms,
                    "ms",
                    f"<= {slo.p99_ms:g} ms",
                    step.p99_ms <= slo.p99_ms,
                )
            )
    if best["ours"] and best["course"]:
        ratio = float(best["ours"].throughput_rps / best["course"].throughput_rps)  # steps hold numpy floats
        rows.append(
            SummaryRow(
                "max sustainable throughput, ours over the course deployment",
                round(ratio, 2),
                "x",
                goal=f">= {SPEEDUP_GOAL:g}x",
                met=ratio >= SPEEDUP_GOAL,
            )
        )
    else:
        rows.append(
            SummaryRow(
                "max sustainable throughput, ours over the course deployment",
                0.0,
                "x",
                f">= {SPEEDUP_GOAL:g}x",
                False,
            )
        )
    if target is not None:
        rows.append(
            SummaryRow(
                "autoscaling target SageMakerVariantInvocationsPerInstance (ours: MAX_RPS x 60 x 0.5)",
                target,
                "invocations/instance/min",
            )
        )
    return rows


def plot(
    steps: dict[str, list[StepResult]], best: dict[str, StepResult | None], slo: Slo, path: Path
) -> Path:
    users = sorted({s.concurrency for by_name in steps.values() for s in by_name})
    with png_figure(path, 1, 2, figsize=(11, 4.2)) as (latency_ax, throughput_ax):
        for name, color in (("ours", "tab:blue"), ("course", "tab:orange")):
            _plot_latency(latency_ax, name, steps[name], color)
            _plot_throughput(throughput_ax, name, steps[name], best[name], color)
        latency_ax.axhline(slo.p99_ms, color="red", linestyle=":", label=f"SLO p99 {slo.p99_ms:g} ms")
        latency_ax.set(
            xlabel="concurrent requests (locust users)", ylabel="latency (ms)", title="Latency vs load"
        )
        throughput_ax.set(
            xlabel="concurrent requests (locust users)", ylabel="requests/s", title="Throughput vs load"
        )
        throughput_ax.set_ylim(bottom=0)
        for ax in (latency_ax, throughput_ax):
            ax.set_xticks(users)
            ax.grid(alpha=0.3)
            ax.legend(fontsize="small")
    return path


def _plot_latency(ax, name: str, steps: list[StepResult], color: str) -> None:
    users = [s.concurrency for s in steps]
    ax.plot(users, [s.p50_ms for s in steps], "o--", color=color, label=f"{name} p50")
    ax.plot(users, [s.p99_ms for s in steps], "^-", color=color, label=f"{name} p99")


def _plot_throughput(ax, name: str, steps: list[StepResult], best: StepResult | None, color: str) -> None:
    ax.plot([s.concurrency for s in steps], [s.throughput_rps for s in steps], "o-", color=color, label=name)
    if best is not None:
        ax.plot([best.concurrency], [best.throughput_rps], "*", color=color, markersize=14)
        if name == "ours":
            ax.axhline(
                best.throughput_rps * SAFETY_FACTOR,
                color="gray",
                linestyle=":",
                label="autoscaling target /s",
            )
