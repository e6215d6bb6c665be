"""--cache-features: the cached features are the backbone's, training on them matches training on the live
backbone, and any change to the data or the weights gives a new cache instead of a stale one."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import pytest
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, RandomSampler

from dogbreed.data.dogimages import DogImages, collate_skipping, index_split
from dogbreed.data.synthetic import generate
from dogbreed.model import build_model, parameter_groups
from dogbreed.preprocessing import Preprocessing
from dogbreed.training import feature_cache, train
from dogbreed.training.distributed import DistributedContext
from dogbreed.training.engine import Precision, evaluate, train_one_epoch
from tests.training.helpers import run_dir_flags

CROP = 32
BATCH = 4
SEED = 0


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    generate(root, classes=3, per_split={"train": 6, "valid": 3, "test": 2}, seed=SEED)
    return root


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def small_model(seed: int = SEED) -> nn.Module:
    torch.manual_seed(seed)
    return build_model("resnet18", num_classes=3).eval()


def splits_of(data_dir: Path, names=("train", "valid")) -> dict:
    return {name: index_split(data_dir / name)[0] for name in names}


def compute(cache_dir: Path, model: nn.Module, data_dir: Path) -> dict[str, feature_cache.SplitFeatures]:
    return feature_cache.load_or_compute(
        cache_dir,
        model.backbone,
        splits_of(data_dir),
        Preprocessing.for_crop(CROP),
        BATCH,
        0,
        torch.device("cpu"),
    )


def train_head(module: nn.Module, head: nn.Module, train_loader, valid_loader, epochs: int = 3):
    optimizer = torch.optim.AdamW(head.parameters(), lr=1e-2)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    context = DistributedContext()
    for epoch in range(epochs):
        train_one_epoch(module, train_loader, optimizer, scaler, Precision(), context, f"epoch {epoch}")
    return evaluate(module, valid_loader, Precision(), context, "valid")


def test_head_trained_on_cached_features_matches_uncached_frozen_backbone_training(dataset, tmp_path):
    model = small_model()
    features = compute(tmp_path / "cache", model, dataset)

    cached_head = copy.deepcopy(model.head)
    cached = train_head(
        cached_head,
        cached_head,
        feature_cache.feature_loader(features["train"], BATCH, shuffle=True, seed=SEED),
        feature_cache.feature_loader(features["valid"], BATCH, shuffle=False, seed=SEED),
    )

    uncached_model = copy.deepcopy(model)  # what train.py trains without the cache: the whole classifier
    parameter_groups(uncached_model, 1e-2, 0.1, freeze_backbone=True)
    preprocessing = Preprocessing.for_crop(CROP)
    transform, decode_side = preprocessing.eval_transform(), preprocessing.resize
    splits = splits_of(dataset)
    train_images = DogImages(splits["train"], transform, decode_side)
    uncached = train_head(
        uncached_model,
        uncached_model.head,
        DataLoader(
            train_images,
            batch_size=BATCH,
            sampler=RandomSampler(train_images, generator=torch.Generator().manual_seed(SEED)),
            collate_fn=collate_skipping,
        ),
        DataLoader(
            DogImages(splits["valid"], transform, decode_side), batch_size=BATCH, collate_fn=collate_skipping
        ),
    )

    assert cached.samples == uncached.samples == len(splits["valid"])
    assert cached.accuracy == uncached.accuracy
    assert cached.loss == pytest.approx(uncached.loss, abs=1e-4)
    torch.testing.assert_close(cached_head.weight, uncached_model.head.weight, atol=1e-4, rtol=1e-4)


def test_frozen_backbone_keeps_its_batchnorm_statistics_in_training_mode():
    model = small_model()
    parameter_groups(model, 1e-2, 0.1, freeze_backbone=True)
    before = {name: buffer.clone() for name, buffer in model.backbone.named_buffers()}
    model.train()
    model(torch.randn(4, 3, CROP, CROP) * 5 + 3)
    assert model.head.training and not model.backbone.training
    for name, buffer in model.backbone.named_buffers():
        assert torch.equal(buffer, before[name]), name


def test_second_call_reads_the_cache_instead_of_running_the_backbone(dataset, tmp_path, monkeypatch):
    model = small_model()
    first = compute(tmp_path / "cache", model, dataset)
    monkeypatch.setattr(feature_cache, "compute_features", _must_not_run)
    second = compute(tmp_path / "cache", model, dataset)
    for split in first:
        torch.testing.assert_close(first[split].features, second[split].features, rtol=0, atol=0)
        assert torch.equal(first[split].labels, second[split].labels)


def test_changed_image_invalidates_the_cache(tmp_path):
    data = tmp_path / "data"
    generate(data, classes=3, per_split={"train": 2, "valid": 1}, seed=SEED)
    model = small_model()
    before = compute(tmp_path / "cache", model, data)

    changed = splits_of(data)["train"][0].path
    with Image.open(changed) as image:
        flipped = image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
        flipped.save(changed, format=image.format)
    after = compute(tmp_path / "cache", model, data)

    assert len(list((tmp_path / "cache").glob("features-*.pt"))) == 2
    assert not torch.allclose(before["train"].features[0], after["train"].features[0])
    fresh = compute(tmp_path / "fresh-cache", model, data)
    torch.testing.assert_close(after["train"].features, fresh["train"].features)


def test_other_backbone_weights_or_preprocessing_give_another_key(dataset):
    splits = splits_of(dataset)
    model = small_model(seed=SEED)
    key = feature_cache.cache_key(model.backbone, splits, Preprocessing.for_crop(CROP))
    assert key == feature_cache.cache_key(
        small_model(seed=SEED).backbone, splits, Preprocessing.for_crop(CROP)
    )
    assert key != feature_cache.cache_key(small_model(seed=1).backbone, splits, Preprocessing.for_crop(CROP))
    assert key != feature_cache.cache_key(model.backbone, splits, Preprocessing.for_crop(CROP + 8))


def test_cache_file_holding_other_inputs_is_recomputed_not_trusted(dataset, tmp_path, caplog):
    model = small_model()
    compute(tmp_path / "cache", model, dataset)
    (path,) = (tmp_path / "cache").glob("features-*.pt")
    payload = torch.load(path, weights_only=True)
    payload["key"] = "0" * 64
    payload["splits"]["train"]["features"].zero_()
    torch.save(payload, path)

    with caplog.at_level(logging.WARNING):
        recomputed = compute(tmp_path / "cache", model, dataset)
    assert "key mismatch" in caplog.text
    assert recomputed["train"].features.abs().sum() > 0


def run_train(dataset: Path, run_dir: Path, *extra: str) -> int:
    args = train.get_args_parser().parse_args(
        [
            *run_dir_flags(run_dir, dataset),
            "--arch",
            "resnet18",
            "--no-pretrained",
            "--crop-size",
            str(CROP),
            "--batch-size",
            str(BATCH),
            "--num-workers",
            "0",
            "--epochs",
            "2",
            *extra,
        ]
    )
    return train.main(args)


@pytest.mark.slow
def test_train_py_reuses_the_cache_across_runs_with_identical_results(dataset, tmp_path, monkeypatch):
    flags = ("--freeze-backbone", "--cache-features", "--feature-cache-dir", str(tmp_path / "cache"))
    assert run_train(dataset, tmp_path / "first", *flags) == 0
    assert len(list((tmp_path / "cache").glob("features-*.pt"))) == 1
    monkeypatch.setattr(feature_cache, "compute_features", _must_not_run)
    assert run_train(dataset, tmp_path / "second", *flags) == 0

    first, second = (
        json.loads((tmp_path / run / "output" / "metrics.json").read_text()) for run in ("first", "second")
    )
    assert first["history"] == second["history"]
    assert first["test_accuracy"] == second["test_accuracy"]
    assert (tmp_path / "second" / "model" / "model.tar.gz").is_file()


def test_cache_features_without_frozen_backbone_is_refused(dataset, tmp_path, capsys):
    assert run_train(dataset, tmp_path, "--cache-features") == 2
    assert "--cache-features needs --freeze-backbone" in capsys.readouterr().err


def _must_not_run(*args, **kwargs):
    raise AssertionError("the backbone ran although a valid cache exists")
