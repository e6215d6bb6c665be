"""terraform fmt, init + validate of every root, module and example, and the terraform test suites."""

from __future__ import annotations

import shutil
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
    """None when `init` links the provider from the warm cache and `validate` succeeds, else the error
    (TF_DATA_DIR keeps .terraform/ out of git). An init that installs again writes into the shared cache, and
    two of those at once are the "mkdir ...: file exists" race, so re-installing is a failure here."""
    env = {**env, "TF_DATA_DIR": str(data_dir)}
    try:
        output = terraform.run(["init", "-backend=false", "-input=false"], configuration, env)
        terraform.run(["validate"], configuration, env)
    except terraform.TerraformError as error:
        return str(error)
    if "from the shared cache directory" not in output:
        return f"terraform init in {configuration} installed the provider again, not linked:\n{output}"
    return None


@pytest.mark.timeout(600)
def test_every_root_module_and_example_initialises_and_validates_from_an_empty_plugin_cache(tmp_path):
    """Starts from an EMPTY provider cache, as on a fresh machine: three warm-ups race for it (the file lock
    in warm_plugin_cache lets one install and the others link), then every configuration inits and validates
    side by side. Without the warm-up, parallel inits into an empty cache fail ("mkdir ...: file exists");
    so do lockless configurations (modules, examples) when they install again instead of linking, which a
    fresh clone, with no local lock files, showed in CI."""
    cache = tmp_path / "empty-plugin-cache"
    env = terraform.terraform_env(terraform.cli_config(tmp_path, cache=cache))
    assert list(cache.iterdir()) == []
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(lambda _: terraform.warm_plugin_cache(env), range(3)))
        assert len(list(cache.glob("registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws_*"))) == 1
        # Independent configurations: validated side by side, each run mostly waits on provider start-up.
        with ThreadPoolExecutor(max_workers=4) as pool:
            errors = pool.map(
                lambda item: _init_and_validate(item[1], env, tmp_path / str(item[0])),
                enumerate(CONFIGURATIONS),
            )
            failures = {
                str(path.relative_to(TERRAFORM_DIR)): error
                for path, error in zip(CONFIGURATIONS, errors, strict=True)
                if error
            }
    finally:
        shutil.rmtree(cache, ignore_errors=True)  # ~700 MB: not kept among pytest's temporary directories
    assert len(CONFIGURATIONS) >= 12
    assert not failures, "\n\n".join(failures.values())


@pytest.mark.parametrize("configuration", ["terraform", "terraform/bootstrap"])
def test_the_deployed_configurations_commit_their_provider_lock(configuration):
    lock = (terraform.REPO_ROOT / configuration / ".terraform.lock.hcl").read_text()
    assert 'provider "registry.terraform.io/hashicorp/aws"' in lock and 'version     = "5.100.0"' in lock
    assert "h1:" in lock  # the linux_amd64 package hash (terraform providers lock -fs-mirror=/opt/tf-plugins)
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", f"{configuration}/.terraform.lock.hcl"],
        cwd=terraform.REPO_ROOT,
        capture_output=True,
    )
    assert tracked.returncode == 0, "the lock file must be committed"


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
