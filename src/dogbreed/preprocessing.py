"""Image decoding and the transforms shared by training and serving.

Only torch, torchvision and Pillow are imported here: this module ships inside `model.tar.gz`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from PIL import Image, ImageOps
from torchvision import transforms

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
WHITE = (255, 255, 255)
# RandomResizedCrop's defaults: a window of >= 8% of the area with aspect ratio 3/4..4/3, so its shorter side
# is at least sqrt(0.08 * 3/4) of the geometric mean of the image's sides.
SMALLEST_CROP_SIDE_FRACTION = math.sqrt(0.08 * 3 / 4)


@dataclass(frozen=True)
class Preprocessing:
    """Evaluation preprocessing: resize the shorter side, center-crop, normalise."""

    resize: int = 256
    crop: int = 224
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    @classmethod
    def for_crop(cls, crop: int) -> Preprocessing:
        """The ImageNet recipe (resize 256 -> crop 224) scaled to another crop size."""
        return cls(resize=round(crop * 256 / 224), crop=crop)

    @classmethod
    def from_dict(cls, values: dict) -> Preprocessing:
        return cls(
            resize=int(values["resize"]),
            crop=int(values["crop"]),
            mean=tuple(float(v) for v in values["mean"]),
            std=tuple(float(v) for v in values["std"]),
        )

    def to_dict(self) -> dict:
        return {
            key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()
        }

    @property
    def train_decode_min_side(self) -> int:
        """Shorter side to decode training JPEGs at: every RandomResizedCrop window then still spans at least
        `crop` decoded pixels per side, so the crop is only ever scaled down, as from a full-size decode."""
        return math.ceil(self.crop / SMALLEST_CROP_SIDE_FRACTION)

    def eval_transform(self) -> transforms.Compose:
        return transforms.Compose(
            [
                transforms.Resize(self.resize),
                transforms.CenterCrop(self.crop),
                transforms.ToTensor(),
                transforms.Normalize(self.mean, self.std),
            ]
        )

    def train_transform(self) -> transforms.Compose:
        return transforms.Compose(
            [
                transforms.RandomResizedCrop(self.crop),
                transforms.RandomHorizontalFlip(),
                transforms.ToTensor(),
                transforms.Normalize(self.mean, self.std),
            ]
        )


def decode_bytes(image: Image.Image, min_side: int | None = None) -> int:
    """The most pixel memory `to_upright_rgb(image, min_side)` holds at once, from the header only.

    Mirrors to_upright_rgb step by step (change both together): a JPEG is first reduced by `draft` (as there;
    nothing is decoded); Pillow stores modes 1, L and P in 1 byte per pixel, I;16 in 2, every other mode in 4
    (RGB too); the decoded image stays alive while a transposed copy (EXIF orientation) or the RGB
    conversions exist; the transparency path holds RGBA, the white background, the composite and the RGB
    result (4 x 4 bytes per pixel). Orientation is only known from a JPEG's header, so other formats are
    budgeted for a transpose.
    """
    if min_side and image.format == "JPEG":
        image.draft(None, (min_side, min_side))
    pixels = image.size[0] * image.size[1]
    stored = pixels * _stored_bytes_per_pixel(image.mode)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        converted = 4 * 4 * pixels
    else:
        converted = 4 * pixels if image.mode != "RGB" else 0
    rotated = image.getexif().get(0x0112, 1) != 1 if image.format == "JPEG" else True
    return stored + max(converted, stored if rotated else 0)


def _stored_bytes_per_pixel(mode: str) -> int:
    if mode in ("1", "L", "P"):
        return 1
    return 2 if mode.startswith("I;16") else 4


def to_upright_rgb(image: Image.Image, min_side: int | None = None) -> Image.Image:
    """Decode `image` into an upright RGB picture.

    Applies the EXIF orientation, flattens transparency onto white (a transparent background is black
    once the alpha channel is dropped, which would mislead the model) and converts grayscale, CMYK and
    palette images to RGB. With `min_side`, a JPEG is decoded directly at the smallest DCT scale that
    keeps both sides at least `min_side` pixels, which is much faster than decoding at full size.
    """
    if min_side and image.format == "JPEG":
        image.draft(None, (min_side, min_side))
    ImageOps.exif_transpose(image, in_place=True)  # in place: no full-size copy when already upright
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, WHITE + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB") if image.mode != "RGB" else image
