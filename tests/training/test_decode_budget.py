"""preprocessing.decode_bytes, the container's decode budget, against what to_upright_rgb really holds.

Peak memory per image: /proc/self/clear_refs "5" resets the peak RSS (VmHWM), so each decode is measured
alone in this process, as the growth of the peak over the resident size before it. For that, freed pixel
buffers must leave the process: glibc's mmap threshold is pinned (it would otherwise grow and keep 32 MB
chunks in the heap for reuse), and Pillow's block cache and malloc's free pages are dropped first.
"""

from __future__ import annotations

import ctypes
import io
from pathlib import Path

import pytest
from PIL import Image

from dogbreed.preprocessing import decode_bytes, to_upright_rgb

SIZE = (2000, 2000)  # 4 MP: large enough that pixel buffers dominate the measurement
MIB = 2**20
LIBC = ctypes.CDLL("libc.so.6")
LIBC.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD: every pixel buffer is its own mapping, unmapped when freed


def _status(field: str) -> int:
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(field))
    return int(line.split()[1]) * 1024


def peak_bytes_of(function) -> int:
    Image.core.clear_cache()
    LIBC.malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = _status("VmRSS:")
    result = function()
    peak = _status("VmHWM:") - before
    del result
    return peak


def encoded(mode: str, file_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, SIZE).save(buffer, file_format, **options)
    return buffer.getvalue()


CASES = {
    "1-bit png": encoded("1", "PNG"),
    "grey png": encoded("L", "PNG"),
    "grey+alpha png": encoded("LA", "PNG"),
    "palette png": encoded("P", "PNG"),
    "palette png with transparency": encoded("P", "PNG", transparency=0),
    "rgb png": encoded("RGB", "PNG"),
    "rgba png": encoded("RGBA", "PNG"),
    "16-bit grey png": encoded("I;16", "PNG"),
    "rgb jpeg": encoded("RGB", "JPEG"),
    "cmyk jpeg": encoded("CMYK", "JPEG"),
}


@pytest.mark.parametrize("name", CASES)
def test_the_budget_covers_the_real_peak_without_inflating_it(name):
    estimate = decode_bytes(Image.open(io.BytesIO(CASES[name])), min_side=256)
    measured = peak_bytes_of(lambda: to_upright_rgb(Image.open(io.BytesIO(CASES[name])), min_side=256))
    assert measured <= estimate * 1.15 + 2 * MIB, (
        f"{measured / MIB:.1f} MiB measured, {estimate / MIB:.1f} budgeted"
    )
    assert estimate <= 2.5 * measured + 2 * MIB, f"{estimate / MIB:.1f} MiB budgeted for {measured / MIB:.1f}"


def test_pixel_memory_not_pixel_count_decides():
    """Same 40 MP: grey+alpha needs 20 bytes per pixel to become RGB, a JPEG a few after its DCT draft."""
    grey_alpha = Image.open(io.BytesIO(encoded_large("LA", "PNG")))
    jpeg = Image.open(io.BytesIO(encoded_large("RGB", "JPEG")))
    assert decode_bytes(grey_alpha, min_side=256) == 40_000_000 * 20
    assert decode_bytes(jpeg, min_side=256) < 40_000_000 * 20 // 50


def encoded_large(mode: str, file_format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (8000, 5000)).save(buffer, file_format)
    return buffer.getvalue()
