"""docs/instance_prices.csv is the one prices table; docs/orchestration.md's costs are computed from it."""

from __future__ import annotations

import csv
import re

import pytest
from orchestration_support import REPO_ROOT

from dogbreed.orchestration.specs import DEFAULT_TRAIN_INSTANCE, DEFAULT_TUNE_INSTANCE

PRICES = REPO_ROOT / "docs" / "instance_prices.csv"
DOC = REPO_ROOT / "docs" / "orchestration.md"
COLUMNS = [
    "instance_type", "vcpu", "memory_gib", "gpu_count", "gpu_model", "gpu_memory_gib",
    "sagemaker_usd_per_hour", "sagemaker_price_for", "ec2_usd_per_hour", "region", "price_kind", "source",
    "prices_as_of",
]  # fmt: skip
SPOT_FRACTION = 0.4  # the doc's stated assumption, checked below


def prices() -> dict[str, dict[str, str]]:
    with PRICES.open(newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS
        return {row["instance_type"]: row for row in reader}


def cost_rows() -> list[list[str]]:
    section = DOC.read_text().split("### Expected run time and cost per run", 1)[1]
    table = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| run ")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in table]


def test_every_price_is_a_labelled_list_price():
    table = prices()
    assert len(table) >= 5
    for name, row in table.items():
        assert not name.startswith("ml."), "EC2 names; SageMaker adds ml."
        assert float(row["sagemaker_usd_per_hour"]) > 0
        assert float(row["ec2_usd_per_hour"]) > 0
        assert float(row["sagemaker_usd_per_hour"]) > float(row["ec2_usd_per_hour"])  # SageMaker's premium
        assert int(row["gpu_count"]) >= 0 and int(row["vcpu"]) > 0
        assert row["region"] == "us-east-1"
        assert "not measured" in row["price_kind"]
        assert row["source"].startswith("https://aws.amazon.com/")
        assert row["prices_as_of"]


def test_the_instances_the_project_uses_are_priced():
    table = prices()
    notebook_default = re.search(
        r'variable "notebook_instance_type".*?default\s*=\s*"ml\.([^"]+)"',
        (REPO_ROOT / "terraform" / "variables.tf").read_text(),
        re.DOTALL,
    ).group(1)
    for used in (DEFAULT_TUNE_INSTANCE, DEFAULT_TRAIN_INSTANCE, f"ml.{notebook_default}"):
        assert used.removeprefix("ml.") in table, used
    for name in ("g4dn.xlarge", "g5.xlarge"):
        assert int(table[name]["gpu_count"]) == 1


def test_doc_states_the_spot_assumption_the_costs_use():
    assert f"Spot is assumed to cost {SPOT_FRACTION:.0%} of on-demand" in DOC.read_text()


def test_doc_costs_are_computed_from_the_csv():
    table = prices()
    rows = cost_rows()
    assert len(rows) >= 5
    for run, instance, count, hours, price, on_demand, spot in rows:
        listed = float(table[instance.removeprefix("ml.")]["sagemaker_usd_per_hour"])
        assert float(price) == listed, run
        expected = int(count) * float(hours) * listed
        assert float(on_demand) == pytest.approx(round(expected, 2), abs=0.005), run
        if spot != "n/a":
            assert float(spot) == pytest.approx(round(expected * SPOT_FRACTION, 2), abs=0.005), run
