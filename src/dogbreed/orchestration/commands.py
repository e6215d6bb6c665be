"""What each ``dogbreed-launch`` subcommand does with its parsed flags; each returns the JSON it prints."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dogbreed.orchestration import sdk
from dogbreed.orchestration.dry_run import describe_train_request, describe_tune_request
from dogbreed.orchestration.ec2_runs import start_run
from dogbreed.orchestration.errors import LauncherError
from dogbreed.orchestration.hyperparameters import objective, parse_assignments
from dogbreed.orchestration.invoke import function_name_from_stack, predict
from dogbreed.orchestration.jobs import train, tune
from dogbreed.orchestration.publish import model_artifact, publish, published_url
from dogbreed.orchestration.results import format_table, plot_tuning_results, tuning_results
from dogbreed.orchestration.s3 import default_data_uri, split_s3_uri, upload_data
from dogbreed.orchestration.session import make_session
from dogbreed.orchestration.settings import AwsSettings, TerraformOutputs, resolve_settings
from dogbreed.orchestration.source import ShippedWheels
from dogbreed.orchestration.specs import TrainSpec, TuneSpec
from dogbreed.packing.wheels import WheelhouseError
from dogbreed.utils.repo import BUILD_DIR

DEFAULT_WHEELHOUSE = BUILD_DIR / "wheelhouse"


def settings_from(args: argparse.Namespace) -> AwsSettings:
    return resolve_settings(
        region=args.region,
        bucket=args.bucket,
        role=args.role,
        kms_key=args.kms_key,
        job_prefix=args.job_prefix,
        subnets=args.subnet,
        security_groups=args.security_group,
        terraform_dir=args.terraform_dir,
        terraform_outputs=args.terraform_outputs,
    )


def _job_fields(args: argparse.Namespace) -> dict[str, Any]:
    return dict(
        data_uri=args.data,
        instance_type=args.instance_type,
        spot=args.spot,
        max_run_seconds=args.max_run,
        max_wait_seconds=args.max_wait,
        volume_size_gb=args.volume_size,
        image_uri=args.image_uri,
        framework_version=args.framework_version,
        hyperparameters=parse_assignments(args.hp),
        wheelhouse=resolve_wheelhouse(args),
    )


def resolve_wheelhouse(args: argparse.Namespace) -> str | None:
    """The wheelhouse the job ships: --wheelhouse (complete, or an error), else build/wheelhouse when it is
    complete for the training and serving images' Pythons, else none and a warning (the job then packs the
    fp32 torch network and says why)."""
    folder = args.wheelhouse or DEFAULT_WHEELHOUSE
    shipped = ShippedWheels(folder, sdk.training_python(args.framework_version))
    try:
        shipped.select()
    except WheelhouseError as error:
        if args.wheelhouse is not None:
            raise LauncherError(f"--wheelhouse {folder}: {error}") from error
        print(
            f"warning: no int8 packing in the job ({error}); to ship the wheels: python -m "
            f"dogbreed.packing.wheels --python {shipped.training_python} --python {shipped.serving_python} "
            f"--output {folder}",
            file=sys.stderr,
        )
        return None
    return str(folder)


def tune_spec_from(args: argparse.Namespace) -> TuneSpec:
    return TuneSpec(
        **_job_fields(args),
        lr_min=args.lr_min,
        lr_max=args.lr_max,
        batch_sizes=args.batch_sizes,
        tune_freeze_backbone=args.tune_freeze_backbone,
        max_jobs=args.max_jobs,
        max_parallel_jobs=args.max_parallel_jobs,
        early_stopping=args.early_stopping,
        strategy=args.strategy,
    )


def train_spec_from(args: argparse.Namespace) -> TrainSpec:
    return TrainSpec(
        **_job_fields(args),
        instance_count=args.instance_count,
        processes_per_node=args.processes_per_node,
        checkpoint_s3_uri=args.checkpoint_s3_uri,
        from_tuning_job=args.from_tuning_job,
    )


def _cmd_upload(args, settings: AwsSettings) -> dict[str, Any]:
    destination = args.dest or default_data_uri(settings)
    return {"data": upload_data(args.source, destination, settings, make_session(settings))}


def _cmd_tune(args, settings: AwsSettings) -> dict[str, Any]:
    spec = tune_spec_from(args)
    if args.dry_run:
        return {"dry_run": describe_tune_request(spec, settings)}
    return {"tuning_job": tune(spec, settings, wait=args.wait, check_quota=args.quota_check)}


def _cmd_results(args, settings: AwsSettings) -> dict[str, Any]:
    session = make_session(settings)
    rows = tuning_results(session, args.tuning_job)
    print(format_table(rows), file=sys.stderr)
    result: dict[str, Any] = {"tuning_job": args.tuning_job, "trials": rows}
    if args.plot:
        result["plot"] = str(plot_tuning_results(rows, args.plot, objective().name))
    return result


def _cmd_train(args, settings: AwsSettings) -> dict[str, Any]:
    spec = train_spec_from(args)
    if args.dry_run:
        return {"dry_run": describe_train_request(spec, settings)}
    job = train(spec, settings, wait=args.wait, check_quota=args.quota_check)
    return {"training_job": job, "checkpoint_s3_uri": spec.checkpoint_s3_uri}


def _cmd_publish(args, settings: AwsSettings) -> dict[str, Any]:
    session = make_session(settings)
    model_data = args.model_data or model_artifact(
        session, training_job=args.training_job, tuning_job=args.tuning_job
    )
    tfvars = None if args.no_tfvars else args.tfvars
    if args.dry_run:
        bucket = split_s3_uri(model_data)[0]
        return {
            "dry_run": {
                "source": model_data,
                "publish_to": published_url(bucket, "<sha256>"),
                "tfvars": str(tfvars),
                "ssm_parameter": args.ssm_parameter,
            }
        }
    return publish(
        session,
        model_data,
        tfvars_path=tfvars,
        ssm_parameter=args.ssm_parameter,
        kms_key_arn=settings.kms_key_arn,
    )


def _cmd_predict(args, settings: AwsSettings) -> dict[str, Any]:
    name = args.function_name or function_name_from_stack(args.terraform_dir, args.terraform_outputs)
    return predict(make_session(settings), name, args.image, args.top_k)


def _cmd_ec2_run(args, settings: AwsSettings) -> dict[str, Any]:
    template = args.launch_template or TerraformOutputs.load(args.terraform_dir, args.terraform_outputs).get(
        "ec2_trainer_launch_template_id"
    )
    return start_run(make_session(settings), settings, template, args.run_id)


COMMANDS = {
    "upload-data": _cmd_upload,
    "tune": _cmd_tune,
    "results": _cmd_results,
    "train": _cmd_train,
    "publish": _cmd_publish,
    "predict": _cmd_predict,
    "ec2-run": _cmd_ec2_run,
}
