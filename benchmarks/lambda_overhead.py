"""Lambda handler overhead: cold import, warm per-request time excluding the endpoint, zip size.

Cold: ``benchmarks/lambda_cold_probe.py`` in many fresh interpreters, each importing
``functions/predict/handler.py`` (module-scope boto3 client and settings, as Lambda's INIT phase does) and
answering its first request. Warm: the handler imported once, requests of every event shape (API Gateway
REST v1 and HTTP v2, JSON and binary bodies, Function URL, direct) and several photo sizes sent round-robin,
so the machine's noise spreads evenly over them. The endpoint is replaced at botocore's ``before-send`` event
(``benchmarks/lambda_stub.py``): signing, serialisation and response parsing still run, the network does not.
Goal: warm p50 <= 5 ms for a typical upload (the 0.3 MP photo, about 110 KB).

    python -m benchmarks.lambda_overhead [--quick]
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchmarks.common import (
    REPO_ROOT,
    SummaryRow,
    base_parser,
    photo_jpeg,
    write_results,
)
from dev.lambda_runtime import FUNCTION_DIR, import_lambda_handler

NAME = "lambda_overhead"
COLD_PROBE = Path(__file__).resolve().parent / "lambda_cold_probe.py"
DEFAULT_ZIP = REPO_ROOT / "build" / "predict_lambda.zip"
WARM_GOAL_MS = 5.0
TYPICAL_MEGAPIXELS = 0.3
FUNCTION_ENV = {  # the configuration Terraform gives the function; fake credentials, nothing leaves the host
    "ENDPOINT_NAME": "dogbreed-endpoint",
    "AWS_ACCESS_KEY_ID": "benchmark",
    "AWS_SECRET_ACCESS_KEY": "benchmark",
    "AWS_SESSION_TOKEN": "benchmark",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def get_args_parser():
    parser = base_parser(__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cold-runs", type=int, default=None, help="fresh interpreters (default 25, quick 3)"
    )
    parser.add_argument(
        "--warm-rounds", type=int, default=None, help="rounds over every request (default 150)"
    )
    parser.add_argument(
        "--zip", type=Path, default=None, help=f"zip to build and measure (default {DEFAULT_ZIP})"
    )
    return parser


# --- cold
def cold_starts(runs: int, event: dict) -> list[dict]:
    """Each run: a fresh interpreter imports the handler and answers one request."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **FUNCTION_ENV}
    env.pop("PYTHONPATH", None)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as event_file:
        json.dump(event, event_file)
        event_file.flush()
        command = [sys.executable, str(COLD_PROBE), str(FUNCTION_DIR), event_file.name]
        return [_probe(command, env) for _ in tqdm(range(runs), desc="lambda cold starts", file=sys.stderr)]


def _probe(command: list[str], env: dict) -> dict:
    started = time.perf_counter()
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, cwd=tempfile.gettempdir()
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"cold-start probe failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["status"] != 200 or result["endpoint_calls"] != 1:
        raise RuntimeError(f"cold-start probe did not answer through the canned endpoint: {result}")
    return result | {"process_wall_s": wall}


# --- warm
def load_handler():
    """The handler module, imported once under the function's environment, as a warm container holds it."""
    with _environment(FUNCTION_ENV):
        return import_lambda_handler()  # settings and client from FUNCTION_ENV


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def request_events(megapixels: tuple[float, ...]) -> dict[str, dict]:
    """Every event shape the function accepts, for each photo size: {"0.3MP/http-v2-binary": event}."""
    from dev.lambda_events import events_for

    events = {}
    for index, mp in enumerate(megapixels):
        for shape, event in events_for(photo_jpeg(mp, seed=index)).items():
            events[f"{mp:g}MP/{shape}"] = event
    return events


def warm_requests(handler, events: dict[str, dict], rounds: int) -> dict[str, dict]:
    """Round-robin over all events `rounds` times; per event: total and botocore (endpoint_ms) times."""
    from benchmarks.lambda_stub import CannedEndpoint
    from dev.lambda_events import FakeLambdaContext

    endpoint = CannedEndpoint(handler.RUNTIME)
    context = FakeLambdaContext()
    samples = {name: {"total_s": [], "cpu_s": [], "botocore_s": []} for name in events}
    for event in events.values():  # warm-up: first use of each code path is not a warm request
        _call(handler, event, context)
    for _ in tqdm(range(rounds), desc="lambda warm requests", unit="round", file=sys.stderr):
        for name, event in events.items():
            elapsed, cpu, log = _call(handler, event, context)
            samples[name]["total_s"].append(elapsed)
            samples[name]["cpu_s"].append(cpu)
            samples[name]["botocore_s"].append(log["endpoint_ms"] / 1000.0)
    if endpoint.calls != (rounds + 1) * len(events):
        raise RuntimeError(f"expected every request to reach the canned endpoint, got {endpoint.calls}")
    return samples


