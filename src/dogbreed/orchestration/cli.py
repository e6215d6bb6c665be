"""Launch the dog-breed training on SageMaker with the SageMaker Python SDK v3.

``dogbreed-launch`` (or ``python -m dogbreed.orchestration.cli``); the functions behind it live in the
modules of ``dogbreed.orchestration``, which the notebook calls directly.

Subcommands (``dogbreed-launch <command> --help`` for every flag):

  upload-data  copy a local dogImages folder ({train,valid,test}/NNN.Breed/*.jpg) to S3
  tune         hyperparameter tuning job: learning rate (log scale), batch size, optionally freeze-backbone
  results      the tuning job's training jobs as a table (and a PNG plot)
  train        one distributed training job (torchrun across instances, managed spot, S3 checkpoints),
               hyperparameters given with --hp or taken from the best job of --from-tuning-job
  publish      copy the winning model.tar.gz write-once to models/published/<sha256>/ and record it where the
               Terraform root stack reads it (terraform/model.auto.tfvars.json and optionally SSM)
  predict      after `terraform apply`: call the prediction Lambda with an image
  ec2-run      start (or, with the same --run-id, resume) a training run on the EC2 trainer's launch template

Region, bucket, roles, KMS key and the jobs' network come from flags or from ``terraform output -json`` of
the root stack (outputs ``region``, ``data_bucket_name``, ``training_role_arn``, ``kms_key_arn``,
``training_subnet_ids``, ``training_security_group_ids``; a saved copy: --terraform-outputs or
$DOGBREED_TF_OUTPUTS); nothing is hard-coded.
``--dry-run`` prints the request that would be handed to SageMaker and sends nothing. The command prints
one JSON object on stdout; progress and the SDK's logs go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from dogbreed.orchestration.commands import COMMANDS, settings_from
from dogbreed.orchestration.errors import LauncherError
from dogbreed.orchestration.publish import DEFAULT_TFVARS_PATH
from dogbreed.orchestration.settings import DEFAULT_JOB_PREFIX, DEFAULT_TERRAFORM_DIR
from dogbreed.orchestration.specs import (
    DEFAULT_FRAMEWORK_VERSION,
    DEFAULT_TRAIN_INSTANCE,
    DEFAULT_TUNE_INSTANCE,
)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dogbreed-launch",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _add_upload_parser(commands)
    _add_tune_parser(commands)
    _add_results_parser(commands)
    _add_train_parser(commands)
    _add_publish_parser(commands)
    _add_predict_parser(commands)
    _add_ec2_run_parser(commands)
    return parser


def _add_aws_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("AWS (default: the root stack's terraform outputs)")
    group.add_argument("--region", help="AWS region (output: region)")
    group.add_argument("--bucket", help="project S3 bucket (output: data_bucket_name)")
    group.add_argument("--role", help="SageMaker training role ARN (output: training_role_arn)")
    group.add_argument("--kms-key", help="KMS key ARN for S3 objects and volumes (output: kms_key_arn)")
    group.add_argument(
        "--subnet", action="append", help="jobs' subnet, repeatable (output: training_subnet_ids)"
    )
    group.add_argument(
        "--security-group",
        action="append",
        help="jobs' security group, repeatable (output: training_security_group_ids)",
    )
    group.add_argument(
        "--job-prefix", help=f"SageMaker job name prefix (output: name, else {DEFAULT_JOB_PREFIX})"
    )
    group.add_argument(
        "--terraform-dir", type=Path, default=DEFAULT_TERRAFORM_DIR, help="root stack directory"
    )
    group.add_argument(
        "--terraform-outputs",
        type=Path,
        help="saved `terraform output -json` instead of running it (default: $DOGBREED_TF_OUTPUTS)",
    )


def _add_job_flags(parser: argparse.ArgumentParser, default_instance: str) -> None:
    parser.add_argument(
        "--data", help="S3 URI of the dogImages folder (default: s3://<bucket>/data/dogImages/)"
    )
    parser.add_argument("--instance-type", default=default_instance)
    parser.add_argument(
        "--spot", action=argparse.BooleanOptionalAction, default=True, help="managed spot training"
    )
    parser.add_argument(
        "--max-run", type=int, default=2 * 3600, help="seconds of training before SageMaker stops it"
    )
    parser.add_argument(
        "--max-wait", type=int, help="spot: seconds including waiting for capacity (default 2x max-run)"
    )
    parser.add_argument("--volume-size", type=int, default=50, help="GB of EBS per instance")
    parser.add_argument(
        "--image-uri", help="training image (default: the AWS PyTorch training DLC for the region)"
    )
    parser.add_argument("--framework-version", default=DEFAULT_FRAMEWORK_VERSION, help="PyTorch DLC version")
    parser.add_argument(
        "--wheelhouse",
        type=Path,
        help="wheels to ship in the source tarball so the job packs int8 offline (default: build/wheelhouse "
        "when complete; see python -m dogbreed.packing.wheels)",
    )
    parser.add_argument(
        "--hp", action="append", default=[], metavar="NAME=VALUE", help="train.py flag, repeatable"
    )
    parser.add_argument(
        "--quota-check",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="look up the account's Service Quotas for the instance type first",
    )
    parser.add_argument("--wait", action="store_true", help="wait for the job to finish")
    parser.add_argument("--dry-run", action="store_true", help="print the request, send nothing")
    _add_aws_flags(parser)


def _add_upload_parser(commands) -> None:
    p = commands.add_parser("upload-data", help="copy a local dogImages folder to S3")
    p.add_argument("source", type=Path, help="local folder with train/, valid/, test/")
    p.add_argument("--dest", help="S3 URI (default: s3://<bucket>/data/dogImages/)")
    _add_aws_flags(p)


def _add_tune_parser(commands) -> None:
    p = commands.add_parser("tune", help="start a hyperparameter tuning job")
    p.add_argument("--lr-min", type=float, default=1e-4)
    p.add_argument("--lr-max", type=float, default=1e-1)
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 64, 128])
    p.add_argument(
        "--tune-freeze-backbone", action="store_true", help="also try freezing the pretrained backbone"
    )
    p.add_argument("--max-jobs", type=int, default=8)
    p.add_argument("--max-parallel-jobs", type=int, default=2)
    p.add_argument("--early-stopping", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--strategy", choices=["Bayesian", "Random", "Hyperband", "Grid"], default="Bayesian")
    _add_job_flags(p, DEFAULT_TUNE_INSTANCE)


def _add_results_parser(commands) -> None:
    p = commands.add_parser("results", help="show a tuning job's trials")
    p.add_argument("tuning_job")
    p.add_argument("--plot", type=Path, help="also save a PNG plot here")
    _add_aws_flags(p)


def _add_train_parser(commands) -> None:
    p = commands.add_parser("train", help="start a distributed training job")
    p.add_argument("--instance-count", type=int, default=2)
    p.add_argument(
        "--processes-per-node", type=int, help="torchrun processes per instance (default: one per GPU)"
    )
    p.add_argument("--checkpoint-s3-uri", help="default: s3://<bucket>/checkpoints/dogbreed-<UTC time>/")
    p.add_argument("--from-tuning-job", help="start from the best hyperparameters of this tuning job")
    _add_job_flags(p, DEFAULT_TRAIN_INSTANCE)


def _add_publish_parser(commands) -> None:
    p = commands.add_parser("publish", help="point the Terraform root stack at a trained model")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--training-job", help="a completed training job")
    source.add_argument("--tuning-job", help="a tuning job: publish its best trial's model")
    source.add_argument("--model-data", help="an s3://.../model.tar.gz")
    p.add_argument(
        "--tfvars", type=Path, default=DEFAULT_TFVARS_PATH, help="auto-loaded tfvars file to write"
    )
    p.add_argument("--no-tfvars", action="store_true", help="do not write the tfvars file")
    p.add_argument(
        "--ssm-parameter", help="also store the URI in this SSM parameter (e.g. /dogbreed/model_data_url)"
    )
    p.add_argument("--dry-run", action="store_true", help="print what would be written, write nothing")
    _add_aws_flags(p)


def _add_predict_parser(commands) -> None:
    p = commands.add_parser("predict", help="call the deployed prediction Lambda with an image")
    p.add_argument("image", type=Path, help="a JPEG or PNG file")
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--function-name", help="default: the root stack's output function_name")
    _add_aws_flags(p)


def _add_ec2_run_parser(commands) -> None:
    p = commands.add_parser("ec2-run", help="start or resume a run on the EC2 trainer")
    p.add_argument("--run-id", required=True, help="the run's name; the same id resumes from its checkpoints")
    p.add_argument(
        "--launch-template", help="default: the root stack's output ec2_trainer_launch_template_id"
    )
    _add_aws_flags(p)


def main(argv: Sequence[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        # The SDK prints progress; stdout carries only the result.
        with contextlib.redirect_stdout(sys.stderr):
            settings = settings_from(args)
            result = COMMANDS[args.command](args, settings)
    except LauncherError as e:
        print(f"dogbreed-launch {args.command}: error: {e}", file=sys.stderr)
        return 2
    except _aws_errors() as e:
        print(f"dogbreed-launch {args.command}: AWS error: {_one_line(e)}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, default=str))
    return 0


def _aws_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


if __name__ == "__main__":
    sys.exit(main())
