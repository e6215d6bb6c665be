"""The GitHub workflows lint clean (actionlint, zizmor) and keep the project's hardening rules."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from dev.offline_terraform import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}\s+# v\d")


def test_there_are_workflows_to_lint():
    assert {path.name for path in WORKFLOWS} >= {"ci.yml", "terraform.yml"}


def test_actionlint_is_clean():
    result = subprocess.run(
        [str(BIN / "actionlint"), *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_is_clean_even_when_pedantic():
    result = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--persona", "pedantic", ".github/workflows"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert result.returncode == 0 and "No findings" in result.stdout + result.stderr, (
        result.stdout + result.stderr
    )


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_denies_everything_by_default_and_pins_actions_to_commits(workflow):
    text = workflow.read_text()
    assert re.search(r"^permissions: \{\}$", text, re.MULTILINE), "top-level permissions must be {}"
    uses = re.findall(r"uses: (\S+.*)$", text, re.MULTILINE)
    assert uses and all(PINNED.match(action) for action in uses), [a for a in uses if not PINNED.match(a)]
    for permission in re.findall(
        r"^\s+(?:contents|id-token|pull-requests|security-events): \w+.*$", text, re.MULTILINE
    ):
        assert "#" in permission, f"every permission needs a comment saying why: {permission.strip()}"


def test_only_jobs_that_assume_an_aws_role_get_an_id_token():
    for workflow in WORKFLOWS:
        for job in re.split(r"\n  (?=[\w-]+:\n)", workflow.read_text().split("\njobs:\n", 1)[1]):
            asks_token = "id-token: write" in job
            assumes_role = "configure-aws-credentials" in job
            assert asks_token == assumes_role, f"{workflow.name}: {job.splitlines()[0]}"
