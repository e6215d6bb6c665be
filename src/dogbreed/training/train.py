"""Fine-tune a torchvision classifier on the dogImages layout and pack a servable model.tar.gz.

Runs unchanged as a plain script (CPU or one GPU), under `torchrun --nproc_per_node=N` (DDP),
as a SageMaker training job (paths default to the SM_* variables) and on EC2 (ec2/bootstrap.sh).
`training/train.py` is the script those launchers run; `dogbreed-train` is the same command.

    dogbreed-train --data-dir data/dogImages --epochs 10
    torchrun --nproc_per_node=4 training/train.py --data-dir data/dogImages

Hyperparameters accept kebab-case and underscore spellings (--learning-rate / --learning_rate); booleans
accept `--flag`, `--no-flag` and SageMaker's `--flag true|false`.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler, SequentialSampler

from dogbreed.data.dogimages import DataError, DogImages, collate_skipping, discover_classes, index_split
from dogbreed.model import PretrainedWeightsUnavailable, UnknownArchitecture, build_model, parameter_groups
from dogbreed.packing.artifact import model_meta
from dogbreed.packing.options import add_packing_flags, pack_options
from dogbreed.packing.serving_build import PackError
from dogbreed.preprocessing import Preprocessing
from dogbreed.training import feature_cache
from dogbreed.training.distributed import (
    DistributedContext,
    ShardSampler,
    barrier,
    cleanup,
    init_distributed_mode,
)
from dogbreed.training.engine import Precision
from dogbreed.training.flags import add_flag, add_switch
from dogbreed.training.trainer import ConfigError, Trainer
from dogbreed.utils.cpus import dataloader_workers, usable_cpus

log = logging.getLogger("train")
USER_ERRORS = (ConfigError, DataError, PackError, PretrainedWeightsUnavailable, UnknownArchitecture)


def default_num_workers() -> int:
    """DataLoader workers per process: the node's CPUs shared by its LOCAL_WORLD_SIZE processes."""
    return dataloader_workers(usable_cpus(), int(os.environ.get("LOCAL_WORLD_SIZE", 1)))


def on_sagemaker() -> bool:
    return "SM_TRAINING_ENV" in os.environ


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
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
        model, "pretrained", True, "start from torchvision's ImageNet weights; --no-pretrained: random init"
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


# ---------------------------------------------------------------------------------------------- wiring


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def choose_precision(args: argparse.Namespace, device: torch.device) -> Precision:
    if device.type != "cuda":
        return Precision()
    if not args.amp:
        return Precision(channels_last=True)
    return Precision(torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16, channels_last=True)


def make_loaders(
    args: argparse.Namespace, preprocessing: Preprocessing, context: DistributedContext
) -> tuple[dict[str, DataLoader], list[str]]:
    loaders, unreadable = {}, []
    for split in ("train", "valid", "test"):
        samples, skipped = index_split(args.data_dir / split)
        unreadable += [str(path) for path in skipped]
        training = split == "train"
        dataset = DogImages(
            samples,
            preprocessing.train_transform() if training else preprocessing.eval_transform(),
            decode_min_side=preprocessing.train_decode_min_side if training else preprocessing.resize,
        )
        sampler = _sampler(dataset, training, args.seed, context)
        if training and len(sampler) < 2:
            raise ConfigError(
                f"{args.data_dir / split} has too few images for {context.world_size} process(es)"
            )
        loaders[split] = DataLoader(
            dataset,
            batch_size=args.batch_size,
            sampler=sampler,
            num_workers=args.num_workers,
            collate_fn=collate_skipping,
            # A last training batch of one image would break BatchNorm; the few dropped images are reshuffled
            # into other batches next epoch. Evaluation keeps every image.
            drop_last=training and len(sampler) > args.batch_size,
            pin_memory=context.device.type == "cuda",
            persistent_workers=args.num_workers > 0 and split != "test",  # test/ is read once
        )
    return loaders, unreadable


