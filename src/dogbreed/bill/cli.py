"""dogbreed-bill: the stack's always-on monthly cost and its cost per 1,000 predictions.

    dogbreed-bill                                     # the default settings
    dogbreed-bill --var-file terraform/terraform.tfvars --var-file terraform/model.auto.tfvars.json
    dogbreed-bill --format json

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

from dogbreed.bill.prices import PriceError, PriceTable
from dogbreed.bill.render import DEFAULT_VOLUMES, as_json, compute, markdown
from dogbreed.bill.settings import SettingsError, read_settings
from dogbreed.bill.usage import UsageError, usage_from_benchmarks


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
    parser.add_argument("--endpoint-ms", type=float, help="model latency per request (default: benchmarks)")
    parser.add_argument("--handler-ms", type=float, help="handler overhead per request (default: benchmarks)")
    parser.add_argument("--image-kb", type=float, help="kB per image (default: the benchmark photo mix)")
    parser.add_argument(
        "--volume",
        type=int,
        action="append",
        help=f"predictions per month to compare (default {DEFAULT_VOLUMES})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    try:
        for path in args.var_file:
            if not path.is_file():
                raise SettingsError(f"{path} does not exist")
        usage = usage_from_benchmarks()
        usage = replace(
            usage,
            endpoint_ms=args.endpoint_ms if args.endpoint_ms is not None else usage.endpoint_ms,
            lambda_overhead_ms=args.handler_ms if args.handler_ms is not None else usage.lambda_overhead_ms,
            request_bytes=args.image_kb * 1e3 if args.image_kb is not None else usage.request_bytes,
        )
        bill = compute(
            read_settings(args.var_file), PriceTable.load(), usage, tuple(args.volume or DEFAULT_VOLUMES)
        )
    except (SettingsError, PriceError, UsageError) as error:
        print(f"dogbreed-bill: error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(as_json(bill), indent=2) if args.format == "json" else markdown(bill), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
