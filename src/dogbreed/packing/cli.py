"""Pack a training checkpoint into a servable model.tar.gz, deciding its serving precision on the data.

dogbreed-pack --checkpoint runs/checkpoints/best.pt --data-dir data/dogImages --output runs/model/model.tar.gz

With --data-dir (the dogImages layout the model was trained on) the int8 model is calibrated on train/ and
must pass the accuracy gate on valid/ to ship (see --serving-precision); without it the fp32 torch network
ships and the output says why.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dogbreed.packing.artifact import pack_from_checkpoint
from dogbreed.packing.options import add_packing_flags, pack_options
from dogbreed.packing.serving_build import PackError
from dogbreed.packing.wheels import WheelhouseError


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
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="dataset root with train/ and valid/ (calibration, gate)"
    )
    add_packing_flags(parser)
    return parser


def main(args: argparse.Namespace | None = None) -> int:
    args = args if args is not None else get_args_parser().parse_args()
    if not args.checkpoint.is_file():
        print(f"error: checkpoint {args.checkpoint} does not exist", file=sys.stderr)
        return 2
    try:
        output, serving = pack_from_checkpoint(
            args.checkpoint, args.output, pack_options(args, args.data_dir)
        )
    except (PackError, WheelhouseError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (ValueError, OSError, RuntimeError) as error:
        print(f"error: cannot pack {args.checkpoint}: {error}", file=sys.stderr)
        return 2
    summary = {key: serving[key] for key in ("runtime", "precision", "file", "reason")}
    print(f"wrote {output}: {json.dumps(summary)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
