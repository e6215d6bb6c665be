"""The project's security gates, one command locally and in CI: `python -m security.gates`.

scripts/security_gates.sh runs it with the project's venv.

Stages, in order:
  policy-lint   policies/*.json templates: exact actions, no escalation action through a wildcard, no
                unconditioned Resource "*" or public principal, exact OIDC audience and bounded subject
  checkov-hcl   checkov on terraform/ with .checkov.yaml and the custom checks in security/checkov_checks
  checkov-plan  offline plans (moto) of the deployed stacks (root and bootstrap), then checkov on their JSON,
                where templatefile() policies are rendered
  iam-plan every policy every stack renders (root, bootstrap, each example): identity, resource, trust and
                VPC endpoint rules, and no role that can modify itself (security/plan_gate.py)
  parliament    parliament, with its privilege-escalation auditor, on every identity and resource policy of
                every stack (security/parliament_gate.py)
Exit status 0 only when every selected stage passes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dev import offline_terraform as terraform
from security import parliament_gate, plan_gate, policy_lint

STAGES = ("policy-lint", "checkov-hcl", "checkov-plan", "iam-plan", "parliament")
PLAN_STAGES = {"checkov-plan", "iam-plan", "parliament"}
CHECKS_DIR = Path(__file__).resolve().parent / "checkov_checks"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DEFAULT_PLAN_VARS = FIXTURES / "plan.tfvars.json"
DEPLOYED_STACKS = ("root", "bootstrap")  # what CI applies (root) or an administrator applies once (bootstrap)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--stack-root",
        type=Path,
        default=terraform.REPO_ROOT,
        help="repository root holding terraform/ and policies/ (default: this repository)",
    )
    parser.add_argument(
        "--only", nargs="+", choices=STAGES, default=list(STAGES), help="stages to run (default: all)"
    )
    parser.add_argument(
        "--plan-vars",
        type=Path,
        default=DEFAULT_PLAN_VARS,
        help="variables file for the offline plan (default: security/fixtures/plan.tfvars.json)",
    )
    parser.add_argument("--sarif-dir", type=Path, help="also write checkov results as SARIF into this folder")
    parser.add_argument(
        "--workdir", type=Path, help="keep the staged stack and plan here (default: a temp dir)"
    )
    return parser


def checkov_command(*target: str, sarif_to: Path | None) -> list[str]:
    checkov = os.environ.get("CHECKOV") or _find_checkov()
    command = [
        checkov,
        *target,
        "--config-file",
        str(terraform.REPO_ROOT / ".checkov.yaml"),
        "--external-checks-dir",
        str(CHECKS_DIR),
        "--output",
        "cli",
    ]
    if sarif_to:
        command += ["--output", "sarif", "--output-file-path", f"console,{sarif_to}"]
    return command


def _find_checkov() -> str:
    bundled = terraform.REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
    found = str(bundled) if bundled.exists() else shutil.which("checkov")
    if not found:
        raise SystemExit("checkov not found: run `make setup` (creates .venv-checkov) or set CHECKOV")
    return found


def run_checkov(name: str, command: list[str], cwd: Path) -> bool:
    # BC_SKIP_MAPPING: never reach for the online guideline mapping (offline machines, hermetic CI).
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "WARNING"}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    print(result.stdout.strip())
    if result.returncode not in (0, 1):
        print(result.stderr[-3000:])
    return result.returncode == 0


def stage_policy_lint(stack_root: Path) -> bool:
    findings = policy_lint.lint_templates(stack_root / "policies")
    for name, violations in findings.items():
        for violation in violations:
            print(f"FAILED policies/{name}: {violation}")
    return not findings


def stage_checkov_hcl(stack_root: Path, sarif_dir: Path | None) -> bool:
    sarif_to = sarif_dir / "checkov-hcl.sarif" if sarif_dir else None
    command = checkov_command("--directory", "terraform", "--framework", "terraform", sarif_to=sarif_to)
    return run_checkov("checkov-hcl", command, stack_root)


def stage_checkov_plan(plan_files: dict[str, Path], stack: Path, sarif_dir: Path | None) -> bool:
    results = []
    for name in DEPLOYED_STACKS:
        sarif_to = sarif_dir / f"checkov-plan-{name}.sarif" if sarif_dir else None
        configuration = stack / STACK_DIRS[name]
        command = checkov_command(
            "--file",
            str(plan_files[name]),
            "--framework",
            "terraform_plan",
            "--repo-root-for-plan-enrichment",
            str(configuration),
            sarif_to=sarif_to,
        )
        print(f"checkov-plan: {name}")
        results.append(run_checkov("checkov-plan", command, stack))
    return all(results)


def stage_iam_plan(plans: dict[str, dict]) -> bool:
    report = plan_gate.findings(plans)
    for address, issues in report.items():
        for issue in issues:
            print(f"FAILED {address}: {issue}")
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(plan_gate.count_documents(plans).items()))
    print(
        f"iam-plan: {len(plans)} stacks, rendered documents: {counts}; "
        f"{sum(map(len, report.values()))} findings"
    )
    return not report


def stage_parliament(plans: dict[str, dict]) -> bool:
    report = parliament_gate.findings(plans)
    for address, issues in report.items():
        for issue in issues:
            print(f"FAILED {address}: {issue}")
    print(
        f"parliament: {parliament_gate.count_policies(plans)} rendered policies in {len(plans)} stacks, "
        f"{sum(map(len, report.values()))} findings"
    )
    return not report


STACK_DIRS = {"root": "terraform", "bootstrap": "terraform/bootstrap"}
# Stacks whose key and network are created in moto and imported before the plan, as for the root stack, so
# that policies naming subnets and security groups are known (the fixture names the stack's `name`).
SEEDED_STACKS = {"examples/notebook_training"}


def stacks_of(stack_root: Path) -> dict[str, str]:
    """Every stack the gates plan: the root, the bootstrap and each example, by name => directory."""
    examples = sorted(p.name for p in (stack_root / "terraform" / "examples").iterdir() if p.is_dir())
    return {**STACK_DIRS, **{f"examples/{e}": f"terraform/examples/{e}" for e in examples}}


def make_plans(stack_root: Path, workdir: Path, plan_vars: Path) -> tuple[dict[str, Path], dict[str, dict]]:
    terraform.stage_stack(stack_root, workdir)
    env = terraform.terraform_env(terraform.cli_config(workdir))
    terraform.warm_plugin_cache(env)
    plans, files = {}, {}
    for name, directory in stacks_of(stack_root).items():
        if name == "root":
            plans[name] = terraform.plan_json(workdir, plan_vars.resolve(), env)
        else:
            fixture = FIXTURES / f"{name.replace('/', '_')}.tfvars.json"
            variables = json.loads(fixture.read_text()) if fixture.exists() else {}
            seed = variables["name"] if name in SEEDED_STACKS else None
            plans[name] = terraform.plan_configuration_json(workdir, directory, variables, env, seed)
        files[name] = workdir / f"plan-{name.replace('/', '_')}.json"
        files[name].write_text(json.dumps(plans[name]))
        print(f"plan: {len(plans[name].get('resource_changes', []))} resources in the planned {name} stack")
    return files, plans


def main(args: argparse.Namespace) -> int:
    stack_root = args.stack_root.resolve()
    workdir = args.workdir or terraform.new_workdir("security-gates-")
    workdir.mkdir(parents=True, exist_ok=True)
    if args.sarif_dir:
        args.sarif_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    if "policy-lint" in args.only:
        results["policy-lint"] = _announce("policy-lint", lambda: stage_policy_lint(stack_root))
    if "checkov-hcl" in args.only:
        results["checkov-hcl"] = _announce(
            "checkov-hcl", lambda: stage_checkov_hcl(stack_root, args.sarif_dir)
        )
    if PLAN_STAGES & set(args.only):
        plan_files, plans = _announce("plan", lambda: make_plans(stack_root, workdir, args.plan_vars))
        if "checkov-plan" in args.only:
            results["checkov-plan"] = _announce(
                "checkov-plan", lambda: stage_checkov_plan(plan_files, workdir, args.sarif_dir)
            )
        if "iam-plan" in args.only:
            results["iam-plan"] = _announce("iam-plan", lambda: stage_iam_plan(plans))
        if "parliament" in args.only:
            results["parliament"] = _announce("parliament", lambda: stage_parliament(plans))
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\n".join(f"{'PASS' if ok else 'FAIL'}  {stage}" for stage, ok in results.items()))
    return 0 if all(results.values()) else 1


def _announce(stage: str, run_stage):
    print(f"==> {stage}", flush=True)
    return run_stage()


if __name__ == "__main__":
    sys.exit(main(get_args_parser().parse_args()))
