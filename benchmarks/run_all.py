"""Run every CPU benchmark end to end, then regenerate docs/benchmarks.md from their results.

One command for the whole suite (budget: 10 minutes on the 2-core machine):

    python -m benchmarks.run_all            # (make bench) results JSON + PNGs in benchmarks/results/,
                                            # docs/benchmarks.md, terraform/autoscaling.auto.tfvars.json
    python -m benchmarks.run_all --quick    # smoke run; writes the docs and tfvars only where told to

Each benchmark is a module in this folder with ``main(argv)``; they run in order (``cost`` last: it reads
``endpoint_capacity``'s results), each ``main`` in a fresh interpreter so that no benchmark's imports or
thread settings leak into the next. A failure in one does not stop the others, nor leaves its previous
numbers behind; a benchmark missing from this checkout is listed as missing and fails the run. The runner
lists what it ran, how long each took and whether the total met the budget (``run_all.json``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from benchmarks import report
from benchmarks.common import REPO_ROOT, SummaryRow, base_parser, write_results

NAME = report.RUNNER_NAME
BENCHMARKS_DIR = Path(__file__).resolve().parent
BENCHMARKS = (
    "inference_latency",
    "serving_runtimes",
    "int8_agreement",
    "input_pipeline",
    "tuning_cost",
    "endpoint_capacity",
    "lambda_overhead",
    "cost",
)
BUDGET_S = 600.0


def get_args_parser():
    parser = base_parser(__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", default=None, help=f"comma-separated subset of: {', '.join(BENCHMARKS)} (default: all)"
    )
    parser.add_argument(
        "--docs", type=Path, default=None, help="summary to write (default docs/benchmarks.md; --quick: none)"
    )
    return parser


def selected(only: str | None) -> list[str]:
    if only is None:
        return list(BENCHMARKS)
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        raise SystemExit(
            f"error: unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}"
        )
    return [name for name in BENCHMARKS if name in names]


def command_for(name: str, argv: list[str]) -> list[str] | None:
    """`python -c "main(argv)"` of the benchmark in a fresh interpreter, or None when this checkout lacks it.

    A fresh process per benchmark: one benchmark's imports, thread settings or memory must not change the
    next one's numbers."""
    if not (BENCHMARKS_DIR / f"{name}.py").is_file():
        return None
    call = f"import sys; from benchmarks.{name} import main; sys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", call, *argv]


def clear_previous(results_dir: Path, name: str) -> None:
    """A benchmark that fails now must not leave its last run's numbers to be reported as current."""
    for path in (results_dir / f"{name}.json", *results_dir.glob(f"{name}*.png")):
        path.unlink(missing_ok=True)


def run_one(name: str, argv: list[str], results_dir: Path) -> dict:
    clear_previous(results_dir, name)
    script = f"benchmarks/{name}.py"
    command = command_for(name, argv)
    if command is None:
        return {"script": script, "status": "missing", "seconds": 0.0}
    print(f"== {name} {' '.join(argv)}", flush=True)
    started = time.perf_counter()
    exit_code = subprocess.run(command, cwd=REPO_ROOT).returncode
    return {
        "script": script,
        "status": "ok" if exit_code == 0 else f"failed (exit {exit_code})",
        "seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    common = ["--results-dir", str(args.results_dir)] + (["--quick"] if args.quick else [])
    started = time.perf_counter()
    names = selected(args.only)
    ran = [run_one(name, common, args.results_dir) for name in names]
    succeeded = sum(r["status"] == "ok" for r in ran)
    total = round(time.perf_counter() - started, 1)
    summary = [
        SummaryRow(
            "all CPU benchmarks end to end, wall time", total, "s", f"<= {BUDGET_S:g} s", total <= BUDGET_S
        ),
        SummaryRow(
            "benchmarks that ran successfully",
            succeeded,
            "scripts",
            f"{len(names)} of {len(names)}",
            succeeded == len(names),
        ),
    ]
    write_results(args.results_dir, NAME, summary, {"ran": ran, "budget_s": BUDGET_S}, quick=args.quick)
    docs = args.docs or (None if args.quick else report.DEFAULT_OUTPUT)
    if docs is not None:
        report.write_report(args.results_dir, docs)
    print("\nran:")
    for entry in ran:
        print(f"  {entry['script']:<36} {entry['status']:<10} {entry['seconds']:>7.1f} s")
    print(f"  total {total:.1f} s (budget {BUDGET_S:g} s)" + (f"; summary in {docs}" if docs else ""))
    return 0 if succeeded == len(names) else 1


if __name__ == "__main__":
    sys.exit(main())
