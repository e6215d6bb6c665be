"""Least-privilege rules for IAM policy documents, shared by the checkov checks and the template linter.

Kept free of checkov imports: the project environment imports it too (checkov lives in its own environment).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_policy(document: Any) -> dict | None:
    """The policy as a dict, or None when it is not (yet) a JSON document, e.g. an unrendered templatefile()."""
    if isinstance(document, dict):
        return document
    if isinstance(document, str):
        try:
            parsed = json.loads(document)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def _is_action_wildcard(action: str) -> bool:
    return action == "*" or action.endswith(":*")


def _grants_any_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(value == "*" or "*" in as_list(value) for value in principal.values())
    return False


def statement_violations(statement: dict) -> Iterator[str]:
    """Why an Allow statement is over-permissive. Deny statements only ever restrict, so they pass."""
    if statement.get("Effect") != "Allow":
        return
    sid = statement.get("Sid", "<no Sid>")
    has_condition = bool(statement.get("Condition"))
    if "NotAction" in statement:
        yield f"{sid}: Allow with NotAction grants every other action"
    if "NotResource" in statement:
        yield f"{sid}: Allow with NotResource grants every other resource"
    for action in as_list(statement.get("Action")):
        if isinstance(action, str) and _is_action_wildcard(action):
            yield f"{sid}: action wildcard {action!r}"
    if "*" in as_list(statement.get("Resource")) and not has_condition:
        yield f'{sid}: Resource "*" without a Condition'
    if _grants_any_principal(statement.get("Principal")) and not has_condition:
        yield f"{sid}: allows any principal without a Condition (public access)"


def policy_violations(policy: dict) -> list[str]:
    return [
        violation
        for statement in as_list(policy.get("Statement"))
        if isinstance(statement, dict)
        for violation in statement_violations(statement)
    ]
