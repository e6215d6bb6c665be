"""`make aws-acceptance OFFLINE=1`: every step against the stand-ins, the report, and the teardown of a used
stack; a failure injected mid-run and a SIGINT during `terraform apply` still tear everything down.

Each run is the product's own (dogbreed-acceptance) inside dev/offline_acceptance.py, in its own process
with its own moto, which writes what of the stack remains there after the teardown (--leftovers-json). The
three runs go at once: most of a run is Terraform waiting (the provider alone waits about a minute for the
bucket's lifecycle rules to settle), so together they take little longer than one.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dogbreed.acceptance.report import INTERRUPTED, NOT_RUN, ONLY_AWS, PASSED
from dogbreed.utils.repo import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.terraform, pytest.mark.timeout(1800)]

RUN_TIMEOUT_S = 1200
USED_STACK = (
    "module.data_bucket.aws_s3_bucket.this",
    "module.notebook.aws_sagemaker_notebook_instance.this",
    "module.endpoint[0].aws_sagemaker_endpoint_configuration.this",
    "module.endpoint[0].aws_sagemaker_endpoint.this",
    "module.predict_lambda[0].aws_lambda_function.this",
    "module.budget[0].aws_budgets_budget.this",
    "aws_iam_policy.acceptance_workload_boundary",
)


class Run:
    """One `python -m dev.offline_acceptance --spend` in the background."""

    def __init__(self, root: Path, name: str, *extra: str):
        self.dir, self.name = root / name, name
        self.leftovers_file = root / f"{name}-leftovers.json"
        command = [sys.executable, "-m", "dev.offline_acceptance", "--spend", "--name", name, *extra]
        command += ["--work-root", str(root), "--leftovers-json", str(self.leftovers_file)]
        self.process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.output = ""

    def interrupt_once(self, log: str, text: str) -> None:
        """SIGINT to the tool once its terraform log LOG shows TEXT (terraform itself gets none from us)."""
        path, deadline = self.dir / "logs" / f"{log}.log", time.monotonic() + RUN_TIMEOUT_S
        while not (path.is_file() and text in path.read_text()):
            assert self.process.poll() is None and time.monotonic() < deadline, self.finish()
            time.sleep(0.5)
        self.process.send_signal(signal.SIGINT)

    def finish(self) -> str:
        self.output, _ = self.process.communicate(timeout=RUN_TIMEOUT_S)
        return self.output[-4000:]

    @property
    def report(self) -> dict:
        return json.loads((self.dir / "report.json").read_text())

    @property
    def steps(self) -> dict[str, dict]:
        return {step["name"]: step for step in self.report["steps"]}

    @property
    def leftovers(self) -> dict:
        return json.loads(self.leftovers_file.read_text())

    @property
    def state_resources(self) -> list:
        state = self.dir / "stack" / "terraform" / "terraform.tfstate"
        return json.loads(state.read_text())["resources"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:
    root = tmp_path_factory.mktemp("acceptance")
    started = {
        "passed": Run(root, "acc-offline-pass"),
        "failed": Run(root, "acc-offline-fail", "--inject-failure", "upload"),
        "interrupted": Run(root, "acc-offline-sigint"),
    }
    started["interrupted"].interrupt_once("apply-base", "Creation complete")
    for run in started.values():
        run.finish()
    return started


def test_every_step_passes_against_the_stand_ins(runs):
    run = runs["passed"]
    assert run.process.returncode == 0 and run.report["outcome"] == "passed", run.output[-4000:]
    assert run.report["mode"] == "offline"
    assert {name: step["error"] for name, step in run.steps.items() if step["status"] != PASSED} == {}
    assert all(step["duration_s"] is not None and step["started_at"] for step in run.steps.values())
    steps = run.steps
    assert steps["train"]["detail"]["instances"] == 2 and steps["tune"]["detail"]["status"] == "Completed"
    published = steps["publish"]["detail"]
    assert published["model_data_url"].endswith(f"/models/published/{published['model_sha256']}/model.tar.gz")


def test_the_function_url_answers_each_signed_request_form_and_refuses_an_unsigned_one(runs):
    calls = runs["passed"].steps["function-url"]["detail"]
    forms = {"json-base64-image", "raw-image-bytes", "raw-octet-stream"}
    assert forms | {"unsigned-request-refused"} == set(calls)
    assert all(calls[form]["status"] == 200 and calls[form]["predictions"] == 2 for form in forms)
    assert calls["unsigned-request-refused"]["status"] == 403


def test_autoscaling_alarms_and_the_budget_are_registered(runs):
    seen = runs["passed"].steps["autoscaling"]["detail"]
    assert seen["scalable_target"] == [{"min": 1, "max": 2}]
    assert [p["metric"] for p in seen["policies"]] == ["SageMakerVariantInvocationsPerInstance"]
    assert seen["budget"]["filter"] == {"TagKeyValue": ["user:Project$acc-offline-pass"]}


def test_the_report_has_each_step_its_cost_and_what_only_aws_can_show(runs):
    run = runs["passed"]
    cost = run.report["estimated_cost"]
    assert cost["total_usd"] > 0 and cost["basis"].startswith("estimated from the run's measured step")
    priced = " / ".join(item["what"] for item in cost["items"])
    for item in ("interface VPC endpoints", "KMS key", "distributed training on 2 x", "endpoint 1 x ml.c5"):
        assert item in priced
    assert run.report["only_aws"] == ONLY_AWS
    markdown = (run.dir / "report.md").read_text()
    for step in run.report["steps"]:
        assert f"| {step['name']} ({step['title']}) | {step['status']} |" in markdown
    assert "## Estimated cost of the run" in markdown and "## Stand-ins (offline mode)" in markdown
    assert all(f"- **{name}**: {text}" in markdown for name, text in ONLY_AWS.items())


def test_the_used_stack_is_destroyed_completely_with_the_opt_in(runs):
    run = runs["passed"]
    plan = json.loads((run.dir / "destroy-plan.json").read_text())
    assert plan["kept"] == [] and plan["bucket_force_destroy"] == [True]
    assert set(USED_STACK) <= set(plan["deleted"])
    assert any("object versions and 1 delete markers" in note for note in run.report["notes"])
    assert run.leftovers == {} and run.state_resources == []


def test_a_failure_injected_mid_run_still_tears_everything_down(runs):
    run = runs["failed"]
    steps = run.steps
    assert run.process.returncode == 1 and run.report["outcome"] == "failed", run.output[-4000:]
    assert steps["apply-base"]["status"] == PASSED
    assert steps["upload"]["status"] == "failed" and "InjectedFailure" in steps["upload"]["error"]
    assert all(steps[name]["status"] == NOT_RUN for name in ("tune", "train", "publish", "apply-serving"))
    assert all(steps[name]["status"] == PASSED for name in steps if name.startswith("teardown-"))
    assert "module.data_bucket.aws_s3_bucket.this" in steps["teardown-destroy"]["detail"]["deleted"]
    assert run.leftovers == {} and run.state_resources == []


def test_sigint_during_terraform_apply_lets_it_finish_then_tears_down(runs):
    run = runs["interrupted"]
    steps = run.steps
    assert run.process.returncode == 130 and run.report["outcome"] == "interrupted", run.output[-4000:]
    assert steps["apply-base"]["status"] == INTERRUPTED and steps["upload"]["status"] == NOT_RUN
    apply_log = (run.dir / "logs" / "apply-base.log").read_text()
    assert "Apply complete!" in apply_log and "Interrupt received" not in apply_log
    assert all(steps[step]["status"] == PASSED for step in steps if step.startswith("teardown-"))
    assert "module.data_bucket.aws_s3_bucket.this" in steps["teardown-destroy"]["detail"]["deleted"]
    assert run.leftovers == {} and run.state_resources == []
