"""Evaluate IAM policy documents for one request, the way AWS decides within one account.

    request = Request("s3:PutObject", "arn:aws:s3:::bucket/code/x", {"s3:x-amz-acl": "private"})
    decision = evaluate([policy], request)
    decision.allowed, decision.effect, decision.absent_keys

AWS's order (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
an explicit Deny in any document wins; otherwise the request is allowed when some statement allows it;
otherwise it is implicitly denied. A permissions boundary caps what identity policies allow
(`evaluate_with_boundary`).

Statements match on Action/NotAction (wildcards `*` `?`, case-insensitive), Resource/NotResource (wildcards,
case-sensitive), Principal/NotPrincipal (when the request names a principal: trust and resource policies) and
Condition. Conditions follow the IAM reference
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
- a key absent from the request context makes a condition false, except that negated operators
  (StringNotEquals, StringNotLike, ArnNotLike, ...) are then true, `...IfExists` is then true and `Null` tests
  presence itself;
- several values of one key are ORed (NORed for negated operators); several keys and operators are ANDed;
- `ForAllValues:` is true when every request value matches (also when the key is absent: the classic pitfall),
  `ForAnyValue:` when at least one does (false when absent).
Keys the request did not give are reported in `Decision.absent_keys`, so a caller can list what it assumed.
"""

from __future__ import annotations

import base64
import datetime
import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ALLOW, DENY, IMPLICIT_DENY = "Allow", "Deny", "ImplicitDeny"
SET_PREFIXES = ("ForAllValues:", "ForAnyValue:")
NEGATED_OPERATORS = frozenset(
    {
        "StringNotEquals",
        "StringNotEqualsIgnoreCase",
        "StringNotLike",
        "NumericNotEquals",
        "DateNotEquals",
        "ArnNotEquals",
        "ArnNotLike",
        "NotIpAddress",
    }
)
_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class UnsupportedPolicy(ValueError):
    """The document uses an element or operator this evaluator does not implement."""


@dataclass(frozen=True)
class Request:
    """One API request: the action, the resource ARN, the condition keys it carries, and who makes it."""

    action: str
    resource: str = "*"
    context: Mapping[str, Any] = field(default_factory=dict)
    principal: Mapping[str, str] | None = None  # {"AWS": arn} / {"Service": name} / {"Federated": arn}

    def value(self, key: str) -> Any:
        """The context value of `key` (condition keys are case-insensitive), or None when absent."""
        lowered = key.lower()
        for name, value in self.context.items():
            if name.lower() == lowered:
                return value
        return None


@dataclass(frozen=True)
class Decision:
    effect: str
    statements: tuple[str, ...] = ()  # Sids (or positions) of the statements that decided
    absent_keys: frozenset[str] = frozenset()

    @property
    def allowed(self) -> bool:
        return self.effect == ALLOW


def evaluate(documents: Iterable[Mapping[str, Any]], request: Request) -> Decision:
    """The decision of these policy documents, taken together, for `request`."""
    allows, denies, absent = [], [], set()
    for document in documents:
        for index, statement in enumerate(statements_of(document)):
            matched, missing = statement_applies(statement, request)
            absent |= missing
            if matched:
                sid = statement.get("Sid", f"#{index}")
                (denies if statement["Effect"] == DENY else allows).append(sid)
    if denies:
        return Decision(DENY, tuple(denies), frozenset(absent))
    if allows:
        return Decision(ALLOW, tuple(allows), frozenset(absent))
    return Decision(IMPLICIT_DENY, (), frozenset(absent))


def evaluate_with_boundary(
    identity: Iterable[Mapping[str, Any]], boundary: Mapping[str, Any] | None, request: Request
) -> Decision:
    """Identity policies capped by a permissions boundary: both must allow, a Deny in either wins."""
    granted = evaluate(identity, request)
    if boundary is None or granted.effect == DENY:
        return granted
    capped = evaluate([boundary], request)
    absent = granted.absent_keys | capped.absent_keys
    if capped.effect == DENY:
        return Decision(DENY, capped.statements, absent)
    if granted.allowed and capped.allowed:
        return Decision(ALLOW, granted.statements, absent)
    return Decision(IMPLICIT_DENY, (), absent)


