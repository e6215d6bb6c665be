"""terraform fmt, init + validate of every root, module and example, and the terraform test suites."""

from __future__ import annotations

import pytest

from security import terraform

TERRAFORM_DIR = terraform.REPO_ROOT / "terraform"

pytestmark = pytest.mark.terraform

CONFIGURATIONS = sorted(
    [TERRAFORM_DIR, TERRAFORM_DIR / "bootstrap"]
    + [path for path in (TERRAFORM_DIR / "modules").iterdir() if path.is_dir()]
    + [path for path in (TERRAFORM_DIR / "examples").iterdir() if path.is_dir()]
)


def test_terraform_files_are_formatted(tf_env):
    terraform.run(["fmt", "-check", "-recursive", "-diff"], TERRAFORM_DIR, tf_env)


@pytest.mark.parametrize("configuration", CONFIGURATIONS, ids=lambda path: str(path.relative_to(TERRAFORM_DIR.parent)))
def test_configuration_initialises_and_validates(configuration, tf_env, tmp_path):
    env = {**tf_env, "TF_DATA_DIR": str(tmp_path / ".terraform")}  # keeps .terraform/ out of the worktree
    terraform.run(["init", "-backend=false", "-input=false"], configuration, env)
    assert "Success!" in terraform.run(["validate"], configuration, env)


@pytest.mark.timeout(600)
def test_terraform_test_suites_pass(tf_env, tmp_path):
    env = {**tf_env, "TF_DATA_DIR": str(tmp_path / ".terraform")}
    terraform.run(["init", "-backend=false", "-input=false"], TERRAFORM_DIR, env)
    output = terraform.run(["test"], TERRAFORM_DIR, env, timeout=600)
    assert "0 failed" in output and " passed" in output, output[-3000:]
