"""The gates pass on the stack as committed: zero checkov failures on HCL and plan, no parliament finding."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.terraform, pytest.mark.slow]


@pytest.mark.timeout(600)
def test_all_gates_pass_on_the_committed_stack(tmp_path, run_gates):
    result = run_gates("--workdir", str(tmp_path), "--sarif-dir", str(tmp_path / "sarif"))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert output.count("Failed checks: 0, Skipped checks: 0") == 2, output[-6000:]  # HCL and plan
    assert "0 findings" in output
    for stage in ("policy-lint", "checkov-hcl", "checkov-plan", "parliament"):
        assert f"PASS  {stage}" in output
    plan_resources = int(output.split("plan: ")[1].split()[0])
    assert plan_resources > 50, "the plan must cover the whole stack (endpoint, Lambda, notebook, trainer)"
    assert list((tmp_path / "sarif").rglob("*.sarif")), "checkov must write SARIF for the CI upload"
