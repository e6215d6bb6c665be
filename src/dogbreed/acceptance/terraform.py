"""The run's own copy of the root stack, and Terraform driven on it so that an interrupt never tears a run.

The copy (<workdir>/stack) has a local backend: the run never touches the real stack's backend or state,
and its state stays on disk after a crash (`terraform -chdir=<workdir>/stack/terraform destroy` removes what
a killed run left). Terraform runs in its own session, so a Ctrl-C meant for this tool never reaches it: on
an interrupt the command it runs finishes first, and the teardown then destroys all it recorded. Terraform's
own graceful stop (a SIGINT) cancels the requests in flight, and a resource created by a cancelled request is
in no state: an interrupted offline apply left its VPC behind that way. Only a command that outlives its
timeout gets that SIGINT, then SIGKILL.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from dogbreed.bill.settings import COMMITTED_TFVARS
from dogbreed.utils.repo import REPO_ROOT

STAGED_PARTS = ("terraform", "policies", "training", "src", "ec2")
RUN_TFVARS = "acceptance.auto.tfvars.json"
MODEL_TFVARS = "model.auto.tfvars.json"  # dogbreed-launch publish writes it next to the stack
LAMBDA_ZIP = Path("build/predict_lambda.zip")
FINISH_AFTER_INTERRUPT_S = 3600  # the longest apply: an endpoint deployment with its bake
GRACEFUL_STOP_S = 300
# The run's stack has no bootstrap stack behind it, so it creates the one thing of it the root stack needs:
# the workload boundary every role of the stack carries (terraform/modules/github_oidc creates it for a
# project, from the same template and values). A role whose boundary does not exist is expected to be refused
# by IAM (InvalidInput; not verified here: moto accepts it).
BOUNDARY_FILES = {
    "acceptance_boundary.tf": """\
data "aws_region" "acceptance" {}

locals {
  acceptance_account = data.aws_caller_identity.current.account_id
  acceptance_region  = data.aws_region.acceptance.name
}

resource "aws_iam_policy" "acceptance_workload_boundary" {
  name        = "${var.name}-workload-boundary"
  description = "The acceptance run's workload boundary (terraform/modules/github_oidc, from its template)."
  policy = templatefile("${path.root}/../policies/workload_boundary.json", {
    partition  = data.aws_partition.current.partition
    region     = local.acceptance_region
    account_id = local.acceptance_account
    name       = var.name
    bucket     = "${var.name}-${local.acceptance_account}-${local.acceptance_region}"
  })
}
""",
    "acceptance_override.tf": """\
locals {
  permissions_boundary = aws_iam_policy.acceptance_workload_boundary.arn
}
""",
}


class TerraformFailed(RuntimeError):
    """A terraform command exited non-zero; the message names its log file and ends with its last lines."""


class Stack:
    """The staged root stack of one run."""

    def __init__(self, workdir: Path):
        self.root = workdir / "stack"
        self.dir = self.root / "terraform"
        self.logs = workdir / "logs"

    @property
    def exists(self) -> bool:
        return self.dir.is_dir()

    @property
    def has_state(self) -> bool:
        state = self.dir / "terraform.tfstate"
        return state.is_file() and bool(json.loads(state.read_text() or "{}").get("resources"))

    def stage(self, tfvars: dict[str, Any]) -> None:
        """Copy what the root stack reads, build the Lambda zip. Of the checkout's tfvars only the committed
        ones come along (a fresh clone's settings), never the user's terraform.tfvars or a published model."""
        ignore = shutil.ignore_patterns(".terraform", "*.tfstate*", "tfplan*", "*.tfvars", "*.tfvars.json")
        for part in STAGED_PARTS:
            if (REPO_ROOT / part).is_dir():
                shutil.copytree(REPO_ROOT / part, self.root / part, ignore=ignore, dirs_exist_ok=True)
        for name in COMMITTED_TFVARS:
            if (REPO_ROOT / "terraform" / name).is_file():
                shutil.copy2(REPO_ROOT / "terraform" / name, self.dir / name)
        (self.dir / "backend_override.tf").write_text('terraform {\n  backend "local" {}\n}\n')
        for name, text in BOUNDARY_FILES.items():
            (self.dir / name).write_text(text)
        self.write_tfvars(RUN_TFVARS, tfvars)
        subprocess.run(
            [sys.executable, "-m", "dogbreed.packing.lambda_zip", "--output", str(self.root / LAMBDA_ZIP)],
            check=True,
            capture_output=True,
            timeout=300,
        )

    def write_tfvars(self, name: str, values: dict[str, Any]) -> Path:
        path = self.dir / name
        path.write_text(json.dumps(values, indent=2) + "\n")
        return path

    def terraform(self, *args: str, log: str, timeout_s: int = 4 * 3600) -> Path:
        """Run `terraform ARGS` with its output in logs/<log>.log; TerraformFailed if it fails."""
        self.logs.mkdir(parents=True, exist_ok=True)
        log_path = self.logs / f"{log}.log"
        with log_path.open("a") as out:
            out.write(f"$ terraform {' '.join(args)}\n")
            out.flush()
            process = subprocess.Popen(
                ["terraform", *args, "-no-color"],
                cwd=self.dir,
                env=_terraform_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # no terminal signal reaches it but the one we forward
            )
            code = _wait_letting_it_finish(process, timeout_s)
        if code != 0:
            tail = "".join(log_path.read_text().splitlines(keepends=True)[-25:])
            raise TerraformFailed(f"terraform {args[0]} exited {code} (log: {log_path}):\n{tail}")
        return log_path

    def output_json(self) -> dict[str, Any]:
        outputs = json.loads(self._read(["output", "-json", "-no-color"]) or "{}")
        return {name: entry["value"] for name, entry in outputs.items()}

    def show_json(self, plan_file: str) -> dict[str, Any]:
        return json.loads(self._read(["show", "-json", plan_file]))

    def _read(self, args: list[str]) -> str:
        """What a read-only terraform command prints."""
        result = subprocess.run(
            ["terraform", *args],
            cwd=self.dir,
            env=_terraform_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise TerraformFailed(f"terraform {args[0]} failed:\n{result.stderr[-2000:]}")
        return result.stdout


def _terraform_env() -> dict[str, str]:
    """This environment without TF_VAR_*; this Python's scripts first on PATH, for the endpoint's post-deploy
    check (local-exec `dogbreed-check-endpoint`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_VAR_")}
    scripts = str(Path(sys.executable).parent)
    env.update(
        TF_IN_AUTOMATION="1",
        CHECKPOINT_DISABLE="1",
        TF_INPUT="0",
        PATH=os.pathsep.join([scripts, env.get("PATH", "")]),
    )
    return env


def _wait_letting_it_finish(process: subprocess.Popen, timeout_s: float) -> int:
    """Wait for PROCESS. On our interrupt let it finish its command (up to FINISH_AFTER_INTERRUPT_S), then let
    the interrupt continue; past TIMEOUT_S stop it (SIGINT, then SIGKILL) and raise TimeoutExpired."""
    try:
        return process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _stop(process)
        raise
    except BaseException:
        try:
            process.wait(timeout=FINISH_AFTER_INTERRUPT_S)
        except subprocess.TimeoutExpired:
            _stop(process)
        raise


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=GRACEFUL_STOP_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
