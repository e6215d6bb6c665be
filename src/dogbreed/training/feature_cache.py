"""Backbone features computed once per dataset: frozen-backbone training (and so every tuning trial) trains
the head alone on cached feature vectors instead of running the backbone over every image every epoch.

The cache file is keyed by everything the features depend on: the backbone's exact weights (so the arch, the
pretrained weights or the seed of a random init), the eval preprocessing, the torchvision version, and every
image's split, class and content. Any change gives a new key, so a stale cache is never read; a file whose
stored key does not match its name is recomputed, never trusted.

Trade-off: features are computed with the eval transform (resize, center crop), so the head sees the same
view of each training image every epoch, without RandomResizedCrop/flip augmentation. The backbone runs in
eval mode, so its BatchNorm statistics stay as loaded.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

from dogbreed.data.dogimages import SPLITS, DogImages, Sample, collate_skipping, index_split
from dogbreed.preprocessing import Preprocessing
from dogbreed.utils.fileio import atomic_write

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
READ_CHUNK_BYTES = 1 << 20


@dataclass
class SplitFeatures:
    features: torch.Tensor  # (N, feature_dim) float32
    labels: torch.Tensor  # (N,) int64
    skipped_images: list[str]  # images that failed to decode and were replaced by the next readable one


def cache_key(backbone: nn.Module, splits: dict[str, list[Sample]], preprocessing: Preprocessing) -> str:
    """Hex digest of the backbone weights, the preprocessing and the dataset's contents."""
    digest = hashlib.sha256(f"dogbreed-features-v{FORMAT_VERSION}".encode())
    digest.update(f"torchvision={torchvision.__version__}".encode())
    digest.update(repr(sorted(preprocessing.to_dict().items())).encode())
    _hash_state(digest, backbone.state_dict())
    for split in sorted(splits):
        for sample in splits[split]:
            digest.update(f"{split}/{sample.label}/{sample.path.name}".encode())
            _hash_file(digest, sample.path)
    return digest.hexdigest()


def cached_feature_loaders(
    data_dir: Path,
    cache_dir: Path,
    backbone: nn.Module,
    preprocessing: Preprocessing,
    batch_size: int,
    num_workers: int,
    device: torch.device,
    seed: int,
) -> tuple[dict[str, DataLoader], list[str]]:
    """Loaders of every split's cached features (train shuffled) and the images that could not be read."""
    splits, unreadable = {}, []
    for split in SPLITS:
        splits[split], skipped = index_split(data_dir / split)
        unreadable += [str(path) for path in skipped]
    features = load_or_compute(cache_dir, backbone, splits, preprocessing, batch_size, num_workers, device)
    loaders = {
        split: feature_loader(entry, batch_size, shuffle=split == "train", seed=seed)
        for split, entry in features.items()
    }
    unreadable += [path for entry in features.values() for path in entry.skipped_images]
    return loaders, unreadable


def load_or_compute(
    cache_dir: Path,
    backbone: nn.Module,
    splits: dict[str, list[Sample]],
    preprocessing: Preprocessing,
    batch_size: int,
    num_workers: int,
    device: torch.device,
) -> dict[str, SplitFeatures]:
    """The features of every split: read from `cache_dir` when a cache for exactly this input exists, else
    computed with the backbone and written there atomically."""
    key = cache_key(backbone, splits, preprocessing)
    path = cache_dir / f"features-{key[:24]}.pt"
    cached = _read(path, key)
    if cached is not None:
        log.info("feature cache hit: %s", path)
        return cached
    log.info("feature cache miss: computing backbone features into %s", path)
    transform = preprocessing.eval_transform()
    features = {  # decoded as the endpoint decodes (draft mode down to the resize), so features match serving
        split: compute_features(
            backbone, DogImages(samples, transform, preprocessing.resize), batch_size, num_workers, device
        )
        for split, samples in splits.items()
    }
    _write(path, key, features)
    return features


@torch.inference_mode()
def compute_features(
    backbone: nn.Module, dataset: DogImages, batch_size: int, num_workers: int, device: torch.device
) -> SplitFeatures:
    """Run the backbone (eval mode) over `dataset` in order; return float32 features on the CPU."""
    was_training = backbone.training
    backbone.eval()
    loader = DataLoader(
        dataset, batch_size=batch_size, num_workers=num_workers, collate_fn=collate_skipping, shuffle=False
    )
    chunks, labels, skipped = [], [], []
    try:
        for images, batch_labels, skipped_paths in loader:
            chunks.append(backbone(images.to(device)).float().cpu())
            labels.append(batch_labels)
            skipped.extend(skipped_paths)
    finally:
        backbone.train(was_training)
    return SplitFeatures(torch.cat(chunks), torch.cat(labels), skipped)


def feature_loader(features: SplitFeatures, batch_size: int, shuffle: bool, seed: int) -> DataLoader:
    """Batches of `(features, labels, [])`, the shape the training engine expects from an image loader."""
    dataset = TensorDataset(features.features, features.labels)
    # The sampler owns the generator, as in train.py's image loaders: same seed, same order of samples.
    sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(seed)) if shuffle else None
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, collate_fn=_collate_without_skips)


def _collate_without_skips(batch: Iterable[tuple[torch.Tensor, torch.Tensor]]):
    features, labels = zip(*batch, strict=True)
    return torch.stack(features), torch.stack(labels), []


def _hash_state(digest, state: dict[str, torch.Tensor]) -> None:
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())


def _hash_file(digest, path: Path) -> None:
    with path.open("rb") as file:
        while chunk := file.read(READ_CHUNK_BYTES):
            digest.update(chunk)


def _read(path: Path, key: str) -> dict[str, SplitFeatures] | None:
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload["key"] != key:
            log.warning("ignoring %s: written for other inputs (key mismatch)", path)
            return None
        return {
            split: SplitFeatures(entry["features"], entry["labels"], list(entry["skipped_images"]))
            for split, entry in payload["splits"].items()
        }
    except (OSError, RuntimeError, KeyError, TypeError, ValueError) as error:
        log.warning("ignoring unreadable feature cache %s (%s); recomputing", path, error)
        return None


def _write(path: Path, key: str, features: dict[str, SplitFeatures]) -> None:
    payload = {
        "key": key,
        "splits": {
            split: {
                "features": entry.features,
                "labels": entry.labels,
                "skipped_images": entry.skipped_images,
            }
            for split, entry in features.items()
        },
    }
    with atomic_write(path) as file:
        torch.save(payload, file)
