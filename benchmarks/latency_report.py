"""What benchmarks/inference_latency.py reports: the per-photo table, the JPEG mix, the forward against its
FLOP floor, the summary rows with their goals, and the plot."""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np

from benchmarks.common import SummaryRow, percentiles_ms, png_figure
from benchmarks.latency_measurements import (
    CORES,
    COURSE_DECODE,
    FORWARD,
    FORWARD_1,
    INT8_RATE,
    INT8_RATE_1,
    OUR_DECODE,
    PER_WORKER,
    RATE,
    RATE_1,
    SERVED,
    SERVED_1,
    TORCH_PATH,
    Photo,
)

SPEEDUP_GOAL = 3.0
FLOOR_GOAL = 1.3
AGREEMENT_GOAL = 0.99


def latency_table(latency: dict, inputs: dict[Photo, bytes]) -> list[dict]:
    rows = []
    for photo in inputs:
        course, ours, per_worker, fp32 = (
            latency[n][photo] for n in ("course", "ours", PER_WORKER, TORCH_PATH)
        )
        rows.append(
            {
                "input": photo.name,
                "bytes": len(inputs[photo]),
                "requests_per_path": len(ours),
                "course_ms": percentiles_ms(course),
                "ours_ms": percentiles_ms(ours),
                "ours_1_thread_per_worker_ms": percentiles_ms(per_worker),
                "ours_fp32_torch_ms": percentiles_ms(fp32),
                "p50_speedup": round(np.median(course) / np.median(ours), 2),
                "p50_speedup_1_thread_per_worker": round(np.median(course) / np.median(per_worker), 2),
                "p50_speedup_fp32_torch": round(np.median(course) / np.median(fp32), 2),
            }
        )
    return rows


def mix_stats(latency: dict, photos: tuple[Photo, ...]) -> dict:
    """Pooled over the JPEG photo mix (each size equally often)."""
    pooled = {name: [s for photo in photos for s in latency[name][photo]] for name in latency}
    stats = {}
    for name, values in pooled.items():
        percentiles = percentiles_ms(values, (50, 99), digits=2)
        stats[name] = {
            "p50_ms": percentiles["p50"],
            "p99_ms": percentiles["p99"],
            "images_per_s": round(1 / np.mean(values), 3),
        }
    return stats


def forward_summary(samples: dict, flops: int, served_precision: str) -> dict:
    """Forward time over the FLOP floor: model FLOPs / the matmul rate of the same arithmetic measured in the
    same round (fp32 for torch; int8 for the served int8 network, whose FLOPs are the same convolutions and
    matmuls, executed as u8 x s8 multiply-adds)."""
    rates = {RATE, RATE_1, INT8_RATE, INT8_RATE_1}
    forward_ms = {name: percentiles_ms(values) for name, values in samples.items() if name not in rates}
    int8 = served_precision == "int8"
    layouts = {
        "torch fp32, all cores": (FORWARD, RATE),
        "torch fp32, 1 thread": (FORWARD_1, RATE_1),
        "served, all cores": (SERVED, INT8_RATE if int8 else RATE),
        "served, 1 thread": (SERVED_1, INT8_RATE_1 if int8 else RATE_1),
    }
    floor = {}
    for layout, (variant, rate_name) in layouts.items():
        times, rate_samples = samples[variant], samples[rate_name]
        ratios = [time_s * rate * 1e9 / flops for time_s, rate in zip(times, rate_samples, strict=True)]
        floor[layout] = {
            "rate": rate_name,
            "rate_g_per_s_median": round(statistics.median(rate_samples), 1),
            "floor_ms_at_median_rate": round(flops / (statistics.median(rate_samples) * 1e9) * 1e3, 1),
            "forward_p50_ms": forward_ms[variant]["p50"],
            "forward_over_floor_median": round(statistics.median(ratios), 2),
        }
    return {
        "gflops_per_forward": round(flops / 1e9, 3),
        "served_precision": served_precision,
        "forward_ms": forward_ms,
        "floor": floor,
    }


def decode_summary(decode: dict, photo: Photo) -> dict:
    return {"input": photo.name, **{name: percentiles_ms(values, (50,)) for name, values in decode.items()}}


def summary_rows(
    table: list[dict], mix: dict, forward: dict, decode: dict, agreement: dict, threads: int
) -> list[SummaryRow]:
    return (
        _speedup_rows(mix, forward, decode, threads)
        + [SummaryRow(f"p50 speedup, {row['input']}", row["p50_speedup"], "x") for row in table]
        + _floor_rows(forward, threads)
        + _agreement_rows(agreement)
    )


