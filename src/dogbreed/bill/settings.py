"""The stack's settings as Terraform evaluates them: the root variables of a tfvars file, read by
`terraform console` on a staged copy of the root stack (variable defaults and optional attributes applied, the
modules' own defaults read from their outputs), turned into the facts the bill prices.

`terraform console` on a fresh copy calls no AWS API for these expressions: they depend on variables only.
The copy gets a local backend, so the real stack's state and backend are never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dogbreed.utils.repo import REPO_ROOT

# Tools write these next to the stack; a fresh clone deploys with the committed one (the capacity benchmark's
# autoscaling target), so "the defaults" include it and nothing else.
COMMITTED_TFVARS = ("autoscaling.auto.tfvars.json",)
# The bill prices the serving stack: without a published model the endpoint and the Lambda do not exist, so a
# placeholder stands in (its value is never used for a price).
PLACEHOLDER_SHA256 = "0" * 64
PLACEHOLDER_VARIABLES = {
    "model_data_url": f"s3://dogbreed-bill-placeholder/models/published/{PLACEHOLDER_SHA256}/model.tar.gz",
    "model_sha256": PLACEHOLDER_SHA256,
}
EXPRESSION = """jsonencode({
  name = var.name, region = var.region, endpoint = var.endpoint, predict_api = var.predict_api,
  autoscaling_invocations_per_instance = var.autoscaling_invocations_per_instance,
  notebook_instance_type = var.notebook_instance_type, budget = var.budget,
  interface_endpoint_services = module.network.interface_endpoint_services,
  availability_zones = module.network.availability_zone_count,
  notebook_volume_gb = module.notebook.volume_size_gb,
  lambda_memory_mb = module.predict_lambda[0].memory_size,
})"""
DEFAULT_TARGET_INVOCATIONS = 100  # terraform/main.tf: coalesce(var.autoscaling_invocations_per_instance, 100)


class SettingsError(RuntimeError):
    """Terraform could not evaluate the stack's settings (the message carries its output)."""


@dataclass(frozen=True)
class EndpointFacts:
    serverless: bool
    instance_type: str
    min_capacity: int
    max_capacity: int
    autoscaling: bool
    target_invocations_per_minute: float
    serverless_memory_mb: int | None = None
    serverless_provisioned_concurrency: int = 0


@dataclass(frozen=True)
class BudgetFacts:
    monthly_limit_usd: float
    alert_threshold_percent: float

    @property
    def alert_usd(self) -> float:
        return self.monthly_limit_usd * self.alert_threshold_percent / 100


@dataclass(frozen=True)
class StackFacts:
    name: str
    region: str
    interface_endpoints: int
    availability_zones: int
    notebook_instance_type: str
    notebook_volume_gb: int
    endpoint: EndpointFacts
    lambda_memory_mb: int
    lambda_provisioned_concurrency: int
    budget: BudgetFacts | None  # None: budget.create = false
    source: str

    @property
    def alarms(self) -> int:
        """CloudWatch alarms the serving stack creates (terraform/modules/endpoint/alarms.tf): 5XX errors and
        model latency; serverless adds at-max-concurrency; autoscaled instances add at-max-capacity plus the
        two (high, low) that AWS creates for a target-tracking policy."""
        if self.endpoint.serverless:
            return 3
        return 2 + (3 if self.endpoint.autoscaling else 0)


