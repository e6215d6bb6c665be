"""The run's control flow with stand-in steps: whatever stops the run, the teardown runs, the report says so.

The steps here are small functions (no AWS, no Terraform); the real steps run in test_offline_run.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from dogbreed.acceptance import runner
from dogbreed.acceptance.config import RunConfig
from dogbreed.acceptance.context import Refused, StepFailed
from dogbreed.acceptance.report import FAILED, INTERRUPTED, NOT_RUN, ONLY_AWS, PASSED
from dogbreed.acceptance.terraform import _wait_letting_it_finish

MAIN = ["preflight", "stage", "apply", "train", "check"]
TEARDOWN = ["teardown-stop", "teardown-destroy", "teardown-verify"]


class Recorder:
    """Step functions that record their calls; a step named in `actions` does that instead of passing."""

    def __init__(self, actions=None):
        self.calls: list[str] = []
        self.actions = actions or {}

    def step(self, name):
        def function(ctx):
            self.calls.append(name)
            if name == "stage":
                ctx.stack.dir.mkdir(parents=True)  # from here on there is something to tear down
            action = self.actions.get(name)
            if action is not None:
                return action(ctx)
            return {"did": name}

        return function


@pytest.fixture
def install(monkeypatch):
    def install_steps(actions=None) -> Recorder:
        recorder = Recorder(actions)
        monkeypatch.setattr(runner, "MAIN_STEPS", [(n, n, recorder.step(n)) for n in MAIN])
        monkeypatch.setattr(runner, "TEARDOWN_STEPS", [(n, n, recorder.step(n)) for n in TEARDOWN])
        return recorder

    return install_steps


def run(tmp_path):
    report = runner.run(RunConfig(region="eu-west-1", spend=True, name="acc-test", work_root=tmp_path))
    return report, {step.name: step for step in report.steps}


def fail(ctx):
    raise StepFailed("the check did not hold", {"seen": 1})


def crash(ctx):
    raise KeyError("boom")


def interrupt(ctx):
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)  # the handler raises Interrupted here, long before this ends
    return {"not": "reached"}


@pytest.mark.parametrize("failing, error", [("apply", fail), ("train", crash)])
def test_a_failure_mid_run_stops_the_run_and_still_tears_down(install, tmp_path, failing, error):
    recorder = install({failing: error})
    report, steps = run(tmp_path)

    position = MAIN.index(failing)
    assert recorder.calls == MAIN[: position + 1] + TEARDOWN
    assert report.outcome == "failed" and runner.exit_code(report) == 1
    assert steps[failing].status == FAILED and steps[failing].error
    assert all(steps[name].status == NOT_RUN for name in MAIN[position + 1 :])
    assert all(steps[name].status == PASSED for name in TEARDOWN)
    assert all(steps[name].duration_s is not None for name in MAIN[: position + 1] + TEARDOWN)


def test_sigint_mid_step_interrupts_the_run_and_tears_down_ignoring_a_second_sigint(install, tmp_path):
    def second_sigint(ctx):
        os.kill(os.getpid(), signal.SIGINT)  # a second Ctrl-C during the teardown
        return {"continued": True}

    recorder = install({"train": interrupt, "teardown-destroy": second_sigint})
    previous = signal.getsignal(signal.SIGINT)
    report, steps = run(tmp_path)

    assert recorder.calls == ["preflight", "stage", "apply", "train", *TEARDOWN]
    assert report.outcome == "interrupted" and runner.exit_code(report) == 130
    assert steps["train"].status == INTERRUPTED and steps["check"].status == NOT_RUN
    assert steps["teardown-destroy"].status == PASSED and steps["teardown-destroy"].detail == {
        "continued": True
    }
    assert all(steps[name].status == PASSED for name in TEARDOWN)
    assert signal.getsignal(signal.SIGINT) is previous  # the run restores the caller's handler


def test_sigterm_is_an_interrupt_too(install, tmp_path):
    def terminate(ctx):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)

    recorder = install({"apply": terminate})
    report, steps = run(tmp_path)
    assert report.outcome == "interrupted" and steps["apply"].status == INTERRUPTED
    assert recorder.calls[-len(TEARDOWN) :] == TEARDOWN


def test_a_failing_teardown_step_does_not_stop_the_others_and_the_run_says_what_may_remain(install, tmp_path):
    recorder = install({"teardown-destroy": fail})
    report, steps = run(tmp_path)

    assert recorder.calls == MAIN + TEARDOWN
    assert report.outcome == "teardown failed" and runner.exit_code(report) == 4
    assert steps["teardown-verify"].status == PASSED
    assert any("terraform -chdir=" in note and "destroy" in note for note in report.notes)


def test_refused_stops_before_anything_exists_and_has_nothing_to_tear_down(install, tmp_path):
    def refuse(ctx):
        raise Refused("pass --spend")

    recorder = install({"preflight": refuse})
    report, steps = run(tmp_path)

    assert recorder.calls == ["preflight"]
    assert report.outcome == "refused" and runner.exit_code(report) == 3
    assert steps["preflight"].status == PASSED
    assert all(steps[name].status == NOT_RUN for name in MAIN[1:] + TEARDOWN)
    assert not (tmp_path / "acc-test" / "stack").exists()


def test_the_report_is_on_disk_after_every_step(install, tmp_path):
    seen = {}

    def read_report(ctx):
        written = json.loads((tmp_path / "acc-test" / "report.json").read_text())
        seen.update({step["name"]: step["status"] for step in written["steps"]})
        return {}

    install({"train": read_report})
    report, _ = run(tmp_path)
    assert seen["apply"] == PASSED and seen["train"] == "running" and seen["check"] == NOT_RUN

    written = json.loads((tmp_path / "acc-test" / "report.json").read_text())
    assert written["outcome"] == "passed" and written["only_aws"] == ONLY_AWS
    markdown = (tmp_path / "acc-test" / "report.md").read_text()
    assert "| train (train) | passed |" in markdown and "## What only AWS can show" in markdown


CHILD = """
import pathlib, signal, sys, time
marker = pathlib.Path(sys.argv[1])
def stop(signum, frame):
    marker.write_text("got SIGINT")
    sys.exit(1)
signal.signal(signal.SIGINT, stop)
print("ready", flush=True)
time.sleep(float(sys.argv[2]))
marker.write_text("finished")
"""


class Interrupted(BaseException):
    pass


def start_child(marker, seconds: float) -> subprocess.Popen:
    """A stand-in for terraform in its own session, like Stack.terraform starts it."""
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(marker), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout.readline().strip() == "ready"
    return process


def test_an_interrupted_run_lets_the_running_terraform_finish_its_command(tmp_path):
    """Terraform's own graceful stop cancels requests in flight (resources created by them are in no state):
    on our interrupt the command runs to its end, unsignalled, and the interrupt continues after it."""
    marker = tmp_path / "marker"
    process = start_child(marker, 1.5)

    def interrupt(signum, frame):
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    try:
        with pytest.raises(Interrupted):
            _wait_letting_it_finish(process, timeout_s=30)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert process.returncode == 0 and marker.read_text() == "finished"


def test_a_terraform_past_its_timeout_is_stopped_with_sigint(tmp_path):
    marker = tmp_path / "marker"
    process = start_child(marker, 60)
    with pytest.raises(subprocess.TimeoutExpired):
        _wait_letting_it_finish(process, timeout_s=0.5)
    assert process.returncode == 1 and marker.read_text() == "got SIGINT"
