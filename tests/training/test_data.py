"""The dogImages layout checks, unreadable-image handling and image decoding shared with serving."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image

from dogbreed.data.dogimages import DataError, DogImages, collate_skipping, discover_classes, index_split
from dogbreed.preprocessing import Preprocessing, to_upright_rgb
from tests.training.helpers import make_dataset


@pytest.fixture
def data_dir(tmp_path, dataset_dir) -> Path:
    """A private copy of the session dataset that a test may break."""
    return Path(shutil.copytree(dataset_dir, tmp_path / "dogImages"))


def test_classes_come_from_sorted_folder_names(data_dir):
    assert discover_classes(data_dir) == ["Affenpinscher", "Afghan_hound", "Airedale_terrier"]


@pytest.mark.parametrize(
    ("breakage", "named_path"),
    [
        (lambda root: shutil.rmtree(root / "test"), "test"),
        (
            lambda root: (root / "valid" / "002.Afghan_hound").rename(root / "valid" / "002.Afghan_houndz"),
            "valid",
        ),
        (lambda root: shutil.rmtree(root / "valid" / "003.Airedale_terrier"), "valid"),
        (
            lambda root: (root / "train" / "001.Affenpinscher").rename(root / "train" / "Affenpinscher"),
            "train/Affenpinscher",
        ),
        (lambda root: [shutil.rmtree(folder) for folder in (root / "train").iterdir()], "train"),
    ],
    ids=["missing split", "renamed class", "missing class", "folder without index", "split without classes"],
)
def test_layout_problems_raise_one_line_errors_naming_the_path(data_dir, breakage, named_path):
    breakage(data_dir)
    with pytest.raises(DataError) as raised:
        discover_classes(data_dir)
    message = str(raised.value)
    assert "\n" not in message
    assert str(data_dir / named_path) in message


def test_missing_data_dir_is_named(tmp_path):
    with pytest.raises(DataError, match=str(tmp_path / "nowhere")):
        discover_classes(tmp_path / "nowhere")


def test_files_without_an_image_header_are_skipped_and_named(data_dir, caplog):
    folder = data_dir / "train" / "001.Affenpinscher"
    broken = [folder / "empty.jpg", folder / "html_error_page.jpg"]
    broken[0].write_bytes(b"")
    broken[1].write_text("<html>403 Forbidden</html>")
    (folder / "notes.txt").write_text("not an image suffix: ignored, not counted")
    with caplog.at_level(logging.WARNING):
        samples, skipped = index_split(data_dir / "train")
    assert sorted(skipped) == sorted(broken)
    assert len(samples) == 3 * 8
    assert "skipped 2 unreadable image(s)" in caplog.text and str(broken[0]) in caplog.text


def test_image_failing_to_decode_is_replaced_and_reported(data_dir):
    samples, _ = index_split(data_dir / "valid")
    source = samples[0].path.read_bytes()
    truncated = samples[0].path.with_name("truncated.jpg")
    truncated.write_bytes(source[: len(source) // 3])
    samples, _ = index_split(data_dir / "valid")  # the header is intact: it survives indexing
    position = [sample.path for sample in samples].index(truncated)
    dataset = DogImages(samples, Preprocessing.for_crop(32).eval_transform())

    image, label, skipped = dataset[position]
    assert skipped == str(truncated)
    assert image.shape == (3, 32, 32) and label == samples[position + 1].label
    images, labels, reported = collate_skipping([dataset[position], dataset[position + 1]])
    assert (
        images.shape == (2, 3, 32, 32) and labels.tolist() == [label, label] and reported == [str(truncated)]
    )


def test_exif_orientation_is_applied_exactly(tmp_path):
    upright = Image.effect_mandelbrot((40, 24), (-2, -1, 1, 1), 50).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    path = tmp_path / "rotated.png"
    upright.transpose(Image.Transpose.ROTATE_90).save(path, exif=exif.tobytes())
    with Image.open(path) as stored:
        assert stored.size == (24, 40)
        decoded = to_upright_rgb(stored)
    assert decoded.size == (40, 24)
    assert decoded.tobytes() == upright.tobytes()


@pytest.mark.parametrize("mode", ["L", "RGBA", "LA", "CMYK", "P", "I;16", "1"])
def test_every_mode_becomes_rgb(mode):
    image = Image.new("RGB", (10, 8), (200, 30, 30)).convert(mode)
    assert to_upright_rgb(image).mode == "RGB"


def test_transparency_is_flattened_onto_white():
    transparent = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    assert to_upright_rgb(transparent).getpixel((0, 0)) == (255, 255, 255)


def test_jpeg_draft_decodes_no_smaller_than_requested(tmp_path):
    path = tmp_path / "large.jpg"
    Image.new("RGB", (1200, 900), (10, 120, 200)).save(path)
    with Image.open(path) as image:
        decoded = to_upright_rgb(image, min_side=256)
    assert min(decoded.size) >= 256 and decoded.size[0] < 1200


def test_eval_transform_is_resize_then_center_crop_with_imagenet_stats():
    preprocessing = Preprocessing()
    assert (preprocessing.resize, preprocessing.crop) == (256, 224)
    tensor = preprocessing.eval_transform()(Image.new("RGB", (300, 500), (124, 116, 104)))
    assert tensor.shape == (3, 224, 224)
    assert torch.allclose(tensor, torch.zeros_like(tensor), atol=0.02)  # ImageNet mean colour -> ~0


def test_synthetic_dataset_is_deterministic_and_varied(tmp_path):
    first, second = make_dataset(tmp_path / "a", seed=3), make_dataset(tmp_path / "b", seed=3)
    files = sorted(path.relative_to(first) for path in first.rglob("*") if path.is_file())
    assert files == sorted(path.relative_to(second) for path in second.rglob("*") if path.is_file())
    assert all((first / name).read_bytes() == (second / name).read_bytes() for name in files)
    kinds, sizes, rotated = set(), set(), 0
    for name in files:
        with Image.open(first / name) as image:
            kinds.add((image.format, image.mode))
            sizes.add(image.size)
            rotated += image.getexif().get(0x0112, 1) != 1
    assert {
        ("JPEG", "RGB"),
        ("PNG", "RGB"),
        ("JPEG", "L"),
        ("PNG", "RGBA"),
        ("JPEG", "CMYK"),
        ("PNG", "P"),
    } <= kinds
    assert len(sizes) > len(files) // 2 and rotated > 0
    other_seed = make_dataset(tmp_path / "c", seed=4)
    assert (other_seed / files[0]).read_bytes() != (first / files[0]).read_bytes()
