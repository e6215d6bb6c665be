"""Endpoint capacity and latency through the real serving stack: our deployment against the course's.

Two deployments of the same weights (benchmarks/capacity_endpoint.py): ours, the model.tar.gz train.py packed
(benchmarks/served_model.py: ResNet-50, the hooks, the runtime the pack-time gate chose), and the course's
(its inference2.py over model.pth). Each is served by ``dogbreed-local-endpoint``: the PyTorch container's
real serving stack (TorchServe + the SageMaker inference toolkit, network namespace, the toolkit's default of
one worker per CPU) behind the InvokeEndpoint front; requests are boto3 InvokeEndpoint calls (signed,
rest-json, keep-alive, retries off), only on 127.0.0.1.

1. Latency, one request at a time, on the JPEG photo mix (0.3, 3 and 12 MP), both deployments interleaved
   round by round: p50 and the speedup over the course deployment.
2. Capacity: locust closed-loop steps of rising concurrency against each deployment until a step breaks the
   SLO or the time budget is spent, on photos of 0.3, 1 and 3 MP (what phones upload after the app's resize;
   the course deployment cannot keep 12 MP photos under a second even alone). SLO: p99 <= 1000 ms and no
   failed request. 1000 ms is the repository's ModelLatency alarm threshold (``terraform/variables.tf``:
   ``endpoint.alarm_model_latency_ms``): a load the alarm would page on is not sustainable, and an
   interactive upload (API Gateway -> Lambda -> endpoint) needs the endpoint answer within about a second.

From our highest throughput that met the SLO (MAX_RPS) comes AWS's recommended target for target tracking on
``SageMakerVariantInvocationsPerInstance`` (invocations per instance per minute): MAX_RPS x 60 x 0.5 (safety
factor), written to ``terraform/autoscaling.auto.tfvars.json`` as ``autoscaling_invocations_per_instance``.

    python -m benchmarks.endpoint_capacity            # ~6 minutes
    python -m benchmarks.endpoint_capacity --quick    # smoke run, does not touch terraform/ unless --tfvars
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from benchmarks import served_model
from benchmarks.capacity_endpoint import EndpointProcess, deployments, request_images
from benchmarks.capacity_load import LoadPlan, Slo, ramp, sequential_latency
from benchmarks.capacity_model import (
    SAFETY_FACTOR,
    invocations_target,
    max_sustainable,
    write_autoscaling_target,
)
from benchmarks.capacity_report import latency_summary, plot, summary_rows
from benchmarks.common import base_parser, write_results
from dogbreed.utils.repo import REPO_ROOT, TERRAFORM_DIR

NAME = "endpoint_capacity"
DEFAULT_SLO_P99_MS = 1000.0
DEFAULT_TFVARS = TERRAFORM_DIR / "autoscaling.auto.tfvars.json"
PHOTO_MIX = (0.3, 3.0, 12.0)

# 25 s steps: at 3+ requests/s a step has 60+ requests after the warm-up, so p99 is not just the maximum. The
# budgets keep the whole suite (run_all.py) near 10 minutes; the course deployment breaks the SLO early.
PLANS = {
    "ours": LoadPlan((1, 2, 4, 6, 8, 12, 16), 25.0, 5.0, 180.0, (0.3, 1.0, 3.0)),
    "course": LoadPlan((1, 2, 4, 6, 8), 25.0, 5.0, 110.0, (0.3, 1.0, 3.0)),
}
QUICK_PLANS = {name: LoadPlan((1, 2), 4.0, 1.0, 60.0, (0.3,)) for name in PLANS}
SEQUENTIAL = {"rounds": 6, "max_rounds": 20, "budget_s": 30.0}
QUICK_SEQUENTIAL = {"rounds": 1, "max_rounds": 1, "budget_s": 1.0}


def get_args_parser():
    parser = base_parser(__doc__.split("\n\n")[0])
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
    parser.add_argument(
        "--cache-dir", type=Path, default=served_model.DEFAULT_CACHE_DIR, help="packed models and images"
    )
    return parser


def tfvars_path(args) -> Path | None:
    """Where the target goes: --tfvars, else the stack's file; a --quick smoke run writes none by default."""
    if args.tfvars is not None:
        return args.tfvars
    return None if args.quick else DEFAULT_TFVARS


