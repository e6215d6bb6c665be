"""One training epoch and one evaluation pass; both return means over all samples of all ranks."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm import tqdm

from dogbreed.training.distributed import DistributedContext, all_reduce_sum

log = logging.getLogger(__name__)
LOG_EVERY_STEPS = 50


@dataclass
class EpochResult:
    loss: float
    accuracy: float
    samples: int
    skipped_images: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Precision:
    """Autocast dtype (None = fp32) and whether channels_last memory format is used."""

    amp_dtype: torch.dtype | None = None
    channels_last: bool = False

    def autocast(self, device: torch.device):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=self.amp_dtype)

    def to_device(self, images: torch.Tensor, device: torch.device) -> torch.Tensor:
        memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        return images.to(device, non_blocking=True, memory_format=memory_format)


def train_one_epoch(
    model: nn.Module,
    loader: Iterable,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    precision: Precision,
    context: DistributedContext,
    description: str,
) -> EpochResult:
    model.train()
    criterion = nn.CrossEntropyLoss()
    totals = torch.zeros(3, dtype=torch.float64, device=context.device)  # loss sum, correct, count
    skipped: list[str] = []
    for step, (images, labels, skipped_paths) in enumerate(_progress(loader, description, context), start=1):
        images = precision.to_device(images, context.device)
        labels = labels.to(context.device, non_blocking=True)
        with precision.autocast(context.device):
            logits = model(images)
            loss = criterion(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        totals += _batch_totals(loss.detach() * labels.numel(), logits.detach(), labels)
        skipped.extend(skipped_paths)
        _log_periodically(step, len(loader), totals, description, context)
    return _reduce(totals, skipped, context)


@torch.inference_mode()
def evaluate(
    model: nn.Module, loader: Iterable, precision: Precision, context: DistributedContext, description: str
) -> EpochResult:
    model.eval()
    criterion = nn.CrossEntropyLoss(reduction="sum")
    totals = torch.zeros(3, dtype=torch.float64, device=context.device)
    skipped: list[str] = []
    for images, labels, skipped_paths in _progress(loader, description, context):
        images = precision.to_device(images, context.device)
        labels = labels.to(context.device, non_blocking=True)
        with precision.autocast(context.device):
            logits = model(images)
        totals += _batch_totals(criterion(logits.float(), labels), logits, labels)
        skipped.extend(skipped_paths)
    return _reduce(totals, skipped, context)


def _batch_totals(loss_sum: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    correct = (logits.argmax(dim=1) == labels).sum()
    return torch.stack(
        [
            loss_sum.double(),
            correct.double(),
            torch.tensor(labels.numel(), device=labels.device, dtype=torch.float64),
        ]
    )


def _reduce(totals: torch.Tensor, skipped: list[str], context: DistributedContext) -> EpochResult:
    loss_sum, correct, count = all_reduce_sum(totals, context).tolist()
    return EpochResult(
        loss=loss_sum / count, accuracy=correct / count, samples=int(count), skipped_images=skipped
    )


def _progress(loader: Iterable, description: str, context: DistributedContext) -> Iterable:
    """A tqdm bar on a terminal (rank 0 only); the bare loader when logging to files or CloudWatch."""
    if context.is_main_process and sys.stderr.isatty():
        return tqdm(loader, desc=description, leave=False, dynamic_ncols=True)
    return loader


def _log_periodically(
    step: int, steps: int, totals: torch.Tensor, description: str, context: DistributedContext
) -> None:
    if sys.stderr.isatty() or not context.is_main_process or (step % LOG_EVERY_STEPS and step != steps):
        return
    loss_sum, _, count = totals.tolist()
    log.info("%s step %d/%d running_loss=%.4f (this rank)", description, step, steps, loss_sum / count)
