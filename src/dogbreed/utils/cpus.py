"""How many CPUs this process may use, and what follows from it (DataLoader workers, intra-op threads)."""

from __future__ import annotations

import os

MAX_DATALOADER_WORKERS = 8  # more workers per process rarely help: decode is then no longer the bottleneck


def usable_cpus() -> int:
    """CPUs this process may run on: SageMaker's SM_NUM_CPUS on a training job, else the affinity mask."""
    if "SM_NUM_CPUS" in os.environ:
        return max(1, int(os.environ["SM_NUM_CPUS"]))
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def dataloader_workers(cpus: int, processes_on_node: int) -> int:
    """DataLoader workers per training process: its share of the node's CPUs, one left for the loop itself."""
    return max(1, min(MAX_DATALOADER_WORKERS, cpus // processes_on_node - 1))
