"""After the serving apply: AWS has the scalable target, the scaling policy, the alarms and the budget."""

from __future__ import annotations

from typing import Any

from dogbreed.acceptance.context import RunContext, StepFailed

VARIANT = "AllTraffic"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
OWN_ALARMS = ("5xx-errors", "model-latency", "at-max-capacity")  # terraform/modules/endpoint/alarms.tf


def autoscaling(ctx: RunContext) -> dict[str, Any]:
    endpoint = ctx.values["outputs"]["endpoint_name"]
    resource_id = f"endpoint/{endpoint}/variant/{VARIANT}"
    scaling = ctx.client("application-autoscaling")
    targets = scaling.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[resource_id], ScalableDimension=DIMENSION
    )["ScalableTargets"]
    policies = scaling.describe_scaling_policies(
        ServiceNamespace="sagemaker", ResourceId=resource_id, ScalableDimension=DIMENSION
    )["ScalingPolicies"]
    alarms = {
        alarm["AlarmName"]
        for alarm in ctx.client("cloudwatch").describe_alarms(AlarmNamePrefix=endpoint)["MetricAlarms"]
    }
    wanted = ctx.config.tfvars()["endpoint"]
    seen = {
        "scalable_target": [{"min": t["MinCapacity"], "max": t["MaxCapacity"]} for t in targets],
        "policies": [_policy(p) for p in policies],
        "alarms": sorted(alarms),
        "budget": budget(ctx),
    }
    problems = []
    if seen["scalable_target"] != [{"min": wanted["min_capacity"], "max": wanted["max_capacity"]}]:
        problems.append(f"scalable target {resource_id} is not registered with the stack's capacities")
    if not any(p["metric"] == "SageMakerVariantInvocationsPerInstance" for p in seen["policies"]):
        problems.append("no target-tracking policy on SageMakerVariantInvocationsPerInstance")
    missing = [suffix for suffix in OWN_ALARMS if f"{endpoint}-{suffix}" not in alarms]
    if missing:
        problems.append(f"alarms missing: {missing}")
    if problems:
        raise StepFailed("; ".join(problems), seen)
    return seen


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
