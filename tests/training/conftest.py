"""Shared fixtures: a tiny synthetic dataset (with two broken images) and one real training run on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.training.helpers import TrainingRun, make_dataset, run_training


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("dogImages"))


@pytest.fixture(scope="session")
def broken_images(tmp_path_factory) -> tuple[Path, list[Path]]:
    """A dataset with an empty file (dropped at indexing) and a truncated JPEG (fails only when decoded)."""
    root = make_dataset(tmp_path_factory.mktemp("dogImages_broken"))
    empty = root / "train" / "001.Affenpinscher" / "broken_empty.jpg"
    empty.write_bytes(b"")
    source = sorted((root / "train" / "002.Afghan_hound").glob("*.jpg"))[0].read_bytes()
    truncated = root / "train" / "002.Afghan_hound" / "broken_truncated.jpg"
    truncated.write_bytes(source[: len(source) // 2])
    return root, [empty, truncated]


@pytest.fixture(scope="session")
def single_run(tmp_path_factory, broken_images) -> TrainingRun:
    data_dir, _ = broken_images
    run = run_training(tmp_path_factory.mktemp("single_run"), data_dir, "--epochs", "2")
    assert run.result.returncode == 0, run.result.stderr
    return run
