"""DataLoader workers per training process: the node's CPUs shared by its processes, one left for the loop."""

from __future__ import annotations

import pytest

from dogbreed.training import options
from dogbreed.utils import cpus


@pytest.mark.parametrize(
    ("cpus_on_node", "processes", "workers"),
    [
        (4, 1, 3),  # g4dn.xlarge: 1 GPU, 4 vCPUs
        (32, 4, 7),  # p3.8xlarge: 4 GPUs, 32 vCPUs
        (192, 8, 8),  # capped: more workers stop helping
        (2, 1, 1),  # never fewer than one
    ],
)
def test_workers_are_the_process_share_of_the_cpus_minus_one(cpus_on_node, processes, workers):
    assert cpus.dataloader_workers(cpus_on_node, processes) == workers


def test_train_py_default_follows_torchrun_and_sagemaker(monkeypatch):
    monkeypatch.setenv("SM_NUM_CPUS", "32")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    assert options.default_num_workers() == 7
    monkeypatch.delenv("LOCAL_WORLD_SIZE")
    assert options.default_num_workers() == 8


def test_usable_cpus_is_the_affinity_mask_off_sagemaker(monkeypatch):
    monkeypatch.delenv("SM_NUM_CPUS", raising=False)
    monkeypatch.setattr(cpus.os, "sched_getaffinity", lambda pid: {0, 1, 5})
    assert cpus.usable_cpus() == 3