def statements_of(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, Mapping) else list(statements)
    for statement in statements:
        if statement.get("Effect") not in (ALLOW, DENY):
            raise UnsupportedPolicy(f"statement {statement.get('Sid', '?')} has no Allow/Deny Effect")
    return statements


def statement_applies(statement: Mapping[str, Any], request: Request) -> tuple[bool, set[str]]:
    """Whether the statement covers the request, and the condition keys the request lacked."""
    if not _matches_element(statement, "Action", request.action, action_matches):
        return False, set()
    if not _is_trust_statement(statement) and not _matches_element(
        statement, "Resource", request.resource, resource_matches
    ):
        return False, set()
    if request.principal is not None and not _principal_matches(statement, request.principal):
        return False, set()
    return conditions_hold(statement.get("Condition", {}), request)


def _is_trust_statement(statement: Mapping[str, Any]) -> bool:
    """A role's trust policy names no Resource: the role it is attached to is the resource
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html)."""
    no_resource = "Resource" not in statement and "NotResource" not in statement
    return no_resource and ("Principal" in statement or "NotPrincipal" in statement)


def wildcard_matches(pattern: str, text: str, ignore_case: bool = False) -> bool:
    """IAM wildcards: `*` any run of characters (colons and slashes included), `?` one character."""
    return _wildcard_regex(pattern, ignore_case).fullmatch(text) is not None


@functools.lru_cache(maxsize=4096)
def _wildcard_regex(pattern: str, ignore_case: bool) -> re.Pattern:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    return wildcard_matches(pattern, action, ignore_case=True)


def resource_matches(pattern: str, resource: str) -> bool:
    return wildcard_matches(pattern, resource)


def _matches_element(statement: Mapping[str, Any], name: str, value: str, matches) -> bool:
    positive, negative = statement.get(name), statement.get(f"Not{name}")
    if (positive is None) == (negative is None):
        raise UnsupportedPolicy(f"a statement needs exactly one of {name} and Not{name}")
    patterns = _as_list(positive if positive is not None else negative)
    hit = any(matches(pattern, value) for pattern in patterns)
    return hit if positive is not None else not hit


def _principal_matches(statement: Mapping[str, Any], principal: Mapping[str, str]) -> bool:
    positive, negative = statement.get("Principal"), statement.get("NotPrincipal")
    if positive is None and negative is None:
        return True  # an identity policy: it applies to whoever holds it
    hit = _principal_in(positive if positive is not None else negative, principal)
    return hit if positive is not None else not hit


def _principal_in(element: Any, principal: Mapping[str, str]) -> bool:
    if element == "*":
        return True
    for kind, name in principal.items():
        for pattern in _as_list(element.get(kind, [])):
            if pattern == "*" or pattern == name or _account_root_covers(pattern, name):
                return True
    return False


def _account_root_covers(pattern: str, arn: str) -> bool:
    """`arn:aws:iam::123456789012:root` (or a bare account id) names every principal of that account."""
    account = pattern.split(":")[4] if pattern.endswith(":root") else pattern
    return account.isdigit() and arn.split(":")[4:5] == [account]


# ------------------------------------------------------------------------------------------------ conditions


def conditions_hold(block: Mapping[str, Mapping[str, Any]], request: Request) -> tuple[bool, set[str]]:
    """All operators of the block must hold (AND); the keys the request lacked come back too."""
    absent: set[str] = set()
    holds = True
    for operator, keys in block.items():
        for key, policy_values in keys.items():
            value = request.value(key)
            if value is None:
                absent.add(key)
            expected = [_substitute(str(v), request) for v in _as_list(policy_values)]
            holds = holds and condition_holds(operator, value, expected)
    return holds, absent


