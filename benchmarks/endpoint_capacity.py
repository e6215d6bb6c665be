"""Endpoint capacity: rising concurrency against the local endpoint until p99 breaks the SLO.

The local endpoint (``dogbreed-local-endpoint``) hosts a real ``model.tar.gz`` packed by the training code
(``--arch``, default resnet50 with 133 classes, random weights: pretrained weights cannot be downloaded here,
and capacity depends on the architecture's compute, not on the weight values). Locust drives it through
SageMaker Runtime's InvokeEndpoint with boto3 (signed requests, rest-json protocol, keep-alive), only on
127.0.0.1, one closed-loop step per concurrency level, stopping at the first step that breaks the SLO or when
the time budget is spent.

SLO: p99 <= 1000 ms and no failed request. 1000 ms is the repository's ModelLatency alarm threshold
(``terraform/variables.tf``: ``endpoint.alarm_model_latency_ms``): a load the alarm would page on is not
sustainable, and an interactive upload (API Gateway -> Lambda -> endpoint) needs the endpoint answer within
about a second to keep the whole request under two.

From the highest throughput that met the SLO (MAX_RPS) comes AWS's recommended target for target tracking on
``SageMakerVariantInvocationsPerInstance`` (invocations per instance per minute): MAX_RPS x 60 x 0.5 (safety
factor), written to ``terraform/autoscaling.auto.tfvars.json`` as ``autoscaling_invocations_per_instance``.

    python -m benchmarks.endpoint_capacity            # ~2-3 minutes
    python -m benchmarks.endpoint_capacity --quick    # smoke run, does not touch terraform/ unless --tfvars
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
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
from dogbreed.utils import tfvars

NAME = "endpoint_capacity"
SAFETY_FACTOR = 0.5  # AWS's recommendation for SageMakerVariantInvocationsPerInstance target tracking
DEFAULT_SLO_P99_MS = 1000.0
DEFAULT_TFVARS = REPO_ROOT / "terraform" / "autoscaling.auto.tfvars.json"
TFVARS_VARIABLE = "autoscaling_invocations_per_instance"
DEFAULT_CACHE_DIR = REPO_ROOT / "build" / "benchmarks"
LOCUSTFILE = Path(__file__).resolve().parent / "locust_invoke.py"
ENDPOINT_NAME = "capacity-bench"
NUM_CLASSES = 133
ENDPOINT_START_TIMEOUT_S = 180
FAKE_AWS_ENV = {  # signed requests need credentials; only 127.0.0.1 ever receives them
    "AWS_ACCESS_KEY_ID": "benchmark",
    "AWS_SECRET_ACCESS_KEY": "benchmark",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass(frozen=True)
class LoadPlan:
    concurrency: tuple[int, ...]
    step_seconds: float
    warmup_seconds: float
    max_seconds: float
    megapixels: tuple[float, ...]


# 35 s steps: at 3+ requests/s a step has 90+ requests after the warm-up, so p99 is not just the maximum.
# On a quiet machine 8 users still meet the SLO (throughput has plateaued, the queue grows), so the plan goes
# on to 12 and 16; the 240 s budget keeps the whole suite (run_all.py) within 10 minutes.
NORMAL_PLAN = LoadPlan((1, 2, 4, 6, 8, 12, 16), 35.0, 5.0, 240.0, (0.3, 1.0, 3.0))
QUICK_PLAN = LoadPlan((1, 2), 4.0, 1.0, 60.0, (0.3,))


@dataclass(frozen=True)
class StepResult:
    concurrency: int
    requests: int
    failures: int
    window_s: float
    throughput_rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    error_rate: float
    meets_slo: bool
    p50_ms_by_image: dict[int, float]


def get_args_parser():
    parser = base_parser(__doc__.split("\n\n")[0])
    parser.add_argument(
        "--arch", default=None, help="torchvision architecture (default: resnet50, quick: mobilenet_v3_small)"
    )
    parser.add_argument("--slo-p99-ms", type=float, default=DEFAULT_SLO_P99_MS, help="p99 latency SLO")
    parser.add_argument(
        "--max-error-rate", type=float, default=0.0, help="failed requests tolerated per step"
    )
    parser.add_argument(
        "--tfvars",
        type=Path,
        default=None,
        help=f"tfvars JSON to write the target to (default: {DEFAULT_TFVARS.relative_to(REPO_ROOT)}; "
        "not written by --quick unless given)",
    )
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="packed models and images")
    return parser


# --- inputs
def model_archive(arch: str, cache_dir: Path) -> Path:
    """A model.tar.gz packed by the training code (random weights, seed 0).

    Cached per arch and per version of the serving code it ships (code/inference.py and what it imports), so
    a change to the hooks is always what gets measured."""
    from dogbreed.packing.artifact import code_members

    members = code_members()
    code = hashlib.sha256(b"".join(members[name] for name in sorted(members)))
    archive = cache_dir / f"{arch}-{NUM_CLASSES}-classes-{code.hexdigest()[:12]}.model.tar.gz"
    if not archive.is_file():
        for stale in cache_dir.glob(f"{arch}-{NUM_CLASSES}-classes-*.model.tar.gz"):
            stale.unlink()
        _pack_random_model(arch, archive)
    return archive


def _pack_random_model(arch: str, archive: Path) -> Path:
    import torch

    from dogbreed.data.synthetic import breed_name
    from dogbreed.model import build_model
    from dogbreed.packing.artifact import model_meta, pack_model_artifact
    from dogbreed.preprocessing import Preprocessing

    torch.manual_seed(0)
    network = build_model(arch, NUM_CLASSES, pretrained=False)
    meta = model_meta(arch, [breed_name(i) for i in range(NUM_CLASSES)], Preprocessing().to_dict())
    return pack_model_artifact(network.state_dict(), meta, archive)


def request_images(megapixels: tuple[float, ...], cache_dir: Path) -> Path:
    """A folder of photo-like JPEGs, one per size, which the load generator sends in turn."""
    folder = cache_dir / ("images-" + "-".join(f"{mp:g}mp" for mp in megapixels))
    folder.mkdir(parents=True, exist_ok=True)
    for index, mp in enumerate(megapixels):
        path = folder / f"{index:02d}-{mp:g}mp.jpg"
        if not path.is_file():
            path.write_bytes(photo_jpeg(mp, seed=index))
    return folder


# --- the endpoint under test
class EndpointProcess:
    """``dogbreed-local-endpoint`` in its own process: the load generator never shares its interpreter."""

    def __init__(self, archive: Path, max_concurrency: int):
        self._command = [
            sys.executable, "-m", "dogbreed.local_endpoint.cli",
            "--model", str(archive),
            "--endpoint-name", ENDPOINT_NAME,
            "--port", "0",
            "--max-concurrency", str(max_concurrency),
        ]  # fmt: skip
        self._process: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> EndpointProcess:
        self._process = subprocess.Popen(
            self._command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_pump, args=(self._process.stdout, lines), daemon=True).start()
        self.url = _wait_for_url(lines, self._process)
        return self

    def __exit__(self, *exc_info) -> None:
        self._process.terminate()  # SIGTERM: the CLI stops serving and exits
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _pump(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)


def _wait_for_url(lines: queue.Queue, process: subprocess.Popen) -> str:
    deadline, seen = time.monotonic() + ENDPOINT_START_TIMEOUT_S, []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        if " ready at " in line:
            return line.rsplit(" ready at ", 1)[1].strip()
    process.kill()
    raise RuntimeError("the local endpoint did not start:\n" + "".join(seen[-20:]))


# --- load steps
def run_step(url: str, images: Path, concurrency: int, plan: LoadPlan, workdir: Path, slo) -> StepResult:
    """One closed-loop locust run at `concurrency` users; statistics over the window after the warm-up."""
    latency_file = workdir / f"step-{concurrency}.json"
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--users", str(concurrency), "--spawn-rate", str(concurrency),
        "--run-time", f"{plan.step_seconds:g}s", "--stop-timeout", "60",
        "--host", url, "--only-summary", "--loglevel", "ERROR", "--exit-code-on-error", "0",
        "--endpoint-name", ENDPOINT_NAME, "--images", str(images), "--latency-file", str(latency_file),
    ]  # fmt: skip
    env = {**_base_env(), **FAKE_AWS_ENV}
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=plan.step_seconds + 120
    )
    if done.returncode != 0 or not latency_file.is_file():
        raise RuntimeError(f"locust failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")
    samples = np.array(json.loads(latency_file.read_text())["samples"], dtype=np.float64).reshape(-1, 4)
    return summarize_step(concurrency, samples, plan, slo)


def _base_env() -> dict[str, str]:
    """This environment without AWS settings, so no profile or endpoint override leaks into the load."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


