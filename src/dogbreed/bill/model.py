"""The cost model: the stack's always-on monthly cost and its cost per 1,000 predictions, as line items.

Always-on: what is billed whether or not anyone calls the API (per hour or per month of existence).
Per prediction: what one more request adds (Lambda, X-Ray, data processed; the endpoint's compute when it is
serverless). Instance endpoints add nothing per request below capacity: their cost is instance-hours, which
the comparison at monthly volumes turns into a cost per prediction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from dogbreed.bill.prices import HOURS_PER_MONTH, SECONDS_PER_MONTH, Price, PriceTable
from dogbreed.bill.settings import EndpointFacts, StackFacts
from dogbreed.bill.usage import Usage

GB = 1024**3
REFERENCE_SERVERLESS_MEMORY_MB = 3072  # the comparison's serverless size when the stack sets none


@dataclass(frozen=True)
class LineItem:
    what: str
    quantity: float
    unit: str
    price: Price
    only_when_serving: bool = False

    @property
    def usd(self) -> float:
        return self.quantity * self.price.usd


def always_on(facts: StackFacts, prices: PriceTable) -> list[LineItem]:
    """Monthly line items billed while the stack exists, idle or not."""
    endpoint_hours = facts.interface_endpoints * facts.availability_zones * HOURS_PER_MONTH
    items = [
        LineItem(
            f"interface VPC endpoints: {facts.interface_endpoints} services x {facts.availability_zones} AZs",
            endpoint_hours,
            "endpoint-AZ-hours",
            prices.service("vpc_interface_endpoint_az_hour"),
        ),
        LineItem("KMS customer managed key", 1, "key-months", prices.service("kms_key_month")),
        LineItem(
            f"notebook ML storage volume ({facts.notebook_volume_gb} GB, kept while stopped)",
            facts.notebook_volume_gb,
            "GB-months",
            prices.service("sagemaker_ml_storage_gb_month"),
        ),
    ]
    if facts.budget:
        items.append(LineItem("AWS Budgets budget", 1, "budgets", prices.service("budgets_budget_month")))
    return items + serving_always_on(facts, prices)


def serving_always_on(facts: StackFacts, prices: PriceTable) -> list[LineItem]:
    """Monthly line items of the endpoint and the Lambda (they exist once a model is published)."""
    endpoint = facts.endpoint
    items = [
        LineItem(
            f"CloudWatch alarms ({facts.alarms})",
            facts.alarms,
            "alarms",
            prices.service("cloudwatch_alarm_month"),
            True,
        )
    ]
    if endpoint.serverless:
        if endpoint.serverless_provisioned_concurrency:
            gb_seconds = (
                endpoint.serverless_provisioned_concurrency
                * _gb(endpoint.serverless_memory_mb)
                * SECONDS_PER_MONTH
            )
            items.append(
                LineItem(
                    f"serverless provisioned concurrency ({endpoint.serverless_provisioned_concurrency}"
                    f" x {endpoint.serverless_memory_mb} MB)",
                    gb_seconds,
                    "GB-seconds",
                    prices.service("sagemaker_serverless_provisioned_gb_second"),
                    True,
                )
            )
    else:
        items.append(
            LineItem(
                f"endpoint instances: {endpoint.min_capacity} x {endpoint.instance_type} (min_capacity)",
                endpoint.min_capacity * HOURS_PER_MONTH,
                "instance-hours",
                prices.instance_hour(endpoint.instance_type),
                True,
            )
        )
    if facts.lambda_provisioned_concurrency:
        gb_seconds = facts.lambda_provisioned_concurrency * _gb(facts.lambda_memory_mb) * SECONDS_PER_MONTH
        items.append(
            LineItem(
                f"Lambda provisioned concurrency ({facts.lambda_provisioned_concurrency}"
                f" x {facts.lambda_memory_mb} MB)",
                gb_seconds,
                "GB-seconds",
                prices.service("lambda_arm_provisioned_gb_second"),
                True,
            )
        )
    return items


def per_thousand(facts: StackFacts, prices: PriceTable, usage: Usage) -> list[LineItem]:
    """What 1,000 more predictions cost (warm requests; cold starts and log ingestion not counted)."""
    lambda_rate = (
        "lambda_arm_provisioned_duration_gb_second"
        if facts.lambda_provisioned_concurrency
        else "lambda_arm_gb_second"
    )
    items = [
        LineItem(
            "Lambda requests", 1000 / 1e6, "million requests", prices.service("lambda_requests_million")
        ),
        LineItem(
            f"Lambda duration ({facts.lambda_memory_mb} MB x {usage.lambda_ms:.1f} ms,"
            " waiting on the endpoint)",
            1000 * _gb(facts.lambda_memory_mb) * usage.lambda_ms / 1000,
            "GB-seconds",
            prices.service(lambda_rate),
        ),
        LineItem(
            "X-Ray traces (active tracing)",
            1000 / 1e6,
            "million traces",
            prices.service("xray_traces_million"),
        ),
        LineItem(
            f"SageMaker data processed in ({usage.request_bytes / 1e3:.0f} kB per image)",
            1000 * usage.request_bytes / GB,
            "GB",
            prices.service("sagemaker_data_processed_gb"),
        ),
    ]
    if facts.endpoint.serverless:
        memory = facts.endpoint.serverless_memory_mb
        items.append(
            LineItem(
                f"serverless inference duration ({memory} MB x {usage.endpoint_ms:.1f} ms)",
                1000 * _gb(memory) * usage.endpoint_ms / 1000,
                "GB-seconds",
                prices.service("sagemaker_serverless_gb_second"),
            )
        )
    return items


@dataclass(frozen=True)
class VolumeRow:
    predictions_per_month: int
    mode: str
    instances: int | None  # instance mode: instances the autoscaling target keeps for that volume
    over_capacity: bool
    monthly_usd: float

    @property
    def usd_per_thousand(self) -> float:
        return self.monthly_usd / self.predictions_per_month * 1000


def at_volume(facts: StackFacts, prices: PriceTable, usage: Usage, predictions: int) -> VolumeRow:
    """The whole month at an even PREDICTIONS per month: always-on items (instance count scaled to the load
    at the autoscaling target, within min/max capacity) plus the per-prediction items."""
    endpoint = facts.endpoint
    instances, over = None, False
    if not endpoint.serverless:
        per_minute = predictions / (HOURS_PER_MONTH * 60)
        needed = math.ceil(per_minute / endpoint.target_invocations_per_minute)
        instances = min(max(needed, endpoint.min_capacity), endpoint.max_capacity)
        over = needed > endpoint.max_capacity
        facts = replace(facts, endpoint=replace(endpoint, min_capacity=instances))
    fixed = sum(item.usd for item in always_on(facts, prices))
    variable = sum(item.usd for item in per_thousand(facts, prices, usage)) * predictions / 1000
    mode = "serverless" if endpoint.serverless else "instances"
    return VolumeRow(predictions, mode, instances, over, fixed + variable)


def serverless_variant(facts: StackFacts) -> StackFacts:
    """The same stack served by Serverless Inference: the stack's own serverless settings, else the
    reference size with no provisioned concurrency."""
    if facts.endpoint.serverless:
        return facts
    endpoint = EndpointFacts(
        serverless=True,
        instance_type=facts.endpoint.instance_type,
        min_capacity=0,
        max_capacity=0,
        autoscaling=False,
        target_invocations_per_minute=facts.endpoint.target_invocations_per_minute,
        serverless_memory_mb=REFERENCE_SERVERLESS_MEMORY_MB,
    )
    return replace(facts, endpoint=endpoint)


def instance_variant(facts: StackFacts) -> StackFacts | None:
    """The same stack on instances, when its settings describe them (a serverless stack keeps its
    instance_type and capacities as the instance alternative)."""
    return replace(facts, endpoint=replace(facts.endpoint, serverless=False))


def _gb(megabytes: int | None) -> float:
    return (megabytes or 0) / 1024
