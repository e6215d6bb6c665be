"""What the image is, read from its magic bytes (headers and file names can lie)."""

from __future__ import annotations

from dogbreed.predict_api.errors import ApiError, bad_request

SUPPORTED_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
UNSUPPORTED_SIGNATURES = (
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


def sniff_image_type(data: bytes) -> str:
    """Content type from the magic bytes; 415 for a known unsupported image type, 400 for anything else."""
    for signature, content_type in SUPPORTED_SIGNATURES:
        if data.startswith(signature):
            return content_type
    unsupported = next((ct for sig, ct in UNSUPPORTED_SIGNATURES if data.startswith(sig)), None)
    if unsupported is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        unsupported = "image/webp"
    if unsupported:
        raise ApiError(415, "UnsupportedImageType", f"{unsupported} is not supported; send JPEG or PNG.")
    raise bad_request("NotAnImage", "The data is not a JPEG or PNG image.")
