"""Launch the dog-breed training on SageMaker with the SageMaker Python SDK v3.

Subcommands (``dogbreed-launch <command> --help`` for every flag):

  upload-data  copy a local dogImages folder ({train,valid,test}/NNN.Breed/*.jpg) to S3
  tune         hyperparameter tuning job: learning rate (log scale), batch size, optionally freeze-backbone
  results      the tuning job's training jobs as a table (and a PNG plot)
  train        one distributed training job (torchrun across instances, managed spot, S3 checkpoints),
               hyperparameters given with --hp or taken from the best job of --from-tuning-job
  publish      record the winning model.tar.gz where the Terraform root stack reads it
               (terraform/model.auto.tfvars.json and optionally an SSM parameter)
  predict      after `terraform apply`: call the prediction Lambda with an image

Region, bucket, roles and KMS key come from flags or from ``terraform output -json`` of the root stack
(outputs ``region``, ``data_bucket_name``, ``training_role_arn``, ``kms_key_arn``); nothing is hard-coded.
``--dry-run`` prints the request that would be handed to SageMaker and sends nothing.

The tuner's objective and metric regexes are imported from ``dogbreed.training.metrics`` (the training
code's single definition), and every hyperparameter is checked with ``train.py``'s own argument parser
before a job is created.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import hashlib
import io
import json
import logging
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dogbreed.orchestration.source import ENTRY_POINT, source_tarball, staged_source_dir
from dogbreed.training import metrics as training_metrics
from dogbreed.utils import tfvars
from dogbreed.utils.repo import TERRAFORM_DIR

DEFAULT_TERRAFORM_DIR = TERRAFORM_DIR
STAGED_SOURCE = "<train.py and the dogbreed package, staged when the job is created>"
DEFAULT_TFVARS_PATH = DEFAULT_TERRAFORM_DIR / "model.auto.tfvars.json"
TFVARS_VARIABLE = "model_data_url"

# SageMaker hands every hyperparameter to the entry point as "--<name> <value>"; these are train.py's flags.
LEARNING_RATE = "learning-rate"
BATCH_SIZE = "batch-size"
FREEZE_BACKBONE = "freeze-backbone"
DATA_CHANNEL = "training"

DEFAULT_FRAMEWORK_VERSION = "2.10"  # newest PyTorch training DLC known to sagemaker 3.27
DEFAULT_TUNE_INSTANCE = "ml.g4dn.xlarge"
DEFAULT_TRAIN_INSTANCE = "ml.g5.xlarge"
# The root stack's default `name`; its IAM policies only allow SageMaker jobs named <name>-*.
DEFAULT_JOB_PREFIX = "dogbreed"
# The bucket prefixes the stack's IAM policies allow: the notebook role writes only data/ and code/, the
# training role reads data/, code/ and checkpoints/ and writes models/ and checkpoints/ (policies/*.json).
STAGING_PREFIX = "code"
CHECKPOINT_PREFIX = "checkpoints"
MODEL_PREFIX = "models"

log = logging.getLogger("launch")


class LauncherError(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits 2."""


# --------------------------------------------------------------------------- where AWS values come from


@dataclass(frozen=True)
class TerraformOutputs:
    """Values read from the root stack's ``terraform output -json`` (or a saved copy of it)."""

    values: Mapping[str, Any]
    origin: str

    @classmethod
    def load(
        cls, terraform_dir: Path = DEFAULT_TERRAFORM_DIR, outputs_file: Path | None = None
    ) -> TerraformOutputs:
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

    @property
    def training_job_base(self) -> str:
        return self.job_prefix

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
}


def resolve_settings(
    *,
    region: str | None = None,
    bucket: str | None = None,
    role: str | None = None,
    kms_key: str | None = None,
    job_prefix: str | None = None,
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
    }
    outputs: TerraformOutputs | None = None
    resolved: dict[str, str | None] = {}
    for name, value in given.items():
        if not value:
            outputs = outputs or TerraformOutputs.load(terraform_dir, terraform_outputs)
            value = outputs.get(_SETTING_SOURCES[name][1])
        resolved[name] = value or None
    for name in ("region", "bucket", "training_role_arn"):
        if not resolved[name]:
            flag, output = _SETTING_SOURCES[name]
            where = outputs.origin if outputs else "terraform output"
            raise LauncherError(f"no {name}: pass {flag} or apply the root stack so `{where}` has `{output}`")
    resolved["job_prefix"] = resolved["job_prefix"] or DEFAULT_JOB_PREFIX
    return AwsSettings(**resolved)