def _sampler(dataset: DogImages, training: bool, seed: int, context: DistributedContext):
    if context.is_distributed and training:
        return DistributedSampler(
            dataset, num_replicas=context.world_size, rank=context.rank, shuffle=True, seed=seed
        )
    if context.is_distributed:
        return ShardSampler(len(dataset), context.rank, context.world_size)  # exact: no padding duplicates
    generator = torch.Generator().manual_seed(seed)
    return RandomSampler(dataset, generator=generator) if training else SequentialSampler(dataset)


def load_model(args: argparse.Namespace, num_classes: int, context: DistributedContext) -> torch.nn.Module:
    """Build the model; local rank 0 goes first so ranks don't race each other into the weights cache."""
    if context.local_rank != 0:
        barrier(context)
    try:
        model = build_model(args.arch, num_classes, pretrained=args.pretrained)
    finally:
        if context.local_rank == 0:
            barrier(context)
    return model


def make_feature_loaders(
    args: argparse.Namespace,
    preprocessing: Preprocessing,
    model: torch.nn.Module,
    context: DistributedContext,
) -> tuple[dict[str, DataLoader], list[str]]:
    if context.is_distributed:
        raise ConfigError("--cache-features runs in one process: a head on cached features needs no DDP")
    return feature_cache.cached_feature_loaders(
        args.data_dir,
        args.feature_cache_dir or args.checkpoint_dir / "feature_cache",
        model.backbone,
        preprocessing,
        args.batch_size,
        args.num_workers,
        context.device,
        args.seed,
    )


def prepare_trainer(args: argparse.Namespace, context: DistributedContext) -> Trainer:
    seed_everything(args.seed + context.rank)
    class_names = discover_classes(args.data_dir)
    preprocessing = Preprocessing.for_crop(args.crop_size)
    precision = choose_precision(args, context.device)
    model = load_model(args, len(class_names), context).to(context.device)
    if args.cache_features:
        loaders, unreadable = make_feature_loaders(args, preprocessing, model, context)
        precision = replace(precision, channels_last=False)  # the head sees (N, features) tensors
    else:
        loaders, unreadable = make_loaders(args, preprocessing, context)
    if precision.channels_last:
        model = model.to(memory_format=torch.channels_last)
    groups = parameter_groups(model, args.learning_rate, args.backbone_lr_scale, args.freeze_backbone)
    optimizer = torch.optim.AdamW(groups, weight_decay=args.weight_decay)
    if context.is_distributed:
        device_ids = [context.local_rank] if context.device.type == "cuda" else None
        model = DistributedDataParallel(model, device_ids=device_ids)
    return Trainer(
        args=args,
        context=context,
        meta=model_meta(args.arch, class_names, preprocessing.to_dict()),
        model=model,
        optimizer=optimizer,
        scheduler=torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs),
        scaler=torch.amp.GradScaler(context.device.type, enabled=precision.amp_dtype == torch.float16),
        precision=precision,
        loaders=loaders,
        skipped_images=unreadable,
    )


def configure_logging(context: DistributedContext) -> None:
    logging.basicConfig(
        level=logging.INFO if context.is_main_process else logging.WARNING,
        stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s [rank {context.rank}] %(name)s: %(message)s",
        force=True,
    )


def main(args: argparse.Namespace | None = None) -> int:
    """The entry point: `args` parsed from the command line when not given."""
    args = args if args is not None else get_args_parser().parse_args()
    context = init_distributed_mode()
    configure_logging(context)
    try:
        validate_args(args)
        trainer = prepare_trainer(args, context)
        log.info(
            "training %s on %d classes, %d process(es), device %s, %s",
            args.arch,
            trainer.meta["num_classes"],
            context.world_size,
            context.device,
            trainer.precision,
        )
        trainer.fit()
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2
    finally:
        cleanup(context)
    return 0


if __name__ == "__main__":
    sys.exit(main())
