"""The notebook's on-start lifecycle configuration, run offline: it installs the pinned launcher requirements
and the repository's code into a kernel whose Python imports and configures the launcher.

Stand-ins, each as close to the instance as this machine allows:
- the package source: the tool the docs name (dogbreed-build-notebook-bundle) run against a local index made
  from this environment's own distributions (local_index.py), with --no-index: no PyPI;
- S3: a folder, through a fake `aws` CLI (the script's only AWS calls are `aws s3 sync|cp`);
- the instance: the script rendered by Terraform's own templatefile() with the module's variables, run with
  its paths moved into a temporary home (the variables it reads for that), as the current user;
- no network for any Python process (tests/training/no_network), no PYTHONPATH to the checkout.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dogbreed.utils.repo import REPO_ROOT
from tests.notebook.local_index import build_index, pins
from tests.training.test_pretrained_offline import GUARD_DIR

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

MODULE = REPO_ROOT / "terraform" / "modules" / "notebook"
LOCK = REPO_ROOT / "requirements" / "launcher.txt"
CODE_S3_URI = "s3://dogbreed-bucket/code/notebook/"
SETTINGS = {
    "region": "eu-west-1",
    "data_bucket_name": "dogbreed-bucket",
    "kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
    "training_role_arn": "arn:aws:iam::123456789012:role/dogbreed-sagemaker-training",
    "training_subnet_ids": ["subnet-0aaa1111", "subnet-0bbb2222"],
    "training_security_group_ids": ["sg-0ccc3333"],
    "name": "dogbreed",
}
FAKE_AWS = """#!/usr/bin/env python3
# `aws s3 sync [--delete]|cp [--only-show-errors] SRC DST` over a folder standing in for S3 (hard links).
import os, shutil, sys
root = os.environ["FAKE_S3_ROOT"]
local = lambda uri: os.path.join(root, uri[len("s3://"):]) if uri.startswith("s3://") else uri
args = [arg for arg in sys.argv[1:] if arg not in ("--only-show-errors", "--delete")]
assert args[0] == "s3" and args[1] in ("sync", "cp"), args
source, target = local(args[2]), local(args[3])
if args[1] == "sync":
    shutil.rmtree(target, ignore_errors=True)  # --delete: the target ends up equal to the source
    shutil.copytree(source, target, copy_function=os.link)
