"""The classifier's backbone/head split, frozen-backbone training, and atomic checkpoints."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dogbreed.data.dogimages import collate_skipping
from dogbreed.model import Classifier, build_model, parameter_groups, split_off_head
from dogbreed.training import checkpoint
from dogbreed.training.distributed import DistributedContext
from dogbreed.training.engine import Precision, train_one_epoch


@pytest.mark.parametrize(("arch", "features"), [("resnet18", 512), ("mobilenet_v3_small", 1024)])
def test_head_is_replaced_and_backbone_yields_features(arch, features):
    model = build_model(arch, num_classes=5).eval()
    assert isinstance(model.head, nn.Linear) and (model.head.in_features, model.head.out_features) == (
        features,
        5,
    )
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        cached_features = model.backbone(images)
        assert cached_features.shape == (2, features)
        assert torch.equal(model.head(cached_features), model(images))


def test_split_off_head_finds_nested_heads():
    network = nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 1000)))
    backbone, features = split_off_head(network)
    assert features == 8 and isinstance(backbone[1][2], nn.Identity)


def tiny_model() -> Classifier:
    torch.manual_seed(0)
    backbone = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()
    )
    return Classifier(backbone, nn.Linear(4, 2))


def one_epoch(model: Classifier, freeze: bool) -> None:
    optimizer = torch.optim.AdamW(parameter_groups(model, 0.1, 0.1, freeze_backbone=freeze))
    batches = [
        collate_skipping([(torch.randn(3, 8, 8), index % 2, "") for index in range(4)]) for _ in range(3)
    ]
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    train_one_epoch(model, batches, optimizer, scaler, Precision(), DistributedContext(), "train")


def test_frozen_backbone_keeps_weights_and_batchnorm_statistics():
    model = tiny_model()
    backbone_before = {key: value.clone() for key, value in model.backbone.state_dict().items()}
    head_before = model.head.weight.clone()
    one_epoch(model, freeze=True)
    assert all(torch.equal(value, backbone_before[key]) for key, value in model.backbone.state_dict().items())
    assert not torch.equal(model.head.weight, head_before)
    assert model.training and not model.backbone.training


def test_unfrozen_backbone_trains_at_a_lower_learning_rate():
    model = tiny_model()
    groups = parameter_groups(model, learning_rate=1e-3, backbone_lr_scale=0.1, freeze_backbone=False)
    assert {group["name"]: group["lr"] for group in groups} == {"head": 1e-3, "backbone": pytest.approx(1e-4)}
    before = model.backbone[0].weight.clone()
    one_epoch(model, freeze=False)
    assert not torch.equal(model.backbone[0].weight, before) and model.backbone.training


class Unpicklable:
    def __reduce__(self):
        raise RuntimeError("disk full, say")


def test_checkpoint_writes_are_atomic(tmp_path):
    path = tmp_path / "checkpoint.pt"
    checkpoint.save_atomically({"epoch": 1}, path)
    with pytest.raises(RuntimeError, match="disk full"):
        checkpoint.save_atomically({"epoch": 2, "broken": Unpicklable()}, path)
    assert checkpoint.load(path) == {"epoch": 1}
    assert [entry.name for entry in tmp_path.iterdir()] == ["checkpoint.pt"], "no temporary file left behind"


def test_rng_states_round_trip():
    states = checkpoint.capture_rng_states()
    expected = torch.rand(3)
    torch.rand(10)
    checkpoint.restore_rng_states(states)
    assert torch.equal(torch.rand(3), expected)


def test_progress_is_a_bar_on_a_terminal_and_log_lines_otherwise(monkeypatch, caplog):
    from tqdm import tqdm

    from dogbreed.training import engine

    batches = [collate_skipping([(torch.randn(3, 8, 8), 0, ""), (torch.randn(3, 8, 8), 1, "")])] * 3
    monkeypatch.setattr(engine.sys.stderr, "isatty", lambda: True)
    assert isinstance(engine._progress(batches, "train", DistributedContext()), tqdm)
    assert engine._progress(batches, "train", DistributedContext(rank=1, world_size=2)) is batches

    monkeypatch.setattr(engine.sys.stderr, "isatty", lambda: False)
    monkeypatch.setattr(engine, "LOG_EVERY_STEPS", 2)
    assert engine._progress(batches, "train", DistributedContext()) is batches
    model = tiny_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    with caplog.at_level("INFO", logger="dogbreed.training.engine"):
        train_one_epoch(
            model,
            batches,
            optimizer,
            torch.amp.GradScaler("cpu", enabled=False),
            Precision(),
            DistributedContext(),
            "epoch 1 train",
        )
    assert [record.getMessage().split(" running_loss")[0] for record in caplog.records] == [
        "epoch 1 train step 2/3",
        "epoch 1 train step 3/3",
    ]
