"""dogbreed-acceptance: the whole stack on a sandbox AWS account, end to end, then nothing left.

    dogbreed-acceptance --region eu-west-1                 # prints the estimated cost, creates nothing
    dogbreed-acceptance --region eu-west-1 --spend         # the run (about an hour), then the teardown
    dogbreed-acceptance --region eu-west-1 --spend --budget-email me@example.org

Credentials come from the environment as for the AWS CLI (AWS_PROFILE, SSO, ...): an administrator of a
sandbox account. Exit codes: 0 passed, 1 a step failed (torn down), 3 refused (no --spend), 4 the teardown
failed (resources may remain: see the report), 130 interrupted (torn down).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from dogbreed.acceptance.config import WORK_ROOT, RunConfig
from dogbreed.acceptance.context import Hooks
from dogbreed.acceptance.runner import exit_code, run


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dogbreed-acceptance",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--region", required=True, help="AWS region of the run's stack")
    parser.add_argument(
        "--spend", action="store_true", help="create the billed resources (without: estimate only)"
    )
    parser.add_argument("--name", help="stack name (default: acc-<UTC time>-<random>, new every run)")
    parser.add_argument("--budget-email", action="append", default=[], help="the budget's alert address")
    parser.add_argument("--budget-limit", type=float, default=25.0, help="the run's monthly budget in USD")
    parser.add_argument("--tfvars-json", type=Path, help="extra root variables (a JSON object)")
    parser.add_argument("--work-root", type=Path, default=WORK_ROOT, help="where runs keep their directory")
    parser.add_argument("--report-dir", type=Path, help="also copy report.json and report.md here")
    parser.add_argument("--job-timeout", type=int, default=3 * 3600, help="seconds to wait for each job")
    parser.add_argument("--poll", type=float, default=30.0, help="seconds between status checks")
    return parser


def config_from(args: argparse.Namespace) -> RunConfig:
    extra = json.loads(args.tfvars_json.read_text()) if args.tfvars_json else {}
    if not isinstance(extra, dict):
        raise ValueError(f"{args.tfvars_json} must hold a JSON object of root variables")
    fields = dict(
        region=args.region,
        spend=args.spend,
        work_root=args.work_root,
        budget_emails=args.budget_email,
        budget_limit_usd=args.budget_limit,
        job_timeout_s=args.job_timeout,
        poll_s=args.poll,
        extra_tfvars=extra,
    )
    if args.name:
        fields["name"] = args.name
    return RunConfig(**fields)


def main(argv: Sequence[str] | None = None, hooks: Hooks | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    try:
        config = config_from(args)
    except (OSError, ValueError) as error:
        print(f"dogbreed-acceptance: error: {error}", file=sys.stderr)
        return 2
    report = run(config, hooks)
    if args.report_dir:
        args.report_dir.mkdir(parents=True, exist_ok=True)
        for name in ("report.json", "report.md"):
            shutil.copy2(config.workdir / name, args.report_dir / name)
    print(
        f"acceptance run {config.name}: {report.outcome}; report: {config.workdir / 'report.md'}",
        file=sys.stderr,
    )
    return exit_code(report)


if __name__ == "__main__":
    sys.exit(main())
