"""Lambda handler overhead, the Powertools handler beside the stdlib one it replaced: cold, warm, zip size.

Handlers (benchmarks/lambda_handlers.py): the stdlib + boto3 single file from git history, and today's zip
(dogbreed.predict_api with Powertools Logger, Metrics and Tracer, tracing active). Each runs in fresh
interpreters under the same function environment. Cold: ``benchmarks/lambda_cold_probe.py`` imports the
handler (Lambda's INIT: settings, boto3 client, Powertools) and answers its first request, many times,
alternating the handlers so the machine's noise falls on both alike. Warm: ``benchmarks/lambda_warm_probe.py``
sends every event shape (Function URL JSON, binary and base64 JSON bodies; direct) and several photo sizes
round-robin. The endpoint is replaced at botocore's ``before-send`` event (``benchmarks/lambda_stub.py``):
signing, serialisation and response parsing still run, the network does not.
Goal (today's handler): warm p50 <= 5 ms for a typical upload (the 0.3 MP photo, about 110 KB).

    python -m benchmarks.lambda_overhead [--quick]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
from tqdm import tqdm

from benchmarks.common import REPO_ROOT, SummaryRow, base_parser, photo_jpeg, write_results
from benchmarks.lambda_handlers import (
    BASELINE_COMMIT,
    FUNCTION_ENV,
    baseline_handler,
    cold_start,
    lambda_env,
    powertools_handler,
    warm_samples,
    xray_daemon,
)
from benchmarks.lambda_warm_probe import timed_call
from dev.lambda_runtime import import_lambda_handler

NAME = "lambda_overhead"
DEFAULT_ZIP = REPO_ROOT / "build" / "predict_lambda.zip"
WARM_GOAL_MS = 5.0
TYPICAL_MEGAPIXELS = 0.3
CURRENT = "powertools"


def get_args_parser():
    parser = base_parser(__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cold-runs", type=int, default=None, help="fresh interpreters per handler (default 25, quick 3)"
    )
    parser.add_argument(
        "--warm-rounds", type=int, default=None, help="rounds over every request (default 150, quick 5)"
    )
    parser.add_argument(
        "--zip", type=Path, default=None, help=f"zip to build and measure (default {DEFAULT_ZIP})"
    )
    return parser


# --- in-process use (tests): today's handler under the function's environment, tracing off
def load_handler():
    """The app module, imported once under the function's environment, as a warm container holds it."""
    with mock.patch.dict(os.environ, FUNCTION_ENV):
        return import_lambda_handler()


def _call(handler, event: dict, context) -> tuple[float, float, dict]:
    return timed_call(handler, event, context)


# --- requests
def request_events(megapixels: tuple[float, ...]) -> dict[str, dict]:
    """Every event shape the function accepts, for each photo size: {"0.3MP/function-url-binary": event}."""
    from dev.lambda_events import events_for

    events = {}
    for index, mp in enumerate(megapixels):
        for shape, event in events_for(photo_jpeg(mp, seed=index)).items():
            events[f"{mp:g}MP/{shape}"] = event
    return events


def measure(handlers, events: dict[str, dict], cold_runs: int, rounds: int, scratch: Path) -> dict:
    """{name: {"warm": samples, "cold": [runs]}} for every measurable handler."""
    events_file, cold_event_file = scratch / "events.json", scratch / "cold_event.json"
    events_file.write_text(json.dumps(events))
    cold_event_file.write_text(json.dumps(events[f"{TYPICAL_MEGAPIXELS:g}MP/function-url-binary"]))
    measured = {h.name: {"warm": None, "cold": []} for h in handlers if h.function_dir}
    with xray_daemon() as daemon:
        envs = {h.name: lambda_env(h, daemon) for h in handlers if h.function_dir}
        for handler in tqdm([h for h in handlers if h.function_dir], desc="lambda warm", file=sys.stderr):
            measured[handler.name]["warm"] = warm_samples(handler, envs[handler.name], events_file, rounds)
        for _ in tqdm(range(cold_runs), desc="lambda cold starts (each handler)", file=sys.stderr):
            for handler in (h for h in handlers if h.function_dir):  # alternating: noise falls on both alike
                measured[handler.name]["cold"].append(
                    cold_start(handler, envs[handler.name], cold_event_file)
                )
    return measured


# --- report
def _ms(seconds, q) -> float:
    return round(float(np.percentile(np.asarray(seconds) * 1000.0, q)), 3)


def warm_table(warm: dict[str, dict]) -> list[dict]:
    rows = []
    for name, samples in warm.items():
        size, shape = name.split("/", 1)
        total, botocore = samples["total_s"], samples["botocore_s"]
        rows.append(
            {
                "request": name,
                "image": size,
                "event": shape,
                "n": len(total),
                "p50_ms": _ms(total, 50),
                "p95_ms": _ms(total, 95),
                "p99_ms": _ms(total, 99),
                "cpu_p50_ms": _ms(samples["cpu_s"], 50),
                "botocore_p50_ms": _ms(botocore, 50),
                "handler_own_p50_ms": _ms(np.subtract(total, botocore), 50),
            }
        )
    return rows


def by_image(warm: dict[str, dict], key: str) -> dict[str, list[float]]:
    """Samples of `key` pooled over the event shapes, per photo size: {"0.3MP": [...], ...}."""
    pooled: dict[str, list[float]] = {}
    for name, samples in warm.items():
        pooled.setdefault(name.split("/", 1)[0], []).extend(samples[key])
    return pooled


