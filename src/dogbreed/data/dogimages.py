"""The dogImages dataset: `DATA/{train,valid,test}/NNN.Breed_Name/*.{jpg,jpeg,png}`.

Class index and label come from the folder names (sorted; `001.Affenpinscher` -> index 0, label
`Affenpinscher`). Layout problems stop the run with a `DataError` naming the path. Unreadable images are
skipped: files whose header cannot be parsed are dropped when the split is indexed, and an image that fails
to decode later is replaced in its batch by the next readable one and reported (see `collate_skipping`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset

from dogbreed.preprocessing import to_upright_rgb

log = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
CLASS_DIR_PATTERN = re.compile(r"^(\d+)\.(.+)$")
MAX_NAMED_IN_WARNING = 10


class DataError(Exception):
    """The data directory does not have the dogImages layout; the message names the offending path."""


@dataclass(frozen=True)
class Sample:
    path: Path
    label: int


def class_names_of(split_dir: Path) -> list[str]:
    """Labels of a split's class folders in index order, e.g. ["Affenpinscher", "Afghan_hound", ...]."""
    if not split_dir.is_dir():
        raise DataError(
            f"missing split directory {split_dir} (expected {'/'.join(SPLITS)} under the data dir)"
        )
    folders = sorted(entry.name for entry in split_dir.iterdir() if entry.is_dir())
    if not folders:
        raise DataError(f"no class folders in {split_dir} (expected folders named like 001.Affenpinscher)")
    misnamed = [name for name in folders if not CLASS_DIR_PATTERN.match(name)]
    if misnamed:
        raise DataError(f"class folder {split_dir / misnamed[0]} is not named like 001.Affenpinscher")
    return [CLASS_DIR_PATTERN.match(name).group(2) for name in folders]


def discover_classes(data_dir: Path, splits: tuple[str, ...] = SPLITS) -> list[str]:
    """Class names shared by all `splits`; a DataError when a split is missing or they disagree."""
    if not data_dir.is_dir():
        raise DataError(f"data directory {data_dir} does not exist")
    reference = class_names_of(data_dir / splits[0])
    for split in splits[1:]:
        names = class_names_of(data_dir / split)
        if names != reference:
            difference = sorted(set(names).symmetric_difference(reference)) or [
                "(same names, different order)"
            ]
            listed = ", ".join(difference[:5])
            raise DataError(f"classes in {data_dir / split} differ from {data_dir / splits[0]}: {listed}")
    return reference


def index_split(split_dir: Path) -> tuple[list[Sample], list[Path]]:
    """All readable images of a split with their labels, and the unreadable files that were skipped."""
    samples, unreadable = [], []
    for label, folder in enumerate(sorted(entry for entry in split_dir.iterdir() if entry.is_dir())):
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            if _has_image_header(path):
                samples.append(Sample(path, label))
            else:
                unreadable.append(path)
    if not samples:
        raise DataError(f"no readable .jpg/.jpeg/.png images under {split_dir}")
    if unreadable:
        warn_skipped(unreadable, where=str(split_dir))
    return samples, unreadable


def warn_skipped(paths: list[Path], where: str) -> None:
    named = ", ".join(str(path) for path in paths[:MAX_NAMED_IN_WARNING])
    more = f" and {len(paths) - MAX_NAMED_IN_WARNING} more" if len(paths) > MAX_NAMED_IN_WARNING else ""
    log.warning("skipped %d unreadable image(s) in %s: %s%s", len(paths), where, named, more)


def _has_image_header(path: Path) -> bool:
    try:
        with Image.open(path) as image:
            image.verify()
        return True
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError):
        return False


class DogImages(Dataset):
    """Yields `(image_tensor, label, skipped_path)`; `skipped_path` is "" unless an image failed to decode."""

    def __init__(self, samples: list[Sample], transform, decode_min_side: int | None = None):
        """`decode_min_side`: decode JPEGs at the smallest DCT scale keeping both sides at least this long."""
        self.samples = samples
        self.transform = transform
        self.decode_min_side = decode_min_side

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, str]:
        skipped = ""
        for offset in range(len(self.samples)):
            sample = self.samples[(index + offset) % len(self.samples)]
            try:
                with Image.open(sample.path) as image:
                    picture = to_upright_rgb(image, min_side=self.decode_min_side)
                    return self.transform(picture), sample.label, skipped
            except (OSError, UnidentifiedImageError, SyntaxError, ValueError):
                skipped = skipped or str(sample.path)
        raise DataError(f"no image in the split could be decoded (first failure: {skipped})")


def collate_skipping(
    batch: list[tuple[torch.Tensor, int, str]],
) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Stack a batch; also return the paths of images that failed to decode and were replaced.

    Replacing instead of dropping keeps every rank's batch count identical, which DDP requires.
    """
    images, labels, skipped = zip(*batch, strict=True)
    return torch.stack(images), torch.tensor(labels), [path for path in skipped if path]
