"""The run's Terraform, data and serving steps; each returns what it saw, or raises StepFailed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dogbreed.acceptance.config import MODEL_ARCH
from dogbreed.acceptance.context import RunContext, StepFailed
from dogbreed.acceptance.function_url import call_every_form
from dogbreed.acceptance.inputs import upload_inputs
from dogbreed.acceptance.terraform import MODEL_TFVARS


def stage(ctx: RunContext) -> dict[str, Any]:
    ctx.stack.stage(ctx.config.tfvars())
    ctx.stack.terraform("init", "-input=false", log="init", timeout_s=900)
    return {"stack": str(ctx.stack.dir), "tfvars": ctx.config.tfvars()}


def apply_base(ctx: RunContext) -> dict[str, Any]:
    ctx.stack.terraform("apply", "-auto-approve", "-input=false", log="apply-base")
    outputs = ctx.save_outputs()
    return {k: outputs.get(k) for k in ("data_bucket_name", "training_role_arn", "budget_name")}


def upload(ctx: RunContext) -> dict[str, Any]:
    inputs = upload_inputs(ctx.launcher_session(), ctx.launcher_settings(), ctx.config.workdir, MODEL_ARCH)
    ctx.values["test_images"] = inputs.pop("test_images")
    ctx.values["weights_file"] = inputs["weights_file"]
    return inputs


def publish(ctx: RunContext) -> dict[str, Any]:
    """`dogbreed-launch publish --training-job <job>`: the write-once copy and model.auto.tfvars.json."""
    from dogbreed.orchestration.publish import model_artifact
    from dogbreed.orchestration.publish import publish as publish_model

    session, settings = ctx.launcher_session(), ctx.launcher_settings()
    url = model_artifact(session, training_job=ctx.values["training_job"])
    published = publish_model(
        session, url, tfvars_path=ctx.stack.dir / MODEL_TFVARS, kms_key_arn=settings.kms_key_arn
    )
    ctx.values["model_data_url"] = published["model_data_url"]
    return published


def apply_serving(ctx: RunContext) -> dict[str, Any]:
    """The apply that creates the endpoint and the Lambda; its post-deploy check runs inside it."""
    ctx.stack.terraform("apply", "-auto-approve", "-input=false", log="apply-serving")
    outputs = ctx.save_outputs()
    if not outputs.get("function_url"):
        raise StepFailed("the serving apply produced no function_url", outputs)
    return {k: outputs.get(k) for k in ("endpoint_name", "endpoint_config_name", "function_url")}


def function_url(ctx: RunContext) -> dict[str, Any]:
    credentials = ctx.session.get_credentials().get_frozen_credentials()
    results = call_every_form(
        ctx.values["outputs"]["function_url"],
        Path(ctx.values["test_images"][0]),
        credentials=credentials,
        region=ctx.config.region,
        transport=ctx.hooks.transport,
    )
    if not all(result["ok"] for result in results.values()):
        raise StepFailed("a request form did not get the expected answer", results)
    return results
