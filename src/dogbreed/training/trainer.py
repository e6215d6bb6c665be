"""The loop around engine.py: epochs, early stopping, checkpoints, resuming, the final test, the outputs."""

from __future__ import annotations

import argparse
import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from dogbreed.data.dogimages import warn_skipped
from dogbreed.packing.artifact import pack_for_serving
from dogbreed.packing.options import pack_options
from dogbreed.training import checkpoint
from dogbreed.training.distributed import (
    DistributedContext,
    all_gather_lists,
    barrier,
    broadcast_flag,
    broadcast_model_state,
)
from dogbreed.training.engine import EpochResult, Precision, evaluate, train_one_epoch
from dogbreed.training.metrics import format_line, write_metrics_json
from dogbreed.training.options import ConfigError
from dogbreed.training.plots import plot_training_curves

log = logging.getLogger(__name__)


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
        """Append the epoch's metrics; return whether it is the best epoch so far (lowest validation loss)."""
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
            self.best_valid_loss, self.best_valid_accuracy = valid.loss, valid.accuracy
            self.best_epoch, self.epochs_without_improvement = epoch, 0
        else:
            self.epochs_without_improvement += 1
        return improved

    def should_stop(self, patience: int) -> bool:
        """Early stopping: `patience` epochs in a row without a lower validation loss (0 = never)."""
        return 0 < patience <= self.epochs_without_improvement


@dataclass
class Trainer:
    args: argparse.Namespace
    context: DistributedContext
    meta: dict  # arch, class names, preprocessing: what model_meta.json holds
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

    @property
    def checkpoint_dir(self) -> Path:
        return self.args.checkpoint_dir

    def fit(self) -> None:
        """Resume if a checkpoint exists, train until done or stopped early, test the best weights."""
        self.resume_if_possible()
        while self.state.next_epoch <= self.args.epochs and not self.state.stopped_early:
            self._run_epoch(self.state.next_epoch)
        self._finish()

    def resume_if_possible(self) -> None:
        path = self.checkpoint_dir / checkpoint.LATEST
        if not broadcast_flag(path.is_file(), self.context):
            return
        if not path.is_file():
            raise ConfigError(
                f"rank 0 resumes from its {path} but rank {self.context.rank} has no such file; "
                "put --checkpoint-dir on storage every node sees"
            )
        payload = checkpoint.load(path)
        for key in ("arch", "class_names"):
            if payload["meta"][key] != self.meta[key]:
                raise ConfigError(f"{path} was written for a different {key}; use another --checkpoint-dir")
        self._load_snapshot(payload)
        log.info(
            "resuming from %s: epoch %d completed, continuing at epoch %d",
            path,
            payload["epoch"],
            self.state.next_epoch,
        )

    def _run_epoch(self, epoch: int) -> None:
        if isinstance(self.loaders["train"].sampler, DistributedSampler):
            self.loaders["train"].sampler.set_epoch(epoch)
        train = train_one_epoch(
            self.trained_module,
            self.loaders["train"],
            self.optimizer,
            self.scaler,
            self.precision,
            self.context,
            f"epoch {epoch} train",
        )
        valid = evaluate(
            self.trained_module, self.loaders["valid"], self.precision, self.context, f"epoch {epoch} valid"
        )
        self.scheduler.step()
        self._report_new_skips(train.skipped_images + valid.skipped_images)
        improved = self.state.record(epoch, train, valid)
        self.state.stopped_early = self.state.should_stop(self.args.patience)
        if self.context.is_main_process:
            self._save_snapshot(
                best=improved
            )  # before the metric line: whoever saw the line can resume after it
            print(
                format_line(
                    epoch=epoch,
                    train_loss=train.loss,
                    valid_loss=valid.loss,
                    valid_accuracy=valid.accuracy,
                    best_valid_accuracy=self.state.best_valid_accuracy,
                ),
                flush=True,
            )
        if self.state.stopped_early:
            log.info("early stopping: no lower validation loss for %d epoch(s)", self.args.patience)
        barrier(self.context)

    def _save_snapshot(self, best: bool) -> None:
        weights = self.bare_model.state_dict()
        if best:
            payload = {"model": weights, "meta": self.meta, "epoch": self.state.best_epoch}
            checkpoint.save_atomically(payload, self.checkpoint_dir / checkpoint.BEST)
        payload = {
            "model": weights,
            "optimizer": self.optimizer.state_dict(),
            "lr_scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "epoch": self.state.next_epoch - 1,
            "state": asdict(self.state),
            "rng": checkpoint.capture_rng_states(),
            "meta": self.meta,
            "args": {
                key: str(value) if isinstance(value, Path) else value
                for key, value in vars(self.args).items()
            },
        }
        checkpoint.save_atomically(payload, self.checkpoint_dir / checkpoint.LATEST)

    def _load_snapshot(self, payload: dict) -> None:
        self.bare_model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.scheduler.load_state_dict(payload["lr_scheduler"])
        self.scaler.load_state_dict(payload["scaler"])
        checkpoint.restore_rng_states(payload["rng"])
        self.state = TrainingState(**payload["state"])

    def _report_new_skips(self, paths: list[str]) -> None:
        new = sorted(set(paths) - set(self.skipped_images))
        if new:
            warn_skipped([Path(path) for path in new], where=f"rank {self.context.rank} (failed to decode)")
            self.skipped_images += new

    def _finish(self) -> None:
        """Evaluate the best weights on the test split (its only use), then rank 0 writes every output."""
        if self.context.is_main_process:
            self.bare_model.load_state_dict(checkpoint.load(self.checkpoint_dir / checkpoint.BEST)["model"])
        broadcast_model_state(self.bare_model, self.context)
        test = evaluate(self.trained_module, self.loaders["test"], self.precision, self.context, "test")
        skipped = sorted(set(all_gather_lists(self.skipped_images + test.skipped_images, self.context)))
        if self.context.is_main_process:
            self._write_outputs(test, skipped)

    def _write_outputs(self, test: EpochResult, skipped: list[str]) -> None:
        state, output_dir = self.state, self.args.output_dir
        print(
            format_line(
                best_epoch=state.best_epoch,
                best_valid_loss=state.best_valid_loss,
                best_valid_accuracy=state.best_valid_accuracy,
            ),
            flush=True,
        )
        print(format_line(test_loss=test.loss, test_accuracy=test.accuracy), flush=True)
        artifact, serving = pack_for_serving(
            self.bare_model.state_dict(),
            self.meta,
            self.args.model_dir / "model.tar.gz",
            pack_options(self.args, self.args.data_dir),
        )
        summary = {key: value for key, value in asdict(state).items() if key != "next_epoch"}
        summary.update(
            test_loss=test.loss,
            test_accuracy=test.accuracy,
            test_samples=test.samples,
            skipped_images=skipped,
            arch=self.meta["arch"],
            num_classes=self.meta["num_classes"],
            world_size=self.context.world_size,
            # what the artifact serves with, why, and the gate's numbers (model_meta.json has them too)
            serving={key: value for key, value in serving.items() if key != "calibration"},
        )
        write_metrics_json(output_dir / "metrics.json", summary)
        plot_training_curves(state.history, output_dir / "training_curves.png", best_epoch=state.best_epoch)
        log.info("serving: %s %s (%s)", serving["runtime"], serving["precision"], serving["reason"])
        log.info(
            "wrote %s, %s and %s", artifact, output_dir / "metrics.json", output_dir / "training_curves.png"
        )
