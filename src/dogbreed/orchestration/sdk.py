"""The SageMaker SDK v3 objects a job is built from: ModelTrainer configs, Torchrun, tuner ranges and options.

Both kinds of job run the same code: ``train.py`` and the package as one KMS-encrypted sourcedir.tar.gz in
S3 (``SourceCode.source_dir`` takes "an s3 uri ... to tar.gz file", sagemaker/core/training/configs.py;
the SDK's ``sm_train.sh`` unpacks it before the entry point runs, sagemaker/train/model_trainer.py
``_prepare_train_script``). Both run in the stack's network with KMS where AWS allows it (job_security.py);
a pretrained run reads the staged weights from its ``weights`` channel (dogbreed.pretrained).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dogbreed.orchestration import job_security
from dogbreed.orchestration.errors import LauncherError
from dogbreed.orchestration.hyperparameters import (
    BATCH_SIZE,
    FREEZE_BACKBONE,
    LEARNING_RATE,
    objective,
    weights_source,
)
from dogbreed.orchestration.s3 import default_data_uri, model_output_uri, weights_uri
from dogbreed.orchestration.settings import AwsSettings
from dogbreed.orchestration.source import ENTRY_POINT, REQUIREMENTS, ShippedWheels
from dogbreed.orchestration.specs import JobSpec, TrainSpec, TuneSpec

DATA_CHANNEL = "training"
WEIGHTS_CHANNEL = "weights"  # train.py's --weights-dir defaults to SM_CHANNEL_WEIGHTS


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


def training_python(framework_version: str) -> str:
    """The CPython of the PyTorch training image of `framework_version`, from the SDK's own image table
    (sagemaker/core/image_uri_config/pytorch.json: 2.10 -> py313). An --image-uri of another Python needs
    the wheels of that Python in the wheelhouse too."""
    from sagemaker.core import image_uris

    config = image_uris.config_for_framework("pytorch")["training"]
    try:
        version = image_uris._version_for_config(framework_version, config)
        python = config["versions"][version]["py_versions"][-1]  # e.g. "py313"
    except (KeyError, ValueError, IndexError) as e:
        raise LauncherError(f"no Python known for PyTorch training image {framework_version}: {e}") from e
    return f"{python[2]}.{python[3:]}"


def shipped_wheels(spec: JobSpec) -> ShippedWheels | None:
    """The wheels the job's source tarball carries, or None when the spec ships none."""
    if spec.wheelhouse is None:
        return None
    return ShippedWheels(Path(spec.wheelhouse), training_python(spec.framework_version))


def trainer_configs(spec: JobSpec, settings: AwsSettings, source_uri: str) -> dict[str, Any]:
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
            source_dir=source_uri,
            entry_script=ENTRY_POINT,
            # installs the shipped wheels offline before train.py runs (dogbreed.orchestration.source)
            requirements=REQUIREMENTS if spec.wheelhouse is not None else None,
            ignore_patterns=["__pycache__", "*.pyc"],
        ),
        compute=Compute(
            instance_type=spec.instance_type,
            instance_count=spec.instance_count,
            volume_size_in_gb=spec.volume_size_gb,
            volume_kms_key_id=job_security.volume_kms_key(spec.instance_type, settings),
            enable_managed_spot_training=spec.spot,
        ),
        networking=job_security.networking(settings),
        stopping_condition=StoppingCondition(
            max_runtime_in_seconds=spec.max_run_seconds,
            max_wait_time_in_seconds=spec.wait_seconds() if spec.spot else None,
        ),
        output_data_config=OutputDataConfig(
            s3_output_path=model_output_uri(settings), kms_key_id=settings.kms_key_arn
        ),
        hyperparameters=dict(spec.hyperparameters),
    )


def data_inputs(spec: JobSpec, settings: AwsSettings) -> list:
    """The dataset, and the staged pretrained weights when train.py will load them."""
    from sagemaker.core.training.configs import InputData

    inputs = [InputData(channel_name=DATA_CHANNEL, data_source=spec.data_uri or default_data_uri(settings))]
    if (weights := weights_source(spec.hyperparameters)) is not None:
        inputs.append(InputData(channel_name=WEIGHTS_CHANNEL, data_source=weights_uri(settings, weights)))
    return inputs


def torchrun(spec: TrainSpec):
    from sagemaker.train.distributed import Torchrun

    return Torchrun(process_count_per_node=spec.processes_per_node)


def checkpoint_config(spec: TrainSpec):
    """Where instances sync /opt/ml/checkpoints, so a spot-interrupted job resumes instead of restarting."""
    from sagemaker.core.training.configs import CheckpointConfig

    return CheckpointConfig(s3_uri=spec.checkpoint_s3_uri)


def tuning_ranges(spec: TuneSpec) -> dict[str, Any]:
    from sagemaker.core.parameter import CategoricalParameter, ContinuousParameter

    ranges = {
        LEARNING_RATE: ContinuousParameter(spec.lr_min, spec.lr_max, scaling_type="Logarithmic"),
        BATCH_SIZE: CategoricalParameter([str(b) for b in spec.batch_sizes]),
    }
    if spec.tune_freeze_backbone:
        ranges[FREEZE_BACKBONE] = CategoricalParameter(["true", "false"])
    return ranges


def tuner_options(spec: TuneSpec, settings: AwsSettings) -> dict[str, Any]:
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


def build_trial_trainer(spec: TuneSpec, settings: AwsSettings, session, source_uri: str):
    """Tuning trials: one process on one instance, no checkpoints (all trials would share one S3 prefix)."""
    from sagemaker.train.model_trainer import ModelTrainer

    return ModelTrainer(
        sagemaker_session=session,
        base_job_name=settings.training_job_base,
        **trainer_configs(spec, settings, source_uri),
    )


def build_distributed_trainer(spec: TrainSpec, settings: AwsSettings, session, source_uri: str):
    """torchrun on every instance (DDP across all of them), checkpoints synced to S3 for spot restarts."""
    from sagemaker.train.model_trainer import ModelTrainer

    return ModelTrainer(
        sagemaker_session=session,
        base_job_name=settings.training_job_base,
        distributed=torchrun(spec),
        checkpoint_config=checkpoint_config(spec),
        **trainer_configs(spec, settings, source_uri),
    )


def build_tuner(spec: TuneSpec, settings: AwsSettings, session, source_uri: str):
    from sagemaker.train.tuner import HyperparameterTuner

    trainer = build_trial_trainer(spec, settings, session, source_uri)
    return HyperparameterTuner(
        model_trainer=trainer, hyperparameter_ranges=tuning_ranges(spec), **tuner_options(spec, settings)
    )


def started_training_job_name(trainer) -> str:
    """The name of the job ``trainer.train()`` just created.

    In sagemaker 3.27 ``ModelTrainer.train()`` returns None and keeps the job in a private attribute. Its
    one public view of that job is the ``output_data`` property, documented as
    ``{s3_output_path}/{training_job_name}/output/output.tar.gz`` (sagemaker/train/model_trainer.py), and
    job names cannot contain "/". tests/orchestration/test_launcher_jobs.py fails if that layout changes.
    """
    *_, name, output, archive = trainer.output_data.split("/")
    if (output, archive) != ("output", "output.tar.gz") or not name:
        raise RuntimeError(
            f"the SDK's output_data {trainer.output_data!r} no longer ends in <job>/output/..."
        )
    return name
