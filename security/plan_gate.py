"""The plan gate: every policy every stack renders, checked with the project's rules, and no role that can
modify itself.

Reads the offline plans of the root stack, the bootstrap stack and every example: identity, resource, trust
and VPC endpoint documents go through security/checkov_checks/policy_rules.py (exact actions, no escalation
action through a wildcard or on every principal, OIDC trust with an exact audience and a repository-bounded
subject, endpoint policies bound to the account); security/escalation.py evaluates each role's own policies
for self-modification. A document not known at plan time cannot be checked, so it fails.
"""

from __future__ import annotations

from collections.abc import Mapping

from security.checkov_checks.policy_rules import policy_violations
from security.escalation import self_modifications
from security.plan_policies import rendered_documents


def findings(plans: Mapping[str, dict]) -> dict[str, list[str]]:
    """Violations per "stack: address" (or "stack: role"); an empty dict means every document passes."""
    report: dict[str, list[str]] = {}
    for stack, plan in plans.items():
        for document in rendered_documents(plan):
            key = f"{stack}: {document.address}"
            if document.policy is None:
                report.setdefault(key, []).append("not known at plan time, so it cannot be checked")
                continue
            violations = policy_violations(document.policy, document.kind)
            if violations:
                report.setdefault(key, []).extend(f"[{document.kind}] {v}" for v in violations)
    for role, issues in self_modifications(plans).items():
        report.setdefault(role, []).extend(f"[self-modification] {issue}" for issue in issues)
    return report


def count_documents(plans: Mapping[str, dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for plan in plans.values():
        for document in rendered_documents(plan):
            counts[document.kind] = counts.get(document.kind, 0) + 1
    return counts
