"""The deploy roles and the stack's budget, evaluated on the policies the bootstrap plan renders (iam_eval).

test_iam_completeness.py proves the apply role may make every request the budget's create, read, update and
delete need (security/iam_actions/actions.json: budgets:ModifyBudget, ViewBudget and the tag actions on
arn:<partition>:budgets::<account>:budget/<name>-monthly) and the plan role every read. Here the other side:
neither reaches another budget, a budget action (which can change IAM or stop instances), or the
account-wide cost allocation tags (budget.activate_cost_allocation_tag is for administrators).
"""

from __future__ import annotations

import pytest

from security.iam_eval import ALLOW, Request, evaluate

ACCOUNT, NAME = "123456789012", "dogbreed"
BUDGET = f"arn:aws:budgets::{ACCOUNT}:budget/{NAME}-monthly"
ROLES = ("dogbreed-github-apply", "dogbreed-github-plan")

pytestmark = [pytest.mark.slow, pytest.mark.terraform]


def decide(documents, action: str, resource: str) -> str:
    return evaluate(documents, Request(action, resource, {"aws:RequestedRegion": "us-east-1"})).effect


def test_the_apply_role_manages_the_stacks_budget_and_the_plan_role_only_reads_it(rendered_role_policies):
    apply, plan = (rendered_role_policies[role] for role in ROLES)
    assert decide(apply, "budgets:ModifyBudget", BUDGET) == ALLOW
    assert decide(plan, "budgets:ViewBudget", BUDGET) == ALLOW
    assert decide(plan, "budgets:ModifyBudget", BUDGET) != ALLOW


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "action, resource",
    [
        ("budgets:ModifyBudget", f"arn:aws:budgets::{ACCOUNT}:budget/other-monthly"),
        ("budgets:ViewBudget", f"arn:aws:budgets::{ACCOUNT}:budget/other-monthly"),
        ("budgets:CreateBudgetAction", f"{BUDGET}/action/a1"),
        ("budgets:ExecuteBudgetAction", f"{BUDGET}/action/a1"),
        ("ce:UpdateCostAllocationTagsStatus", "*"),
    ],
)
def test_no_deploy_role_reaches_other_budgets_budget_actions_or_cost_allocation_tags(
    rendered_role_policies, role, action, resource
):
    assert decide(rendered_role_policies[role], action, resource) != ALLOW
