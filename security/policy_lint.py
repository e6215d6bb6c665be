"""Lint the IAM policy templates in policies/*.json with the same rules as checkov's CKV_DOG_2."""

from __future__ import annotations

import json
import re
from pathlib import Path

from security.checkov_checks.policy_rules import ENDPOINT, IDENTITY, RESOURCE, TRUST, policy_violations

# An interpolation that is a whole JSON value (e.g. "sub": ${subjects_json}) versus one inside a string.
WHOLE_VALUE_PLACEHOLDER = re.compile(r"(?<=[:\[,])(\s*)\$\{[^}]*\}(?=\s*[,\]}])")
PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
# Which rules a template gets, by its file name.
KIND_BY_PREFIX = (
    ("trust_", TRUST),
    ("vpc_endpoint_", ENDPOINT),
    ("s3_bucket_", RESOURCE),
    ("kms_key", RESOURCE),
)


def template_kind(name: str) -> str:
    return next((kind for prefix, kind in KIND_BY_PREFIX if name.startswith(prefix)), IDENTITY)


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    """JSON allows a key twice and keeps the last; IAM (and the provider) refuse such a policy."""
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"duplicate keys {duplicates}")
    return dict(pairs)


def load_template(path: Path) -> dict:
    """Parse a templatefile() policy with every ${...} replaced by a neutral string value."""
    text = WHOLE_VALUE_PLACEHOLDER.sub(r'\1"TEMPLATE_VALUE"', path.read_text())
    return json.loads(PLACEHOLDER.sub("TEMPLATE_VALUE", text), object_pairs_hook=_refuse_duplicate_keys)


def lint_templates(policies_dir: Path) -> dict[str, list[str]]:
    """Violations per template file name; a template that is not valid JSON is a violation too."""
    findings = {}
    for path in sorted(policies_dir.glob("*.json")):
        try:
            violations = policy_violations(load_template(path), template_kind(path.name))
        except ValueError as error:
            violations = [f"not valid JSON once placeholders are filled: {error}"]
        if violations:
            findings[path.name] = violations
    return findings
