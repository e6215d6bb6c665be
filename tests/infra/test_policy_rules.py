"""The least-privilege rules shared by CKV_DOG_2 and the template linter, on small hand-written documents."""

from __future__ import annotations

import json
import re

import pytest

from dev.offline_terraform import REPO_ROOT
from security.checkov_checks.policy_rules import (
    ENDPOINT,
    RESOURCE,
    TRUST,
    parse_policy,
    policy_violations,
    resource_documents,
)
from security.policy_lint import lint_templates, load_template, template_kind


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


# ---------------------------------------------------------------- escalation, trust and endpoint rules


@pytest.mark.parametrize(
    ("action", "reached"),
    [
        ("iam:Pass*", "iam:PassRole"),
        ("iam:Put*Policy", "iam:PutRolePolicy"),
        ("iam:*Role*", "iam:UpdateAssumeRolePolicy"),
        ("iam:Attach*", "iam:AttachRolePolicy"),
        ("iam:*PolicyVersion", "iam:CreatePolicyVersion"),
        ("sts:Assume*", "sts:AssumeRole"),
        ("lambda:Update*", "lambda:UpdateFunctionCode"),
        ("iam:?assRole", "iam:PassRole"),
    ],
)
def test_a_partial_wildcard_reaching_an_escalation_action_is_reported(action, reached):
    violations = policy_violations(allow(Action=action, Resource="arn:aws:iam::1:role/dogbreed-x"))
    assert any("partial wildcard" in v and reached in v for v in violations), violations


@pytest.mark.parametrize("action", ["iam:Get*", "iam:List*", "s3:Get*Tagging", "ec2:Describe*"])
def test_partial_wildcards_of_read_actions_are_not_escalation(action):
    violations = policy_violations(allow(Action=action, Resource="arn:aws:iam::1:role/x"))
    assert not any("escalation" in v for v in violations), violations


@pytest.mark.parametrize(
    "resource", ["*", "arn:aws:iam::123456789012:role/*", "arn:aws:iam::*:role/*", "arn:aws:iam::1:policy/*"]
)
def test_an_escalation_action_on_every_principal_is_reported_even_with_a_condition(resource):
    policy = allow(
        Action="iam:PassRole",
        Resource=resource,
        Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
    )
    assert any("on every principal" in v for v in policy_violations(policy))


def test_an_escalation_action_on_named_roles_passes():
    policy = allow(Action="iam:PassRole", Resource="arn:aws:iam::1:role/dogbreed-predict")
    assert policy_violations(policy) == []


def trust(**condition) -> dict:
    return {
        "Statement": [
            {
                "Sid": "GitHub",
                "Effect": "Allow",
                "Principal": {
                    "Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"
                },
                "Action": "sts:AssumeRoleWithWebIdentity",
                **({"Condition": condition} if condition else {}),
            }
        ]
    }


AUD = {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (
            trust(StringLike={"token.actions.githubusercontent.com:sub": "repo:my-org/*"}),
            "without an audience",
        ),
        (trust(StringLike={"token.actions.githubusercontent.com:sub": "repo:my-org/*"}), "not bounded"),
        (trust(StringEquals=AUD), "without a subject"),
        (trust(), "without an audience"),
        (
            trust(StringLike={**AUD, "token.actions.githubusercontent.com:sub": "repo:my-org/*"}),
            "the audience must be exact",
        ),
        (
            trust(StringEquals={**AUD, "token.actions.githubusercontent.com:sub": "repo:my-org/*"}),
            "is not exact",
        ),
        (
            trust(StringEquals=AUD, StringLike={"token.actions.githubusercontent.com:sub": "repo:*"}),
            "not bounded",
        ),
        (
            trust(
                StringEquals=AUD, StringLike={"token.actions.githubusercontent.com:sub": "repo:*/dogbreed:*"}
            ),
            "not bounded",
        ),
    ],
)
def test_a_github_trust_needs_an_exact_audience_and_a_repository_bounded_subject(document, reason):
    violations = policy_violations(document, TRUST)
    assert any(reason in v for v in violations), violations


@pytest.mark.parametrize(
    "subject",
    [
        {"StringEquals": {"token.actions.githubusercontent.com:sub": ["repo:o/r:pull_request"]}},
        {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:o/r:*"}},
        {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:o/r:environment:prod*"}},
    ],
)
def test_an_exact_or_repository_bounded_github_trust_passes(subject):
    condition = {
        "StringEquals": {**AUD, **subject.get("StringEquals", {})},
        **{k: v for k, v in subject.items() if k != "StringEquals"},
    }
    assert policy_violations(trust(**condition), TRUST) == []


def test_a_trust_of_anyone_without_a_condition_is_reported():
    document = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
    assert any("any principal" in v for v in policy_violations(document, TRUST))


def endpoint(**statement) -> dict:
    return {"Statement": [{"Sid": "E", "Effect": "Allow", "Principal": "*", **statement}]}


def test_endpoint_policies_are_perimeters_bound_to_the_account_or_named_resources():
    account = {"StringEquals": {"aws:PrincipalAccount": "123456789012"}}
    assert policy_violations(endpoint(Action="*", Resource="*", Condition=account), ENDPOINT) == []
    assert policy_violations(endpoint(Action="s3:GetObject", Resource="arn:aws:s3:::b/*"), ENDPOINT) == []
    assert policy_violations(endpoint(Action="*", Resource="*"), ENDPOINT)
    assert policy_violations(endpoint(Action="s3:*", Resource="arn:aws:s3:::b/*"), ENDPOINT)
    assert policy_violations(endpoint(Action="s3:GetObject", Resource="*"), ENDPOINT)


def test_a_public_lambda_permission_is_reported():
    public = {
        "principal": "*",
        "action": "lambda:InvokeFunctionUrl",
        "function_name": "f",
        "statement_id": "Url",
    }
    kinds = list(resource_documents("aws_lambda_permission", public))
    assert any("any principal" in v for _, kind, doc in kinds for v in policy_violations(doc, kind))
    named = {**public, "principal": "arn:aws:iam::123456789012:role/caller"}
    assert [
        v
        for _, kind, doc in resource_documents("aws_lambda_permission", named)
        for v in policy_violations(doc, kind)
    ] == []


def test_an_inline_policy_of_a_role_is_read_as_an_identity_policy():
    role = {"inline_policy": [{"name": "x", "policy": json.dumps(allow(Action="*", Resource="*"))}]}
    documents = list(resource_documents("aws_iam_role", role))
    assert [(attribute, kind) for attribute, kind, _ in documents] == [("inline_policy[0]", "identity")]


def test_a_template_with_a_duplicate_key_is_refused(tmp_path):
    (tmp_path / "x.json").write_text(
        '{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", '
        '"Condition": {"ArnEquals": {"a": "1"}, "ArnEquals": {"b": "2"}}}]}'
    )
    assert "duplicate keys" in lint_templates(tmp_path)["x.json"][0]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("trust_ec2.json", TRUST),
        ("vpc_endpoint_s3.json", ENDPOINT),
        ("kms_key.json", RESOURCE),
        ("deploy.json", "identity"),
    ],
)
def test_templates_get_the_rules_of_their_kind(name, kind):
    assert template_kind(name) == kind
