"""Create the jobs: a hyperparameter tuning job, and the distributed training job (optionally from its best
trial). Every hyperparameter is checked by train.py's own parser, the instance quota and the staged weights
are checked, before anything is sent."""

from __future__ import annotations

from dogbreed.orchestration import sdk
from dogbreed.orchestration.hyperparameters import check_accepted_by_train_script, weights_source
from dogbreed.orchestration.quotas import check_instance_quota, quota_client
from dogbreed.orchestration.results import best_training_job
from dogbreed.orchestration.s3 import check_weights_staged, default_checkpoint_uri, upload_source_tarball
from dogbreed.orchestration.session import make_session
from dogbreed.orchestration.settings import AwsSettings
from dogbreed.orchestration.specs import JobSpec, TrainSpec, TuneSpec


def check_tune_spec(spec: TuneSpec) -> None:
    spec.validate()
    for candidate in spec.candidate_hyperparameters():
        check_accepted_by_train_script(candidate)


def preflight(spec: JobSpec, settings: AwsSettings, session, instances: int, check_quota: bool) -> None:
    """What would make the job fail after it is created: too low a quota, weights that were never staged."""
    if check_quota:
        client = quota_client(session.boto_session, settings.region)
        check_instance_quota(client, spec.instance_type, instances, spec.spot, settings.region)
    if (weights := weights_source(spec.hyperparameters)) is not None:
        check_weights_staged(session, settings, weights)


def tune(
    spec: TuneSpec, settings: AwsSettings, session=None, *, wait: bool = False, check_quota: bool = True
) -> str:
    """Create the hyperparameter tuning job; returns its name."""
    settings.check_network()
    check_tune_spec(spec)
    session = session or make_session(settings)
    preflight(spec, settings, session, spec.max_parallel_jobs * spec.instance_count, check_quota)
    source = upload_source_tarball(session, settings, sdk.shipped_wheels(spec))
    tuner = sdk.build_tuner(spec, settings, session, source)
    tuner.tune(inputs=sdk.data_inputs(spec, settings), wait=wait)
    return tuner.latest_tuning_job.hyper_parameter_tuning_job_name


def prepare_train_spec(spec: TrainSpec, settings: AwsSettings, session=None) -> None:
    """Fill in the best trial's hyperparameters (--hp wins) and the checkpoint prefix, then check it all."""
    if spec.from_tuning_job:
        best = best_training_job(session or make_session(settings), spec.from_tuning_job)
        spec.hyperparameters = {**best.hyperparameters, **spec.hyperparameters}
    spec.checkpoint_s3_uri = spec.checkpoint_s3_uri or default_checkpoint_uri(settings)
    spec.validate()
    check_accepted_by_train_script(spec.hyperparameters)


def train(
    spec: TrainSpec, settings: AwsSettings, session=None, *, wait: bool = False, check_quota: bool = True
) -> str:
    """Create the distributed training job (torchrun on every instance); returns its name."""
    settings.check_network()
    session = session or make_session(settings)
    prepare_train_spec(spec, settings, session)
    preflight(spec, settings, session, spec.instance_count, check_quota)
    source = upload_source_tarball(session, settings, sdk.shipped_wheels(spec))
    trainer = sdk.build_distributed_trainer(spec, settings, session, source)
    trainer.train(input_data_config=sdk.data_inputs(spec, settings), wait=wait, logs=wait)
    return sdk.started_training_job_name(trainer)
