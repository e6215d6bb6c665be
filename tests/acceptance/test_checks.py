"""The serving checks, per endpoint mode, against botocore Stubbers of Application Auto Scaling, CloudWatch
and AWS Budgets (the offline run covers the instance mode against moto)."""

from __future__ import annotations

from types import SimpleNamespace

import boto3
import pytest
from botocore.stub import Stubber

from dogbreed.acceptance import checks
from dogbreed.acceptance.context import StepFailed

NAME, ENDPOINT, ACCOUNT = "acc-test", "acc-test-endpoint", "123456789012"
RESOURCE = f"endpoint/{ENDPOINT}/variant/AllTraffic"
TARGET = {
    "ServiceNamespace": "sagemaker", "ResourceId": RESOURCE, "ScalableDimension": checks.DIMENSION,
    "MinCapacity": 1, "MaxCapacity": 2, "RoleARN": "arn:aws:iam::123456789012:role/x",
    "CreationTime": "2026-12-01T00:00:00Z",
}  # fmt: skip
POLICY = {
    "PolicyARN": "arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:x", "PolicyName": "p",
    "ServiceNamespace": "sagemaker", "ResourceId": RESOURCE, "ScalableDimension": checks.DIMENSION,
    "PolicyType": "TargetTrackingScaling", "CreationTime": "2026-12-01T00:00:00Z",
    "TargetTrackingScalingPolicyConfiguration": {
        "TargetValue": 100.0, "PredefinedMetricSpecification": {"PredefinedMetricType": checks.METRIC},
    },
}  # fmt: skip


def stubbed(service: str, responses: list[tuple[str, dict]]):
    client = boto3.client(service, region_name="eu-west-1", aws_access_key_id="t", aws_secret_access_key="t")
    stubber = Stubber(client)
    for method, response in responses:
        stubber.add_response(method, response)
    stubber.activate()
    return client


def context(endpoint: dict, targets: list, policies: list, alarms: list[str]):
    clients = {
        "application-autoscaling": stubbed(
            "application-autoscaling",
            [("describe_scalable_targets", {"ScalableTargets": targets}),
             ("describe_scaling_policies", {"ScalingPolicies": policies})],
        ),
        "cloudwatch": stubbed(
            "cloudwatch", [("describe_alarms", {"MetricAlarms": [{"AlarmName": a} for a in alarms]})]
        ),
        "budgets": stubbed("budgets", [("describe_budget", {"Budget": {
            "BudgetName": f"{NAME}-monthly", "BudgetLimit": {"Amount": "25.0", "Unit": "USD"},
            "CostFilters": {"TagKeyValue": [f"user:Project${NAME}"]}, "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        }})]),
    }  # fmt: skip
    return SimpleNamespace(
        values={"outputs": {"endpoint_name": ENDPOINT, "budget_name": f"{NAME}-monthly"},
                "preflight": {"account": ACCOUNT}},
        config=SimpleNamespace(name=NAME, tfvars=lambda: {"endpoint": endpoint}),
        client=clients.__getitem__,
    )  # fmt: skip


INSTANCES = {"min_capacity": 1, "max_capacity": 2}
SERVERLESS = {"serverless": {"memory_size_in_mb": 2048, "max_concurrency": 5}}
ALARMS = [f"{ENDPOINT}-{suffix}" for suffix in ("5xx-errors", "model-latency")]


def test_instances_need_the_target_the_policy_and_the_capacity_alarm():
    seen = checks.autoscaling(
        context(INSTANCES, [TARGET], [POLICY], [*ALARMS, f"{ENDPOINT}-at-max-capacity"])
    )
    assert seen["scalable_target"] == [{"min": 1, "max": 2}] and seen["budget"]["name"] == f"{NAME}-monthly"


def test_serverless_needs_no_scaling_and_the_concurrency_alarm():
    seen = checks.autoscaling(context(SERVERLESS, [], [], [*ALARMS, f"{ENDPOINT}-at-max-concurrency"]))
    assert seen["scalable_target"] == [] and seen["policies"] == []


@pytest.mark.parametrize(
    "endpoint, targets, policies, alarms, problem",
    [
        (INSTANCES, [], [POLICY], [*ALARMS, f"{ENDPOINT}-at-max-capacity"], "not a scalable target"),
        (INSTANCES, [TARGET], [], [*ALARMS, f"{ENDPOINT}-at-max-capacity"], "no target-tracking policy"),
        (INSTANCES, [TARGET], [POLICY], ALARMS, "alarms missing: ['at-max-capacity']"),
        (SERVERLESS, [TARGET], [POLICY], [*ALARMS, f"{ENDPOINT}-at-max-concurrency"], "no scalable target"),
        (SERVERLESS, [], [], [*ALARMS, f"{ENDPOINT}-at-max-capacity"], "['at-max-concurrency']"),
    ],
)
def test_what_is_missing_or_left_fails_the_step(endpoint, targets, policies, alarms, problem):
    with pytest.raises(StepFailed, match=problem.replace("[", r"\[").replace("]", r"\]")):
        checks.autoscaling(context(endpoint, targets, policies, alarms))
