"""The engine under a real 2-process gloo group: gradients are synchronised, each rank sees only its shard."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from dogbreed.data.dogimages import collate_skipping
from dogbreed.model import Classifier
from dogbreed.training.distributed import DistributedContext, ShardSampler
from dogbreed.training.engine import Precision, evaluate, train_one_epoch

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # a hung process group must not hang CI
WORLD_SIZE = 2
TRAIN_SAMPLES, EVAL_SAMPLES, CLASSES, EPOCHS = 16, 7, 3, 2


class RecordingDataset(Dataset):
    """Deterministic random 8x8 images; remembers which indices this process loaded."""

    def __init__(self, length: int):
        self.length = length
        self.seen: list[int] = []

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int):
        self.seen.append(index)
        image = torch.randn(3, 8, 8, generator=torch.Generator().manual_seed(index))
        return image, index % CLASSES, ""


def tiny_classifier() -> Classifier:
    backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return Classifier(backbone, nn.Linear(4, CLASSES))


def train_both_ways(rank: int, init_file: str, output_dir: str) -> None:
    """With DDP (the real thing) and without (the control showing the test can fail), in one process start."""
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD_SIZE)
    context = DistributedContext(rank=rank, local_rank=rank, world_size=WORLD_SIZE)
    for wrap_in_ddp in (True, False):
        outcome = train_on_shard(rank, context, wrap_in_ddp)
        torch.save(outcome, Path(output_dir) / f"rank{rank}_{'ddp' if wrap_in_ddp else 'no_ddp'}.pt")
    dist.destroy_process_group()


def train_on_shard(rank: int, context: DistributedContext, wrap_in_ddp: bool) -> dict:
    torch.manual_seed(1000 + rank)  # different initial weights per rank: DDP must make them agree
    model = tiny_classifier()
    initial = {key: value.clone() for key, value in model.state_dict().items()}
    network = DistributedDataParallel(model) if wrap_in_ddp else model
    optimizer = torch.optim.SGD(network.parameters(), lr=0.5)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    train_set = RecordingDataset(TRAIN_SAMPLES)
    sampler = DistributedSampler(train_set, num_replicas=WORLD_SIZE, rank=rank, shuffle=True, seed=0)
    loader = DataLoader(train_set, batch_size=2, sampler=sampler, collate_fn=collate_skipping)
    seen_per_epoch, results = [], []
    for epoch in range(1, EPOCHS + 1):
        sampler.set_epoch(epoch)
        train_set.seen.clear()
        results.append(train_one_epoch(network, loader, optimizer, scaler, Precision(), context, "train"))
        seen_per_epoch.append(list(train_set.seen))
    eval_set = RecordingDataset(EVAL_SAMPLES)
    eval_loader = DataLoader(
        eval_set,
        batch_size=3,
        sampler=ShardSampler(EVAL_SAMPLES, rank, WORLD_SIZE),
        collate_fn=collate_skipping,
    )
    evaluation = evaluate(network, eval_loader, Precision(), context, "valid")
    return {
        "initial": initial,
        "final": model.state_dict(),
        "seen": seen_per_epoch,
        "train": results,
        "eval": evaluation,
        "eval_seen": eval_set.seen,
    }


def run_two_ranks(output_dir: Path) -> dict[str, list[dict]]:
    mp.start_processes(
        train_both_ways,
        args=(str(output_dir / "init"), str(output_dir)),
        nprocs=WORLD_SIZE,
        start_method="spawn",
    )
    return {
        variant: [
            torch.load(output_dir / f"rank{rank}_{variant}.pt", weights_only=False) for rank in range(2)
        ]
        for variant in ("ddp", "no_ddp")
    }


def weights_equal(left: dict, right: dict) -> bool:
    return all(torch.equal(left[key], right[key]) for key in left)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, list[dict]]:
    return run_two_ranks(tmp_path_factory.mktemp("ddp"))


@pytest.fixture
def ddp_ranks(outcomes) -> list[dict]:
    return outcomes["ddp"]


def test_ranks_hold_identical_weights_that_moved_from_the_start(ddp_ranks):
    rank0, rank1 = ddp_ranks
    assert not weights_equal(rank0["initial"], rank1["initial"]), (
        "ranks must start differently for a real test"
    )
    assert weights_equal(rank0["final"], rank1["final"])
    assert not weights_equal(rank0["final"], rank0["initial"])


def test_each_rank_saw_only_its_own_shard(ddp_ranks):
    for epoch in range(EPOCHS):
        shards = [rank["seen"][epoch] for rank in ddp_ranks]
        assert set(shards[0]).isdisjoint(shards[1])
        assert sorted(shards[0] + shards[1]) == list(range(TRAIN_SAMPLES))
        for rank, shard in enumerate(shards):
            sampler = DistributedSampler(range(TRAIN_SAMPLES), WORLD_SIZE, rank, shuffle=True, seed=0)
            sampler.set_epoch(epoch + 1)
            assert shard == list(sampler)
    assert ddp_ranks[0]["seen"][0] != ddp_ranks[0]["seen"][1], "set_epoch reshuffles every epoch"


def test_metrics_are_means_over_all_samples_of_all_ranks(ddp_ranks):
    rank0, rank1 = ddp_ranks
    assert [result.loss for result in rank0["train"]] == [result.loss for result in rank1["train"]]
    assert all(result.samples == TRAIN_SAMPLES for result in rank0["train"])
    assert sorted(rank0["eval_seen"] + rank1["eval_seen"]) == list(range(EVAL_SAMPLES)), (
        "no padding duplicates"
    )

    model = tiny_classifier().eval()
    model.load_state_dict(rank0["final"])
    samples = [RecordingDataset(EVAL_SAMPLES)[index] for index in range(EVAL_SAMPLES)]
    images, labels, _ = collate_skipping(samples)
    with torch.no_grad():
        logits = model(images)
    expected_loss = nn.functional.cross_entropy(logits, labels).item()
    expected_accuracy = (logits.argmax(1) == labels).float().mean().item()
    for rank in ddp_ranks:
        assert rank["eval"].samples == EVAL_SAMPLES
        assert rank["eval"].loss == pytest.approx(expected_loss, rel=1e-5)
        assert rank["eval"].accuracy == pytest.approx(expected_accuracy)


def test_without_ddp_the_ranks_drift_apart(outcomes):
    """The control: the same run without gradient all-reduce ends with different weights per rank."""
    rank0, rank1 = outcomes["no_ddp"]
    assert not weights_equal(rank0["final"], rank1["final"])
