"""The price tables: docs/instance_prices.csv (instance-hours) and docs/service_prices.csv (everything else).

Every price carries where it came from and whether it was checked against AWS's price page (none was: the
tables were filled in without internet access). The tables hold one region's prices; pricing another region
with them is allowed but flagged, since AWS's prices differ by region.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from dogbreed.utils.repo import REPO_ROOT

INSTANCE_PRICES = REPO_ROOT / "docs" / "instance_prices.csv"
SERVICE_PRICES = REPO_ROOT / "docs" / "service_prices.csv"
HOURS_PER_MONTH = 730  # AWS's own monthly convention in its price examples (365 x 24 / 12)
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600


class PriceError(ValueError):
    """A price the tables do not hold, or a malformed table."""


@dataclass(frozen=True)
class Price:
    item: str
    usd: float
    unit: str
    region: str
    verified: bool
    source: str
    as_of: str


@dataclass(frozen=True)
class PriceTable:
    services: dict[str, Price]
    instances: dict[str, Price]  # SageMaker instance-hour prices by ml.<type>
    capabilities: dict[str, str]  # ml.<type> -> what the table says SageMaker prices it for
    gpus: dict[str, int]  # ml.<type> -> GPU count

    @classmethod
    def load(cls, services: Path = SERVICE_PRICES, instances: Path = INSTANCE_PRICES) -> PriceTable:
        service_rows = _rows(
            services, {"item", "usd", "unit", "region", "verified", "source", "prices_as_of"}
        )
        instance_rows = _rows(
            instances, {"instance_type", "sagemaker_usd_per_hour", "sagemaker_price_for", "gpu_count"}
        )
        return cls(
            services={row["item"]: _service_price(row) for row in service_rows},
            instances={f"ml.{row['instance_type']}": _instance_price(row) for row in instance_rows},
            capabilities={f"ml.{row['instance_type']}": row["sagemaker_price_for"] for row in instance_rows},
            gpus={f"ml.{row['instance_type']}": int(row["gpu_count"]) for row in instance_rows},
        )

    def service(self, item: str) -> Price:
        try:
            return self.services[item]
        except KeyError:
            raise PriceError(f"no price for {item!r} in {SERVICE_PRICES.name}") from None

    def instance_hour(self, instance_type: str) -> Price:
        try:
            return self.instances[instance_type]
        except KeyError:
            raise PriceError(f"no SageMaker price for {instance_type} in {INSTANCE_PRICES.name}") from None

    def regions(self) -> set[str]:
        return {price.region for price in [*self.services.values(), *self.instances.values()]}

    def cheapest(self, use: str, *, exclude_prefixes: tuple[str, ...] = ()) -> str:
        """The cheapest CPU instance type the table prices for USE ('training', 'real-time inference')."""
        candidates = [
            name
            for name, price_for in self.capabilities.items()
            if use in price_for and not name.startswith(exclude_prefixes) and self.gpus[name] == 0
        ]
        if not candidates:
            raise PriceError(f"no instance type in {INSTANCE_PRICES.name} is priced for {use}")
        return min(candidates, key=lambda name: (self.instances[name].usd, name))


def _rows(path: Path, required: set[str]) -> list[dict[str, str]]:
    if not path.is_file():
        raise PriceError(f"price table {path} does not exist")
    with path.open(newline="") as file:
        reader = csv.DictReader(file)
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise PriceError(f"{path.name} lacks the columns {sorted(missing)}")
        return list(reader)


def _service_price(row: dict[str, str]) -> Price:
    return Price(
        item=row["item"],
        usd=float(row["usd"]),
        unit=row["unit"],
        region=row["region"],
        verified=row["verified"].strip().lower() == "yes",
        source=row["source"],
        as_of=row["prices_as_of"],
    )


def _instance_price(row: dict[str, str]) -> Price:
    return Price(
        item=f"ml.{row['instance_type']}",
        usd=float(row["sagemaker_usd_per_hour"]),
        unit=f"per ml.{row['instance_type']} instance-hour ({row['sagemaker_price_for']})",
        region=row["region"],
        verified=False,  # instance_prices.csv: "list price entered by hand (not measured)" on every row
        source=row["source"],
        as_of=row["prices_as_of"],
    )
