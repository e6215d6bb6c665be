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
    return terraform.terraform_env(terraform.cli_config(tmp_path_factory.mktemp("terraform-cli")))


def _run_gates(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*GATES, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def run_gates():
    """Runs the security gates CLI exactly as scripts/security_gates.sh does."""
    return _run_gates
