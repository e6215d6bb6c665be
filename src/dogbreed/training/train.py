"""Fine-tune a torchvision classifier on the dogImages layout and pack a servable model.tar.gz: the training
loop in torchvision's train.py shape. The flags, their defaults and checks, and the usage text (`--help`) live
in `dogbreed.training.options` (no torch there: the launcher checks hyperparameters with the same parser).
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
from dataclasses import replace

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler, SequentialSampler

from dogbreed.data.dogimages import DataError, DogImages, collate_skipping, discover_classes, index_split
from dogbreed.model import (
    PretrainedWeightsUnavailable,
    UnknownArchitecture,
    build_model,
    check_architecture,
    parameter_groups,
)
from dogbreed.packing.artifact import model_meta
from dogbreed.packing.serving_build import PackError
from dogbreed.preprocessing import Preprocessing
from dogbreed.pretrained import files as pretrained_files
from dogbreed.training import feature_cache
from dogbreed.training.distributed import (
    DistributedContext,
    ShardSampler,
    cleanup,
    init_distributed_mode,
)
from dogbreed.training.engine import Precision
from dogbreed.training.options import ConfigError, get_args_parser, validate_args
from dogbreed.training.trainer import Trainer

log = logging.getLogger("train")
USER_ERRORS = (
    ConfigError,
    DataError,
    PackError,
    PretrainedWeightsUnavailable,
    UnknownArchitecture,
    pretrained_files.WeightsError,
)
__all__ = ["get_args_parser", "main", "validate_args"]  # the parser lives in options; callers reach it here


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


def load_model(args: argparse.Namespace, num_classes: int) -> torch.nn.Module:
    """Build the model; with --pretrained from the staged weights file, checked against its name's hash."""
    check_architecture(args.arch)
    weights = None
    if args.pretrained:
        weights = pretrained_files.locate(args.weights_dir, args.arch, args.weights_file)
    return build_model(args.arch, num_classes, pretrained=args.pretrained, weights_path=weights)


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
    model = load_model(args, len(class_names)).to(context.device)
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
