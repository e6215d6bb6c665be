"""The IAM evaluator follows AWS's documented rules (each case from the IAM User Guide's evaluation logic and
condition-operator pages), so the policy tests built on it prove what AWS would decide."""

from __future__ import annotations

import pytest

from security.iam_eval import (
    ALLOW,
    DENY,
    IMPLICIT_DENY,
    Request,
    UnsupportedPolicy,
    condition_holds,
    evaluate,
    evaluate_with_boundary,
)

BUCKET_OBJECT = "arn:aws:s3:::dogbreed-bucket/code/train.py"


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def test_nothing_allowed_is_an_implicit_deny():
    assert evaluate([policy(allow("s3:GetObject"))], Request("s3:PutObject")).effect == IMPLICIT_DENY


def test_an_explicit_deny_wins_over_any_allow():
    documents = [policy(allow("s3:*")), policy(deny("s3:PutObject", "arn:aws:s3:::dogbreed-bucket/code/*"))]
    assert evaluate(documents, Request("s3:PutObject", BUCKET_OBJECT)).effect == DENY
    assert evaluate(documents, Request("s3:PutObject", "arn:aws:s3:::dogbreed-bucket/data/x")).effect == ALLOW


@pytest.mark.parametrize(
    ("pattern", "action", "matches"),
    [
        ("iam:Put*Policy", "iam:PutRolePolicy", True),
        ("iam:Put*Policy", "iam:PutRolePermissionsBoundary", False),
        ("IAM:pass*", "iam:PassRole", True),  # actions are case-insensitive
        ("s3:Get?bject", "s3:GetObject", True),
        ("*", "sagemaker:CreateTrainingJob", True),
    ],
)
def test_action_wildcards(pattern, action, matches):
    assert evaluate([policy(allow(pattern))], Request(action)).allowed is matches


def test_resource_wildcards_span_path_and_colons_and_are_case_sensitive():
    documents = [policy(allow("iam:PassRole", "arn:aws:iam::*:role/dogbreed-*"))]
    assert evaluate(documents, Request("iam:PassRole", "arn:aws:iam::123456789012:role/dogbreed-x/y")).allowed
    assert not evaluate(
        documents, Request("iam:PassRole", "arn:aws:iam::123456789012:role/Dogbreed-x")
    ).allowed


def test_not_action_and_not_resource_invert_the_match():
    documents = [policy({"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"})]
    assert evaluate(documents, Request("s3:GetObject", BUCKET_OBJECT)).allowed
    assert not evaluate(documents, Request("iam:CreateRole", "arn:aws:iam::1:role/x")).allowed
    assert not evaluate(documents, Request("s3:GetObject", "arn:aws:s3:::secret/key")).allowed


def test_a_statement_with_both_action_and_not_action_is_refused():
    with pytest.raises(UnsupportedPolicy):
        evaluate(
            [policy({"Effect": "Allow", "Action": "*", "NotAction": "iam:*", "Resource": "*"})],
            Request("x:y"),
        )


@pytest.mark.parametrize(
    ("operator", "value", "expected", "holds"),
    [
        ("StringEquals", "a", ["a", "b"], True),  # values of one key are ORed
        ("StringEquals", "c", ["a", "b"], False),
        ("StringNotEquals", "c", ["a", "b"], True),  # negated: NOR
        ("StringNotEquals", "a", ["a", "b"], False),
        ("StringEqualsIgnoreCase", "ABC", ["abc"], True),
        ("StringLike", "repo:org/app:ref:refs/heads/main", ["repo:org/app:*"], True),
        ("StringNotLike", "repo:other/app:pull_request", ["repo:org/*"], True),
        ("ArnLike", "arn:aws:iam::123456789012:role/x", ["arn:aws:iam::*:role/*"], True),
        ("ArnEquals", "arn:aws:iam::123456789012:role/x", ["arn:aws:iam::123456789012:role/y"], False),
        ("ArnNotLike", "arn:aws:iam::123456789012:role/x", ["arn:aws:iam::*:role/y*"], True),
        ("Bool", True, ["true"], True),
        ("Bool", "false", ["true"], False),
        ("NumericLessThanEquals", "3600", ["7200"], True),
        ("NumericGreaterThan", "3600", ["7200"], False),
        ("DateLessThan", "2026-01-01T00:00:00Z", ["2026-06-01T00:00:00Z"], True),
        ("IpAddress", "10.42.3.4", ["10.42.0.0/16"], True),
        ("NotIpAddress", "10.42.3.4", ["10.42.0.0/16"], False),
    ],
)
def test_condition_operators(operator, value, expected, holds):
    assert condition_holds(operator, value, expected) is holds


@pytest.mark.parametrize(
    ("operator", "holds"),
    [
        ("StringEquals", False),  # an absent key never matches ...
        ("ArnLike", False),
        ("Bool", False),
        ("StringNotEquals", True),  # ... so negated operators hold
        ("ArnNotLike", True),
        ("StringEqualsIfExists", True),  # IfExists: only checked when present
        ("ForAnyValue:StringEquals", False),
        ("ForAllValues:StringEquals", True),  # the pitfall: vacuously true without the key
    ],
)
def test_a_key_absent_from_the_request(operator, holds):
    assert condition_holds(operator, None, ["a"]) is holds


