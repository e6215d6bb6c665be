"""Process-group set-up for torchrun and SageMaker's torchrun distribution: the one place that knows ranks."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Sampler


@dataclass(frozen=True)
class DistributedContext:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main_process(self) -> bool:
        return self.rank == 0


def init_distributed_mode() -> DistributedContext:
    """Join the process group torchrun describes in RANK/WORLD_SIZE/LOCAL_RANK; otherwise run alone.

    NCCL with one GPU per process when CUDA is available, gloo on CPU.
    """
    use_cuda = torch.cuda.is_available()
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return DistributedContext(device=torch.device("cuda" if use_cuda else "cpu"))
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    dist.init_process_group(backend="nccl" if use_cuda else "gloo", rank=rank, world_size=world_size)
    return DistributedContext(rank, local_rank, world_size, device)


def barrier(context: DistributedContext) -> None:
    if context.is_distributed:
        dist.barrier()


def all_reduce_sum(values: torch.Tensor, context: DistributedContext) -> torch.Tensor:
    """Element-wise sum of `values` over all ranks (returned on every rank)."""
    if context.is_distributed:
        values = values.to(context.device)
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def broadcast_flag(flag: bool, context: DistributedContext) -> bool:
    """Rank 0's decision, on every rank (e.g. early stopping, so no rank waits for the others forever)."""
    if not context.is_distributed:
        return flag
    value = torch.tensor([int(flag)], device=context.device)
    dist.broadcast(value, src=0)
    return bool(value.item())


def broadcast_model_state(model: nn.Module, context: DistributedContext) -> None:
    """Copy rank 0's parameters and buffers to every rank (files rank 0 read may not exist on other nodes)."""
    if context.is_distributed:
        for tensor in model.state_dict().values():
            dist.broadcast(tensor, src=0)


def all_gather_lists(items: list[str], context: DistributedContext) -> list[str]:
    """The concatenation of every rank's `items`, on every rank."""
    if not context.is_distributed:
        return list(items)
    gathered: list[list[str]] = [[] for _ in range(context.world_size)]
    dist.all_gather_object(gathered, items)
    return [item for rank_items in gathered for item in rank_items]


class ShardSampler(Sampler[int]):
    """Rank `rank`'s strided share of `range(length)`, without the padding DistributedSampler adds.

    For evaluation: every sample is counted exactly once across ranks, so reduced means are exact.
    """

    def __init__(self, length: int, rank: int, world_size: int):
        self.indices = range(rank, length, world_size)

    def __iter__(self):
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def cleanup(context: DistributedContext) -> None:
    if context.is_distributed and dist.is_initialized():
        dist.destroy_process_group()
