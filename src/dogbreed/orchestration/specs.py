"""Job specifications: what a SageMaker job of this project needs, validated before anything is sent.

``JobSpec``: instances, spot and time limits, data, image, hyperparameters; ``TuneSpec``: a tuning job's
ranges and budget; ``TrainSpec``: the distributed job's torchrun processes and checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dogbreed.orchestration.errors import LauncherError
from dogbreed.orchestration.hyperparameters import BATCH_SIZE, FREEZE_BACKBONE, LEARNING_RATE

DEFAULT_FRAMEWORK_VERSION = "2.10"  # newest PyTorch training DLC known to sagemaker 3.27
DEFAULT_TUNE_INSTANCE = "ml.g4dn.xlarge"
DEFAULT_TRAIN_INSTANCE = "ml.g5.xlarge"


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
    # Wheels shipped in the source tarball so train.py packs int8 without a package index (None: the job
    # packs the fp32 torch network and says why); see dogbreed.orchestration.source.
    wheelhouse: str | None = None

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
