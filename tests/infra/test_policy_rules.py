"""The least-privilege rules shared by CKV_DOG_2 and the template linter, on small hand-written documents."""

from __future__ import annotations

import json
import re

import pytest

from dev.offline_terraform import REPO_ROOT
from security.checkov_checks.policy_rules import parse_policy, policy_violations
from security.policy_lint import lint_templates, load_template


def allow(**statement) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Sid": "Test", "Effect": "Allow", **statement}]}


@pytest.mark.parametrize(
    ("policy", "reason"),
    [
        (allow(Action="*", Resource="arn:aws:s3:::b/*"), "action wildcard '*'"),
        (
            allow(Action=["s3:GetObject", "sagemaker:*"], Resource="arn:aws:s3:::b/*"),
            "action wildcard 'sagemaker:*'",
        ),
        (allow(Action="s3:GetObject", Resource="*"), 'Resource "*" without a Condition'),
        (allow(NotAction="iam:*", Resource="arn:aws:s3:::b"), "NotAction"),
        (allow(Action="s3:GetObject", NotResource="arn:aws:s3:::b"), "NotResource"),
        (allow(Principal="*", Action="s3:GetObject", Resource="arn:aws:s3:::b/*"), "any principal"),
        (
            allow(Principal={"AWS": ["*"]}, Action="s3:GetObject", Resource="arn:aws:s3:::b/*"),
            "any principal",
        ),
    ],
)
def test_over_permissive_statements_are_reported(policy, reason):
    violations = policy_violations(policy)
    assert any(reason in violation for violation in violations), violations


@pytest.mark.parametrize(
    "policy",
    [
        allow(Action="s3:GetObject", Resource="arn:aws:s3:::b/*"),
        allow(
            Action="ecr:GetAuthorizationToken",
            Resource="*",
            Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
        ),
        {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]},
    ],
)
def test_least_privilege_statements_pass(policy):
    assert policy_violations(policy) == []


def test_unrendered_template_is_not_mistaken_for_a_policy():
    assert parse_policy('${templatefile("x.json", {})}') is None
    assert parse_policy(json.dumps(allow(Action="s3:GetObject", Resource="arn:aws:s3:::b"))) is not None


def test_every_policy_template_parses_and_passes():
    assert lint_templates(REPO_ROOT / "policies") == {}


def test_whole_value_placeholders_become_strings(tmp_path):
    template = tmp_path / "trust.json"
    template.write_text(
        '{"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Condition": '
        '{"StringEquals": {"sub": ${subjects_json}}}, "Resource": "arn:${partition}:iam::1:role/x"}]}'
    )
    statement = load_template(template)["Statement"][0]
    assert statement["Condition"]["StringEquals"]["sub"] == "TEMPLATE_VALUE"
    assert statement["Resource"] == "arn:TEMPLATE_VALUE:iam::1:role/x"


def test_predict_lambda_template_grants_only_invoke_endpoint():
    statements = load_template(REPO_ROOT / "policies" / "predict_lambda.json")["Statement"]
    assert statements == [
        {
            "Sid": "InvokeOnlyTheProjectEndpoint",
            "Effect": "Allow",
            "Action": "sagemaker:InvokeEndpoint",
            "Resource": "TEMPLATE_VALUE",
        }
    ]


def test_no_template_attaches_or_names_a_full_access_policy():
    for path in (REPO_ROOT / "policies").glob("*.json"):
        assert "FullAccess" not in path.read_text(), path.name


def test_checkov_config_lists_each_skipped_check_once_with_its_reason():
    lines = (REPO_ROOT / ".checkov.yaml").read_text().splitlines()
    start = lines.index("skip-check:")
    skips = [line.strip() for line in lines[start + 1 :] if line.strip().startswith("- ")]
    ids = [line[2:].split("#")[0].strip() for line in skips]
    assert ids and len(ids) == len(set(ids)), ids
    assert all(re.fullmatch(r"CKV2?_AWS_\d+", check_id) for check_id in ids), ids
    assert all(len(line.split("#", 1)[-1].strip()) > 20 for line in skips), "every skip needs its reason"
