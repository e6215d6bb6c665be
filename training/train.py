"""Fine-tune a torchvision classifier on the dogImages layout and pack a servable model.tar.gz.

Runs unchanged as a plain script (CPU or one GPU), under `torchrun --nproc_per_node=N` (DDP),
as a SageMaker training job (paths default to the SM_* variables) and on EC2 (ec2/bootstrap.sh).

    python training/train.py --data-dir data/dogImages --epochs 10
    torchrun --nproc_per_node=4 training/train.py --data-dir data/dogImages

Hyperparameters accept kebab-case and underscore spellings (--learning-rate / --learning_rate); booleans
accept `--flag`, `--no-flag` and SageMaker's `--flag true|false`.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import random
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from dogbreed import checkpoint, feature_cache
from dogbreed.artifact import model_meta, pack_model_artifact
from dogbreed.data import DataError, DogImages, collate_skipping, discover_classes, index_split, warn_skipped
from dogbreed.distributed import (
    DistributedContext,
    ShardSampler,
    all_gather_lists,
    barrier,
    broadcast_flag,
    broadcast_model_state,
    cleanup,
    init_distributed_mode,
)
from dogbreed.engine import EpochResult, Precision, evaluate, train_one_epoch
from dogbreed.metrics import format_line, write_metrics_json
from dogbreed.model import PretrainedWeightsUnavailable, UnknownArchitecture, build_model, parameter_groups
from dogbreed.plots import plot_training_curves
from dogbreed.preprocessing import Preprocessing
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler, SequentialSampler

log = logging.getLogger("train")


class ConfigError(ValueError):
    """A flag value or the checkpoint directory does not fit this run."""


USER_ERRORS = (ConfigError, DataError, PretrainedWeightsUnavailable, UnknownArchitecture)


# ---------------------------------------------------------------------------------------------- arguments


def str_to_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "y", "on"):
        return True
    if lowered in ("false", "0", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def _spellings(name: str) -> list[str]:
    """`--learning-rate` and the underscore spelling SageMaker users pass, `--learning_rate`."""
    spellings = [f"--{name}"]
    if "-" in name:
        spellings.append(f"--{name.replace('-', '_')}")
    return spellings


def _add(parser: argparse.ArgumentParser, name: str, **kwargs) -> None:
    parser.add_argument(*_spellings(name), **kwargs)


def _add_switch(parser: argparse.ArgumentParser, name: str, default: bool, help: str) -> None:
    dest = name.replace("-", "_")
    parser.add_argument(
        *_spellings(name),
        dest=dest,
        nargs="?",
        const=True,
        default=default,
        type=str_to_bool,
        metavar="BOOL",
        help=f"{help} (default: {default})",
    )
    parser.add_argument(*_spellings(f"no-{name}"), dest=dest, action="store_false", help=argparse.SUPPRESS)


def default_num_workers() -> int:
    """DataLoader workers per process: the machine's CPUs shared by the processes on this node (at most 8)."""
    cpus = int(os.environ.get("SM_NUM_CPUS", os.cpu_count() or 1))
    processes_on_node = int(os.environ.get("LOCAL_WORLD_SIZE", 1))
    return max(1, min(8, cpus // processes_on_node - 1))


def on_sagemaker() -> bool:
    return "SM_TRAINING_ENV" in os.environ


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    paths = parser.add_argument_group("paths (defaults follow SageMaker's SM_* variables when they are set)")
    _add(
        paths,
        "data-dir",
        type=Path,
        default=Path(os.environ.get("SM_CHANNEL_TRAINING", "data/dogImages")),
        help="dataset root holding train/ valid/ test/ (default: %(default)s)",
    )
    _add(
        paths,
        "model-dir",
        type=Path,
        default=Path(os.environ.get("SM_MODEL_DIR", "runs/model")),
        help="where model.tar.gz is written (default: %(default)s)",
    )
    _add(
        paths,
        "output-dir",
        type=Path,
        default=Path(os.environ.get("SM_OUTPUT_DATA_DIR", "runs/output")),
        help="where metrics.json and training_curves.png are written (default: %(default)s)",
    )
    _add(
        paths,
        "checkpoint-dir",
        type=Path,
        default=Path("/opt/ml/checkpoints" if on_sagemaker() else "runs/checkpoints"),
        help="per-epoch checkpoints; a rerun with the same directory resumes (default: %(default)s)",
    )

    model = parser.add_argument_group("model")
    _add(
        model, "arch", default="resnet50", help="torchvision classification model name (default: %(default)s)"
    )
    _add_switch(
        model, "pretrained", True, "start from torchvision's ImageNet weights; --no-pretrained: random init"
    )
    _add_switch(
        model,
        "freeze-backbone",
        False,
        "train the new head only; --no-freeze-backbone: whole network, backbone at a lower LR",
    )
    _add_switch(
        model,
        "cache-features",
        False,
        "with --freeze-backbone: compute backbone features once per dataset (eval transform, no "
        "augmentation) and train the head on them; later runs on the same data and weights reuse them",
    )
    _add(
        model,
        "feature-cache-dir",
        type=Path,
        default=None,
        help="where --cache-features keeps its files (default: <checkpoint-dir>/feature_cache)",
    )

    optimisation = parser.add_argument_group("optimisation")
    _add(optimisation, "epochs", type=int, default=10, help="maximum number of epochs (default: %(default)s)")
    _add(
        optimisation,
        "batch-size",
        type=int,
        default=32,
        help="images per process per step (default: %(default)s)",
    )
    _add(
        optimisation,
        "learning-rate",
        type=float,
        default=1e-3,
        help="AdamW LR of the head (default: %(default)s)",
    )
    _add(
        optimisation,
        "backbone-lr-scale",
        type=float,
        default=0.1,
        help="backbone LR = learning-rate x this, unless frozen (default: %(default)s)",
    )
    _add(
        optimisation,
        "weight-decay",
        type=float,
        default=1e-4,
        help="AdamW weight decay (default: %(default)s)",
    )
    _add(
        optimisation,
        "patience",
        type=int,
        default=3,
        help="stop after this many epochs without a lower validation loss; 0 disables (default: %(default)s)",
    )
    _add(
        optimisation,
        "crop-size",
        type=int,
        default=224,
        help="training/eval crop; eval resizes to crop x 256/224 first (default: %(default)s)",
    )
    _add_switch(
        optimisation, "amp", True, "mixed precision on GPU: bf16 where supported, else fp16 + grad scaling"
    )

    runtime = parser.add_argument_group("runtime")
    _add(
        runtime,
        "num-workers",
        type=int,
        default=default_num_workers(),
        help="DataLoader worker processes per training process (default: %(default)s)",
    )
    _add(runtime, "seed", type=int, default=42, help="random seed (default: %(default)s)")
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


# ---------------------------------------------------------------------------------------------- training


@dataclass
class TrainingState:
    """What survives a restart besides the model/optimizer states."""

    next_epoch: int = 1
    best_valid_loss: float = math.inf
    best_valid_accuracy: float = 0.0
    best_epoch: int = 0
    epochs_without_improvement: int = 0
    stopped_early: bool = False
    history: list[dict] = field(default_factory=list)

    def record(self, epoch: int, train: EpochResult, valid: EpochResult) -> bool:
        """Append the epoch's metrics; return whether it is the best epoch so far."""
        self.history.append(
            {
                "epoch": epoch,
                "train_loss": train.loss,
                "train_accuracy": train.accuracy,
                "valid_loss": valid.loss,
                "valid_accuracy": valid.accuracy,
            }
        )
        self.next_epoch = epoch + 1
        improved = valid.loss < self.best_valid_loss
        if improved:
            self.best_valid_loss, self.best_valid_accuracy, self.best_epoch = (
                valid.loss,
                valid.accuracy,
                epoch,
            )
            self.epochs_without_improvement = 0
        else:
            self.epochs_without_improvement += 1
        return improved

    def should_stop(self, patience: int) -> bool:
        """Early stopping: `patience` epochs in a row without a lower validation loss (0 = never)."""
        return 0 < patience <= self.epochs_without_improvement


@dataclass
class Run:
    """Everything one training run holds; built by `prepare_run`."""

    args: argparse.Namespace
    context: DistributedContext
    meta: dict
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    precision: Precision
    loaders: dict[str, DataLoader]
    skipped_images: list[str]
    state: TrainingState = field(default_factory=TrainingState)

    @property
    def bare_model(self) -> torch.nn.Module:
        return self.model.module if isinstance(self.model, DistributedDataParallel) else self.model

    @property
    def trained_module(self) -> torch.nn.Module:
        """What the epochs run: the model, or only its head when the loaders yield cached features."""
        return self.bare_model.head if self.args.cache_features else self.model


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
            persistent_workers=args.num_workers > 0,
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


def prepare_run(args: argparse.Namespace, context: DistributedContext) -> Run:
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
    return Run(
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


def save_snapshot(run: Run) -> None:
    payload = {
        "model": run.bare_model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "lr_scheduler": run.scheduler.state_dict(),
        "scaler": run.scaler.state_dict(),
        "epoch": run.state.next_epoch - 1,
        "state": asdict(run.state),
        "rng": checkpoint.capture_rng_states(),
        "args": {
            key: str(value) if isinstance(value, Path) else value for key, value in vars(run.args).items()
        },
        "meta": run.meta,
    }
    checkpoint.save_atomically(payload, run.args.checkpoint_dir / checkpoint.LATEST)


def save_best_weights(run: Run) -> None:
    payload = {"model": run.bare_model.state_dict(), "meta": run.meta, "epoch": run.state.best_epoch}
    checkpoint.save_atomically(payload, run.args.checkpoint_dir / checkpoint.BEST)


def resume_if_possible(run: Run) -> None:
    path = run.args.checkpoint_dir / checkpoint.LATEST
    if not broadcast_flag(path.is_file(), run.context):
        return
    if not path.is_file():
        raise ConfigError(
            f"rank 0 resumes from its {path} but rank {run.context.rank} has no such file; "
            "put --checkpoint-dir on storage every node sees"
        )
    payload = checkpoint.load(path)
    for key in ("arch", "class_names"):
        if payload["meta"][key] != run.meta[key]:
            raise ConfigError(f"{path} was written for a different {key}; use another --checkpoint-dir")
    run.bare_model.load_state_dict(payload["model"])
    run.optimizer.load_state_dict(payload["optimizer"])
    run.scheduler.load_state_dict(payload["lr_scheduler"])
    run.scaler.load_state_dict(payload["scaler"])
    checkpoint.restore_rng_states(payload["rng"])
    run.state = TrainingState(**payload["state"])
    log.info(
        "resuming from %s: epoch %d completed, continuing at epoch %d",
        path,
        payload["epoch"],
        run.state.next_epoch,
    )


def train_epochs(run: Run) -> None:
    args, context, state = run.args, run.context, run.state
    reported_skips = set(run.skipped_images)
    for epoch in range(state.next_epoch, args.epochs + 1):
        if state.stopped_early:
            break
        if isinstance(run.loaders["train"].sampler, DistributedSampler):
            run.loaders["train"].sampler.set_epoch(epoch)
        train = train_one_epoch(
            run.trained_module,
            run.loaders["train"],
            run.optimizer,
            run.scaler,
            run.precision,
            context,
            f"epoch {epoch} train",
        )
        valid = evaluate(
            run.trained_module, run.loaders["valid"], run.precision, context, f"epoch {epoch} valid"
        )
        run.scheduler.step()
        _report_new_skips(train.skipped_images + valid.skipped_images, reported_skips, run)
        improved = state.record(epoch, train, valid)
        state.stopped_early = state.should_stop(args.patience)
        if context.is_main_process:
            if improved:
                save_best_weights(run)
            save_snapshot(
                run
            )  # before the metric line: a job killed after printing it resumes past this epoch
            print(
                format_line(
                    epoch=epoch, train_loss=train.loss, valid_loss=valid.loss, valid_accuracy=valid.accuracy
                ),
                flush=True,
            )
        if state.stopped_early:
            log.info("early stopping: no lower validation loss for %d epoch(s)", args.patience)
        barrier(context)


def _report_new_skips(paths: list[str], reported: set[str], run: Run) -> None:
    new = sorted(set(paths) - reported)
    if new:
        warn_skipped([Path(path) for path in new], where=f"rank {run.context.rank} (failed to decode)")
        reported.update(new)
        run.skipped_images += new


def finish(run: Run) -> None:
    """Evaluate the best weights on the test split, then (rank 0) write the artifact, metrics and curves."""
    args, context, state = run.args, run.context, run.state
    if context.is_main_process:
        run.bare_model.load_state_dict(checkpoint.load(args.checkpoint_dir / checkpoint.BEST)["model"])
    broadcast_model_state(run.bare_model, context)
    test = evaluate(run.trained_module, run.loaders["test"], run.precision, context, "test")
    skipped = sorted(set(all_gather_lists(run.skipped_images + test.skipped_images, context)))
    if not context.is_main_process:
        return
    print(
        format_line(
            best_epoch=state.best_epoch,
            best_valid_loss=state.best_valid_loss,
            best_valid_accuracy=state.best_valid_accuracy,
        ),
        flush=True,
    )
    print(format_line(test_loss=test.loss, test_accuracy=test.accuracy), flush=True)
    artifact = pack_model_artifact(run.bare_model.state_dict(), run.meta, args.model_dir / "model.tar.gz")
    summary = {
        **{key: value for key, value in asdict(state).items() if key != "next_epoch"},
        "test_loss": test.loss,
        "test_accuracy": test.accuracy,
        "test_samples": test.samples,
        "skipped_images": skipped,
        "arch": args.arch,
        "num_classes": run.meta["num_classes"],
        "world_size": context.world_size,
    }
    write_metrics_json(args.output_dir / "metrics.json", summary)
    plot_training_curves(state.history, args.output_dir / "training_curves.png", best_epoch=state.best_epoch)
    log.info(
        "wrote %s, %s and %s",
        artifact,
        args.output_dir / "metrics.json",
        args.output_dir / "training_curves.png",
    )


def configure_logging(context: DistributedContext) -> None:
    logging.basicConfig(
        level=logging.INFO if context.is_main_process else logging.WARNING,
        stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s [rank {context.rank}] %(name)s: %(message)s",
        force=True,
    )


def main(args: argparse.Namespace) -> int:
    context = init_distributed_mode()
    configure_logging(context)
    try:
        validate_args(args)
        run = prepare_run(args, context)
        resume_if_possible(run)
        log.info(
            "training %s on %d classes, %d process(es), device %s, precision %s",
            args.arch,
            run.meta["num_classes"],
            context.world_size,
            context.device,
            run.precision,
        )
        train_epochs(run)
        finish(run)
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2
    finally:
        cleanup(context)
    return 0


if __name__ == "__main__":
    sys.exit(main(get_args_parser().parse_args()))
