"""dogbreed-bill: the stack's always-on monthly cost and its cost per 1,000 predictions.

    dogbreed-bill                                     # the default settings
    dogbreed-bill --var-file terraform/terraform.tfvars --var-file terraform/model.auto.tfvars.json
    dogbreed-bill --format json
    dogbreed-bill --write-doc docs/bill.md            # refresh the documented output (default settings)

Terraform evaluates the settings (`terraform console` on a copy of the root stack: no AWS call, no state);
docs/service_prices.csv and docs/instance_prices.csv price them; the per-prediction usage comes from the
benchmark results in benchmarks/results/. Prices and assumptions are printed with the table.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from dogbreed.bill.docs import DocError, write_block
from dogbreed.bill.prices import PriceError, PriceTable
from dogbreed.bill.render import DEFAULT_VOLUMES, as_json, compute, markdown
from dogbreed.bill.settings import SettingsError, read_settings
from dogbreed.bill.usage import Usage, UsageError, usage_from_benchmarks


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be greater than 0")
    return value


def positive_int(text: str) -> int:
    value = positive(text)
    if value != int(value):
        raise argparse.ArgumentTypeError(f"{text} must be a whole number")
    return int(value)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dogbreed-bill",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--var-file", type=Path, action="append", default=[], help="tfvars file (repeatable, in order)"
    )
    parser.add_argument("--format", choices=["markdown", "json"], default="markdown")
    parser.add_argument("--endpoint-ms", type=positive, help="model latency per request (default: benchmark)")
    parser.add_argument("--handler-ms", type=positive, help="handler time per request (default: benchmark)")
    parser.add_argument("--image-kb", type=positive, help="kB per image (default: the benchmark's photo mix)")
    parser.add_argument(
        "--volume",
        type=positive_int,
        action="append",
        help=f"predictions per month to compare (default {DEFAULT_VOLUMES})",
    )
    parser.add_argument(
        "--write-doc", type=Path, help="write the Markdown of the default settings into this document's block"
    )
    return parser


def usage_from(args: argparse.Namespace) -> Usage:
    """The benchmarks' usage per prediction, each value overridden by its flag."""
    usage = usage_from_benchmarks()
    return replace(
        usage,
        endpoint_ms=args.endpoint_ms if args.endpoint_ms is not None else usage.endpoint_ms,
        lambda_overhead_ms=args.handler_ms if args.handler_ms is not None else usage.lambda_overhead_ms,
        request_bytes=args.image_kb * 1e3 if args.image_kb is not None else usage.request_bytes,
    )


def check_inputs(args: argparse.Namespace) -> None:
    for path in args.var_file:
        if not path.is_file():
            raise SettingsError(f"{path} does not exist")
    changed = args.var_file or args.volume or {args.endpoint_ms, args.handler_ms, args.image_kb} != {None}
    if args.write_doc and changed:
        raise SettingsError("--write-doc documents the default settings: drop the other options")


def main(argv: Sequence[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    try:
        check_inputs(args)
        facts = read_settings(args.var_file)
        bill = compute(facts, PriceTable.load(), usage_from(args), tuple(args.volume or DEFAULT_VOLUMES))
        output = json.dumps(as_json(bill), indent=2) + "\n" if args.format == "json" else markdown(bill)
        if args.write_doc:
            write_block(args.write_doc, markdown(bill))
    except (SettingsError, PriceError, UsageError, DocError, OSError) as error:
        print(f"dogbreed-bill: error: {error}", file=sys.stderr)
        return 2
    print(output, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
