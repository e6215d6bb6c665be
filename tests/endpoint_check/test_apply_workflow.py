"""The apply workflow installs the post-deploy check Terraform runs, and runs the post-apply check after."""

from __future__ import annotations

from dev.offline_terraform import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "terraform.yml"


def apply_steps() -> list[str]:
    """The apply job's steps, each as its text (uses/run lines), in order."""
    job = WORKFLOW.read_text().split("\n  apply:\n", 1)[1]
    return ["- " + step for step in job.split("\n      - ")[1:]]


def index_of(steps: list[str], text: str) -> int:
    matches = [i for i, step in enumerate(steps) if text in step]
    assert len(matches) == 1, f"exactly one apply step must contain {text!r}"
    return matches[0]


def test_the_check_is_installed_before_the_apply_runs_it_and_runs_again_after():
    steps = apply_steps()
    install = index_of(steps, "pip install --no-deps -e .")
    apply = index_of(steps, "terraform -chdir=terraform apply tfplan")
    check = index_of(steps, "dogbreed-check-endpoint --terraform-outputs outputs.json")
    assert index_of(steps, "actions/setup-python@") < install < apply < check
    assert "terraform -chdir=terraform output -json > outputs.json" in steps[check]
    assert "requirements/deploy.txt" in steps[install]
    assert (REPO_ROOT / "requirements" / "deploy.txt").read_text().count("boto3==") == 1
