"""The apply role may manage the stack's own budget and no other (policies/deploy.json, rendered as the
github_oidc module renders it, evaluated by security/iam_eval.py).

AWS Budgets authorizes CreateBudget, UpdateBudget and DeleteBudget (and their notifications and subscribers)
as budgets:ModifyBudget and DescribeBudget as budgets:ViewBudget, on arn:<partition>:budgets::<account>:
budget/<name> (Service Authorization Reference, as parliament's IAM definitions carry it); the provider also
tags and lists the budget's tags. Activating the cost allocation tag (budget.activate_cost_allocation_tag) is
an account-wide Billing change the apply role is deliberately not given.
"""

from __future__ import annotations

import json
import re

import pytest

from dev.offline_terraform import REPO_ROOT
from security.iam_eval import ALLOW, Request, evaluate

ACCOUNT, NAME = "123456789012", "dogbreed"
BUDGET = f"arn:aws:budgets::{ACCOUNT}:budget/{NAME}-monthly"
ACTIONS = ["ModifyBudget", "ViewBudget", "TagResource", "UntagResource", "ListTagsForResource"]


@pytest.fixture(scope="module")
def deploy() -> dict:
    text = (REPO_ROOT / "policies" / "deploy.json").read_text()
    values = {"partition": "aws", "region": "eu-west-1", "account_id": ACCOUNT, "name": NAME}
    for key, value in values.items():
        text = text.replace("${" + key + "}", value)
    assert not re.findall(r"\$\{[^}]+\}", text)
    return json.loads(text)


@pytest.mark.parametrize("action", ACTIONS)
def test_the_apply_role_manages_the_stacks_budget(deploy, action):
    assert evaluate([deploy], Request(f"budgets:{action}", BUDGET)).effect == ALLOW


@pytest.mark.parametrize(
    "resource",
    [
        f"arn:aws:budgets::{ACCOUNT}:budget/other-monthly",
        f"arn:aws:budgets::{ACCOUNT}:budget/{NAME}-monthly/action/a1",
    ],
)
def test_the_apply_role_touches_no_other_budget_or_budget_action(deploy, resource):
    assert not evaluate([deploy], Request("budgets:ModifyBudget", resource)).allowed
    assert not evaluate([deploy], Request("budgets:ExecuteBudgetAction", resource)).allowed


def test_the_apply_role_changes_no_cost_allocation_tag(deploy):
    assert not evaluate([deploy], Request("ce:UpdateCostAllocationTagsStatus", "*")).allowed