def measure(args, plans: dict[str, LoadPlan], slo: Slo) -> tuple[dict, dict, dict]:
    """Sequential latency of both deployments, then each one's ramp; (archives, latency, ramps)."""
    model = served_model.served_model(served_model.QUICK if args.quick else served_model.FULL, args.cache_dir)
    archives = deployments(model)
    mix = request_images(PHOTO_MIX[:1] if args.quick else PHOTO_MIX, args.cache_dir)
    concurrency = max(c for plan in plans.values() for c in plan.concurrency)
    # the endpoint must never throttle in this test: we measure queueing, not the emulated throttle
    with (
        EndpointProcess(archives["ours"], max_concurrency=concurrency) as ours,
        EndpointProcess(archives["course"], max_concurrency=concurrency) as course,
        tempfile.TemporaryDirectory(prefix="capacity-") as workdir,
    ):
        endpoints = {"ours": ours, "course": course}
        sequential = QUICK_SEQUENTIAL if args.quick else SEQUENTIAL
        latency = sequential_latency({name: e.url for name, e in endpoints.items()}, mix, **sequential)
        ramps = {}
        for name, plan in plans.items():
            images = request_images(plan.megapixels, args.cache_dir)
            (Path(workdir) / name).mkdir()
            ramps[name] = ramp(endpoints[name].url, images, plan, slo, Path(workdir) / name)
    return {"model": model, **archives}, latency, ramps


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    plans = QUICK_PLANS if args.quick else PLANS
    tfvars = tfvars_path(args)
    slo = Slo(args.slo_p99_ms, args.max_error_rate)
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    built, latency, ramps = measure(args, plans, slo)
    best = {name: max_sustainable(steps) for name, (steps, _) in ramps.items()}
    target = invocations_target(best["ours"].throughput_rps) if best["ours"] else None
    if target is not None and tfvars is not None:
        write_autoscaling_target(tfvars, target)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    plot_path = plot(
        {name: steps for name, (steps, _) in ramps.items()}, best, slo, args.results_dir / f"{NAME}.png"
    )
    model = built["model"]
    details = {
        "slo": {"p99_ms": slo.p99_ms, "max_error_rate": slo.max_error_rate, "text": slo.describe()},
        "model": {
            "arch": model.meta["arch"],
            "num_classes": model.meta["num_classes"],
            "serving": {k: model.serving[k] for k in ("runtime", "precision", "reason")},
        },
        "sequential_latency": latency_summary(latency),
        "deployments": {
            name: {
                "archive": built[name].name,
                "plan": asdict(plans[name]),
                "steps": [asdict(step) for step in steps],
                "stop_reason": stop_reason,
                "max_sustainable_rps": best[name].throughput_rps if best[name] else None,
                "max_sustainable_concurrency": best[name].concurrency if best[name] else None,
            }
            for name, (steps, stop_reason) in ramps.items()
        },
        "max_sustainable_rps": best["ours"].throughput_rps
        if best["ours"]
        else None,  # ours: cost.py reads it
        "safety_factor": SAFETY_FACTOR,
        "invocations_per_instance_target": target,
        "tfvars_written": str(tfvars) if target is not None and tfvars is not None else None,
        "plot": plot_path.name,
        "method": (
            "dogbreed-local-endpoint per deployment in its own process: the InvokeEndpoint front "
            "(ThreadingHTTPServer) over the real serving stack (TorchServe 0.12 + "
            "sagemaker-pytorch-inference 2.0.25, a worker per CPU, network namespace); boto3 InvokeEndpoint "
            "with retries off from a "
            "sequential client (latency) and locust closed-loop users in another process on the same 2 cores "
            "(capacity); statistics over requests started after the warm-up."
        ),
    }
    print(f"{NAME}: ours {best['ours'] and best['ours'].throughput_rps} req/s, course "
          f"{best['course'] and best['course'].throughput_rps} req/s -> target {target}")  # fmt: skip
    rows = summary_rows({name: steps for name, (steps, _) in ramps.items()}, best, target, slo, details)
    write_results(args.results_dir, NAME, rows, details, quick=args.quick)
    if details["tfvars_written"]:
        print(f"wrote {tfvars}")
    return 0 if best["ours"] else 1


if __name__ == "__main__":
    sys.exit(main())
