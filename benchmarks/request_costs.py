"""The request outside the network forward, for benchmarks/serving_runtimes.py: decode and tensor conversion.

decode      JPEG with draft mode (the DCT scaled down to the smallest size that still covers the resize,
            what predict_fn does) against a full decode; PNG has no reduced-size decode in Pillow (draft
            is JPEG-only: zlib rows must all be inflated), so it is measured whole
conversion  the eval transform (torchvision Resize, CenterCrop, ToTensor, Normalize: what predict_fn runs)
            against the same steps in PIL + numpy (one resize and crop, one float32 pass)
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import numpy as np
from PIL import Image

from dogbreed.preprocessing import Preprocessing, to_upright_rgb


def _time(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def numpy_transform(preprocessing: Preprocessing) -> Callable[[Image.Image], np.ndarray]:
    """Resize (shorter side), center crop, scale, normalize, HWC -> CHW, in PIL and numpy."""
    mean = np.asarray(preprocessing.mean, dtype=np.float32) * 255
    scale = 1 / (np.asarray(preprocessing.std, dtype=np.float32) * 255)

    def transform(image: Image.Image) -> np.ndarray:
        width, height = image.size
        ratio = preprocessing.resize / min(width, height)
        size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
        left, top = (size[0] - preprocessing.crop) // 2, (size[1] - preprocessing.crop) // 2
        box = (left, top, left + preprocessing.crop, top + preprocessing.crop)
        cropped = image.resize(size, Image.Resampling.BILINEAR).crop(box)
        return ((np.asarray(cropped, dtype=np.float32) - mean) * scale).transpose(2, 0, 1)

    return transform


def _decode(body: bytes, min_side: int | None = None) -> Image.Image:
    return to_upright_rgb(Image.open(io.BytesIO(body)), min_side=min_side)


def _variants(body: bytes, preprocessing: Preprocessing, transforms: dict) -> dict[str, Callable[[], object]]:
    image = _decode(body, preprocessing.resize)  # what the conversions start from, as in predict_fn
    variants = {"decode, full": lambda: _decode(body)}
    if body.startswith(b"\xff\xd8"):  # JPEG: draft mode applies
        variants["decode, draft mode"] = lambda: _decode(body, preprocessing.resize)
    for name, transform in transforms.items():
        variants[f"conversion, {name}"] = lambda transform=transform: transform(image)
    return variants


def measure_decode(photos: dict[str, bytes], preprocessing: Preprocessing, rounds: int) -> dict:
    """ms p50 per photo: full and (JPEG) draft decode, and each conversion after the decode predict_fn does.
    Interleaved: every round runs every variant once."""
    transforms = {
        "torchvision eval transform": preprocessing.eval_transform(),
        "PIL + numpy": numpy_transform(preprocessing),
    }
    variants = {name: _variants(body, preprocessing, transforms) for name, body in photos.items()}
    samples = {name: {variant: [] for variant in by_name} for name, by_name in variants.items()}
    for _ in range(rounds):
        for name, by_name in variants.items():
            for variant, call in by_name.items():
                samples[name][variant].append(_time(call))
    return {
        name: {variant: round(float(np.median(values)) * 1000, 2) for variant, values in by_variant.items()}
        for name, by_variant in samples.items()
    }
