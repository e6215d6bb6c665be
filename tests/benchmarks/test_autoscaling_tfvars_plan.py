"""The autoscaling target the capacity benchmark writes is what a plan of the root stack deploys.

The stack is staged and planned offline with the infrastructure area's helper (dev/offline_terraform.py:
provider mirror, its own moto server, a local backend), with the benchmark's own writer putting
``autoscaling.auto.tfvars.json`` into the staged ``terraform/`` folder, where Terraform auto-loads it.
"""

from __future__ import annotations

import json
import shutil

import pytest

from benchmarks.capacity_model import TFVARS_VARIABLE, invocations_target, write_autoscaling_target
from dev import offline_terraform as terraform

pytestmark = [
    pytest.mark.slow,
    pytest.mark.terraform,
    pytest.mark.timeout(600),
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH"),
]

REPO_ROOT = terraform.REPO_ROOT
MODEL_SHA256 = "1a1f4502024df8a68d12e64bb2364ad6308d04ed0a7d5e8300a676ec70867140"
# A published artifact (dogbreed-launch publish) in the stack's bucket in moto.
MODEL_URL = f"s3://dogbreed-123456789012-eu-west-1/models/published/{MODEL_SHA256}/model.tar.gz"


def test_plan_tracks_the_benchmark_target(tmp_path):
    target = invocations_target(7.3)  # what a run measuring 7.3 requests/s writes: 7.3 x 60 x 0.5 = 219
    workdir = tmp_path / "stack"
    terraform.stage_stack(REPO_ROOT, workdir)
    tfvars = workdir / "terraform" / "autoscaling.auto.tfvars.json"
    write_autoscaling_target(tfvars, target)
    model = tmp_path / "model.tfvars.json"
    model.write_text(json.dumps({"model_data_url": MODEL_URL, "model_sha256": MODEL_SHA256}))

    plan = terraform.plan_json(workdir, model)

    policies = terraform.planned(plan, "aws_appautoscaling_policy")
    assert json.loads(tfvars.read_text()) == {TFVARS_VARIABLE: 219}
    assert len(policies) == 1
    tracking = policies[0]["target_tracking_scaling_policy_configuration"][0]
    assert tracking["predefined_metric_specification"][0]["predefined_metric_type"] == (
        "SageMakerVariantInvocationsPerInstance"
    )
    assert tracking["target_value"] == target  # not the stack's fallback of 100
