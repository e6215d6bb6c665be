"""The gates pass on the committed stack: zero checkov failures on HCL and on the root and bootstrap plans, no
plan-gate or parliament finding in any stack (root, bootstrap, every example)."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.terraform, pytest.mark.slow]


@pytest.mark.timeout(600)
def test_all_gates_pass_on_the_committed_stack(tmp_path, run_gates):
    result = run_gates("--workdir", str(tmp_path), "--sarif-dir", str(tmp_path / "sarif"))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    # checkov on the HCL and on the root and bootstrap plans
    assert output.count("Failed checks: 0, Skipped checks: 0") == 3, output[-6000:]
    for stage in ("policy-lint", "checkov-hcl", "checkov-plan", "iam-plan", "parliament"):
        assert f"PASS  {stage}" in output
    planned = {
        stack: n for n, stack in re.findall(r"plan: (\d+) resources in the planned (\S+) stack", output)
    }
    assert set(planned) == {"root", "bootstrap", "examples/serving", "examples/notebook_training"}
    assert int(planned["root"]) > 50, (
        "the plan must cover the whole stack (endpoint, Lambda, notebook, trainer)"
    )
    assert re.search(
        r"iam-plan: 4 stacks, rendered documents: .*endpoint.*identity.*resource.*trust.*; 0 findings", output
    )
    assert re.search(r"parliament: \d+ rendered policies in 4 stacks, 0 findings", output)
    assert len(list((tmp_path / "sarif").rglob("*.sarif"))) == 3, "checkov must write SARIF for the CI upload"
