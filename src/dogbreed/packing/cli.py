"""Pack a training checkpoint into a servable model.tar.gz.

dogbreed-pack --checkpoint runs/checkpoints/best.pt --output runs/model/model.tar.gz
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dogbreed.packing.artifact import pack_from_checkpoint


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        required=True,
        help="best.pt (best weights) or checkpoint.pt (last epoch) from --checkpoint-dir",
    )
    parser.add_argument(
        "--output", type=Path, default=Path("model.tar.gz"), help="archive to write (%(default)s)"
    )
    return parser


def main(args: argparse.Namespace | None = None) -> int:
    args = args if args is not None else get_args_parser().parse_args()
    if not args.checkpoint.is_file():
        print(f"error: checkpoint {args.checkpoint} does not exist", file=sys.stderr)
        return 2
    try:
        output = pack_from_checkpoint(args.checkpoint, args.output)
    except (ValueError, OSError, RuntimeError) as error:
        print(f"error: cannot pack {args.checkpoint}: {error}", file=sys.stderr)
        return 2
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
