"""What the steps share: the run's settings, its stack copy, its report, AWS clients and the values steps
hand on (outputs, jobs, the model), and the hooks a stand-in environment plugs in."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dogbreed.acceptance.config import RunConfig
from dogbreed.acceptance.report import Report
from dogbreed.acceptance.terraform import RUN_TFVARS, Stack


class StepFailed(RuntimeError):
    """A check of a step did not hold; DETAIL says what was seen."""

    def __init__(self, message: str, detail: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.detail = dict(detail or {})


class Refused(RuntimeError):
    """The run would spend money and --spend was not given."""


class Interrupted(BaseException):  # noqa: N818 - raised by a signal handler, like KeyboardInterrupt
    """SIGINT or SIGTERM arrived: the run stops and tears down."""


@dataclass
class Hooks:
    """Where a stand-in environment plugs in (the offline mode, dev/offline_acceptance.py); AWS needs none."""

    mode: str = "aws"
    before_step: Callable[[str, RunContext], None] | None = None
    transport: Callable[[str], str] | None = None  # Function URL -> the address requests are sent to
    stand_ins: Mapping[str, str] = field(default_factory=dict)


@dataclass
class RunContext:
    config: RunConfig
    report: Report
    hooks: Hooks
    values: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.stack = Stack(self.config.workdir)
        self._session = None

    @property
    def session(self):
        """One boto3 session for the run (its region; credentials and endpoints from the environment)."""
        if self._session is None:
            import boto3

            self._session = boto3.Session(region_name=self.config.region)
        return self._session

    def client(self, service: str):
        return self.session.client(service)

    @property
    def tfvars_path(self) -> Path:
        return self.stack.dir / RUN_TFVARS

    def save_outputs(self) -> dict[str, Any]:
        outputs = self.stack.output_json()
        self.values["outputs"] = outputs
        (self.config.workdir / "outputs.json").write_text(json.dumps(outputs, indent=2) + "\n")
        return outputs

    def launcher_settings(self):
        """The launcher's AWS settings from the stack's outputs, as dogbreed-launch would read them."""
        from dogbreed.orchestration.settings import resolve_settings

        return resolve_settings(terraform_outputs=self.config.workdir / "outputs.json")

    def launcher_session(self):
        from dogbreed.orchestration.session import make_session

        return make_session(self.launcher_settings())