else:
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(source, target)
"""


@pytest.fixture(scope="module")
def bucket(tmp_path_factory) -> Path:
    """The fake S3 root, with what `dogbreed-build-notebook-bundle` puts under code/notebook/."""
    root = tmp_path_factory.mktemp("s3")
    index = build_index(LOCK, tmp_path_factory.mktemp("index"))
    output = root / "dogbreed-bucket" / "code" / "notebook"
    glibc = platform.libc_ver()[1]
    command = [
        *(sys.executable, "-m", "dogbreed.packing.notebook_bundle", "--python-version", "3.11"),
        *("--glibc", glibc, "--find-links", str(index), "--no-index", "--no-upload", "--output", str(output)),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["wheels"] == len(pins(LOCK))
    return root


def render_on_start(workdir: Path) -> Path:
    """Terraform's templatefile() with the variables terraform/modules/notebook/main.tf passes."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed")
    variables = {
        "idle_minutes": "60",
        "stop_when_idle_py": f"file({json.dumps(str(MODULE / 'stop_when_idle.py'))})",
        "kernel_install_sh": f"file({json.dumps(str(MODULE / 'install_kernel.sh'))})",
        "code_s3_uri": json.dumps(CODE_S3_URI),
        "launcher_settings": json.dumps(json.dumps(SETTINGS)),
        "kernel_base_python": json.dumps("/home/ec2-user/anaconda3/envs/python3/bin/python"),
    }
    hcl = ", ".join(f"{name} = {value}" for name, value in variables.items())
    expression = f"templatefile({json.dumps(str(MODULE / 'on_start.sh.tftpl'))}, {{ {hcl} }})"
    result = subprocess.run(
        ["terraform", "console"], input=expression, capture_output=True, text=True, cwd=workdir, timeout=60,
        env={**os.environ, "TF_CLI_CONFIG_FILE": "/dev/null"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "<<EOT" and lines[-1] == "EOT", result.stdout[:500]
    script = workdir / "on_start.sh"
    script.write_text("\n".join(lines[1:-1]) + "\n")
    return script


def instance_env(root: Path, s3: Path) -> dict[str, str]:
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    (bin_dir / "aws").write_text(FAKE_AWS)
    (bin_dir / "aws").chmod(0o755)
    (bin_dir / "python3").symlink_to(os.path.realpath(sys.executable))  # the fake CLI's interpreter
    for folder in ("home/SageMaker", "usr-local-bin", "cron.d", "log"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    keep = {"LANG", "LC_ALL", "TMPDIR", "USER", "LOGNAME", "TERM"}
    return {
        **{name: value for name, value in os.environ.items() if name in keep},
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(root / "home"),
        "PYTHONPATH": str(GUARD_DIR),  # the network guard only: the checkout is not on any path
        "NO_NETWORK_LOG": str(root / "refused.log"),
        "FAKE_S3_ROOT": str(s3),
        "SAGEMAKER_HOME": str(root / "home" / "SageMaker"),
        "BIN_DIR": str(root / "usr-local-bin"),
        "CRON_DIR": str(root / "cron.d"),
        "LOG_DIR": str(root / "log"),
        "RUN_AS": subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip(),
        "KERNEL_BASE_PYTHON": os.path.realpath(sys.executable),  # a plain CPython 3.11, not this venv
    }


def start_instance(script: Path, env: dict[str, str]) -> float:
    """Run the on-start script (it must return well within the 5-minute limit); wait for the kernel."""
    started = time.monotonic()
    result = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    returned = time.monotonic() - started
    status = Path(env["SAGEMAKER_HOME"]) / ".dogbreed" / "kernel-install.status"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and (not status.exists() or status.read_text().strip() == "running"):
        time.sleep(1)
    log = (Path(env["LOG_DIR"]) / "dogbreed-kernel.log").read_text()
    assert status.read_text().strip() == "ok", log[-3000:]
    return returned


def kernel_python(env: dict[str, str], code: str) -> str:
    spec = json.loads((Path(env["HOME"]) / ".local/share/jupyter/kernels/dogbreed/kernel.json").read_text())
    run_env = {**env, **spec["env"]}
    result = subprocess.run(
        [spec["argv"][0], "-c", code], env=run_env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_lifecycle_installs_a_launcher_kernel_offline(bucket, tmp_path):
    script = render_on_start(tmp_path)
    env = instance_env(tmp_path / "instance", bucket)

    assert start_instance(script, env) < 30, "the on-start script itself must return at once (nohup)"
    installed = json.loads(kernel_python(env, (
        "import importlib.metadata as m, json\n"
        "from packaging.utils import canonicalize_name as c\n"
        "print(json.dumps({c(d.metadata['Name']): d.version for d in m.distributions()}))"
    )))  # fmt: skip
    expected = pins(LOCK)
    assert {name: installed.get(name) for name in expected} == expected
    report = json.loads(kernel_python(env, (
        "import json, dogbreed, sagemaker.train.tuner\n"
        "from dogbreed.orchestration.settings import resolve_settings\n"
        "from dogbreed.orchestration.source import ENTRY_SCRIPT\n"
        "from importlib.util import find_spec\n"
        "s = resolve_settings()\n"
        "print(json.dumps({'package': dogbreed.__file__, 'entry': str(ENTRY_SCRIPT), 'entry_exists':"
        " ENTRY_SCRIPT.is_file(), 'subnets': list(s.subnet_ids), 'groups': list(s.security_group_ids),"
        " 'torch': find_spec('torch') is not None}))"
    )))  # fmt: skip
    code_dir = Path(env["SAGEMAKER_HOME"]) / "dogbreed-mlops"
    assert report["package"] == str(code_dir / "src" / "dogbreed" / "__init__.py")
    assert report["entry"] == str(code_dir / "training" / "train.py") and report["entry_exists"]
    assert report["subnets"] == SETTINGS["training_subnet_ids"]
    assert report["groups"] == SETTINGS["training_security_group_ids"]
    assert report["torch"] is False
    assert (code_dir / "training" / "notebooks" / "train_and_deploy.ipynb").is_file()
    assert "stop-when-idle.py 60" in (Path(env["CRON_DIR"]) / "stop-when-idle").read_text()
    assert not (tmp_path / "instance" / "refused.log").exists(), "nothing tried the network"

    # A restart: same wheelhouse, so no reinstall; the kernel is registered again.
    log = Path(env["LOG_DIR"]) / "dogbreed-kernel.log"
    before = log.read_text().count("installing the pinned launcher requirements")
    start_instance(script, env)
    assert log.read_text().count("installing the pinned launcher requirements") == before == 1
