"""Dev-only: `make aws-acceptance OFFLINE=1` — every step of dogbreed-acceptance against the stand-ins.

    python -m dev.offline_acceptance --spend                          # the whole run, then the teardown
    python -m dev.offline_acceptance                                  # estimate only: creates nothing
    python -m dev.offline_acceptance --spend --inject-failure train   # a step fails: the teardown still runs
    python -m dev.offline_acceptance --spend --interrupt-at upload    # a real SIGINT: the teardown still runs

The same product code runs (dogbreed.acceptance.cli.main) with the stand-ins of dev/acceptance_stand_ins.py:
moto (with the gaps a full `terraform apply` needs filled, SageMaker jobs simulated), Terraform against it
with the provider from the local mirror, the local endpoint serving the published model (for the post-deploy
check and the handler), and a Function URL front that checks SigV4 and runs the real handler. Before the
teardown the stand-in uses the stack as a deployment would, so the destroy meets real data.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from dev import acceptance_stand_ins as stand_ins
from dev.offline_leftovers import remaining
from dogbreed.acceptance import cli
from dogbreed.acceptance.context import Hooks, RunContext

STAND_INS = {
    "preflight": "moto STS and Lambda (account 123456789012; Lambda quota: AWS's default of 1,000)",
    "stage": "the provider from the local mirror (dev/offline_terraform.py cli_config)",
    "apply-base": "terraform apply against moto (dev/offline_aws.py fills the gaps the provider needs)",
    "upload": "moto S3",
    "tune": "moto SageMaker + tests/orchestration/fake_sagemaker.py: the request is recorded, the trial and "
    "its model.tar.gz simulated (a real, untrained model)",
    "train": "moto SageMaker + fake_sagemaker: the two-instance job request is recorded, no container runs",
    "publish": "moto S3 (the bucket policy's conditions evaluated by security/iam_eval.py)",
    "apply-serving": "terraform apply against moto (no container: the endpoint is InService at once); its "
    "post-deploy check invokes the local endpoint serving the published model.tar.gz",
    "function-url": "dev/function_url_front.py: SigV4 checked by botocore, the real handler in-process with "
    "the deployed function's environment, the local endpoint serving the published model.tar.gz",
    "autoscaling": "moto Application Auto Scaling, CloudWatch and Budgets",
    "teardown-destroy": "terraform destroy against moto, after the stand-in added data-capture objects, "
    "noncurrent versions and a delete marker and stopped the notebook",
}


class InjectedFailure(RuntimeError):
    """The failure --inject-failure asked for."""


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spend", action="store_true", help="run every step (nothing is billed offline)")
    parser.add_argument("--inject-failure", metavar="STEP", help="make STEP fail when it starts")
    parser.add_argument("--interrupt-at", metavar="STEP", help="send this process SIGINT when STEP starts")
    parser.add_argument("--name", help="stack name (default: a new acc-... name)")
    parser.add_argument("--work-root", type=Path, help="where the run's directory goes (.acceptance/)")
    parser.add_argument("--report-dir", type=Path, help="also copy the report here")
    parser.add_argument(
        "--leftovers-json", type=Path, help="after the run, write what of the stack remains in moto here"
    )
    return parser


def forwarded_args(args: argparse.Namespace) -> list[str]:
    forwarded = ["--region", stand_ins.REGION, "--job-timeout", "120", "--poll", "1"]
    forwarded += ["--spend"] if args.spend else []
    for flag in ("name", "work_root", "report_dir"):
        if (value := getattr(args, flag)) is not None:
            forwarded += [f"--{flag.replace('_', '-')}", str(value)]
    return forwarded


@contextlib.contextmanager
def harness(
    inject_failure: str | None = None, interrupt_at: str | None = None
) -> Iterator[tuple[Hooks, dict]]:
    """The stand-ins, running; the hooks that plug them into a run, and what they saw of it (its name)."""
    seen: dict = {}
    with (
        stand_ins.offline_environment(),
        stand_ins.function_url_front() as front,
        contextlib.ExitStack() as stack,
    ):
        yield (
            Hooks(
                mode="offline",
                before_step=_before_step(front, stack, seen, inject_failure, interrupt_at),
                transport=front.transport,
                stand_ins=STAND_INS,
            ),
            seen,
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    with harness(args.inject_failure, args.interrupt_at) as (hooks, seen):
        code = cli.main(forwarded_args(args), hooks=hooks)
        if args.leftovers_json and "name" in seen:
            left = remaining(os.environ["AWS_ENDPOINT_URL"], stand_ins.REGION, seen["name"])
            args.leftovers_json.write_text(json.dumps(left, indent=2, default=str) + "\n")
        return code


def _before_step(front, stack: contextlib.ExitStack, seen: dict, inject_failure, interrupt_at):
    def before_step(name: str, ctx: RunContext) -> None:
        seen["name"] = ctx.config.name
        if name == interrupt_at:
            os.kill(os.getpid(), signal.SIGINT)
        if name == inject_failure:
            raise InjectedFailure(f"failure injected into {name} (--inject-failure)")
        if name == "apply-serving":
            stand_ins.serve_published_model(ctx, stack)
        if name == "function-url":
            stand_ins.configure_function_url(ctx, front, stack)
        if name == "teardown-stop-jobs":
            stand_ins.use_the_stack(ctx)

    return before_step


if __name__ == "__main__":
    sys.exit(main())
