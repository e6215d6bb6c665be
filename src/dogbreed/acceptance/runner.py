"""The engine: run the steps in order, stop at the first failure, and tear down whatever happened.

SIGINT and SIGTERM become an `Interrupted` exception in the step that is running (a running terraform
finishes its command first: terraform.py says why), then the teardown runs with further signals ignored: a
second Ctrl-C cannot leave the stack half-destroyed. Only SIGKILL can, and the report plus the run's local
state say what to destroy by hand.
"""

from __future__ import annotations

import contextlib
import datetime
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator

from dogbreed.acceptance import checks, jobs, preflight, steps, teardown
from dogbreed.acceptance.config import RunConfig
from dogbreed.acceptance.context import Hooks, Interrupted, Refused, RunContext, StepFailed
from dogbreed.acceptance.cost import Hours, estimate
from dogbreed.acceptance.report import FAILED, INTERRUPTED, PASSED, RUNNING, Report, StepResult, now
from dogbreed.bill.prices import PriceTable

MAIN_STEPS: list[tuple[str, str, Callable[[RunContext], dict]]] = [
    ("preflight", "identity, Lambda quota, estimated cost, --spend", preflight.preflight),
    ("stage", "copy the stack, build the Lambda zip, terraform init", steps.stage),
    ("apply-base", "terraform apply: bucket, key, network, roles, notebook, budget", steps.apply_base),
    ("upload", "generated dataset and staged weights to the bucket", steps.upload),
    ("tune", "one-trial hyperparameter tuning job", jobs.tune),
    ("train", "two-instance distributed training job from the best trial", jobs.train),
    ("publish", "the trained model.tar.gz into model.auto.tfvars.json", steps.publish),
    ("apply-serving", "terraform apply: endpoint, Lambda, Function URL", steps.apply_serving),
    ("function-url", "SigV4-signed requests in each form; an unsigned one refused", steps.function_url),
    ("autoscaling", "scalable target, scaling policy, alarms and budget registered", checks.autoscaling),
]
TEARDOWN_STEPS: list[tuple[str, str, Callable[[RunContext], dict]]] = [
    ("teardown-stop-jobs", "stop running training and tuning jobs", teardown.stop_jobs),
    ("teardown-destroy", "terraform plan -destroy, then apply it", teardown.destroy),
    ("teardown-leftovers", "log groups and streams SageMaker created", teardown.leftovers),
    ("teardown-verify", "nothing tagged with the run's Project tag remains", teardown.verify),
]
EXIT_CODES = {"passed": 0, "failed": 1, "refused": 3, "teardown failed": 4, "interrupted": 130}


def run(config: RunConfig, hooks: Hooks | None = None) -> Report:
    hooks = hooks or Hooks()
    report = Report(run=config.name, region=config.region, mode=hooks.mode)
    report.steps = [StepResult(name, title) for name, title, _ in MAIN_STEPS + TEARDOWN_STEPS]
    ctx = RunContext(config, report, hooks)
    started = time.monotonic()
    with _signals_interrupt() as guard:
        try:
            for name, _, function in MAIN_STEPS:
                _run_step(ctx, name, function)
            report.outcome = "passed"
        except Refused as refusal:
            report.outcome = "refused"
            report.notes.append(str(refusal))
        except Interrupted as signal_name:
            report.outcome = "interrupted"
            report.notes.append(f"{signal_name} received: the run stopped and tore down")
        except Exception:  # the failing step recorded it; the teardown still runs
            report.outcome = "failed"
        finally:
            guard["armed"] = False
            if ctx.stack.exists:
                _tear_down(ctx)
            _final_cost(ctx, time.monotonic() - started)
            report.finished_at = now()
            _write(ctx)
    return report


def exit_code(report: Report) -> int:
    return EXIT_CODES.get(report.outcome, 1)


def _run_step(ctx: RunContext, name: str, function) -> None:
    step = ctx.report.step(name)
    step.started_at, step.stand_in, step.status = now(), ctx.hooks.stand_ins.get(name), RUNNING
    began = time.monotonic()
    _write(ctx)
    try:
        if ctx.hooks.before_step:
            ctx.hooks.before_step(name, ctx)
        step.detail = function(ctx) or {}
        step.status = PASSED
    except Refused:
        step.status, step.detail = PASSED, ctx.values.get("preflight", {})
        raise
    except Interrupted as signal_name:
        step.status, step.error = INTERRUPTED, f"{signal_name} received"
        raise
    except StepFailed as failure:
        step.status, step.error, step.detail = FAILED, str(failure), failure.detail
        raise
    except Exception as error:
        step.status, step.error = FAILED, f"{type(error).__name__}: {error}"
        step.detail = {"traceback": traceback.format_exc(limit=6)[-1500:]}
        raise
    finally:
        step.duration_s = round(time.monotonic() - began, 2)
        _write(ctx)


def _tear_down(ctx: RunContext) -> None:
    """Every teardown step runs, whatever the one before it did."""
    failed = False
    for name, _, function in TEARDOWN_STEPS:
        try:
            _run_step(ctx, name, function)
        except Exception:
            failed = True
    if failed:
        ctx.report.outcome = "teardown failed"
        ctx.report.notes.append(
            f"teardown did not finish: resources may remain. Its state is in {ctx.stack.dir}: "
            f"`terraform -chdir={ctx.stack.dir} destroy` after fixing the cause (logs in {ctx.stack.logs})"
        )


def _final_cost(ctx: RunContext, elapsed_s: float) -> None:
    facts = ctx.values.get("facts")
    if facts is None or ctx.report.outcome == "refused" or not ctx.stack.exists:
        return
    hours = Hours(
        stack=_hours_since(ctx, "apply-base"),
        serving=_hours_since(ctx, "apply-serving"),
        tuning_instances=_duration_h(ctx, "tune"),
        training_instances=2 * _duration_h(ctx, "train"),
        predictions=8 if ctx.report.step("function-url").status == PASSED else 0,
        basis=f"the run's measured step durations ({elapsed_s / 60:.1f} min in all)",
    )
    ctx.report.estimated_cost = estimate(facts, PriceTable.load(), ctx.config.train_instance_type, hours)


def _hours_since(ctx: RunContext, name: str) -> float:
    started = ctx.report.step(name).started_at
    if not started:
        return 0.0
    began = datetime.datetime.fromisoformat(started)
    return max((datetime.datetime.now(datetime.UTC) - began).total_seconds() / 3600, 0.0)


def _duration_h(ctx: RunContext, name: str) -> float:
    return (ctx.report.step(name).duration_s or 0) / 3600


def _write(ctx: RunContext) -> None:
    ctx.report.write(ctx.config.workdir)


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[dict]:
    guard = {"armed": True}

    def handler(signum, frame):
        if guard["armed"]:
            guard["armed"] = False
            raise Interrupted(signal.Signals(signum).name)
        print(
            "acceptance: stopping (a running terraform finishes, then the teardown); signal ignored",
            file=sys.stderr,
        )

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield guard
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
