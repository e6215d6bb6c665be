"""After the serving apply: AWS has the scalable target, the scaling policy, the alarms and the budget.

On instances (the run's default) the variant must be a scalable target with the stack's capacities and a
target-tracking policy; a serverless endpoint (`--tfvars-json` with endpoint.serverless) must have neither,
and its at-max-concurrency alarm instead of at-max-capacity.
"""

from __future__ import annotations

from typing import Any

from dogbreed.acceptance.context import RunContext, StepFailed

VARIANT = "AllTraffic"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
METRIC = "SageMakerVariantInvocationsPerInstance"
# terraform/modules/endpoint/alarms.tf
ALARMS = {
    "instances": ("5xx-errors", "model-latency", "at-max-capacity"),
    "serverless": ("5xx-errors", "model-latency", "at-max-concurrency"),
}


def autoscaling(ctx: RunContext) -> dict[str, Any]:
    endpoint = ctx.values["outputs"]["endpoint_name"]
    wanted = ctx.config.tfvars()["endpoint"]
    mode = "serverless" if wanted.get("serverless") else "instances"
    seen = {**_scaling(ctx, endpoint), "alarms": _alarms(ctx, endpoint), "budget": budget(ctx)}
    problems = _scaling_problems(seen, wanted, mode)
    missing = [suffix for suffix in ALARMS[mode] if f"{endpoint}-{suffix}" not in seen["alarms"]]
    if missing:
        problems.append(f"alarms missing: {missing}")
    if problems:
        raise StepFailed("; ".join(problems), seen)
    return seen


def _scaling(ctx: RunContext, endpoint: str) -> dict[str, list]:
    resource_id = f"endpoint/{endpoint}/variant/{VARIANT}"
    scaling = ctx.client("application-autoscaling")
    targets = scaling.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[resource_id], ScalableDimension=DIMENSION
    )["ScalableTargets"]
    policies = scaling.describe_scaling_policies(
        ServiceNamespace="sagemaker", ResourceId=resource_id, ScalableDimension=DIMENSION
    )["ScalingPolicies"]
    return {
        "scalable_target": [{"min": t["MinCapacity"], "max": t["MaxCapacity"]} for t in targets],
        "policies": [_policy(p) for p in policies],
    }


def _alarms(ctx: RunContext, endpoint: str) -> list[str]:
    alarms = ctx.client("cloudwatch").describe_alarms(AlarmNamePrefix=endpoint)["MetricAlarms"]
    return sorted(alarm["AlarmName"] for alarm in alarms)


def _scaling_problems(seen: dict, wanted: dict, mode: str) -> list[str]:
    if mode == "serverless":
        if seen["scalable_target"] or seen["policies"]:
            return ["a serverless endpoint must have no scalable target and no scaling policy"]
        return []
    problems = []
    if seen["scalable_target"] != [{"min": wanted["min_capacity"], "max": wanted["max_capacity"]}]:
        problems.append("the variant is not a scalable target with the stack's capacities")
    if not any(p["metric"] == METRIC for p in seen["policies"]):
        problems.append(f"no target-tracking policy on {METRIC}")
    return problems


def _policy(policy: dict) -> dict:
    config = policy.get("TargetTrackingScalingPolicyConfiguration", {})
    metric = config.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")
    return {
        "name": policy["PolicyName"],
        "type": policy["PolicyType"],
        "metric": metric,
        "target": config.get("TargetValue"),
    }


def budget(ctx: RunContext) -> dict[str, Any]:
    name = ctx.values["outputs"].get("budget_name")
    if not name:
        raise StepFailed("the stack reports no budget_name")
    account = ctx.values["preflight"]["account"]
    found = ctx.client("budgets").describe_budget(AccountId=account, BudgetName=name)["Budget"]
    expected_filter = {"TagKeyValue": [f"user:Project${ctx.config.name}"]}
    if found.get("CostFilters") != expected_filter:
        raise StepFailed(f"budget {name} filters {found.get('CostFilters')}, not {expected_filter}")
    return {"name": name, "limit": found["BudgetLimit"], "filter": found["CostFilters"]}
