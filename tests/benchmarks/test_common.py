"""benchmarks/common.py helpers every benchmark leans on: request photos, thread settings, plot files."""

from __future__ import annotations

import io

import pytest
import torch
from PIL import Image
from results_contract import assert_png

from benchmarks.common import env_without_aws, percentiles_ms, photo, photo_jpeg, png_figure, torch_threads


@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
def test_photos_have_the_asked_size_format_and_a_4_to_3_shape(image_format):
    with Image.open(io.BytesIO(photo(0.3, seed=1, image_format=image_format))) as image:
        assert image.format == image_format
        assert image.size == (632, 474)  # 0.3 MP at 4:3
    assert photo_jpeg(0.3, seed=1) == photo(0.3, seed=1, image_format="JPEG")
    assert photo(0.3, seed=1, image_format=image_format) != photo(0.3, seed=2, image_format=image_format)


def test_percentiles_are_milliseconds_rounded_as_asked():
    assert percentiles_ms([0.0011111, 0.0011111], (50,)) == {"p50": 1.111}
    assert percentiles_ms([0.0011111], (50, 99), digits=2) == {"p50": 1.11, "p99": 1.11}
    with pytest.raises(ValueError, match="no samples"):
        percentiles_ms([])


def test_thread_settings_do_not_leak_out_of_the_block():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError), torch_threads(1):
        assert torch.get_num_threads() == 1
        torch.set_num_threads(1)
        raise RuntimeError("a measurement failed")
    assert torch.get_num_threads() == before
    with torch_threads():
        torch.set_num_threads(1)  # what model_fn does
    assert torch.get_num_threads() == before


def test_a_figure_is_written_as_png_and_closed_even_when_drawing_fails(tmp_path):
    import matplotlib.pyplot as plt

    with png_figure(tmp_path / "ok.png", 1, 2, figsize=(4, 2)) as (left, right):
        left.plot([1, 2], [3, 4])
        right.bar(["a"], [1])
    assert_png(tmp_path / "ok.png")
    with pytest.raises(ZeroDivisionError), png_figure(tmp_path / "broken.png") as ax:
        ax.plot([1], [1 / 0])
    assert not (tmp_path / "broken.png").exists()
    assert plt.get_fignums() == []


def test_subprocess_environments_carry_no_aws_setting_of_the_machine(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://example.invalid")
    monkeypatch.setenv("BENCHMARK_MARKER", "kept")

    env = env_without_aws()

    assert not [key for key in env if key.startswith("AWS_")]
    assert env["BENCHMARK_MARKER"] == "kept"
