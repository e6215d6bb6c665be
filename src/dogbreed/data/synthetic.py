"""Generate a small synthetic dataset in the dogImages layout: DATA/{train,valid,test}/NNN.Breed/*.{jpg,png}.

The pictures are photo-like (gradient background, sensor noise, soft blobs) and class-dependent: each class
has its own stripe orientation and frequency (visible in grayscale too) and colour palette, so a small model
learns the task quickly and accuracy rises above chance. Sizes, modes (RGB, L, RGBA, CMYK, P) and formats
(JPEG, PNG) vary, and some JPEGs carry an EXIF orientation with their pixels stored rotated.
Same seed, same bytes.

    dogbreed-synthetic-data --output runs/synthetic --classes 5 --train 12 --valid 4 --test 4
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

BREEDS = (
    "Affenpinscher",
    "Afghan_hound",
    "Airedale_terrier",
    "Akita",
    "Alaskan_malamute",
    "American_eskimo_dog",
    "American_foxhound",
    "American_staffordshire_terrier",
    "American_water_spaniel",
    "Anatolian_shepherd_dog",
    "Australian_cattle_dog",
    "Australian_shepherd",
    "Australian_terrier",
    "Basenji",
    "Basset_hound",
    "Beagle",
    "Bearded_collie",
    "Beauceron",
    "Bedlington_terrier",
    "Belgian_malinois",
)
# (mode, format) cycle: mostly RGB JPEG like the real data, every other case present in every split and class.
VARIANTS = (
    ("RGB", "JPEG"),
    ("RGB", "PNG"),
    ("L", "JPEG"),
    ("RGB", "JPEG"),
    ("RGBA", "PNG"),
    ("CMYK", "JPEG"),
    ("P", "PNG"),
    ("RGB", "JPEG"),
)
EXIF_ORIENTATION = 0x0112
ROTATED_STORAGE = {
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}  # stored pixels -> upright via EXIF
SPLIT_OFFSETS = {"train": 0, "valid": 1, "test": 2}


def breed_name(index: int) -> str:
    return BREEDS[index] if index < len(BREEDS) else f"Synthetic_breed_{index + 1}"


def class_picture(rng: np.random.Generator, label: int, classes: int, size: tuple[int, int]) -> Image.Image:
    """An RGB picture whose stripes and palette depend on `label`; everything else is random."""
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = math.pi * label / classes + rng.normal(0, 0.08)
    period = 6 + 5 * (label % 3) + rng.uniform(-0.5, 0.5)
    stripes = 0.5 + 0.5 * np.sin(2 * math.pi * (xs * math.cos(angle) + ys * math.sin(angle)) / period)
    hue = np.array(_palette(label, classes), dtype=np.float32)
    background = np.linspace(rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7), height, dtype=np.float32)[
        :, None, None
    ]
    picture = 255 * (0.55 * stripes[..., None] * hue + 0.45 * background * rng.uniform(0.6, 1.0, 3))
    picture += _blob(rng, xs, ys) + rng.normal(0, 8, picture.shape)
    image = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8), "RGB")
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(0, 0.8)))


def _palette(label: int, classes: int) -> tuple[float, float, float]:
    phase = 2 * math.pi * label / classes
    return tuple(0.55 + 0.45 * math.cos(phase + shift) for shift in (0, 2.1, 4.2))


def _blob(rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """A soft random ellipse, like an out-of-focus object in a photo."""
    cx, cy = rng.uniform(0, xs.shape[1]), rng.uniform(0, xs.shape[0])
    radius = rng.uniform(0.15, 0.4) * min(xs.shape)
    falloff = np.exp(-(((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius**2)))
    return (falloff[..., None] * rng.uniform(-60, 60, 3)).astype(np.float32)


def save_variant(image: Image.Image, path_stem: Path, variant_index: int, rng: np.random.Generator) -> Path:
    mode, file_format = VARIANTS[variant_index % len(VARIANTS)]
    suffix = ".jpg" if file_format == "JPEG" else ".png"
    path = path_stem.with_suffix(suffix)
    if mode == "RGBA":
        alpha = Image.fromarray(rng.integers(160, 256, (image.height, image.width), dtype=np.uint8), "L")
        image = image.convert("RGBA")
        image.putalpha(alpha)
    elif mode == "P":
        image = image.quantize(colors=64, dither=Image.Dither.NONE)
    elif mode != "RGB":
        image = image.convert(mode)
    if file_format == "JPEG" and mode == "RGB" and variant_index % 16 == 3:
        return _save_exif_rotated(image, path, orientation=int(rng.choice((6, 8))))
    image.save(path, file_format, **({"quality": 90} if file_format == "JPEG" else {}))
    return path


def _save_exif_rotated(upright: Image.Image, path: Path, orientation: int) -> Path:
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    upright.transpose(ROTATED_STORAGE[orientation]).save(path, "JPEG", quality=90, exif=exif.tobytes())
    return path


def generate(
    output: Path, classes: int, per_split: dict[str, int], seed: int, min_size: int = 48, max_size: int = 128
) -> int:
    """Write the dataset; return the number of images."""
    count = 0
    for split, images_per_class in per_split.items():
        for label in range(classes):
            folder = output / split / f"{label + 1:03d}.{breed_name(label)}"
            folder.mkdir(parents=True, exist_ok=True)
            for index in range(images_per_class):
                rng = np.random.default_rng([seed, SPLIT_OFFSETS[split], label, index])
                size = tuple(int(v) for v in rng.integers(min_size, max_size + 1, 2))
                picture = class_picture(rng, label, classes, size)
                save_variant(picture, folder / f"{breed_name(label)}_{index:05d}", index + label, rng)
                count += 1
    return count


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=Path, required=True, help="dataset root to create")
    parser.add_argument("--classes", type=int, default=5, help="number of breeds (default: %(default)s)")
    parser.add_argument(
        "--train", type=int, default=12, help="images per class in train/ (default: %(default)s)"
    )
    parser.add_argument(
        "--valid", type=int, default=4, help="images per class in valid/ (default: %(default)s)"
    )
    parser.add_argument(
        "--test", type=int, default=4, help="images per class in test/ (default: %(default)s)"
    )
    parser.add_argument(
        "--min-size", type=int, default=48, help="smallest side in pixels (default: %(default)s)"
    )
    parser.add_argument(
        "--max-size", type=int, default=128, help="largest side in pixels (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="same seed, same files (default: %(default)s)")
    return parser


def main(args: argparse.Namespace | None = None) -> int:
    args = args if args is not None else get_args_parser().parse_args()
    if (
        args.classes < 2
        or min(args.train, args.valid, args.test) < 1
        or not 8 <= args.min_size <= args.max_size
    ):
        print(
            "error: need --classes >= 2, at least 1 image per split and 8 <= --min-size <= --max-size",
            file=sys.stderr,
        )
        return 2
    if args.output.exists() and any(args.output.iterdir()):
        print(f"error: {args.output} exists and is not empty", file=sys.stderr)
        return 2
    count = generate(
        args.output,
        args.classes,
        {"train": args.train, "valid": args.valid, "test": args.test},
        args.seed,
        args.min_size,
        args.max_size,
    )
    print(f"wrote {count} images in {args.classes} classes to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