def test_null_tests_presence():
    assert condition_holds("Null", None, ["true"]) and not condition_holds("Null", "x", ["true"])
    assert condition_holds("Null", "x", ["false"]) and not condition_holds("Null", None, ["false"])


def test_set_operators_over_multivalued_keys():
    allowed = ["subnet-a", "subnet-b"]
    assert condition_holds("ForAllValues:StringEquals", ["subnet-a", "subnet-b"], allowed)
    assert not condition_holds("ForAllValues:StringEquals", ["subnet-a", "subnet-z"], allowed)
    assert condition_holds("ForAnyValue:StringEquals", ["subnet-a", "subnet-z"], allowed)
    assert not condition_holds("ForAnyValue:StringEquals", ["subnet-y", "subnet-z"], allowed)


def test_keys_and_operators_are_anded_and_absent_keys_are_reported():
    statement = allow(
        "sagemaker:CreateTrainingJob",
        Condition={
            "ForAllValues:StringEquals": {"sagemaker:VpcSubnets": ["subnet-a"]},
            "Null": {"sagemaker:VpcSubnets": "false"},
            "Bool": {"sagemaker:InterContainerTrafficEncryption": "true"},
        },
    )
    documents = [policy(statement)]
    complete = {"sagemaker:VpcSubnets": ["subnet-a"], "sagemaker:InterContainerTrafficEncryption": True}
    assert evaluate(documents, Request("sagemaker:CreateTrainingJob", "*", complete)).allowed
    outside = {**complete, "sagemaker:VpcSubnets": ["subnet-a", "subnet-elsewhere"]}
    assert not evaluate(documents, Request("sagemaker:CreateTrainingJob", "*", outside)).allowed
    without_vpc = Request(
        "sagemaker:CreateTrainingJob", "*", {"sagemaker:InterContainerTrafficEncryption": True}
    )
    decision = evaluate(documents, without_vpc)
    assert not decision.allowed and decision.absent_keys == {"sagemaker:VpcSubnets"}


def test_condition_keys_are_case_insensitive():
    documents = [policy(allow("s3:GetObject", Condition={"StringEquals": {"AWS:SourceAccount": "1"}}))]
    assert evaluate(documents, Request("s3:GetObject", "*", {"aws:sourceaccount": "1"})).allowed


def test_policy_variables_take_the_request_value():
    statement = allow("s3:GetObject", Condition={"StringEquals": {"s3:prefix": "${aws:PrincipalTag/team}/"}})
    context = {"s3:prefix": "ml/", "aws:PrincipalTag/team": "ml"}
    assert evaluate([policy(statement)], Request("s3:GetObject", "*", context)).allowed


def test_principals_of_trust_policies():
    trust = policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "sts:AssumeRole",
            "Resource": "*",
        },
    )
    assert evaluate(
        [trust], Request("sts:AssumeRole", principal={"Service": "sagemaker.amazonaws.com"})
    ).allowed
    assert not evaluate(
        [trust], Request("sts:AssumeRole", principal={"Service": "ec2.amazonaws.com"})
    ).allowed
    same_account = {"AWS": "arn:aws:iam::123456789012:role/anyone"}
    assert evaluate([trust], Request("sts:AssumeRole", principal=same_account)).allowed
    assert not evaluate(
        [trust], Request("sts:AssumeRole", principal={"AWS": "arn:aws:iam::999:role/x"})
    ).allowed


def test_a_trust_policy_names_no_resource_the_role_is_its_resource():
    trust = policy(
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    )
    assert evaluate([trust], Request("sts:AssumeRole", principal={"Service": "lambda.amazonaws.com"})).allowed
    assert not evaluate(
        [trust], Request("sts:AssumeRole", principal={"Service": "ec2.amazonaws.com"})
    ).allowed
    with pytest.raises(UnsupportedPolicy):  # an identity statement still needs Resource or NotResource
        evaluate([policy({"Effect": "Allow", "Action": "s3:GetObject"})], Request("s3:GetObject"))


def test_a_boundary_caps_what_identity_policies_allow():
    identity = [policy(allow("s3:*"), allow("iam:CreateRole"))]
    boundary = policy(allow("s3:*"))
    assert evaluate_with_boundary(identity, boundary, Request("s3:GetObject", BUCKET_OBJECT)).allowed
    capped = evaluate_with_boundary(identity, boundary, Request("iam:CreateRole", "arn:aws:iam::1:role/x"))
    assert capped.effect == IMPLICIT_DENY
    denying = policy(allow("*"), deny("s3:DeleteObject"))
    assert evaluate_with_boundary(identity, denying, Request("s3:DeleteObject", BUCKET_OBJECT)).effect == DENY
    assert not evaluate_with_boundary([policy()], boundary, Request("s3:GetObject", BUCKET_OBJECT)).allowed


def test_an_unknown_operator_is_refused_not_guessed():
    with pytest.raises(UnsupportedPolicy):
        condition_holds("StringSoundsLike", "a", ["a"])
