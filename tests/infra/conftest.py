"""Fixtures of the infrastructure tests: one Terraform CLI config and provider cache per session."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from dev import offline_terraform as terraform

REPO_ROOT = terraform.REPO_ROOT
TERRAFORM_DIR = REPO_ROOT / "terraform"
GATES = [str(REPO_ROOT / ".venv" / "bin" / "python"), "-m", "security.gates"]


@pytest.fixture(scope="session")
def tf_env(tmp_path_factory) -> dict[str, str]:
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on PATH (CI installs it with hashicorp/setup-terraform)")
    env = terraform.terraform_env(terraform.cli_config(tmp_path_factory.mktemp("terraform-cli")))
    terraform.warm_plugin_cache(env)  # the cache is filled once, before any two inits could race on it
    return env


def _run_gates(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*GATES, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def run_gates():
    """Runs the security gates CLI exactly as scripts/security_gates.sh does."""
    return _run_gates


@pytest.fixture(scope="session")
def offline_plans(tf_env, tmp_path_factory) -> dict[str, dict]:
    """The offline plans (moto) of every stack, exactly as the gates make them: root, bootstrap, examples."""
    from security.gates import DEFAULT_PLAN_VARS, make_plans

    _, plans = make_plans(REPO_ROOT, tmp_path_factory.mktemp("offline-plans"), DEFAULT_PLAN_VARS)
    return plans


@pytest.fixture(scope="session")
def rendered_role_policies(offline_plans) -> dict[str, list[dict]]:
    """Role name => the policy documents the bootstrap plan renders for it (the deploy roles' policies)."""
    from security.checkov_checks.policy_rules import parse_policy
    from security.plan_policies import planned_resources

    documents: dict[str, list[dict]] = {}
    for resource in planned_resources(offline_plans["bootstrap"]):
        if resource["type"] == "aws_iam_role_policy":
            values = resource["values"]
            documents.setdefault(values["role"], []).append(parse_policy(values["policy"]))
    return documents
