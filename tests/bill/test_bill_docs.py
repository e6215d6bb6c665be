"""docs/bill.md shows the tool's own output for the default settings, and what it says of it holds."""

from __future__ import annotations

import re

import pytest

from dogbreed.bill import cli
from dogbreed.bill.docs import block_of, write_block
from dogbreed.bill.prices import PriceTable
from dogbreed.bill.render import compute
from dogbreed.bill.usage import usage_from_benchmarks
from dogbreed.utils.repo import REPO_ROOT

DOC = REPO_ROOT / "docs" / "bill.md"

pytestmark = pytest.mark.terraform


def test_the_doc_block_is_the_tools_output_for_the_defaults(capsys):
    assert cli.main([]) == 0
    output = capsys.readouterr().out
    assert block_of(DOC.read_text()) == output, "run `dogbreed-bill --write-doc docs/bill.md`"


def test_write_doc_replaces_only_the_block(tmp_path):
    doc = tmp_path / "bill.md"
    doc.write_text(DOC.read_text())
    write_block(doc, "new output\n")
    before, after = DOC.read_text().split("<!-- dogbreed-bill:")[0], DOC.read_text().split("output -->")[-1]
    assert block_of(doc.read_text()) == "new output\n"
    assert doc.read_text().startswith(before) and doc.read_text().endswith(after)


def test_what_the_doc_says_of_the_defaults_holds(default_facts):
    bill = compute(default_facts, PriceTable.load(), usage_from_benchmarks())
    assert default_facts.endpoint.instance_type == "ml.c5.xlarge" and default_facts.endpoint.min_capacity == 2
    assert all(serverless.monthly_usd < instances.monthly_usd for instances, serverless in bill.volumes)
    assert not any(item.price.verified for item in [*bill.always_on, *bill.per_thousand])


def test_the_default_budget_stays_quiet_while_the_default_stack_idles(default_facts):
    """variables.tf's default limit is set from this bill: its actual-cost alert must sit above the idle cost
    with room for traffic (a million predictions a month), or every month would alert."""
    bill = compute(default_facts, PriceTable.load(), usage_from_benchmarks(), volumes=(1_000_000,))
    budget = default_facts.budget
    assert budget is not None, "the budget is on by default"
    assert bill.volumes[0][0].monthly_usd < budget.alert_usd
    assert "The alert would fire every month" not in block_of(DOC.read_text())


def test_the_readme_quotes_the_defaults_idle_cost(default_facts):
    readme = (REPO_ROOT / "README.md").read_text()
    (quoted,) = re.findall(r"about (\d+) USD a month idle with the defaults", readme)
    bill = compute(default_facts, PriceTable.load(), usage_from_benchmarks())
    assert int(quoted) == round(bill.monthly_usd)
