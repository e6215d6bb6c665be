"""What ``--dry-run`` prints: the requests tune and train would hand the SDK. Nothing is sent.

For a tuning job also what the launcher adds to the SDK's TrainingJobDefinition on the way out (the v3 tuner
drops the volume key and the traffic encryption: job_security.py), in the API's own field names."""

from __future__ import annotations

from typing import Any

from dogbreed.orchestration import job_security, sdk
from dogbreed.orchestration.jobs import check_tune_spec, prepare_train_spec
from dogbreed.orchestration.s3 import source_tarball_uri
from dogbreed.orchestration.settings import AwsSettings
from dogbreed.orchestration.source import source_tarball
from dogbreed.orchestration.specs import TrainSpec, TuneSpec


def describe_tune_request(spec: TuneSpec, settings: AwsSettings) -> dict[str, Any]:
    settings.check_network()
    check_tune_spec(spec)
    ranges = {name: _dump_range(r) for name, r in sdk.tuning_ranges(spec).items()}
    return {
        "HyperparameterTuner": {**sdk.tuner_options(spec, settings), "hyperparameter_ranges": ranges},
        "ModelTrainer": _dump_trainer_configs(spec, settings),
        "inputs": [_dump(i) for i in sdk.data_inputs(spec, settings)],
        "TrainingJobDefinition": job_security.tuning_definition_additions(spec.instance_type, settings),
    }


def describe_train_request(spec: TrainSpec, settings: AwsSettings, session=None) -> dict[str, Any]:
    """What `train` would hand the SDK; reads the tuning job when the spec names one, creates nothing."""
    settings.check_network()
    prepare_train_spec(spec, settings, session)
    return {
        "ModelTrainer": {
            **_dump_trainer_configs(spec, settings),
            "distributed": {"Torchrun": _dump(sdk.torchrun(spec))},
            "checkpoint_config": _dump(sdk.checkpoint_config(spec)),
        },
        "input_data_config": [_dump(i) for i in sdk.data_inputs(spec, settings)],
    }


def _dump_trainer_configs(spec, settings: AwsSettings) -> dict[str, Any]:
    tarball = source_tarball(sdk.shipped_wheels(spec))
    source_uri = source_tarball_uri(settings, tarball)  # where the job would find its code
    return {k: _dump(v) for k, v in sdk.trainer_configs(spec, settings, source_uri).items()}


def _dump(config: Any) -> Any:
    if hasattr(config, "model_dump"):  # the SDK's pydantic configs; "" marks fields it leaves unassigned
        return {k: v for k, v in config.model_dump(exclude_none=True, warnings=False).items() if v != ""}
    return config


def _dump_range(parameter_range) -> dict[str, Any]:
    kind = type(parameter_range).__name__
    return {"type": kind, **{k: v for k, v in vars(parameter_range).items() if v is not None}}
