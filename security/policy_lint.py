"""Lint the IAM policy templates in policies/*.json with the same rules as checkov's CKV_DOG_2."""

from __future__ import annotations

import json
import re
from pathlib import Path

from security.checkov_checks.policy_rules import policy_violations

# An interpolation that is a whole JSON value (e.g. "sub": ${subjects_json}) versus one inside a string.
WHOLE_VALUE_PLACEHOLDER = re.compile(r"(?<=[:\[,])(\s*)\$\{[^}]*\}(?=\s*[,\]}])")
PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


def load_template(path: Path) -> dict:
    """Parse a templatefile() policy with every ${...} replaced by a neutral string value."""
    text = WHOLE_VALUE_PLACEHOLDER.sub(r'\1"TEMPLATE_VALUE"', path.read_text())
    return json.loads(PLACEHOLDER.sub("TEMPLATE_VALUE", text))


def lint_templates(policies_dir: Path) -> dict[str, list[str]]:
    """Violations per template file name; a template that is not valid JSON is a violation too."""
    findings = {}
    for path in sorted(policies_dir.glob("*.json")):
        try:
            violations = policy_violations(load_template(path))
        except ValueError as error:
            violations = [f"not valid JSON once placeholders are filled: {error}"]
        if violations:
            findings[path.name] = violations
    return findings
