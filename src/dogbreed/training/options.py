"""train.py's command line: every flag, its default and its checks. Imports no torch, so the launcher can
check a job's hyperparameters with this very parser on a machine that has only the SageMaker SDK."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from dogbreed.packing.options import add_packing_flags, pack_options
from dogbreed.training.flags import add_flag, add_switch
from dogbreed.utils.cpus import dataloader_workers, usable_cpus


class ConfigError(ValueError):
    """A flag value or the checkpoint directory does not fit this run."""


DESCRIPTION = """Fine-tune a torchvision classifier on the dogImages layout and pack a servable model.tar.gz.

Runs unchanged as a plain script (CPU or one GPU), under `torchrun --nproc_per_node=N` (DDP),
as a SageMaker training job (paths default to the SM_* variables) and on EC2 (ec2/bootstrap.sh).
`training/train.py` is the script those launchers run; `dogbreed-train` is the same command.

    dogbreed-train --data-dir data/dogImages --epochs 10
    torchrun --nproc_per_node=4 training/train.py --data-dir data/dogImages

Hyperparameters accept kebab-case and underscore spellings (--learning-rate / --learning_rate); booleans
accept `--flag`, `--no-flag` and SageMaker's `--flag true|false`. Pretrained weights are read from a local
folder only (`--weights-dir`), staged once with `dogbreed-stage-weights`.
"""


def default_num_workers() -> int:
    """DataLoader workers per process: the node's CPUs shared by its LOCAL_WORLD_SIZE processes."""
    return dataloader_workers(usable_cpus(), int(os.environ.get("LOCAL_WORLD_SIZE", 1)))


def on_sagemaker() -> bool:
    return "SM_TRAINING_ENV" in os.environ


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    paths = parser.add_argument_group("paths (defaults follow SageMaker's SM_* variables when they are set)")
    add_flag(
        paths,
        "data-dir",
        type=Path,
        default=Path(os.environ.get("SM_CHANNEL_TRAINING", "data/dogImages")),
        help="dataset root holding train/ valid/ test/ (default: %(default)s)",
    )
    add_flag(
        paths,
        "model-dir",
        type=Path,
        default=Path(os.environ.get("SM_MODEL_DIR", "runs/model")),
        help="where model.tar.gz is written (default: %(default)s)",
    )
    add_flag(
        paths,
        "output-dir",
        type=Path,
        default=Path(os.environ.get("SM_OUTPUT_DATA_DIR", "runs/output")),
        help="where metrics.json and training_curves.png are written (default: %(default)s)",
    )
    add_flag(
        paths,
        "checkpoint-dir",
        type=Path,
        default=Path("/opt/ml/checkpoints" if on_sagemaker() else "runs/checkpoints"),
        help="per-epoch checkpoints; a rerun with the same directory resumes (default: %(default)s)",
    )

    model = parser.add_argument_group("model")
    add_flag(
        model, "arch", default="resnet50", help="torchvision classification model name (default: %(default)s)"
    )
    add_switch(
        model,
        "pretrained",
        True,
        "start from torchvision's ImageNet weights, read from --weights-dir (never downloaded); "
        "--no-pretrained: random init",
    )
    add_flag(
        model,
        "weights-dir",
        type=Path,
        default=Path(os.environ.get("SM_CHANNEL_WEIGHTS", "weights")),
        help="folder holding the staged weights file, as `dogbreed-stage-weights` stores it "
        "(default: %(default)s; on SageMaker the `weights` channel)",
    )
    add_flag(
        model,
        "weights-file",
        default=None,
        help="weights file name in --weights-dir, <name>-<sha256 prefix>.pth (default: the file name of "
        "torchvision's DEFAULT weights for --arch)",
    )
    add_switch(
        model,
        "freeze-backbone",
        False,
        "train the new head only; --no-freeze-backbone: whole network, backbone at a lower LR",
    )
    add_switch(
        model,
        "cache-features",
        False,
        "with --freeze-backbone: compute backbone features once per dataset (eval transform, no "
        "augmentation) and train the head on them; later runs on the same data and weights reuse them",
    )
    add_flag(
        model,
        "feature-cache-dir",
        type=Path,
        default=None,
        help="where --cache-features keeps its files (default: <checkpoint-dir>/feature_cache)",
    )

    optimisation = parser.add_argument_group("optimisation")
    add_flag(
        optimisation, "epochs", type=int, default=10, help="maximum number of epochs (default: %(default)s)"
    )
    add_flag(
        optimisation,
        "batch-size",
        type=int,
        default=32,
        help="images per process per step (default: %(default)s)",
    )
    add_flag(
        optimisation,
        "learning-rate",
        type=float,
        default=1e-3,
        help="AdamW LR of the head (default: %(default)s)",
    )
    add_flag(
        optimisation,
        "backbone-lr-scale",
        type=float,
        default=0.1,
        help="backbone LR = learning-rate x this, unless frozen (default: %(default)s)",
    )
    add_flag(
        optimisation,
        "weight-decay",
        type=float,
        default=1e-4,
        help="AdamW weight decay (default: %(default)s)",
    )
    add_flag(
        optimisation,
        "patience",
        type=int,
        default=3,
        help="stop after this many epochs without a lower validation loss; 0 disables (default: %(default)s)",
    )
    add_flag(
        optimisation,
        "crop-size",
        type=int,
        default=224,
        help="training/eval crop; eval resizes to crop x 256/224 first (default: %(default)s)",
    )
    add_switch(
        optimisation, "amp", True, "mixed precision on GPU: bf16 where supported, else fp16 + grad scaling"
    )

    runtime = parser.add_argument_group("runtime")
    add_flag(
        runtime,
        "num-workers",
        type=int,
        default=default_num_workers(),
        help="DataLoader worker processes per training process (default: %(default)s)",
    )
    add_flag(runtime, "seed", type=int, default=42, help="random seed (default: %(default)s)")

    packing = parser.add_argument_group(
        "packing (model.tar.gz: the serving precision is decided on the validation split)"
    )
    add_packing_flags(packing)
    return parser


def validate_args(args: argparse.Namespace) -> None:
    positive = {
        "epochs": args.epochs,
        "batch-size": args.batch_size,
        "learning-rate": args.learning_rate,
        "crop-size": args.crop_size,
    }
    for name, value in positive.items():
        if value <= 0:
            raise ConfigError(f"--{name} must be positive, got {value}")
    for name, value in {
        "patience": args.patience,
        "num-workers": args.num_workers,
        "weight-decay": args.weight_decay,
        "backbone-lr-scale": args.backbone_lr_scale,
    }.items():
        if value < 0:
            raise ConfigError(f"--{name} must not be negative, got {value}")
    if args.cache_features and not args.freeze_backbone:
        raise ConfigError("--cache-features needs --freeze-backbone: a trained backbone changes its features")
    try:
        pack_options(args, args.data_dir)  # refuse bad packing flags before hours of training, not after
    except ValueError as error:
        raise ConfigError(str(error)) from error
