"""Before anything is created: the estimated cost (printed first), the caller, the Lambda quota, --spend."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from dogbreed.acceptance import cost
from dogbreed.acceptance.context import Refused, RunContext, StepFailed
from dogbreed.bill.prices import PriceTable
from dogbreed.bill.settings import StackFacts, read_settings

# AWS: "You can reserve up to the Unreserved account concurrency value minus 100" (Lambda developer guide,
# configuration-concurrency.html); new accounts often start with a limit of 10, where no reservation fits.
LAMBDA_UNRESERVED_MINIMUM = 100


def check_lambda_concurrency(unreserved: int, reserved: int) -> None:
    if unreserved - reserved < LAMBDA_UNRESERVED_MINIMUM:
        raise StepFailed(
            f"the account's unreserved Lambda concurrency is {unreserved}: reserving {reserved} would leave "
            f"less than AWS's minimum of {LAMBDA_UNRESERVED_MINIMUM}; ask for a higher 'Concurrent "
            "executions' quota (Service Quotas, AWS Lambda) first",
            {"unreserved_concurrency": unreserved, "reserved_by_the_stack": reserved},
        )


def preflight(ctx: RunContext) -> dict[str, Any]:
    facts = _facts(ctx)
    estimate = cost.estimate(facts, PriceTable.load(), ctx.config.train_instance_type, cost.PLANNED)
    ctx.values["facts"], ctx.report.estimated_cost = facts, estimate
    _print_estimate(estimate)
    detail = {
        **_caller(ctx),
        "estimated_usd": estimate["total_usd"],
        "train_instance_type": ctx.config.train_instance_type,
        "endpoint_instance_type": ctx.config.endpoint_instance_type,
    }
    ctx.values["preflight"] = detail
    if not ctx.config.spend:
        raise Refused("nothing was created: pass --spend to run (it creates billed resources)")
    return detail


def _facts(ctx: RunContext) -> StackFacts:
    """The run's root variables as Terraform evaluates them (no AWS call)."""
    with tempfile.TemporaryDirectory() as scratch:
        tfvars = Path(scratch) / "acceptance.tfvars.json"
        tfvars.write_text(json.dumps(ctx.config.tfvars()))
        return read_settings([tfvars])


def _print_estimate(estimate: dict) -> None:
    print(
        f"estimated cost of this run: {estimate['total_usd']:.2f} USD ({estimate['basis']})", file=sys.stderr
    )
    for item in estimate["items"]:
        print(f"  {item['usd']:9.4f}  {item['what']}", file=sys.stderr)


def _caller(ctx: RunContext) -> dict[str, Any]:
    """Who runs it, and whether the account's Lambda quota fits the stack's reservation (read-only calls)."""
    from botocore.exceptions import NoCredentialsError, NoRegionError

    try:
        identity = ctx.client("sts").get_caller_identity()
        limits = ctx.client("lambda").get_account_settings()["AccountLimit"]
    except (NoCredentialsError, NoRegionError) as error:
        raise StepFailed(
            f"{error}: give credentials of a sandbox account as for the AWS CLI (AWS_PROFILE, SSO, ...)"
        ) from error
    reserved = ctx.config.tfvars()["predict_api"]["reserved_concurrency"]
    check_lambda_concurrency(int(limits["UnreservedConcurrentExecutions"]), reserved)
    return {"account": identity["Account"], "caller": identity["Arn"]}
