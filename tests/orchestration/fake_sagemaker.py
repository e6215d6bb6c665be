"""What SageMaker does after a job is created and moto leaves out, installed into the moto server's process.

moto records CreateTrainingJob and CreateHyperParameterTuningJob requests exactly as sent (that is what the
tests check), marks them Completed at once, but runs nothing: no model.tar.gz appears, a tuning job has no
trials, its BestTrainingJob is a fixed placeholder, and ListTrainingJobsForHyperParameterTuningJob is not
implemented. This module plays the service's part at that boundary:

- every training job leaves a model.tar.gz at its ModelArtifacts.S3ModelArtifacts URI;
- every tuning job runs MaxNumberOfTrainingJobs trials: hyperparameters drawn from its ParameterRanges (log
  scale honoured), each trial a real moto training job built from the job's TrainingJobDefinition (plus the
  `_tuning_objective_metric` hyperparameter the service adds to every trial), scored by
  a made-up deterministic objective (the numbers mean nothing — no model is trained), the best one reported;
- ListTrainingJobsForHyperParameterTuningJob returns the trials.

It patches moto's classes, so it only affects a server running in this process (ThreadedMotoServer).
"""

from __future__ import annotations

import io
import math
import random
import tarfile
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.s3.models import s3_backends
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from dev.moto_patches import patched

FAKE_MODEL_MEMBER = "model_meta.json"


def _fake_model_tarball() -> bytes:
    buffer = io.BytesIO()
    payload = b'{"note": "written by tests/orchestration/fake_sagemaker.py, not a trained model"}'
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo(FAKE_MODEL_MEMBER)
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def _put_artifact(account_id: str, uri: str) -> None:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    s3_backends[account_id]["aws"].put_object(bucket, key, _fake_model_tarball())


def _sample(ranges: dict[str, Any], rng: random.Random) -> dict[str, str]:
    values = {}
    for r in ranges.get("ContinuousParameterRanges", []):
        low, high = float(r["MinValue"]), float(r["MaxValue"])
        if r.get("ScalingType") == "Logarithmic":
            values[r["Name"]] = f"{math.exp(rng.uniform(math.log(low), math.log(high))):.6g}"
        else:
            values[r["Name"]] = f"{rng.uniform(low, high):.6g}"
    for r in ranges.get("IntegerParameterRanges", []):
        values[r["Name"]] = str(rng.randint(int(r["MinValue"]), int(r["MaxValue"])))
    for r in ranges.get("CategoricalParameterRanges", []):
        values[r["Name"]] = rng.choice(r["Values"])
    return values


def _made_up_objective(tuned: dict[str, str]) -> float:
    """A smooth, deterministic score peaking near lr=1e-3, so 'best' is well defined. Not a measurement."""
    lr = float(next((v for k, v in tuned.items() if k in ("lr", "learning-rate")), "0.001"))
    return round(0.9 - 0.05 * (math.log10(lr) + 3) ** 2, 4)


def _run_trials(backend: SageMakerModelBackend, tuning_name: str) -> None:
    tuning = backend.hyper_parameter_tuning_jobs[tuning_name]
    config = tuning.hyper_parameter_tuning_job_config
    definition = tuning.training_job_definition
    objective = config["HyperParameterTuningJobObjective"]
    rng = random.Random(tuning_name)
    trials = []
    for index in range(int(config["ResourceLimits"]["MaxNumberOfTrainingJobs"])):
        tuned = _sample(config.get("ParameterRanges", {}), rng)
        job = backend.create_training_job(
            training_job_name=f"{tuning_name}-{index + 1:03d}-{rng.getrandbits(32):08x}",
            hyper_parameters={
                **definition.get("StaticHyperParameters", {}),
                **tuned,
                "_tuning_objective_metric": objective["MetricName"],  # the service adds it to every trial
            },
            algorithm_specification=dict(definition["AlgorithmSpecification"]),
            role_arn=definition["RoleArn"],
            input_data_config=definition.get("InputDataConfig", []),
            output_data_config=definition["OutputDataConfig"],
            resource_config=definition["ResourceConfig"],
            vpc_config=definition.get("VpcConfig"),
            stopping_condition=definition["StoppingCondition"],
            tags=[],
            enable_network_isolation=False,
            enable_inter_container_traffic_encryption=False,
            enable_managed_spot_training=definition.get("EnableManagedSpotTraining", False),
            checkpoint_config=definition.get("CheckpointConfig"),
            debug_hook_config=None,
            debug_rule_configurations=None,
            tensor_board_output_config=None,
            experiment_config=None,
        )
        now = utcnow()
        trials.append(
            {
                "TrainingJobName": job.training_job_name,
                "TrainingJobArn": job.arn,
                "TuningJobName": tuning_name,
                "CreationTime": now,
                "TrainingStartTime": now,
                "TrainingEndTime": now,
                "TrainingJobStatus": "Completed",
                "TunedHyperParameters": tuned,
                "FinalHyperParameterTuningJobObjectiveMetric": {
                    "Type": objective["Type"],
                    "MetricName": objective["MetricName"],
                    "Value": _made_up_objective(tuned),
                },
                "ObjectiveStatus": "Succeeded",
            }
        )
    sign = 1 if objective["Type"] == "Maximize" else -1
    tuning.trials = trials
    tuning.best_training_job = max(
        trials, key=lambda t: sign * t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    )
    tuning.OverallBestTrainingJob = tuning.best_training_job
    tuning.training_job_status_counters = {**tuning.training_job_status_counters, "Completed": len(trials)}


def _list_training_jobs_for_tuning_job(self: SageMakerResponse) -> ActionResult:
    name = self._get_param("HyperParameterTuningJobName")
    backend = self.sagemaker_backend
    backend.describe_hyper_parameter_tuning_job(name)  # raises ResourceNotFound like the service
    trials = getattr(backend.hyper_parameter_tuning_jobs[name], "trials", [])
    return ActionResult({"TrainingJobSummaries": trials})


def _leaving_an_artifact(create_training_job):
    def wrapper(self, *args, **kwargs):
        job = create_training_job(self, *args, **kwargs)
        _put_artifact(self.account_id, job.model_artifacts["S3ModelArtifacts"])
        return job

    return wrapper


def _running_the_trials(create_hyper_parameter_tuning_job):
    def wrapper(self, *args, **kwargs):
        arn = create_hyper_parameter_tuning_job(self, *args, **kwargs)
        _run_trials(self, kwargs["hyper_parameter_tuning_job_name"])
        return arn

    return wrapper


def simulated_sagemaker():
    """Patch moto's SageMaker so jobs 'run' (see module docstring); restores moto on exit."""
    return patched(
        wrapped=[
            (SageMakerModelBackend, "create_training_job", _leaving_an_artifact),
            (SageMakerModelBackend, "create_hyper_parameter_tuning_job", _running_the_trials),
        ],
        added=[
            (
                SageMakerResponse,
                "list_training_jobs_for_hyper_parameter_tuning_job",
                _list_training_jobs_for_tuning_job,
            )
        ],
    )
