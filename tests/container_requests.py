"""The requests the model container must answer as documented (dogbreed.serving.hooks), shared by the tests
that send them through the real serving stack: tests/training/test_inference.py (the container protocol) and
tests/predict/test_real_stack.py (InvokeEndpoint through unmodified boto3). Both artifacts know 3 classes.

GOOD_REQUESTS: name -> (body, content type, accept, predictions expected)
BAD_REQUESTS:  name -> (body, content type, accept, the documented 4xx)
"""

from __future__ import annotations

import base64
import functools
import io
import json

from PIL import Image

CLASSES = 3


def picture(mode: str = "RGB", size: tuple[int, int] = (90, 60)) -> Image.Image:
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (gradient, gradient.rotate(90), Image.new("L", size, 128)))
    return image.convert(mode) if mode != "P" else image.quantize(16)


def encode(image: Image.Image, file_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, file_format, **options)
    return buffer.getvalue()


def exif_rotated_jpeg() -> bytes:
    """Pixels stored rotated, EXIF orientation 6 says how to turn them upright."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(picture().transpose(Image.Transpose.ROTATE_90), "JPEG", exif=exif.tobytes())


def json_body(image: bytes, **fields) -> bytes:
    return json.dumps({"image": base64.b64encode(image).decode(), **fields}).encode()


@functools.cache
def grey_alpha_png_40mp() -> bytes:
    """8000x5000 grey+alpha, about 77 KB: under the 40 MP cap, but ~800 MB of pixel memory to become RGB."""
    return encode(Image.new("LA", (8000, 5000)), "PNG")


JPEG = encode(picture(), "JPEG")
PNG = encode(picture(), "PNG")
JPEG_B64 = base64.b64encode(JPEG).decode()

GOOD_REQUESTS = {
    "jpeg": (JPEG, "image/jpeg", None, 3),
    "png": (PNG, "image/png", None, 3),
    "x-image": (JPEG, "application/x-image", None, 3),
    "grayscale jpeg": (encode(picture("L"), "JPEG"), "image/jpeg", None, 3),
    "rgba png": (encode(picture("RGBA"), "PNG"), "image/png", None, 3),
    "cmyk jpeg": (encode(picture("CMYK"), "JPEG"), "image/jpeg", None, 3),
    "palette png": (encode(picture("P"), "PNG"), "image/png", None, 3),
    "exif-rotated jpeg": (exif_rotated_jpeg(), "image/jpeg", None, 3),
    "json top_k 2": (json_body(PNG, top_k=2), "application/json", None, 2),
    "json top_k capped": (json_body(JPEG, top_k=1000), "application/json", None, CLASSES),
    "json default top_k": (json_body(JPEG), "application/json", None, CLASSES),
    "json with charset": (json_body(PNG, top_k=1), "application/json; charset=utf-8", None, 1),
    "content-type with parameter": (JPEG, "image/jpeg; charset=binary", None, 3),
    "accept list": (JPEG, "image/jpeg", "text/html, application/json;q=0.9", 3),
    "accept any": (JPEG, "image/jpeg", "*/*", 3),
}

BAD_REQUESTS = {
    "empty body": (b"", "image/jpeg", None, 400),
    "empty json body": (b"", "application/json", None, 400),
    "not an image": (b"definitely not a picture", "image/png", None, 400),
    "gif is not accepted": (encode(picture("P"), "GIF"), "image/jpeg", None, 400),
    "truncated jpeg": (JPEG[: len(JPEG) // 2], "image/jpeg", None, 400),
    "truncated png": (PNG[: len(PNG) // 2], "image/png", None, 400),
    "decompression bomb": (encode(Image.new("1", (8000, 8000)), "PNG"), "image/png", None, 413),
    # over TorchServe's max_request_size (6,553,500 bytes): its own 413; InvokeEndpoint refuses > 6 MiB first
    "body over the container's limit": (b"\xff\xd8" + bytes(6_553_500), "image/jpeg", None, 413),
    "unsupported content type": (JPEG, "text/plain", None, 415),
    "missing content type": (JPEG, None, None, 415),
    "unsupported accept": (JPEG, "image/jpeg", "text/csv", 406),
    "malformed json": (b'{"image": ', "application/json", None, 400),
    "json not an object": (b"[1, 2]", "application/json", None, 400),
    "json without image": (b'{"top_k": 2}', "application/json", None, 400),
    "malformed base64": (b'{"image": "not*base64!"}', "application/json", None, 400),
    "base64 of a non-image": (json_body(b"plain text"), "application/json", None, 400),
    "unknown json key": (json_body(JPEG, topk=2), "application/json", None, 400),
    "top_k zero": (json_body(JPEG, top_k=0), "application/json", None, 400),
    "top_k negative": (json_body(JPEG, top_k=-3), "application/json", None, 400),
    "top_k string": (json_body(JPEG, top_k="3"), "application/json", None, 400),
    "top_k float": (json_body(JPEG, top_k=2.5), "application/json", None, 400),
    "top_k boolean": (json_body(JPEG, top_k=True), "application/json", None, 400),
    "top_k non-ascii digit": (json_body(JPEG, top_k="²"), "application/json", None, 400),
    # each of these was a 500 from the toolkit or the parser before (issue 11)
    "json not utf-8": (b'{"image": "\xff\xfe", "top_k": 1}', "application/json", None, 400),
    "json not utf-8, charset param": (b'{"image": "\xff\xfe"}', "application/json; charset=utf-8", None, 400),
    "top_k of 5000 digits": (
        f'{{"image": "{JPEG_B64}", "top_k": {"9" * 5000}}}'.encode(),
        "application/json",
        None,
        400,
    ),
    "json nested 100000 deep": (b"[" * 100_000 + b"]" * 100_000, "application/json", None, 400),
    "object nested 100000 deep": (b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, "application/json", None, 400),
    "text/csv body": (b"1,2,3\n4,5,6\n", "text/csv", None, 415),
    "text/csv body not utf-8": (b"\xff\xfe,1\n", "text/csv", None, 415),
    "form-urlencoded": (b"image=abc&top_k=3", "application/x-www-form-urlencoded", None, 415),
}
# Built on first use (about a second): the decode budget's case.
SLOW_TO_BUILD = {"grey+alpha png of 40 MP": (grey_alpha_png_40mp, "image/png", None, 413)}
