"""The load of benchmarks/endpoint_capacity.py: closed-loop locust steps of rising concurrency against the
endpoint, each step's statistics over the requests started after its warm-up, judged against the SLO."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchmarks.capacity_endpoint import ENDPOINT_NAME
from benchmarks.common import REPO_ROOT, env_without_aws

LOCUSTFILE = Path(__file__).resolve().parent / "locust_invoke.py"
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


@dataclass(frozen=True)
class Slo:
    p99_ms: float
    max_error_rate: float

    def describe(self) -> str:
        errors = "no failed request" if self.max_error_rate == 0 else f"error rate <= {self.max_error_rate:g}"
        return f"p99 <= {self.p99_ms:g} ms and {errors}"


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


def run_step(url: str, images: Path, concurrency: int, plan: LoadPlan, workdir: Path, slo: Slo) -> StepResult:
    """One closed-loop locust run at `concurrency` users; statistics over the window after the warm-up."""
    latency_file = workdir / f"step-{concurrency}.json"
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--users", str(concurrency), "--spawn-rate", str(concurrency),
        "--run-time", f"{plan.step_seconds:g}s", "--stop-timeout", "60",
        "--host", url, "--only-summary", "--loglevel", "ERROR", "--exit-code-on-error", "0",
        "--endpoint-name", ENDPOINT_NAME, "--images", str(images), "--latency-file", str(latency_file),
    ]  # fmt: skip
    env = {**env_without_aws(), **FAKE_AWS_ENV}
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=plan.step_seconds + 120
    )
    if done.returncode != 0 or not latency_file.is_file():
        raise RuntimeError(f"locust failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")
    samples = np.array(json.loads(latency_file.read_text())["samples"], dtype=np.float64).reshape(-1, 4)
    return summarize_step(concurrency, samples, plan, slo)


def summarize_step(concurrency: int, samples: np.ndarray, plan: LoadPlan, slo: Slo) -> StepResult:
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


def invoke_client(url: str):
    """A sagemaker-runtime client for the local endpoint at `url`: retries off, fake credentials."""
    import boto3
    from botocore.config import Config

    return boto3.Session(
        aws_access_key_id=FAKE_AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=FAKE_AWS_ENV["AWS_DEFAULT_REGION"],
    ).client(
        "sagemaker-runtime",
        endpoint_url=url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=120),
    )


def sequential_latency(
    urls: dict[str, str], images: Path, rounds: int, max_rounds: int, budget_s: float
) -> dict:
    """One request at a time through InvokeEndpoint: every round sends every image to every deployment in a
    shuffled order (seeded), so the shared machine's noise hits both alike. {deployment: {image: [s]}}."""
    import random

    clients = {name: invoke_client(url) for name, url in urls.items()}
    bodies = {path.name: path.read_bytes() for path in sorted(images.glob("*.jpg"))}
    jobs = [(name, image) for name in clients for image in bodies]
    for name, image in jobs:  # warm-up: first requests, connection set-up
        _invoke(clients[name], bodies[image])
    samples = {name: {image: [] for image in bodies} for name in clients}
    order, started = random.Random(0), time.monotonic()
    for index in tqdm(range(max_rounds), desc="sequential rounds", file=sys.stderr):
        if index >= rounds and time.monotonic() - started > budget_s:
            break
        order.shuffle(jobs)
        for name, image in jobs:
            begin = time.perf_counter()
            _invoke(clients[name], bodies[image])
            samples[name][image].append(time.perf_counter() - begin)
    return samples


def _invoke(client, body: bytes) -> None:
    response = client.invoke_endpoint(EndpointName=ENDPOINT_NAME, Body=body, ContentType="image/jpeg")
    response["Body"].read()
