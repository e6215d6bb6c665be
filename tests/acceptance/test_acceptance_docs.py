"""docs/acceptance.md says what the tool does: its steps, what only AWS can show, the run's instance types."""

from __future__ import annotations

from dev.offline_acceptance import STAND_INS
from dogbreed.acceptance.config import RunConfig
from dogbreed.acceptance.report import only_aws_markdown
from dogbreed.acceptance.runner import MAIN_STEPS, TEARDOWN_STEPS
from dogbreed.utils.repo import REPO_ROOT

DOC = (REPO_ROOT / "docs" / "acceptance.md").read_text()
README = (REPO_ROOT / "README.md").read_text()


def test_the_doc_lists_what_only_aws_can_show_as_the_report_does():
    block = DOC.split("<!-- only-aws: dogbreed.acceptance.report.ONLY_AWS -->\n", 1)[1]
    assert block.split("<!-- end only-aws -->", 1)[0].splitlines() == only_aws_markdown()


def test_the_doc_has_every_step_with_its_title_and_stand_in():
    for name, title, _ in MAIN_STEPS + TEARDOWN_STEPS:
        assert f"| `{name}` | {title} | {STAND_INS.get(name, '-')} |" in DOC


def test_the_doc_names_the_run_instance_types():
    config = RunConfig(region="eu-west-1")
    assert f"(`{config.train_instance_type}`,\n  `{config.endpoint_instance_type}`)" in DOC


def test_the_readme_deploy_section_documents_the_command():
    deploy = README.split("## Deploying to real AWS", 1)[1].split("\n## ", 1)[0]
    assert "make aws-acceptance REGION=" in deploy and "SPEND=1" in deploy and "OFFLINE=1" in deploy
    assert "docs/acceptance.md" in deploy