def cold_summary(cold: list[dict]) -> dict:
    starts = [c["import_s"] + c["first_request_s"] for c in cold]
    return {
        "runs": cold,
        "import_ms": {q: _ms([c["import_s"] for c in cold], q) for q in (50, 95)},
        "first_request_ms": {q: _ms([c["first_request_s"] for c in cold], q) for q in (50, 95)},
        "cold_start_ms": {q: _ms(starts, q) for q in (50, 95)},
        "process_wall_ms": {q: _ms([c["process_wall_s"] for c in cold], q) for q in (50, 95)},
    }


def handler_rows(handler, result: dict, shapes: int) -> list[SummaryRow]:
    """One handler's rows; the warm goal row only for today's handler."""
    cold, warm, label = result["cold"], result["warm"], handler.label
    wall, cpu = by_image(warm, "total_s"), by_image(warm, "cpu_s")
    typical = f"{TYPICAL_MEGAPIXELS:g}MP"
    typical_p50 = _ms(wall[typical], 50)
    goal = (
        {"goal": f"<= {WARM_GOAL_MS:g} ms", "met": typical_p50 <= WARM_GOAL_MS}
        if handler.name == CURRENT
        else {}
    )
    rows = [
        SummaryRow(
            f"{label}: cold start (import + first request), p50 of {len(cold)} fresh processes",
            cold_summary(cold)["cold_start_ms"][50],
            "ms",
        ),
        SummaryRow(f"{label}: cold import, p50", _ms([c["import_s"] for c in cold], 50), "ms"),
        SummaryRow(
            f"{label}: first request after cold import, p50",
            _ms([c["first_request_s"] for c in cold], 50),
            "ms",
        ),
        SummaryRow(
            f"{label}: warm overhead p50, {typical} photo, all {shapes} event shapes (endpoint stubbed)",
            typical_p50,
            "ms",
            **goal,
        ),
        SummaryRow(f"{label}: warm overhead p99, {typical} photo", _ms(wall[typical], 99), "ms"),
    ]
    rows += [
        SummaryRow(f"{label}: warm overhead p50, {size} photo", _ms(wall[size], 50), "ms")
        for size in wall
        if size != typical
    ]
    rows += [
        SummaryRow(f"{label}: warm CPU time per request p50, {size} photo", _ms(cpu[size], 50), "ms")
        for size in cpu
    ]
    return rows + [SummaryRow(f"{label}: deployment zip size", round(handler.zip_bytes / 1024, 1), "KiB")]


def plot(handlers, measured: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [h for h in handlers if h.name in measured]
    tables = {h.name: warm_table(measured[h.name]["warm"]) for h in shown}
    labels = [row["request"] for row in tables[shown[0].name]]
    fig, (warm_ax, cold_ax) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [3, 2]})
    positions, height = np.arange(len(labels)), 0.8 / len(shown)
    for offset, handler in enumerate(shown):
        values = [row["p50_ms"] for row in tables[handler.name]]
        warm_ax.barh(
            positions + (offset - (len(shown) - 1) / 2) * height, values, height, label=handler.label
        )
    warm_ax.axvline(WARM_GOAL_MS, color="red", linestyle=":", label=f"goal p50 {WARM_GOAL_MS:g} ms")
    warm_ax.set_yticks(positions, labels, fontsize=7)
    warm_ax.set(xlabel="warm wall time p50 per request (ms), endpoint stubbed", title="Lambda warm overhead")
    warm_ax.legend(fontsize=8)
    series, ticks = [], []
    for handler in shown:
        cold = measured[handler.name]["cold"]
        series += [[c["import_s"] * 1000 for c in cold], [c["first_request_s"] * 1000 for c in cold]]
        ticks += [f"{handler.name}\nimport", f"{handler.name}\n1st request"]
    cold_ax.boxplot(series, tick_labels=ticks)
    cold_ax.set(ylabel="ms", title=f"Cold start ({len(measured[shown[0].name]['cold'])} processes each)")
    for ax in (warm_ax, cold_ax):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    cold_runs = args.cold_runs or (3 if args.quick else 25)
    rounds = args.warm_rounds or (5 if args.quick else 150)
    megapixels = (TYPICAL_MEGAPIXELS,) if args.quick else (TYPICAL_MEGAPIXELS, 1.0, 3.0)
    events = request_events(megapixels)
    shapes = len({name.split("/", 1)[1] for name in events})
    with tempfile.TemporaryDirectory(prefix="lambda-overhead-") as scratch:
        scratch = Path(scratch)
        zip_path = args.zip or (scratch / "predict_lambda.zip" if args.quick else DEFAULT_ZIP)
        handlers = [baseline_handler(scratch), powertools_handler(scratch, zip_path)]
        measured = measure(handlers, events, cold_runs, rounds, scratch)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    plot_path = plot(handlers, measured, args.results_dir / f"{NAME}.png")
    rows, details = [], {"handlers": {}, "warm_rounds": rounds, "baseline_commit": BASELINE_COMMIT}
    for handler in handlers:
        if handler.name not in measured:
            details["handlers"][handler.name] = {"label": handler.label, "unmeasured": handler.unmeasured}
            continue
        result = measured[handler.name]
        rows += handler_rows(handler, result, shapes)
        details["handlers"][handler.name] = {
            "label": handler.label,
            "warm": warm_table(result["warm"]),
            "cold": cold_summary(result["cold"]),
            "zip_bytes": handler.zip_bytes,
        }
    details |= {
        "zip": {"path": str(zip_path), "bytes": details["handlers"][CURRENT]["zip_bytes"]},
        "stub": "botocore before-send hook answering InvokeEndpoint with 5 canned predictions",
        "tracing": "active (LAMBDA_TASK_ROOT, _X_AMZN_TRACE_ID, a local UDP X-Ray daemon address) for both",
        "plot": plot_path.name,
    }
    write_results(args.results_dir, NAME, rows, details, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