def _call(handler, event: dict, context) -> tuple[float, float, dict]:
    """One invocation: wall time, this thread's CPU time (immune to being preempted by the machine's other
    tenants) and the handler's log line, which goes to a buffer (CloudWatch's pipe in Lambda)."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        started, cpu_started = time.perf_counter(), time.thread_time()
        response = handler.handler(event, context)
        elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
    if response["statusCode"] != 200:
        raise RuntimeError(f"handler answered {response['statusCode']}: {response['body'][:300]}")
    return elapsed, cpu, json.loads(sink.getvalue().splitlines()[-1])


# --- zip
def zip_size(output: Path) -> dict:
    import zipfile

    from dogbreed.packing.lambda_zip import build_zip

    digest = build_zip(FUNCTION_DIR, output)
    with zipfile.ZipFile(output) as archive:
        entries = archive.infolist()
    return {
        "path": str(output),
        "bytes": output.stat().st_size,
        "entries": len(entries),
        "uncompressed_bytes": sum(entry.file_size for entry in entries),
        "base64_sha256": digest,
    }


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


def summary_rows(cold: list[dict], warm: dict[str, dict], zip_info: dict) -> list[SummaryRow]:
    wall, cpu = by_image(warm, "total_s"), by_image(warm, "cpu_s")
    typical = f"{TYPICAL_MEGAPIXELS:g}MP"
    typical_p50 = _ms(wall[typical], 50)
    rows = [
        SummaryRow(
            f"Lambda cold import of handler.py, p50 of {len(cold)} fresh processes",
            _ms([c["import_s"] for c in cold], 50),
            "ms",
        ),
        SummaryRow(
            "Lambda first request after cold import, p50", _ms([c["first_request_s"] for c in cold], 50), "ms"
        ),
        SummaryRow(
            f"Lambda warm overhead p50, {typical} photo, all 6 event shapes (endpoint stubbed)",
            typical_p50,
            "ms",
            f"<= {WARM_GOAL_MS:g} ms",
            typical_p50 <= WARM_GOAL_MS,
        ),
        SummaryRow(f"Lambda warm overhead p99, {typical} photo", _ms(wall[typical], 99), "ms"),
    ]
    for size in wall:
        if size != typical:
            rows.append(SummaryRow(f"Lambda warm overhead p50, {size} photo", _ms(wall[size], 50), "ms"))
    for size in cpu:
        rows.append(
            SummaryRow(f"Lambda warm CPU time per request p50, {size} photo", _ms(cpu[size], 50), "ms")
        )
    zip_kib = round(zip_info["bytes"] / 1024, 1)
    return rows + [SummaryRow("Lambda zip size (build/predict_lambda.zip)", zip_kib, "KiB")]


def plot(warm_rows: list[dict], cold: list[dict], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (warm_ax, cold_ax) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [3, 1]})
    labels = [row["request"] for row in warm_rows]
    positions = np.arange(len(labels))
    height = 0.4
    warm_ax.barh(positions + height / 2, [r["p50_ms"] for r in warm_rows], height, label="wall time p50")
    warm_ax.barh(
        positions - height / 2,
        [r["cpu_p50_ms"] for r in warm_rows],
        height,
        label="CPU time p50 (excludes preemption by other tenants)",
    )
    warm_ax.axvline(WARM_GOAL_MS, color="red", linestyle=":", label=f"goal p50 {WARM_GOAL_MS:g} ms")
    warm_ax.set_yticks(positions, labels, fontsize=7)
    warm_ax.set(xlabel="warm p50 per request (ms), endpoint stubbed", title="Lambda warm overhead")
    warm_ax.legend(fontsize=8)
    cold_ax.boxplot(
        [[c["import_s"] * 1000 for c in cold], [c["first_request_s"] * 1000 for c in cold]],
        tick_labels=["import", "1st request"],
    )
    cold_ax.set(ylabel="ms", title=f"Cold start ({len(cold)} processes)")
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
    handler = load_handler()
    warm = warm_requests(handler, events, rounds)
    cold = cold_starts(cold_runs, events[f"{TYPICAL_MEGAPIXELS:g}MP/http-v2-binary"])
    with tempfile.TemporaryDirectory(prefix="lambda-zip-") as scratch:
        zip_path = args.zip or (Path(scratch) / "predict_lambda.zip" if args.quick else DEFAULT_ZIP)
        zip_info = zip_size(zip_path)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    rows = warm_table(warm)
    plot_path = plot(rows, cold, args.results_dir / f"{NAME}.png")
    details = {
        "warm": rows,
        "warm_rounds": rounds,
        "cold": {
            "runs": cold,
            "import_ms": {q: _ms([c["import_s"] for c in cold], q) for q in (50, 95)},
            "first_request_ms": {q: _ms([c["first_request_s"] for c in cold], q) for q in (50, 95)},
            "process_wall_ms": {q: _ms([c["process_wall_s"] for c in cold], q) for q in (50, 95)},
        },
        "zip": zip_info,
        "stub": "botocore before-send hook answering InvokeEndpoint with 5 canned predictions",
        "plot": plot_path.name,
    }
    write_results(args.results_dir, NAME, summary_rows(cold, warm, zip_info), details, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