def summarize_step(concurrency: int, samples: np.ndarray, plan: LoadPlan, slo) -> StepResult:
    """samples: rows of (start epoch s, latency s, ok, image index). Requests started during the warm-up are
    dropped."""
    if samples.size == 0:
        raise RuntimeError(f"no request completed at concurrency {concurrency}")
    first = samples[:, 0].min()
    window_start, window_end = first + plan.warmup_seconds, first + plan.step_seconds
    measured = samples[(samples[:, 0] >= window_start) & (samples[:, 0] < window_end)]
    if measured.size == 0:
        raise RuntimeError(f"no request started after the warm-up at concurrency {concurrency}")
    ok = measured[:, 2] > 0
    finished = measured[:, 0] + measured[:, 1]
    completed_in_window = int(np.count_nonzero(ok & (finished <= window_end)))
    window = window_end - window_start
    latencies_ms = measured[:, 1] * 1000.0
    p50, p95, p99 = (float(np.percentile(latencies_ms, p)) for p in (50, 95, 99))
    failures = int(np.count_nonzero(~ok))
    error_rate = failures / len(measured)
    return StepResult(
        concurrency=concurrency,
        requests=len(measured),
        failures=failures,
        window_s=round(window, 3),
        throughput_rps=round(completed_in_window / window, 3),
        p50_ms=round(p50, 1),
        p95_ms=round(p95, 1),
        p99_ms=round(p99, 1),
        max_ms=round(float(latencies_ms.max()), 1),
        error_rate=round(error_rate, 4),
        meets_slo=p99 <= slo.p99_ms and error_rate <= slo.max_error_rate,
        p50_ms_by_image={
            int(image): round(float(np.percentile(latencies_ms[measured[:, 3] == image], 50)), 1)
            for image in np.unique(measured[:, 3])
        },
    )


