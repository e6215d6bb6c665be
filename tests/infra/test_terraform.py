"""terraform fmt, init + validate of every root, module and example, and the terraform test suites."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dev import offline_terraform as terraform

TERRAFORM_DIR = terraform.REPO_ROOT / "terraform"

pytestmark = pytest.mark.terraform

CONFIGURATIONS = sorted(
    [TERRAFORM_DIR, TERRAFORM_DIR / "bootstrap"]
    + [path for path in (TERRAFORM_DIR / "modules").iterdir() if path.is_dir()]
    + [path for path in (TERRAFORM_DIR / "examples").iterdir() if path.is_dir()]
)


def test_terraform_files_are_formatted(tf_env):
    terraform.run(["fmt", "-check", "-recursive", "-diff"], TERRAFORM_DIR, tf_env)


def _init_and_validate(configuration: Path, env: dict[str, str], data_dir: Path) -> str | None:
    """None when `init` + `validate` succeed, else the error (TF_DATA_DIR keeps .terraform/ out of git)."""
    env = {**env, "TF_DATA_DIR": str(data_dir)}
    try:
        terraform.run(["init", "-backend=false", "-input=false"], configuration, env)
        terraform.run(["validate"], configuration, env)
    except terraform.TerraformError as error:
        return str(error)
    return None


@pytest.mark.timeout(600)
def test_every_root_module_and_example_initialises_and_validates(tf_env, tmp_path):
    # Independent configurations: validated side by side, since each run mostly waits on provider start-up.
    with ThreadPoolExecutor(max_workers=4) as pool:
        errors = pool.map(
            lambda item: _init_and_validate(item[1], tf_env, tmp_path / str(item[0])),
            enumerate(CONFIGURATIONS),
        )
        failures = {
            str(path.relative_to(TERRAFORM_DIR)): error
            for path, error in zip(CONFIGURATIONS, errors, strict=True)
            if error
        }
    assert len(CONFIGURATIONS) >= 12
    assert not failures, "\n\n".join(failures.values())


@pytest.fixture
def lambda_zip():
    """build/predict_lambda.zip from the prediction API's own builder, as CI builds it for terraform test."""
    command = [sys.executable, "-m", "dogbreed.packing.lambda_zip"]
    subprocess.run(command, cwd=terraform.REPO_ROOT, check=True, timeout=120)


@pytest.mark.timeout(600)
def test_terraform_test_suites_pass(tf_env, tmp_path, lambda_zip):
    env = {**tf_env, "TF_DATA_DIR": str(tmp_path / ".terraform")}
    terraform.run(["init", "-backend=false", "-input=false"], TERRAFORM_DIR, env)
    output = terraform.run(["test"], TERRAFORM_DIR, env, timeout=600)
    assert "0 failed" in output and " passed" in output, output[-3000:]
