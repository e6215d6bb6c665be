"""One acceptance run's settings: its unique stack name, where it works, what it deploys."""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dogbreed.bill.prices import PriceTable
from dogbreed.utils.repo import REPO_ROOT

WORK_ROOT = REPO_ROOT / ".acceptance"
NAME_PREFIX = "acc"  # the root stack's name: 3-22 of [a-z0-9-], starting with a letter
TRAINING_USE = "training"
SERVING_USE = "real-time inference"
MODEL_ARCH = "mobilenet_v3_small"  # the smallest torchvision classifier the training code builds
TRAINING_HYPERPARAMETERS = {
    "arch": MODEL_ARCH,
    "pretrained": "true",  # from the weights the run staged (inputs.py): the jobs' `weights` channel
    "epochs": "1",
    "crop-size": "64",
    "num-workers": "1",
    "patience": "0",
}


def unique_name() -> str:
    """acc-<UTC date>-<4 random hex>: 17 characters, a new stack (bucket, roles, key alias) every run."""
    return f"{NAME_PREFIX}-{datetime.datetime.now(datetime.UTC):%m%d%H%M}-{secrets.token_hex(2)}"


@dataclass
class RunConfig:
    region: str
    spend: bool = False
    name: str = field(default_factory=unique_name)
    work_root: Path = WORK_ROOT
    budget_emails: list[str] = field(default_factory=list)
    budget_limit_usd: float = 25.0
    job_timeout_s: int = 3 * 3600
    poll_s: float = 30.0
    extra_tfvars: dict[str, Any] = field(default_factory=dict)
    train_instance_type: str = ""
    endpoint_instance_type: str = ""

    def __post_init__(self) -> None:
        prices = PriceTable.load()
        self.train_instance_type = self.train_instance_type or prices.cheapest(TRAINING_USE)
        # Burstable ml.t* types cannot be autoscaled (the endpoint module refuses them).
        self.endpoint_instance_type = self.endpoint_instance_type or prices.cheapest(
            SERVING_USE, exclude_prefixes=("ml.t",)
        )

    @property
    def workdir(self) -> Path:
        return self.work_root / self.name

    @property
    def endpoint_name(self) -> str:
        return f"{self.name}-endpoint"  # terraform/main.tf: local.endpoint_name

    def tfvars(self) -> dict[str, Any]:
        """The run's root variables: cheapest serving that still autoscales, data deleted on destroy."""
        return {
            "region": self.region,
            "name": self.name,
            "allow_destroy_data": True,
            "endpoint": {
                "instance_type": self.endpoint_instance_type,
                "enable_autoscaling": True,
                "min_capacity": 1,
                "max_capacity": 2,
                # A first deployment has no old fleet to shift from; a canary would need two instances.
                "deployment": {"traffic_routing": "ALL_AT_ONCE"},
                "log_retention_in_days": 1,
            },
            # No provisioned concurrency (billed by the hour); one reserved unit caps the function.
            "predict_api": {"provisioned_concurrency": 0, "reserved_concurrency": 1},
            "budget": {
                "create": True,
                "monthly_limit_usd": self.budget_limit_usd,
                "alert_emails": list(self.budget_emails),
            },
            "tags": {"Acceptance": self.name},
            **self.extra_tfvars,
        }