@dataclass(frozen=True)
class Slo:
    p99_ms: float
    max_error_rate: float

    def describe(self) -> str:
        errors = "no failed request" if self.max_error_rate == 0 else f"error rate <= {self.max_error_rate:g}"
        return f"p99 <= {self.p99_ms:g} ms and {errors}"


def ramp(url: str, images: Path, plan: LoadPlan, slo: Slo, workdir: Path) -> tuple[list[StepResult], str]:
    """Steps up the concurrency until a step breaks the SLO or the time budget would be exceeded."""
    steps, started, stop_reason = [], time.monotonic(), "all planned steps met the SLO"
    progress = tqdm(plan.concurrency, desc="endpoint capacity", unit="step", file=sys.stderr)
    for concurrency in progress:
        if time.monotonic() - started + plan.step_seconds > plan.max_seconds:
            stop_reason = f"time budget of {plan.max_seconds:g} s reached"
            break
        step = run_step(url, images, concurrency, plan, workdir, slo)
        steps.append(step)
        progress.set_postfix(users=concurrency, rps=step.throughput_rps, p99_ms=step.p99_ms)
        if not step.meets_slo:
            stop_reason = f"concurrency {concurrency} broke the SLO ({slo.describe()})"
            break
    progress.close()
    return steps, stop_reason


def max_sustainable(steps: list[StepResult]) -> StepResult | None:
    """The step with the highest throughput among those that met the SLO."""
    passing = [step for step in steps if step.meets_slo]
    return max(passing, key=lambda step: step.throughput_rps) if passing else None


def invocations_target(max_rps: float, safety_factor: float = SAFETY_FACTOR) -> int:
    """SageMakerVariantInvocationsPerInstance target: MAX_RPS x 60 x safety factor, at least 1 per minute."""
    return max(1, round(max_rps * 60 * safety_factor))


def write_tfvars(path: Path, target: int) -> None:
    tfvars.write_tfvars(path, {TFVARS_VARIABLE: target})


def tfvars_path(args) -> Path | None:
    """Where the target goes: --tfvars, else the stack's file; a --quick smoke run writes none by default."""
    if args.tfvars is not None:
        return args.tfvars
    return None if args.quick else DEFAULT_TFVARS


