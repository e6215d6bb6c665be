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
