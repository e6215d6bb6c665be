"""The budget module's input rules agree with AWS Budgets' own API model (botocore's budgets service model).

terraform/tests/budget.tftest.hcl plans the module once per budget name (`budget_name_*` runs) and either
accepts it or expects var.name to fail; every row is checked here against BudgetName's length and pattern.
The subscriber and threshold limits the module encodes are checked against the model's numbers and text.
"""

from __future__ import annotations

import re

import botocore.session
import pytest

from dev.offline_terraform import REPO_ROOT

TABLE = REPO_ROOT / "terraform" / "tests" / "budget.tftest.hcl"
VARIABLES = (REPO_ROOT / "terraform" / "modules" / "budget" / "variables.tf").read_text()
# What botocore ships for BudgetName; Python's re takes the inline (?i) only as a scoped group.
BUDGET_NAME_PATTERN = r"^(?![^:\\]*/action/|(?i).*<script>.*</script>.*)[^:\\]+$"


@pytest.fixture(scope="module")
def shapes() -> dict:
    return botocore.session.get_session().get_service_model("budgets")._shape_resolver._shape_map


def aws_accepts(name: str, shape: dict) -> bool:
    assert shape["pattern"] == BUDGET_NAME_PATTERN, "botocore's BudgetName pattern changed: review the module"
    pattern = BUDGET_NAME_PATTERN.replace("(?i).*<script>.*</script>.*", "(?i:.*<script>.*</script>.*)")
    return shape["min"] <= len(name) <= shape["max"] and re.match(pattern, name) is not None


def name_table() -> dict[str, bool]:
    """budget name -> whether the module accepts it, one entry per budget_name_* run."""
    table = {}
    for block in re.split(r'\n(?=run ")', TABLE.read_text()):
        if not block.startswith('run "budget_name_'):
            continue
        (literal,) = re.findall(r'^\s+name\s+=\s+"((?:[^"\\]|\\.)*)"', block, re.MULTILINE)
        table[literal.replace("\\\\", "\\")] = "expect_failures = [var.name]" not in block
    return table


def test_the_table_has_accepted_and_rejected_names_at_the_limits():
    table = name_table()
    assert len(table) >= 8 and set(table.values()) == {True, False}
    assert {len(name) for name in table} >= {1, 100, 101}


@pytest.mark.parametrize("name", sorted(name_table()))
def test_the_module_accepts_exactly_the_names_aws_accepts(name, shapes):
    assert name_table()[name] is aws_accepts(name, shapes["BudgetName"])


def test_subscriber_limits_are_aws_limits(shapes):
    assert shapes["Subscribers"]["max"] == 11 and shapes["Subscribers"]["min"] == 1
    rule = shapes["NotificationWithSubscribers"]["documentation"]
    assert "one SNS subscriber and up to 10 email subscribers" in rule
    assert "length(var.alert_emails) <= 10" in VARIABLES
    assert "length(var.alert_sns_topic_arns) <= 1" in VARIABLES


def test_the_threshold_limit_is_aws_limit(shapes):
    threshold = shapes["Notification"]["members"]["Threshold"]["documentation"]
    assert "maximum limit for your threshold is 1,000,000%" in threshold
    assert shapes["NotificationThreshold"]["max"] >= 1_000_000
    assert "var.alert_threshold_percent <= 1000000" in VARIABLES


def test_the_module_stays_within_the_notifications_a_budget_takes(shapes):
    """At most two notifications (actual, forecasted); AWS: "A budget can have up to five notifications"."""
    request = shapes["CreateBudgetRequest"]["members"]["NotificationsWithSubscribers"]["documentation"]
    assert "up to five notifications" in request
    main = (REPO_ROOT / "terraform" / "modules" / "budget" / "main.tf").read_text()
    assert main.count('type = "ACTUAL"') == 1 and main.count('type = "FORECASTED"') == 1


def test_the_cost_filter_is_a_tag_key_value_list(shapes):
    """CostFilters: name -> a list of values; TagKeyValue takes user:<key>$<value> for user-defined tags
    (hashicorp/terraform-provider-aws#40987, #41085, after AWS's budgets-create-filters page)."""
    assert shapes["CostFilters"]["type"] == "map" and shapes["DimensionValues"]["type"] == "list"
    main = (REPO_ROOT / "terraform" / "modules" / "budget" / "main.tf").read_text()
    assert 'format("user:%s$%s", var.project_tag_key, var.project_tag_value)' in main