def condition_holds(operator: str, value: Any, expected: Sequence[str]) -> bool:
    """One operator on one key: `value` is the request's (None when absent), `expected` the policy's."""
    set_prefix = next((prefix for prefix in SET_PREFIXES if operator.startswith(prefix)), "")
    base = operator[len(set_prefix) :]
    if_exists = base.endswith("IfExists") and base != "IfExists"
    base = base.removesuffix("IfExists") if if_exists else base
    if base == "Null":
        return (value is None) == (expected[0].lower() == "true")
    compare = _comparator(base)
    values = None if value is None else [_text(v) for v in _as_list(value)]
    if set_prefix == "ForAllValues:":
        return values is None or all(_one_value_holds(base, compare, v, expected) for v in values)
    if set_prefix == "ForAnyValue:":
        return values is not None and any(_one_value_holds(base, compare, v, expected) for v in values)
    if values is None:
        return if_exists or base in NEGATED_OPERATORS
    return any(_one_value_holds(base, compare, v, expected) for v in values)


def _one_value_holds(base: str, compare, value: str, expected: Sequence[str]) -> bool:
    hit = any(compare(value, candidate) for candidate in expected)
    return not hit if base in NEGATED_OPERATORS else hit


def _comparator(base: str):
    positive = _POSITIVE_OF.get(base, base)
    try:
        return _COMPARATORS[positive]
    except KeyError:
        raise UnsupportedPolicy(f"condition operator {base} is not supported") from None


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _like(value: str, pattern: str) -> bool:
    return wildcard_matches(pattern, value)


def _number(text: str) -> float:
    return float(text)


def _date(text: str) -> datetime.datetime:
    if re.fullmatch(r"\d+", text):
        return datetime.datetime.fromtimestamp(int(text), datetime.UTC)
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _arn_like(value: str, pattern: str) -> bool:
    """ARN operators compare the six colon-separated parts, each with wildcards (ArnEquals does the same)."""
    value_parts, pattern_parts = value.split(":", 5), pattern.split(":", 5)
    return len(value_parts) == len(pattern_parts) == 6 and all(
        wildcard_matches(p, v) for v, p in zip(value_parts, pattern_parts, strict=True)
    )


def _ip_in(value: str, network: str) -> bool:
    return ipaddress.ip_address(value) in ipaddress.ip_network(network, strict=False)


_COMPARATORS = {
    "StringEquals": lambda v, e: v == e,
    "StringEqualsIgnoreCase": lambda v, e: v.lower() == e.lower(),
    "StringLike": _like,
    "NumericEquals": lambda v, e: _number(v) == _number(e),
    "NumericLessThan": lambda v, e: _number(v) < _number(e),
    "NumericLessThanEquals": lambda v, e: _number(v) <= _number(e),
    "NumericGreaterThan": lambda v, e: _number(v) > _number(e),
    "NumericGreaterThanEquals": lambda v, e: _number(v) >= _number(e),
    "DateEquals": lambda v, e: _date(v) == _date(e),
    "DateLessThan": lambda v, e: _date(v) < _date(e),
    "DateLessThanEquals": lambda v, e: _date(v) <= _date(e),
    "DateGreaterThan": lambda v, e: _date(v) > _date(e),
    "DateGreaterThanEquals": lambda v, e: _date(v) >= _date(e),
    "Bool": lambda v, e: v.lower() == e.lower(),
    "BinaryEquals": lambda v, e: base64.b64decode(v) == base64.b64decode(e),
    "IpAddress": _ip_in,
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
}
_POSITIVE_OF = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NotIpAddress": "IpAddress",
}


def _substitute(text: str, request: Request) -> str:
    """Policy variables such as ${aws:PrincipalTag/team} take the request's value (left as is when absent)."""

    def replace(match: re.Match) -> str:
        value = request.value(match.group(1))
        return match.group(0) if value is None else _text(value)

    return _VARIABLE.sub(replace, text)


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
