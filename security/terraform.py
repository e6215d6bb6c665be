"""Run Terraform offline: shared provider cache, a moto server standing in for AWS, a staged copy of the stack."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PROVIDER_MIRROR = Path(os.environ.get("TF_PROVIDER_MIRROR", "/opt/tf-plugins"))
PLUGIN_CACHE = Path(os.environ.get("TF_PLUGIN_CACHE_DIR", Path.home() / ".cache" / "terraform-plugins"))
FIXTURES = Path(__file__).resolve().parent / "fixtures"
LAMBDA_ZIP = Path("build/predict_lambda.zip")
LAMBDA_ZIP_TOOL = Path("tools/build_lambda_zip.py")
USER_DATA_TEMPLATE = Path("ec2/user_data.sh.tftpl")
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": ""}


class TerraformError(RuntimeError):
    """A terraform command failed; the message carries the tail of its output."""


def cli_config(directory: Path) -> Path:
    """A CLI config installing the AWS provider from the local mirror when there is one, always through one cache.

    The cache makes every `init` link the (large) provider binary instead of copying it.
    """
    PLUGIN_CACHE.mkdir(parents=True, exist_ok=True)
    installation = (
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{PROVIDER_MIRROR}"\n  }}\n}}\n'
        if PROVIDER_MIRROR.is_dir()
        else ""
    )
    path = directory / "terraform.tfrc"
    path.write_text(f'{installation}plugin_cache_dir = "{PLUGIN_CACHE}"\n')
    return path


def terraform_env(config: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    env.update(TF_CLI_CONFIG_FILE=str(config), TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1", **extra)
    return env


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 300) -> str:
    """Run `terraform ARGS` and return its output; TerraformError with the output tail when it fails."""
    result = subprocess.run(
        ["terraform", *args, "-no-color"], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise TerraformError(f"terraform {' '.join(args)} failed in {cwd}:\n{output[-4000:]}")
    return output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on a free local port; yields its URL. It answers the data sources and the staged applies."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    moto = Path(sys.executable).with_name("moto_server")
    command = [str(moto)] if moto.exists() else [sys.executable, "-m", "moto.server"]
    process = subprocess.Popen([*command, "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_up(url: str, process: subprocess.Popen, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("moto server exited during start-up")
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"moto server did not answer on {url} within {timeout_s} s")


def stage_stack(repo_root: Path, destination: Path) -> list[str]:
    """Copy what the root stack reads into DESTINATION; returns notes about stand-ins used for missing inputs.

    The tool-written *.auto.tfvars.json files are left out so the gates plan with their own fixed inputs.
    """
    ignore = shutil.ignore_patterns(".terraform", "*.tfstate*", "tfplan*", "*.auto.tfvars.json", "__pycache__")
    for part in ("terraform", "policies", "training", "ec2"):
        if (repo_root / part).is_dir():
            shutil.copytree(repo_root / part, destination / part, ignore=ignore)
    notes = [_stage_user_data(destination), _stage_lambda_zip(repo_root, destination)]
    (destination / "terraform" / "backend_override.tf").write_text('terraform {\n  backend "local" {}\n}\n')
    return [note for note in notes if note]


def _stage_user_data(destination: Path) -> str | None:
    target = destination / USER_DATA_TEMPLATE
    if target.exists():
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "terraform" / "tests" / "fixtures" / "user_data.sh.tftpl", target)
    return f"{USER_DATA_TEMPLATE} not in the repository yet: planned with terraform/tests/fixtures/user_data.sh.tftpl"


def _stage_lambda_zip(repo_root: Path, destination: Path) -> str | None:
    target = destination / LAMBDA_ZIP
    target.parent.mkdir(parents=True, exist_ok=True)
    if (repo_root / LAMBDA_ZIP_TOOL).exists():
        subprocess.run(
            [sys.executable, str(repo_root / LAMBDA_ZIP_TOOL), "--output", str(target)],
            cwd=repo_root, check=True, capture_output=True, timeout=120,
        )
        return None
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    raise NotImplementedError\n")
    return f"{LAMBDA_ZIP_TOOL} not in the repository yet: planned with a placeholder {LAMBDA_ZIP}"


def plan_json(stack: Path, var_file: Path, env: dict[str, str]) -> dict:
    """Plan the staged root stack against moto and return `terraform show -json` of it.

    The project key and the subnets are applied to moto first, so their ARNs and ids are known in the plan
    and checkov sees the KMS and VPC settings of every resource instead of "known after apply".
    """
    root = stack / "terraform"
    with moto_server() as endpoint:
        env = {**env, **FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "eu-west-1"}
        run(["init", "-input=false"], root, env)
        targets = ["-target=module.data_bucket.aws_kms_key.this", "-target=module.network.aws_subnet.private"]
        run(["apply", "-input=false", "-auto-approve", f"-var-file={var_file}", *targets], root, env)
        run(["plan", "-input=false", f"-var-file={var_file}", "-out=tfplan"], root, env)
        return json.loads(_show(root, env))


def _show(root: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["terraform", "show", "-json", "tfplan"], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        raise TerraformError(f"terraform show failed:\n{result.stderr[-4000:]}")
    return result.stdout


def new_workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