def make_session(settings: AwsSettings):
    """A SageMaker session staging uploads in the project bucket (never a sagemaker-<account> default)."""
    import boto3
    from sagemaker.core.helper.session_helper import Session

    boto_session = boto3.Session(region_name=settings.region)
    session = Session(
        boto_session=boto_session, default_bucket=settings.bucket, default_bucket_prefix=STAGING_PREFIX
    )
    # The bucket is Terraform's. Without this the SDK probes it on first use (ListBuckets, then ListObjects
    # on the bare prefix, or CreateBucket), which the least-privilege notebook role is rightly denied.
    session._default_bucket = settings.bucket
    return session


# --------------------------------------------------------------------------- hyperparameters


def parse_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """``["epochs=5", "batch_size=64"]`` -> ``{"epochs": "5", "batch-size": "64"}`` (train.py spelling)."""
    result = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise LauncherError(f"hyperparameter {pair!r} is not NAME=VALUE")
        result[name.strip().lstrip("-").replace("_", "-")] = value.strip()
    return result


def to_cli_args(hyperparameters: Mapping[str, str]) -> list[str]:
    """The argv SageMaker builds for the entry point: ``--name value`` for each hyperparameter."""
    args: list[str] = []
    for name, value in hyperparameters.items():
        args += [f"--{name}", str(value)]
    return args


def check_accepted_by_train_script(hyperparameters: Mapping[str, str]) -> None:
    """Parse and validate the hyperparameters as train.py will; whatever it rejects is a LauncherError."""
    from dogbreed.training import train as train_script  # imports torch: only when a job is checked

    stderr = io.StringIO()
    try:
        parser = train_script.get_args_parser()
        parser.prog = ENTRY_POINT
        with contextlib.redirect_stderr(stderr):
            args = parser.parse_args(to_cli_args(hyperparameters))
        train_script.validate_args(args)
    except SystemExit as e:
        reason = stderr.getvalue().strip().splitlines()[-1:] or ["rejected"]
        raise LauncherError(f"train.py does not accept {dict(hyperparameters)}: {reason[0]}") from e
    except train_script.ConfigError as e:
        raise LauncherError(f"train.py does not accept {dict(hyperparameters)}: {e}") from e


@dataclass(frozen=True)
class Objective:
    name: str
    type: str  # Maximize or Minimize
    metric_definitions: list[dict[str, str]]


def objective() -> Objective:
    """The tuner objective and metric regexes, from the training code (the only place they are written)."""
    return Objective(
        training_metrics.OBJECTIVE_METRIC,
        training_metrics.OBJECTIVE_TYPE,
        [dict(d) for d in training_metrics.METRIC_DEFINITIONS],
    )


# --------------------------------------------------------------------------- job specifications


