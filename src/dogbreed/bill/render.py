"""The bill as a Markdown table (what docs/bill.md shows) and as JSON."""

from __future__ import annotations

from dataclasses import dataclass

from dogbreed.bill.model import (
    LineItem,
    VolumeRow,
    always_on,
    at_volume,
    instance_variant,
    per_thousand,
    serverless_variant,
)
from dogbreed.bill.prices import HOURS_PER_MONTH, PriceTable
from dogbreed.bill.settings import StackFacts
from dogbreed.bill.usage import Usage

DEFAULT_VOLUMES = (10_000, 100_000, 1_000_000, 10_000_000)


@dataclass(frozen=True)
class Bill:
    facts: StackFacts
    usage: Usage
    always_on: list[LineItem]
    per_thousand: list[LineItem]
    volumes: list[tuple[VolumeRow, VolumeRow]]  # (instances, serverless) at each volume
    price_regions: set[str]

    @property
    def monthly_usd(self) -> float:
        return sum(item.usd for item in self.always_on)

    @property
    def serving_monthly_usd(self) -> float:
        return sum(item.usd for item in self.always_on if item.only_when_serving)

    @property
    def per_thousand_usd(self) -> float:
        return sum(item.usd for item in self.per_thousand)


def compute(facts: StackFacts, prices: PriceTable, usage: Usage, volumes=DEFAULT_VOLUMES) -> Bill:
    instances, serverless = instance_variant(facts), serverless_variant(facts)
    rows = [
        (at_volume(instances, prices, usage, v), at_volume(serverless, prices, usage, v)) for v in volumes
    ]
    return Bill(
        facts, usage, always_on(facts, prices), per_thousand(facts, prices, usage), rows, prices.regions()
    )


def markdown(bill: Bill) -> str:
    facts = bill.facts
    mode = "Serverless Inference" if facts.endpoint.serverless else "instances"
    lines = [
        f"Settings: {facts.source}; region {facts.region}; endpoint on {mode}.",
        "",
        _price_note(bill),
        "",
        f"**Always-on monthly cost** ({HOURS_PER_MONTH} hours), idle or not:",
        "",
        *_items_table(bill.always_on, "USD / month"),
        f"| **total** | | | | **{bill.monthly_usd:,.2f}** |",
        "| of which the endpoint and the Lambda (once a model is published) | | | | "
        f"{bill.serving_monthly_usd:,.2f} |",
        "",
        "**Per 1,000 predictions** (warm requests):",
        "",
        *_items_table(bill.per_thousand, "USD / 1,000"),
        f"| **total** | | | | **{bill.per_thousand_usd:,.4f}** |",
        "",
        f"Usage per prediction: endpoint {bill.usage.endpoint_ms:.1f} ms, handler "
        f"{bill.usage.lambda_overhead_ms:.2f} ms, {bill.usage.request_bytes / 1e3:.1f} kB per image; from "
        f"{bill.usage.source}. Not counted: cold starts, "
        "log ingestion, data capture storage, training.",
        "",
        *_volume_table(bill),
        "",
        _budget_note(bill),
    ]
    return "\n".join(lines) + "\n"


def _budget_note(bill: Bill) -> str:
    budget = bill.facts.budget
    if budget is None:
        return "Budget: none (budget.create = false)."
    note = (
        f"Budget: {budget.monthly_limit_usd:,.2f} USD a month, alert at {budget.alert_threshold_percent:g}%"
        f" ({budget.alert_usd:,.2f} USD) of actual costs and at the forecast passing the limit; the"
        f" always-on cost is {bill.monthly_usd / budget.monthly_limit_usd:.0%} of it."
    )
    if bill.monthly_usd >= budget.alert_usd:
        note += " The alert would fire every month while the stack idles: raise budget.monthly_limit_usd."
    return note


def _price_note(bill: Bill) -> str:
    regions = ", ".join(sorted(bill.price_regions))
    unverified = sum(not i.price.verified for i in [*bill.always_on, *bill.per_thousand])
    note = f"Prices: {regions} list prices from docs/service_prices.csv and docs/instance_prices.csv"
    note += f" ({unverified} of the prices used are unverified: entered without internet access)."
    if bill.facts.region not in bill.price_regions:
        note += f" The stack's region {bill.facts.region} has its own prices, which these tables do not hold."
    return note


def _items_table(items: list[LineItem], total_header: str) -> list[str]:
    rows = [
        "| item | quantity | unit price (USD) | verified | " + total_header + " |",
        "|---|---:|---:|---|---:|",
    ]
    for item in items:
        rows.append(
            f"| {item.what} | {_number(item.quantity)} {item.unit} | {_number(item.price.usd)} "
            f"{item.price.unit.split(' (')[0]} | {'yes' if item.price.verified else 'no'} | {item.usd:,.4f} |"
        )
    return rows


def _volume_table(bill: Bill) -> list[str]:
    serverless = bill.volumes[0][1] if bill.volumes else None
    memory = serverless_variant(bill.facts).endpoint.serverless_memory_mb if serverless else None
    rows = [
        f"**Instances or Serverless Inference ({memory} MB)**, whole month at an even load, always-on items"
        " included:",
        "",
        "| predictions / month | instances | instances: USD / month | USD / 1,000 "
        "| serverless: USD / month | USD / 1,000 |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for instances, serverless in bill.volumes:
        count = f"{instances.instances}{' (over max_capacity)' if instances.over_capacity else ''}"
        rows.append(
            f"| {instances.predictions_per_month:,} | {count} | {instances.monthly_usd:,.2f} | "
            f"{instances.usd_per_thousand:,.3f} | {serverless.monthly_usd:,.2f} | "
            f"{serverless.usd_per_thousand:,.3f} |"
        )
    return rows


def as_json(bill: Bill) -> dict:
    def item(i: LineItem) -> dict:
        return {
            "what": i.what,
            "quantity": i.quantity,
            "unit": i.unit,
            "usd": round(i.usd, 6),
            "price": {
                "item": i.price.item,
                "usd": i.price.usd,
                "unit": i.price.unit,
                "region": i.price.region,
                "verified": i.price.verified,
                "source": i.price.source,
                "as_of": i.price.as_of,
            },
            "only_when_serving": i.only_when_serving,
        }

    return {
        "settings": bill.facts.source,
        "region": bill.facts.region,
        "serverless": bill.facts.endpoint.serverless,
        "always_on_monthly_usd": round(bill.monthly_usd, 4),
        "per_thousand_predictions_usd": round(bill.per_thousand_usd, 6),
        "always_on": [item(i) for i in bill.always_on],
        "per_thousand": [item(i) for i in bill.per_thousand],
        "usage": {**bill.usage.__dict__},
        "volumes": [
            {
                "predictions_per_month": a.predictions_per_month,
                "instances": a.instances,
                "instances_monthly_usd": round(a.monthly_usd, 4),
                "over_capacity": a.over_capacity,
                "serverless_monthly_usd": round(b.monthly_usd, 4),
            }
            for a, b in bill.volumes
        ],
        "price_regions": sorted(bill.price_regions),
        "budget": _budget_json(bill),
    }


def _budget_json(bill: Bill) -> dict | None:
    budget = bill.facts.budget
    if budget is None:
        return None
    return {
        "monthly_limit_usd": budget.monthly_limit_usd,
        "alert_threshold_percent": budget.alert_threshold_percent,
        "alert_usd": round(budget.alert_usd, 2),
        "idle_stack_alerts": bill.monthly_usd >= budget.alert_usd,
    }


def _number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.6g}"
