"""Endpoint capacity: rising concurrency against the local endpoint until p99 breaks the SLO.

The local endpoint (``dogbreed-local-endpoint``: the PyTorch container's real serving stack, TorchServe + the
SageMaker inference toolkit, behind the InvokeEndpoint front) hosts a real ``model.tar.gz`` packed by training
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

import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from benchmarks.capacity_endpoint import NUM_CLASSES, EndpointProcess, model_archive, request_images
from benchmarks.capacity_load import LoadPlan, Slo, ramp
from benchmarks.capacity_model import (
    SAFETY_FACTOR,
    invocations_target,
    max_sustainable,
    write_autoscaling_target,
)
from benchmarks.capacity_report import plot, summary_rows
from benchmarks.common import base_parser, write_results
from dogbreed.utils.repo import BUILD_DIR, REPO_ROOT, TERRAFORM_DIR

NAME = "endpoint_capacity"
DEFAULT_SLO_P99_MS = 1000.0
DEFAULT_TFVARS = TERRAFORM_DIR / "autoscaling.auto.tfvars.json"
DEFAULT_CACHE_DIR = BUILD_DIR / "benchmarks"

# 35 s steps: at 3+ requests/s a step has 90+ requests after the warm-up, so p99 is not just the maximum.
# On a quiet machine 8 users still meet the SLO (throughput has plateaued, the queue grows), so the plan goes
# on to 12 and 16; the 240 s budget keeps the whole suite (run_all.py) within 10 minutes.
NORMAL_PLAN = LoadPlan((1, 2, 4, 6, 8, 12, 16), 35.0, 5.0, 240.0, (0.3, 1.0, 3.0))
QUICK_PLAN = LoadPlan((1, 2), 4.0, 1.0, 60.0, (0.3,))


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


def tfvars_path(args) -> Path | None:
    """Where the target goes: --tfvars, else the stack's file; a --quick smoke run writes none by default."""
    if args.tfvars is not None:
        return args.tfvars
    return None if args.quick else DEFAULT_TFVARS


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
        write_autoscaling_target(tfvars, target)
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
            "dogbreed-local-endpoint in its own process: the InvokeEndpoint front (ThreadingHTTPServer) over "
            "the real serving stack (TorchServe 0.12 + sagemaker-pytorch-inference 2.0.25, a worker per CPU, "
            "network namespace), dogbreed.serving.hooks; locust closed-loop users in another process on the "
            "same 2 cores, "
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