@dataclass
class JobSpec:
    """What every SageMaker job of this project needs besides its hyperparameters."""

    data_uri: str | None = None
    instance_type: str = DEFAULT_TRAIN_INSTANCE
    instance_count: int = 1
    spot: bool = True
    max_run_seconds: int = 2 * 3600
    max_wait_seconds: int | None = None  # spot only; defaults to 2 x max_run
    volume_size_gb: int = 50
    image_uri: str | None = None
    framework_version: str = DEFAULT_FRAMEWORK_VERSION
    hyperparameters: dict[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        if not self.instance_type.startswith("ml."):
            raise LauncherError(
                f"instance type {self.instance_type!r} must be a SageMaker type such as ml.g5.xlarge"
            )
        if self.instance_count < 1:
            raise LauncherError(f"instance count must be >= 1, got {self.instance_count}")
        if self.max_run_seconds <= 0:
            raise LauncherError("max run must be > 0 seconds")
        if self.volume_size_gb < 1:
            raise LauncherError(f"volume size must be >= 1 GB, got {self.volume_size_gb}")
        if not self.spot and self.max_wait_seconds is not None:
            raise LauncherError("max wait only applies to spot training; drop it or drop --no-spot")
        if self.spot and self.wait_seconds() < self.max_run_seconds:
            raise LauncherError(
                f"spot: max wait ({self.wait_seconds()} s) must be >= max run ({self.max_run_seconds} s)"
            )
        if self.data_uri is not None and not self.data_uri.startswith("s3://"):
            raise LauncherError(f"data must be an s3:// URI, got {self.data_uri!r}")

    def wait_seconds(self) -> int:
        return self.max_wait_seconds or 2 * self.max_run_seconds


@dataclass
class TuneSpec(JobSpec):
    instance_type: str = DEFAULT_TUNE_INSTANCE
    lr_min: float = 1e-4
    lr_max: float = 1e-1
    batch_sizes: list[int] = field(default_factory=lambda: [32, 64, 128])
    tune_freeze_backbone: bool = False
    max_jobs: int = 8
    max_parallel_jobs: int = 2
    early_stopping: bool = True
    strategy: str = "Bayesian"

    def validate(self) -> None:
        super().validate()
        if self.instance_count != 1:
            raise LauncherError(
                "tuning jobs run single-instance trials; use `train` for multi-instance training"
            )
        if not 0 < self.lr_min < self.lr_max:
            raise LauncherError(f"need 0 < lr-min < lr-max, got {self.lr_min} and {self.lr_max}")
        if not self.batch_sizes or any(b < 1 for b in self.batch_sizes):
            raise LauncherError(f"batch sizes must be positive integers, got {self.batch_sizes}")
        if not 1 <= self.max_parallel_jobs <= self.max_jobs:
            raise LauncherError(
                f"need 1 <= max parallel jobs <= max jobs, got {self.max_parallel_jobs} and {self.max_jobs}"
            )
        tuned = {LEARNING_RATE, BATCH_SIZE} | ({FREEZE_BACKBONE} if self.tune_freeze_backbone else set())
        if overlap := tuned & set(self.hyperparameters):
            raise LauncherError(f"{sorted(overlap)} are tuned; do not also pass them with --hp")

    def candidate_hyperparameters(self) -> list[dict[str, str]]:
        """The static hyperparameters combined with each end of every range (all must parse in train.py)."""
        freeze = ["true", "false"] if self.tune_freeze_backbone else [None]
        combos = []
        for lr in (self.lr_min, self.lr_max):
            for batch in self.batch_sizes:
                for frozen in freeze:
                    combo = {**self.hyperparameters, LEARNING_RATE: str(lr), BATCH_SIZE: str(batch)}
                    if frozen is not None:
                        combo[FREEZE_BACKBONE] = frozen
                    combos.append(combo)
        return combos


@dataclass
class TrainSpec(JobSpec):
    instance_count: int = 2
    processes_per_node: int | None = None  # torchrun default: one per GPU
    checkpoint_s3_uri: str | None = None  # default: s3://<bucket>/checkpoints/dogbreed-<UTC time>/
    from_tuning_job: str | None = None

    def validate(self) -> None:
        super().validate()
        if self.processes_per_node is not None and self.processes_per_node < 1:
            raise LauncherError(f"processes per node must be >= 1, got {self.processes_per_node}")
        if self.checkpoint_s3_uri is not None and not self.checkpoint_s3_uri.startswith("s3://"):
            raise LauncherError(f"checkpoint location must be an s3:// URI, got {self.checkpoint_s3_uri!r}")


def default_data_uri(settings: AwsSettings) -> str:
    return f"s3://{settings.bucket}/data/dogImages/"


def resolve_image_uri(spec: JobSpec, region: str) -> str:
    """The AWS PyTorch training DLC for the region, framework version and CPU/GPU kind of the instance."""
    if spec.image_uri:
        return spec.image_uri
    from sagemaker.core import image_uris

    try:
        return image_uris.retrieve(
            "pytorch",
            region=region,
            version=spec.framework_version,
            instance_type=spec.instance_type,
            image_scope="training",
        )
    except ValueError as e:
        raise LauncherError(f"no PyTorch training image for {spec.framework_version} in {region}: {e}") from e


# --------------------------------------------------------------------------- the SDK objects


def source_tarball_uri(settings: AwsSettings, tarball: bytes) -> str:
    digest = hashlib.sha256(tarball).hexdigest()[:16]
    return (
        f"s3://{settings.bucket}/{STAGING_PREFIX}/{settings.tuning_job_base}/source/{digest}/sourcedir.tar.gz"
    )


def upload_source_tarball(session, settings: AwsSettings) -> str:
    """Stage the trials' code ourselves: the SDK's tuning upload skips KMS and the ignore patterns."""
    tarball = source_tarball()
    uri = source_tarball_uri(settings, tarball)
    bucket, key = split_s3_uri(uri)
    s3 = session.boto_session.client("s3", region_name=settings.region)
    s3.put_object(Bucket=bucket, Key=key, Body=tarball, **_sse_args(settings))
    return uri


def _sse_args(settings: AwsSettings) -> dict[str, str]:
    if not settings.kms_key_arn:
        return {}
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": settings.kms_key_arn}


def _sdk_configs(spec: JobSpec, settings: AwsSettings, source_dir: str) -> dict[str, Any]:
    """Keyword arguments for ``ModelTrainer`` shared by tuning and training."""
    from sagemaker.core.training.configs import (
        Compute,
        OutputDataConfig,
        SourceCode,
        StoppingCondition,
    )

    return dict(
        role=settings.training_role_arn,
        training_image=resolve_image_uri(spec, settings.region),
        source_code=SourceCode(
            source_dir=source_dir, entry_script=ENTRY_POINT, ignore_patterns=["__pycache__", "*.pyc"]
        ),
        compute=Compute(
            instance_type=spec.instance_type,
            instance_count=spec.instance_count,
            volume_size_in_gb=spec.volume_size_gb,
            volume_kms_key_id=settings.kms_key_arn,
            enable_managed_spot_training=spec.spot,
        ),
        stopping_condition=StoppingCondition(
            max_runtime_in_seconds=spec.max_run_seconds,
            max_wait_time_in_seconds=spec.wait_seconds() if spec.spot else None,
        ),
        output_data_config=OutputDataConfig(
            s3_output_path=f"s3://{settings.bucket}/{MODEL_PREFIX}/", kms_key_id=settings.kms_key_arn
        ),
        hyperparameters=dict(spec.hyperparameters),
    )


def _data_inputs(spec: JobSpec, settings: AwsSettings) -> list:
    from sagemaker.core.training.configs import InputData

    return [InputData(channel_name=DATA_CHANNEL, data_source=spec.data_uri or default_data_uri(settings))]


def _torchrun(spec: TrainSpec):
    from sagemaker.train.distributed import Torchrun

    return Torchrun(process_count_per_node=spec.processes_per_node)


def _tuning_ranges(spec: TuneSpec) -> dict[str, Any]:
    from sagemaker.core.parameter import CategoricalParameter, ContinuousParameter

    ranges = {
        LEARNING_RATE: ContinuousParameter(spec.lr_min, spec.lr_max, scaling_type="Logarithmic"),
        BATCH_SIZE: CategoricalParameter([str(b) for b in spec.batch_sizes]),
    }
    if spec.tune_freeze_backbone:
        ranges[FREEZE_BACKBONE] = CategoricalParameter(["true", "false"])
    return ranges


def _tuner_options(spec: TuneSpec, settings: AwsSettings) -> dict[str, Any]:
    target = objective()
    return dict(
        objective_metric_name=target.name,
        objective_type=target.type,
        metric_definitions=target.metric_definitions,
        strategy=spec.strategy,
        max_jobs=spec.max_jobs,
        max_parallel_jobs=spec.max_parallel_jobs,
        early_stopping_type="Auto" if spec.early_stopping else "Off",
        base_tuning_job_name=settings.tuning_job_base,
    )


def default_checkpoint_uri(settings: AwsSettings) -> str:
    """A fresh prefix per run: a spot restart of this job resumes from it, a new job never does."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
    return f"s3://{settings.bucket}/{CHECKPOINT_PREFIX}/{settings.training_job_base}-{stamp}/"


def _checkpoint_config(spec: TrainSpec):
    """Where instances sync /opt/ml/checkpoints, so a spot-interrupted job resumes instead of restarting."""
    from sagemaker.core.training.configs import CheckpointConfig

    return CheckpointConfig(s3_uri=spec.checkpoint_s3_uri)


def build_trial_trainer(spec: TuneSpec, settings: AwsSettings, session, source_uri: str):
    """Tuning trials: one process on one instance, no checkpoints (all trials would share one S3 prefix)."""
    from sagemaker.train.model_trainer import ModelTrainer

    return ModelTrainer(
        sagemaker_session=session,
        base_job_name=settings.training_job_base,
        **_sdk_configs(spec, settings, source_uri),
    )


def build_distributed_trainer(spec: TrainSpec, settings: AwsSettings, session, source_dir: Path):
    """torchrun on every instance (DDP across all of them), checkpoints synced to S3 for spot restarts."""
    from sagemaker.train.model_trainer import ModelTrainer

    return ModelTrainer(
        sagemaker_session=session,
        base_job_name=settings.training_job_base,
        distributed=_torchrun(spec),
        checkpoint_config=_checkpoint_config(spec),
        **_sdk_configs(spec, settings, str(source_dir)),
    )


def build_tuner(spec: TuneSpec, settings: AwsSettings, session, source_uri: str):
    from sagemaker.train.tuner import HyperparameterTuner

    trainer = build_trial_trainer(spec, settings, session, source_uri)
    return HyperparameterTuner(
        model_trainer=trainer, hyperparameter_ranges=_tuning_ranges(spec), **_tuner_options(spec, settings)
    )


# --------------------------------------------------------------------------- requests printed by --dry-run


def _dump(config: Any) -> Any:
    if hasattr(config, "model_dump"):  # the SDK's pydantic configs; "" marks fields it leaves unassigned
        return {k: v for k, v in config.model_dump(exclude_none=True, warnings=False).items() if v != ""}
    return config


def describe_tune_request(spec: TuneSpec, settings: AwsSettings) -> dict[str, Any]:
    check_tune_spec(spec)
    source_uri = source_tarball_uri(settings, source_tarball())
    ranges = {name: _dump_range(r) for name, r in _tuning_ranges(spec).items()}
    return {
        "HyperparameterTuner": {**_tuner_options(spec, settings), "hyperparameter_ranges": ranges},
        "ModelTrainer": {k: _dump(v) for k, v in _sdk_configs(spec, settings, source_uri).items()},
        "inputs": [_dump(i) for i in _data_inputs(spec, settings)],
    }


def _dump_range(parameter_range) -> dict[str, Any]:
    kind = type(parameter_range).__name__
    return {"type": kind, **{k: v for k, v in vars(parameter_range).items() if v is not None}}


def describe_train_request(spec: TrainSpec, settings: AwsSettings, session=None) -> dict[str, Any]:
    """What `train` would hand the SDK; reads the tuning job when the spec names one, creates nothing."""
    prepare_train_spec(spec, settings, session)
    return {
        "ModelTrainer": {
            **{k: _dump(v) for k, v in _sdk_configs(spec, settings, STAGED_SOURCE).items()},
            "distributed": {"Torchrun": _dump(_torchrun(spec))},
            "checkpoint_config": _dump(_checkpoint_config(spec)),
        },
        "input_data_config": [_dump(i) for i in _data_inputs(spec, settings)],
    }


# --------------------------------------------------------------------------- tune / train


def check_tune_spec(spec: TuneSpec) -> None:
    spec.validate()
    for candidate in spec.candidate_hyperparameters():
        check_accepted_by_train_script(candidate)


def tune(spec: TuneSpec, settings: AwsSettings, session=None, *, wait: bool = False) -> str:
    """Create the hyperparameter tuning job; returns its name."""
    check_tune_spec(spec)
    session = session or make_session(settings)
    tuner = build_tuner(spec, settings, session, upload_source_tarball(session, settings))
    tuner.tune(inputs=_data_inputs(spec, settings), wait=wait)
    return tuner.latest_tuning_job.hyper_parameter_tuning_job_name


def prepare_train_spec(spec: TrainSpec, settings: AwsSettings, session=None) -> None:
    """Fill in the best trial's hyperparameters (--hp wins) and the checkpoint prefix, then check it all."""
    if spec.from_tuning_job:
        best = best_training_job(session or make_session(settings), spec.from_tuning_job)
        spec.hyperparameters = {**best.hyperparameters, **spec.hyperparameters}
    spec.checkpoint_s3_uri = spec.checkpoint_s3_uri or default_checkpoint_uri(settings)
    spec.validate()
    check_accepted_by_train_script(spec.hyperparameters)


def train(spec: TrainSpec, settings: AwsSettings, session=None, *, wait: bool = False) -> str:
    """Create the distributed training job (torchrun on every instance); returns its name."""
    session = session or make_session(settings)
    prepare_train_spec(spec, settings, session)
    with staged_source_dir() as source_dir:
        trainer = build_distributed_trainer(spec, settings, session, source_dir)
        trainer.train(input_data_config=_data_inputs(spec, settings), wait=wait, logs=wait)
    return trainer._latest_training_job.training_job_name


# --------------------------------------------------------------------------- reading results back


@dataclass(frozen=True)
class BestJob:
    tuning_job: str
    training_job: str
    objective: float | None
    hyperparameters: dict[str, str]


def best_training_job(session, tuning_job: str) -> BestJob:
    """The tuning job's best trial and the hyperparameters it ran with (SageMaker's own entries removed)."""
    client = session.sagemaker_client
    tuning = _describe(client.describe_hyper_parameter_tuning_job, HyperParameterTuningJobName=tuning_job)
    best = tuning.get("BestTrainingJob")
    if not best or not best.get("TrainingJobName"):
        status = tuning.get("HyperParameterTuningJobStatus", "unknown")
        raise LauncherError(f"tuning job {tuning_job} has no best training job yet (status {status})")
    job = _describe(client.describe_training_job, TrainingJobName=best["TrainingJobName"])
    hyperparameters = {k: _plain(v) for k, v in job.get("HyperParameters", {}).items() if not _service_key(k)}
    metric = best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    return BestJob(tuning_job, best["TrainingJobName"], metric.get("Value"), hyperparameters)


def _service_key(name: str) -> bool:
    """SageMaker's own entries: sagemaker_program & co. and the tuner's _tuning_objective_metric."""
    return name.startswith(("sagemaker_", "_"))


def _plain(value: str) -> str:
    """Undo the JSON quoting SageMaker applies to some string hyperparameters ('"0.01"' -> '0.01')."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _describe(call, **kwargs) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    try:
        return call(**kwargs)
    except ClientError as e:
        raise LauncherError(f"{next(iter(kwargs.values()))}: {e.response['Error'].get('Message', e)}") from e


def tuning_results(session, tuning_job: str) -> list[dict[str, Any]]:
    """One row per trial: name, status, objective value, tuned hyperparameters, billed seconds."""
    client = session.sagemaker_client
    _describe(client.describe_hyper_parameter_tuning_job, HyperParameterTuningJobName=tuning_job)
    paginator = client.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job")
    rows = []
    for page in paginator.paginate(HyperParameterTuningJobName=tuning_job):
        for summary in page["TrainingJobSummaries"]:
            rows.append(_result_row(summary))
    return sorted(rows, key=lambda r: (r["objective"] is None, -(r["objective"] or 0)))


def _result_row(summary: Mapping[str, Any]) -> dict[str, Any]:
    metric = summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    start, end = summary.get("TrainingStartTime"), summary.get("TrainingEndTime")
    return {
        "training_job": summary["TrainingJobName"],
        "status": summary["TrainingJobStatus"],
        "objective": metric.get("Value"),
        **{k: _plain(v) for k, v in summary.get("TunedHyperParameters", {}).items()},
        "seconds": (end - start).total_seconds() if start and end else None,
    }


def plot_tuning_results(
    rows: Sequence[Mapping[str, Any]], path: Path, objective_name: str = "objective"
) -> Path:
    """Objective against learning rate (log axis), one colour per batch size; saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scored = [r for r in rows if r.get("objective") is not None and r.get(LEARNING_RATE) is not None]
    if not scored:
        raise LauncherError("no finished trials with an objective value to plot yet")
    fig, ax = plt.subplots(figsize=(6, 4))
    for batch in sorted({r.get(BATCH_SIZE) for r in scored}, key=lambda b: int(b) if b else 0):
        points = [r for r in scored if r.get(BATCH_SIZE) == batch]
        ax.scatter(
            [float(r[LEARNING_RATE]) for r in points],
            [r["objective"] for r in points],
            label=f"batch {batch}",
        )
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel(objective_name)
    ax.set_title("Hyperparameter tuning trials")
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "(no training jobs yet)"
    columns = list(dict.fromkeys(k for r in rows for k in r))
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


# --------------------------------------------------------------------------- data upload


def upload_data(local_dir: Path, s3_uri: str, settings: AwsSettings, session=None) -> str:
    """Copy a dogImages folder to S3 (KMS-encrypted with the stack's key), with a progress bar."""
    from tqdm import tqdm

    local_dir = Path(local_dir)
    files = _dataset_files(local_dir)
    bucket, prefix = split_s3_uri(s3_uri)
    session = session or make_session(settings)
    s3 = session.boto_session.client("s3", region_name=settings.region)
    extra = _sse_args(settings) or None
    for path in tqdm(files, desc=f"upload to {s3_uri}", unit="file"):
        key = f"{prefix.rstrip('/')}/{path.relative_to(local_dir).as_posix()}".lstrip("/")
        s3.upload_file(str(path), bucket, key, ExtraArgs=extra)
    return f"s3://{bucket}/{prefix.strip('/')}/"


def _dataset_files(local_dir: Path) -> list[Path]:
    missing = [split for split in ("train", "valid", "test") if not (local_dir / split).is_dir()]
    if missing:
        raise LauncherError(
            f"{local_dir} is not a dogImages folder: missing {', '.join(m + '/' for m in missing)}"
        )
    files = sorted(p for p in local_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise LauncherError(f"{local_dir} has no files to upload")
    return files


def split_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or len(uri) <= 5:
        raise LauncherError(f"{uri!r} is not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise LauncherError(f"{uri!r} has no bucket")
    return bucket, key


# --------------------------------------------------------------------------- publish


def model_artifact(session, *, training_job: str | None = None, tuning_job: str | None = None) -> str:
    """The S3 URI of a completed job's model.tar.gz (the best trial's when given a tuning job)."""
    if (training_job is None) == (tuning_job is None):
        raise LauncherError("give exactly one of a training job or a tuning job")
    if tuning_job is not None:
        training_job = best_training_job(session, tuning_job).training_job
    job = _describe(session.sagemaker_client.describe_training_job, TrainingJobName=training_job)
    if job.get("TrainingJobStatus") != "Completed":
        raise LauncherError(f"training job {training_job} is {job.get('TrainingJobStatus')}, not Completed")
    return job["ModelArtifacts"]["S3ModelArtifacts"]


def check_model_exists(session, model_data_url: str) -> None:
    from botocore.exceptions import ClientError

    if not model_data_url.endswith(".tar.gz"):
        raise LauncherError(f"{model_data_url} is not a model.tar.gz")
    bucket, key = split_s3_uri(model_data_url)
    try:
        session.boto_session.client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        raise LauncherError(f"{model_data_url} cannot be read: {e.response['Error'].get('Code')}") from e


def write_tfvars(model_data_url: str, path: Path = DEFAULT_TFVARS_PATH) -> Path:
    """The root stack's auto-loaded model tfvars file, written atomically."""
    return tfvars.write_tfvars(Path(path), {TFVARS_VARIABLE: model_data_url})


def publish(
    session,
    model_data_url: str,
    *,
    tfvars_path: Path | None = DEFAULT_TFVARS_PATH,
    ssm_parameter: str | None = None,
) -> dict[str, str]:
    """Record the model for ``terraform apply``: the tfvars file and/or an SSM parameter."""
    if tfvars_path is None and ssm_parameter is None:
        raise LauncherError("nothing to publish to: give a tfvars path and/or an SSM parameter name")
    check_model_exists(session, model_data_url)
    published = {TFVARS_VARIABLE: model_data_url}
    if tfvars_path is not None:
        published["tfvars"] = str(write_tfvars(model_data_url, tfvars_path))
    if ssm_parameter is not None:
        ssm = session.boto_session.client("ssm")
        ssm.put_parameter(Name=ssm_parameter, Value=model_data_url, Type="String", Overwrite=True)
        published["ssm_parameter"] = ssm_parameter
    return published


# --------------------------------------------------------------------------- try the deployed API


def function_name_from_stack(
    terraform_dir: Path = DEFAULT_TERRAFORM_DIR, outputs_file: Path | None = None
) -> str:
    outputs = TerraformOutputs.load(terraform_dir, outputs_file)
    name = outputs.get("function_name")
    if not name:
        raise LauncherError(
            f"no function_name in `{outputs.origin}`: publish a model, then `terraform apply` the root stack"
        )
    return name


def predict(session, function_name: str, image: Path, top_k: int = 3) -> dict[str, Any]:
    """Invoke the prediction Lambda directly with one image (its JSON request form); returns its answer."""
    image = Path(image)
    if not image.is_file():
        raise LauncherError(f"{image} is not a file")
    request = {"image": base64.b64encode(image.read_bytes()).decode("ascii"), "top_k": top_k}
    client = session.boto_session.client("lambda")
    response = client.invoke(FunctionName=function_name, Payload=json.dumps(request).encode())
    envelope = json.loads(response["Payload"].read() or b"{}")
    if response.get("FunctionError") or "statusCode" not in envelope:
        raise LauncherError(f"{function_name} failed: {envelope.get('errorMessage', 'no response envelope')}")
    body = json.loads(envelope.get("body") or "{}")
    if envelope["statusCode"] != 200:
        error = body.get("error", {})
        raise LauncherError(
            f"{function_name} answered {envelope['statusCode']}: {error.get('message', body)}"
        )
    return body


# --------------------------------------------------------------------------- command line


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _add_upload_parser(commands)
    _add_tune_parser(commands)
    _add_results_parser(commands)
    _add_train_parser(commands)
    _add_publish_parser(commands)
    _add_predict_parser(commands)
    return parser


def _add_aws_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("AWS (default: the root stack's terraform outputs)")
    group.add_argument("--region", help="AWS region (output: region)")
    group.add_argument("--bucket", help="project S3 bucket (output: data_bucket_name)")
    group.add_argument("--role", help="SageMaker training role ARN (output: training_role_arn)")
    group.add_argument("--kms-key", help="KMS key ARN for S3 objects and volumes (output: kms_key_arn)")
    group.add_argument(
        "--job-prefix", help=f"SageMaker job name prefix (output: name, else {DEFAULT_JOB_PREFIX})"
    )
    group.add_argument(
        "--terraform-dir", type=Path, default=DEFAULT_TERRAFORM_DIR, help="root stack directory"
    )
    group.add_argument(
        "--terraform-outputs", type=Path, help="saved `terraform output -json` instead of running it"
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
        "--hp", action="append", default=[], metavar="NAME=VALUE", help="train.py flag, repeatable"
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


def _settings_from(args: argparse.Namespace) -> AwsSettings:
    return resolve_settings(
        region=args.region,
        bucket=args.bucket,
        role=args.role,
        kms_key=args.kms_key,
        job_prefix=args.job_prefix,
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
    )


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
    return {"data": upload_data(args.source, args.dest or default_data_uri(settings), settings)}


def _cmd_tune(args, settings: AwsSettings) -> dict[str, Any]:
    spec = tune_spec_from(args)
    if args.dry_run:
        return {"dry_run": describe_tune_request(spec, settings)}
    return {"tuning_job": tune(spec, settings, wait=args.wait)}


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
    job = train(spec, settings, wait=args.wait)
    return {"training_job": job, "checkpoint_s3_uri": spec.checkpoint_s3_uri}


def _cmd_publish(args, settings: AwsSettings) -> dict[str, Any]:
    session = make_session(settings)
    model_data = args.model_data or model_artifact(
        session, training_job=args.training_job, tuning_job=args.tuning_job
    )
    tfvars = None if args.no_tfvars else args.tfvars
    if args.dry_run:
        return {
            "dry_run": {
                "model_data_url": model_data,
                "tfvars": str(tfvars),
                "ssm_parameter": args.ssm_parameter,
            }
        }
    return publish(session, model_data, tfvars_path=tfvars, ssm_parameter=args.ssm_parameter)


def _cmd_predict(args, settings: AwsSettings) -> dict[str, Any]:
    name = args.function_name or function_name_from_stack(args.terraform_dir, args.terraform_outputs)
    return predict(make_session(settings), name, args.image, args.top_k)


_COMMANDS = {
    "upload-data": _cmd_upload,
    "tune": _cmd_tune,
    "results": _cmd_results,
    "train": _cmd_train,
    "publish": _cmd_publish,
    "predict": _cmd_predict,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        with contextlib.redirect_stdout(
            sys.stderr
        ):  # the SDK prints progress; stdout carries only the result
            settings = _settings_from(args)
            result = _COMMANDS[args.command](args, settings)
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
