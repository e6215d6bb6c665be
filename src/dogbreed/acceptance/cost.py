"""What one acceptance run costs: the stack's resources for the hours they exist, the jobs' instance-hours.

Prices and the stack's facts are the bill's (docs/service_prices.csv, docs/instance_prices.csv, the run's
root variables read by terraform console). Before the run the hours are the plan below; the report's
estimate uses the hours the run really took. Upper bounds where AWS's rule was not verified: the jobs at
on-demand prices (they run on spot), the key billed through its 7-day deletion window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dogbreed.bill.model import per_thousand
from dogbreed.bill.prices import HOURS_PER_MONTH, PriceTable
from dogbreed.bill.settings import StackFacts
from dogbreed.bill.usage import usage_from_benchmarks

KEY_DELETION_WINDOW_H = 7 * 24  # allow_destroy_data = true: AWS's shortest window


@dataclass(frozen=True)
class Hours:
    stack: float  # from the first apply to the end of the destroy
    serving: float  # endpoint instances: from the serving apply to the end of the destroy
    tuning_instances: float  # instance-hours of the tuning trials
    training_instances: float  # instance-hours of the distributed job (2 instances)
    predictions: int = 0
    basis: str = "planned hours"


PLANNED = Hours(stack=1.5, serving=0.6, tuning_instances=0.3, training_instances=2 * 0.3, predictions=8)


def estimate(facts: StackFacts, prices: PriceTable, train_instance_type: str, hours: Hours) -> dict:
    monthly = hours.stack / HOURS_PER_MONTH
    endpoint_hours = facts.interface_endpoints * facts.availability_zones * math.ceil(hours.stack)
    items = [
        (
            f"interface VPC endpoints ({endpoint_hours} endpoint-AZ-hours, partial hours billed as full)",
            endpoint_hours * prices.service("vpc_interface_endpoint_az_hour").usd,
        ),
        (
            "KMS key, prorated, through its 7-day deletion window (upper bound)",
            (hours.stack + KEY_DELETION_WINDOW_H) / HOURS_PER_MONTH * prices.service("kms_key_month").usd,
        ),
        (
            f"notebook instance {facts.notebook_instance_type} and its volume",
            hours.stack * prices.instance_hour(facts.notebook_instance_type).usd
            + facts.notebook_volume_gb * monthly * prices.service("sagemaker_ml_storage_gb_month").usd,
        ),
        (
            f"tuning trial on {train_instance_type} (on-demand price; the job runs on spot)",
            hours.tuning_instances * prices.instance_hour(train_instance_type).usd,
        ),
        (
            f"distributed training on 2 x {train_instance_type} (on-demand price; the job runs on spot)",
            hours.training_instances * prices.instance_hour(train_instance_type).usd,
        ),
    ]
    if not facts.endpoint.serverless:
        items.append(
            (
                f"endpoint {facts.endpoint.min_capacity} x {facts.endpoint.instance_type}",
                facts.endpoint.min_capacity
                * hours.serving
                * prices.instance_hour(facts.endpoint.instance_type).usd,
            )
        )
    items.append(
        (
            "CloudWatch alarms, prorated",
            facts.alarms * hours.serving / HOURS_PER_MONTH * prices.service("cloudwatch_alarm_month").usd,
        )
    )
    calls = sum(item.usd for item in per_thousand(facts, prices, usage_from_benchmarks())) * hours.predictions
    items.append((f"{hours.predictions} predictions (Lambda, X-Ray, data processed)", calls / 1000))
    return {
        "basis": f"estimated from {hours.basis} (stack {hours.stack:.2f} h, endpoint {hours.serving:.2f} h)",
        "total_usd": round(sum(usd for _, usd in items), 4),
        "items": [{"what": what, "usd": round(usd, 6)} for what, usd in items],
        "note": "Prices: the repository's tables (us-east-1 list prices entered by hand, none verified); "
        "S3 storage and requests, CloudWatch Logs and data transfer of a run are cents and not counted.",
    }