def facts_from_variables(values: Mapping[str, Any], source: str) -> StackFacts:
    endpoint, api = values["endpoint"], values["predict_api"]
    serverless = endpoint.get("serverless")  # present once the endpoint module has the serverless mode
    target = values.get("autoscaling_invocations_per_instance") or DEFAULT_TARGET_INVOCATIONS
    return StackFacts(
        name=values["name"],
        region=values["region"],
        interface_endpoints=len(values["interface_endpoint_services"]),
        availability_zones=int(values["availability_zones"]),
        notebook_instance_type=values["notebook_instance_type"],
        notebook_volume_gb=int(values["notebook_volume_gb"]),
        endpoint=EndpointFacts(
            serverless=serverless is not None,
            instance_type=endpoint["instance_type"],
            min_capacity=int(endpoint["min_capacity"]),
            max_capacity=int(endpoint["max_capacity"]),
            autoscaling=bool(endpoint["enable_autoscaling"]),
            target_invocations_per_minute=float(target),
            serverless_memory_mb=int(serverless["memory_size_in_mb"]) if serverless else None,
            serverless_provisioned_concurrency=int((serverless or {}).get("provisioned_concurrency") or 0),
        ),
        lambda_memory_mb=int(values["lambda_memory_mb"]),
        lambda_provisioned_concurrency=int(api["provisioned_concurrency"]),
        budget=_budget(values["budget"]),
        source=source,
    )


def _budget(budget: Mapping[str, Any]) -> BudgetFacts | None:
    if not budget["create"]:
        return None
    return BudgetFacts(float(budget["monthly_limit_usd"]), float(budget["alert_threshold_percent"]))


def read_settings(var_files: Sequence[Path] = (), *, terraform_dir: Path | None = None) -> StackFacts:
    """The stack's facts for VAR_FILES (none: the defaults), evaluated by `terraform console`."""
    terraform_dir = terraform_dir or REPO_ROOT / "terraform"
    with tempfile.TemporaryDirectory(prefix="dogbreed-bill-") as scratch:
        stack = _stage(terraform_dir, Path(scratch))
        _terraform(["init", "-input=false", "-backend=true"], stack)
        values = _console(stack, [Path(f).resolve() for f in var_files])
    described = (
        ", ".join(str(f) for f in var_files) or "the defaults (variables.tf and " + COMMITTED_TFVARS[0] + ")"
    )
    return facts_from_variables(values, described)


def _stage(terraform_dir: Path, scratch: Path) -> Path:
    """A copy of the root stack and the policy templates it reads, with a local backend and only the
    committed tool-written tfvars."""
    ignore = shutil.ignore_patterns(
        ".terraform", "*.tfstate*", "tfplan*", "*.tfvars", "*.tfvars.json", "build"
    )
    stack = scratch / "terraform"
    shutil.copytree(terraform_dir, stack, ignore=ignore)
    policies = terraform_dir.parent / "policies"
    if policies.is_dir():
        shutil.copytree(policies, scratch / "policies")
    for name in COMMITTED_TFVARS:
        if (terraform_dir / name).is_file():
            shutil.copy2(terraform_dir / name, stack / name)
    (stack / "backend_override.tf").write_text('terraform {\n  backend "local" {}\n}\n')
    return stack


def _console(stack: Path, var_files: list[Path]) -> dict[str, Any]:
    # Flags apply in order: the placeholders first, so that any file setting the same variable wins.
    placeholders = [f"-var={name}={value}" for name, value in PLACEHOLDER_VARIABLES.items()]
    output = _terraform(
        ["console", *placeholders, *[f"-var-file={f}" for f in var_files]],
        stack,
        stdin=" ".join(EXPRESSION.split()) + "\n",  # the console reads one expression per line
    )
    try:
        return json.loads(json.loads(output.strip().splitlines()[-1]))
    except (json.JSONDecodeError, IndexError) as error:
        raise SettingsError(f"terraform console printed no JSON:\n{output[-2000:]}") from error


def _terraform(args: list[str], cwd: Path, stdin: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_VAR_")}
    env.update(TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    try:
        result = subprocess.run(
            ["terraform", *args, "-no-color"],
            cwd=cwd,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except FileNotFoundError as error:
        raise SettingsError("terraform is not on PATH") from error
    if result.returncode != 0:
        said = result.stderr.strip() or result.stdout
        raise SettingsError(f"terraform {args[0]} failed:\n{said[-3000:]}")
    return result.stdout