# --- plot
def plot(steps: list[StepResult], best: StepResult | None, slo: Slo, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    users = [s.concurrency for s in steps]
    fig, (latency_ax, throughput_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, style in (("p50_ms", "o-"), ("p95_ms", "s--"), ("p99_ms", "^-")):
        latency_ax.plot(users, [getattr(s, key) for s in steps], style, label=key.replace("_ms", ""))
    latency_ax.axhline(slo.p99_ms, color="red", linestyle=":", label=f"SLO p99 {slo.p99_ms:g} ms")
    latency_ax.set(
        xlabel="concurrent requests (locust users)", ylabel="latency (ms)", title="Latency vs load"
    )
    latency_ax.legend()
    throughput_ax.plot(users, [s.throughput_rps for s in steps], "o-", label="measured")
    if best is not None:
        throughput_ax.plot(
            [best.concurrency], [best.throughput_rps], "r*", markersize=14, label="max within SLO"
        )
        throughput_ax.axhline(
            best.throughput_rps * SAFETY_FACTOR,
            color="gray",
            linestyle=":",
            label="autoscaling target, per second",
        )
    throughput_ax.set(
        xlabel="concurrent requests (locust users)", ylabel="requests/s", title="Throughput vs load"
    )
    throughput_ax.set_ylim(bottom=0)
    throughput_ax.legend()
    for ax in (latency_ax, throughput_ax):
        ax.set_xticks(users)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# --- report
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


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    plan = QUICK_PLAN if args.quick else NORMAL_PLAN
    arch = args.arch or ("mobilenet_v3_small" if args.quick else "resnet50")
    tfvars = tfvars_path(args)
    slo = Slo(args.slo_p99_ms, args.max_error_rate)
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    archive = model_archive(arch, args.cache_dir)
    images = request_images(plan.megapixels, args.cache_dir)
    # the endpoint must never throttle in this test: we measure queueing, not the emulated throttle
    with (
        EndpointProcess(archive, max_concurrency=max(plan.concurrency)) as endpoint,
        tempfile.TemporaryDirectory(prefix="capacity-") as workdir,
    ):
        steps, stop_reason = ramp(endpoint.url, images, plan, slo, Path(workdir))
    best = max_sustainable(steps)
    target = invocations_target(best.throughput_rps) if best else None
    if target is not None and tfvars is not None:
        write_tfvars(tfvars, target)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    plot_path = plot(steps, best, slo, args.results_dir / f"{NAME}.png")
    details = {
        "slo": {"p99_ms": slo.p99_ms, "max_error_rate": slo.max_error_rate, "text": slo.describe()},
        "model": {"arch": arch, "num_classes": NUM_CLASSES, "weights": "random (seed 0), --no-pretrained"},
        "requests": [  # index = the image index of p50_ms_by_image (the load generator's sorted order)
            {"index": i, "file": p.name, "bytes": p.stat().st_size}
            for i, p in enumerate(sorted(images.glob("*.jpg")))
        ],
        "plan": asdict(plan),
        "steps": [asdict(step) for step in steps],
        "stop_reason": stop_reason,
        "max_sustainable_rps": best.throughput_rps if best else None,
        "max_sustainable_concurrency": best.concurrency if best else None,
        "safety_factor": SAFETY_FACTOR,
        "invocations_per_instance_target": target,
        "tfvars_written": str(tfvars) if target is not None and tfvars is not None else None,
        "plot": plot_path.name,
        "method": (
            "local_endpoint in its own process (ThreadingHTTPServer, sagemaker-inference Transformer, "
            "dogbreed.serving.hooks); locust closed-loop users in another process on the same 2 cores, "
            "boto3 InvokeEndpoint with retries off; statistics over requests started after the warm-up."
        ),
    }
    print(f"{NAME}: {stop_reason}; max sustainable {details['max_sustainable_rps']} req/s -> target {target}")
    write_results(args.results_dir, NAME, summary_rows(steps, best, target, slo), details, quick=args.quick)
    if details["tfvars_written"]:
        print(f"wrote {tfvars}")
    return 0 if best else 1


if __name__ == "__main__":
    sys.exit(main())