def _speedup_rows(mix: dict, forward: dict, decode: dict, threads: int) -> list[SummaryRow]:
    speedup = mix["course"]["p50_ms"] / mix["ours"]["p50_ms"]
    forward_ms = {name: values["p50"] for name, values in forward["forward_ms"].items()}
    served = f"served {forward['served_precision']}"
    return [
        SummaryRow("p50 latency, course path, JPEG photo mix", mix["course"]["p50_ms"], "ms"),
        SummaryRow(f"p50 latency, ours ({served}), JPEG photo mix", mix["ours"]["p50_ms"], "ms"),
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
            "p50 speedup over the course path, our hooks serving fp32 torch (model.pt, as before int8)",
            round(mix["course"]["p50_ms"] / mix[TORCH_PATH]["p50_ms"], 2),
            "x",
        ),
        SummaryRow(
            f"source: forward speedup, {served} over torch fp32 channels_last, {threads} thread(s)",
            round(forward_ms[FORWARD] / forward_ms[SERVED], 2),
            "x",
        ),
        SummaryRow(
            f"source: forward speedup of {threads} thread(s) over 1 thread, {served}",
            round(forward_ms[SERVED_1] / forward_ms[SERVED], 2),
            "x",
        ),
        SummaryRow(
            "source: forward speedup from channels_last alone (torch fp32)",
            round(forward_ms["torch fp32 contiguous"] / forward_ms[FORWARD], 2),
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


def _floor_rows(forward: dict, threads: int) -> list[SummaryRow]:
    floor = forward["floor"]
    served = f"served {forward['served_precision']}"
    rate = (
        "int8 matmul rate (ONNX Runtime u8 x s8 MatMulInteger)"
        if forward["served_precision"] == "int8"
        else ("fp32 matmul rate")
    )
    ratio = floor["served, 1 thread"]["forward_over_floor_median"]  # the serving default: 1 thread per worker
    return [
        SummaryRow(
            "fp32 matmul rate, 1 thread (median)",
            floor["torch fp32, 1 thread"]["rate_g_per_s_median"],
            "GFLOP/s",
        ),
        SummaryRow(f"{rate}, 1 thread (median)", floor["served, 1 thread"]["rate_g_per_s_median"], "GOP/s"),
        SummaryRow(
            "model forward p50, torch fp32, 1 thread", floor["torch fp32, 1 thread"]["forward_p50_ms"], "ms"
        ),
        SummaryRow(
            f"model forward p50, {served}, 1 thread", floor["served, 1 thread"]["forward_p50_ms"], "ms"
        ),
        SummaryRow(
            "model forward / FLOP floor, torch fp32, 1 thread",
            floor["torch fp32, 1 thread"]["forward_over_floor_median"],
            "x",
        ),
        SummaryRow(
            f"model forward / FLOP floor, {served}, {threads} thread(s)",
            floor["served, all cores"]["forward_over_floor_median"],
            "x",
        ),
        SummaryRow(
            f"model forward / FLOP floor, {served}, 1 thread (median of interleaved rounds)",
            ratio,
            "x",
            goal=f"<= {FLOOR_GOAL:g}x",
            met=ratio <= FLOOR_GOAL,
        ),
    ]


def _agreement_rows(agreement: dict) -> list[SummaryRow]:
    return [
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


def plot(table: list[dict], forward: dict, path: Path) -> Path:
    with png_figure(path, 1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [2, 1]}) as axes:
        latency_ax, forward_ax = axes
        _plot_latency(latency_ax, table)
        _plot_forward(forward_ax, forward)
        for ax in axes:
            ax.grid(alpha=0.3)
    return path


def _plot_latency(ax, table: list[dict]) -> None:
    names = [row["input"] for row in table]
    x = np.arange(len(names))
    paths = (
        ("course_ms", "course path"),
        ("ours_ms", "ours, 1 worker x all cores"),
        ("ours_1_thread_per_worker_ms", "ours, 1 thread per worker"),
        ("ours_fp32_torch_ms", "ours serving fp32 torch"),
    )
    for offset, (key, label) in enumerate(paths):
        ax.bar(x + (offset - 1.5) * 0.2, [row[key]["p50"] for row in table], 0.2, label=label)
    ax.set(xticks=x, xticklabels=names, ylabel="p50 ms per request (log)", yscale="log")
    ax.set_title("Request latency, one at a time")
    ax.legend()


def _plot_forward(ax, forward: dict) -> None:
    variants = forward["forward_ms"]
    ax.barh(list(variants), [values["p50"] for values in variants.values()], color="tab:gray")
    for layout, (color, style) in {
        "torch fp32, 1 thread": ("tab:red", ":"),
        "served, all cores": ("tab:green", "--"),
        "served, 1 thread": ("tab:green", ":"),
    }.items():
        floor_ms = forward["floor"][layout]["floor_ms_at_median_rate"]
        ax.axvline(floor_ms, color=color, linestyle=style, label=f"FLOP floor, {layout}")
    ax.set(xlabel="p50 ms per forward", title="Model forward vs FLOP floor")
    ax.legend()
