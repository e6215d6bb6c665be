"""Where the launcher's AWS values come from: flags first, then the root stack's `terraform output -json`.

The outputs are read from a saved copy when one is named (`--terraform-outputs`, else the environment variable
DOGBREED_TF_OUTPUTS, which the notebook instance's lifecycle configuration sets for its kernel), otherwise by
running `terraform output -json` in the root stack's directory.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dogbreed.orchestration.errors import LauncherError
from dogbreed.utils.repo import TERRAFORM_DIR

DEFAULT_TERRAFORM_DIR = TERRAFORM_DIR
# The root stack's default `name`; its IAM policies only allow SageMaker jobs named <name>-*.
DEFAULT_JOB_PREFIX = "dogbreed"
OUTPUTS_FILE_VARIABLE = "DOGBREED_TF_OUTPUTS"

log = logging.getLogger("launch")


@dataclass(frozen=True)
class TerraformOutputs:
    """Values read from the root stack's ``terraform output -json`` (or a saved copy of it)."""

    values: Mapping[str, Any]
    origin: str

    @classmethod
    def load(
        cls, terraform_dir: Path = DEFAULT_TERRAFORM_DIR, outputs_file: Path | None = None
    ) -> TerraformOutputs:
        outputs_file = outputs_file or os.environ.get(OUTPUTS_FILE_VARIABLE) or None
        if outputs_file is not None:
            return cls(_unwrap_outputs(_read_json(Path(outputs_file))), f"{outputs_file}")
        return cls(_run_terraform_output(Path(terraform_dir)), f"terraform -chdir={terraform_dir} output")

    def get(self, name: str) -> Any:
        return self.values.get(name)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as e:
        raise LauncherError(f"{path} does not exist") from e
    except json.JSONDecodeError as e:
        raise LauncherError(f"{path} is not valid JSON: {e}") from e


def _unwrap_outputs(raw: Any) -> dict[str, Any]:
    """Accept ``terraform output -json`` ({"name": {"value": ...}}) or a flat {"name": value} mapping."""
    if not isinstance(raw, dict):
        raise LauncherError("terraform outputs must be a JSON object")
    return {k: v["value"] if isinstance(v, dict) and "value" in v else v for k, v in raw.items()}


def _run_terraform_output(terraform_dir: Path) -> dict[str, Any]:
    if shutil.which("terraform") is None or not terraform_dir.is_dir():
        return {}
    result = subprocess.run(
        ["terraform", f"-chdir={terraform_dir}", "output", "-json", "-no-color"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        log.warning(
            "terraform output failed in %s: %s", terraform_dir, result.stderr.strip().splitlines()[-1:]
        )
        return {}
    try:
        return _unwrap_outputs(json.loads(result.stdout or "{}"))
    except json.JSONDecodeError as e:
        raise LauncherError(f"`terraform output -json` in {terraform_dir} printed no JSON: {e}") from e


@dataclass(frozen=True)
class AwsSettings:
    region: str
    bucket: str
    training_role_arn: str
    kms_key_arn: str | None = None
    job_prefix: str = DEFAULT_JOB_PREFIX
    # Where jobs run: the stack's private subnets and the training security group (VpcConfig of every job).
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()

    @property
    def training_job_base(self) -> str:
        return self.job_prefix

    def check_network(self) -> None:
        """Jobs run only inside the stack's network (the notebook role allows no other)."""
        if not (self.subnet_ids and self.security_group_ids):
            raise LauncherError(
                "no subnets or security group for the jobs: pass --subnet and --security-group, or apply the "
                "root stack (outputs training_subnet_ids, training_security_group_ids)"
            )

    @property
    def tuning_job_base(self) -> str:
        return f"{self.job_prefix}-hpo"


# setting -> (flag, terraform output)
_SETTING_SOURCES = {
    "region": ("--region", "region"),
    "bucket": ("--bucket", "data_bucket_name"),
    "training_role_arn": ("--role", "training_role_arn"),
    "kms_key_arn": ("--kms-key", "kms_key_arn"),
    "job_prefix": ("--job-prefix", "name"),
    "subnet_ids": ("--subnet", "training_subnet_ids"),
    "security_group_ids": ("--security-group", "training_security_group_ids"),
}
REQUIRED = ("region", "bucket", "training_role_arn")


def resolve_settings(
    *,
    region: str | None = None,
    bucket: str | None = None,
    role: str | None = None,
    kms_key: str | None = None,
    job_prefix: str | None = None,
    subnets: list[str] | None = None,
    security_groups: list[str] | None = None,
    terraform_dir: Path = DEFAULT_TERRAFORM_DIR,
    terraform_outputs: Path | None = None,
) -> AwsSettings:
    """Flags win; whatever is missing comes from the root stack's outputs (read only when needed)."""
    given = {
        "region": region,
        "bucket": bucket,
        "training_role_arn": role,
        "kms_key_arn": kms_key,
        "job_prefix": job_prefix,
        "subnet_ids": subnets,
        "security_group_ids": security_groups,
    }
    outputs: TerraformOutputs | None = None
    resolved: dict[str, Any] = {}
    for name, value in given.items():
        if not value:
            outputs = outputs or TerraformOutputs.load(terraform_dir, terraform_outputs)
            value = outputs.get(_SETTING_SOURCES[name][1])
        resolved[name] = value or None
    for name in REQUIRED:
        if not resolved[name]:
            flag, output = _SETTING_SOURCES[name]
            where = outputs.origin if outputs else "terraform output"
            raise LauncherError(f"no {name}: pass {flag} or apply the root stack so `{where}` has `{output}`")
    for name in ("subnet_ids", "security_group_ids"):
        resolved[name] = _id_list(resolved[name] or [], _SETTING_SOURCES[name][0])
    resolved["job_prefix"] = resolved["job_prefix"] or DEFAULT_JOB_PREFIX
    return AwsSettings(**resolved)


def _id_list(value: Any, flag: str) -> tuple[str, ...]:
    """A list of subnet or security group ids (an output holds a JSON list; flags repeat)."""
    values = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise LauncherError(f"{flag} takes ids such as subnet-0abc / sg-0abc, got {value!r}")
    return tuple(v.strip() for v in values)
