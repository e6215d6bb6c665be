"""Forward-pass options tried for CPU serving, not adopted: torch.compile, ONNX Runtime fp32 and int8.

Not part of `run_all.py` (torch.compile alone takes minutes here); run it by hand when the serving stack
changes. Every variant runs the same random-init ResNet-50 with a 133-class head at the thread count our hooks
use (1 on this machine), interleaved round by round against our eager channels_last forward, and is checked
against the fp32 eager reference on photo-like inputs (logit error, top-1 agreement). ONNX variants need
`onnxruntime`, `onnx` and `onnxscript` importable (they are not project requirements); without them they are
reported as skipped.

    python -m benchmarks.inference_explore [--quick]
"""

from __future__ import annotations

import copy
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from benchmarks.common import DOG_BREEDS, SummaryRow, base_parser, png_figure, torch_threads, write_results
from dogbreed.data.synthetic import class_picture
from dogbreed.model import build_model
from dogbreed.preprocessing import Preprocessing

NAME = "inference_explore"
THREADS = 1
EAGER = "eager channels_last (ours)"


def inputs(count: int) -> torch.Tensor:
    transform = Preprocessing().eval_transform()
    pictures = [
        class_picture(np.random.default_rng(seed), seed, DOG_BREEDS, (640, 480)) for seed in range(count)
    ]
    return torch.stack([transform(picture) for picture in pictures])


def compiled_variant(model: torch.nn.Module, example: torch.Tensor) -> tuple[Callable, float]:
    import torch._inductor.config as inductor_config

    inductor_config.freezing = True  # fold BatchNorm into convolutions, prepack weights
    start = time.perf_counter()
    compiled = torch.compile(model)
    with torch.inference_mode():
        compiled(example)
    return compiled, time.perf_counter() - start


def onnx_variants(model: torch.nn.Module, example: torch.Tensor, calibration: torch.Tensor, workdir: Path):
    import onnxruntime
    from onnxruntime.quantization import CalibrationDataReader, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    fp32_path, prepared, int8_path = workdir / "model.onnx", workdir / "prepared.onnx", workdir / "int8.onnx"
    start = time.perf_counter()
    torch.onnx.export(
        model, (example,), str(fp32_path), input_names=["images"], dynamo=True, external_data=False
    )
    export_s = time.perf_counter() - start

    class Calibration(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{"images": image[None].numpy()} for image in calibration])

        def get_next(self):
            return next(self.batches, None)

    quant_pre_process(str(fp32_path), str(prepared))
    quantize_static(
        str(prepared),
        str(int8_path),
        Calibration(),
        weight_type=QuantType.QInt8,
        activation_type=QuantType.QUInt8,
    )
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = THREADS, 1
    variants = {}
    for name, path in (("ONNX Runtime fp32", fp32_path), ("ONNX Runtime int8 (static, QDQ)", int8_path)):
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        variants[name] = lambda x, s=session: torch.from_numpy(s.run(None, {"images": x.numpy()})[0])
    return variants, export_s


def time_variants(
    variants: dict[str, Callable], example: torch.Tensor, rounds: int
) -> dict[str, list[float]]:
    samples = {name: [] for name in variants}
    with torch.inference_mode():
        for run in variants.values():
            run(example)
        for _ in tqdm(range(rounds), desc="explore rounds", file=sys.stderr):
            for name, run in variants.items():
                start = time.perf_counter()
                run(example)
                samples[name].append(time.perf_counter() - start)
    return samples


def accuracy(variants: dict[str, Callable], reference: torch.nn.Module, images: torch.Tensor) -> dict:
    with torch.inference_mode():
        expected = reference(images)
        results = {}
        for name, run in variants.items():
            got = torch.cat([run(image[None].contiguous()) for image in images])
            results[name] = {
                "relative_logit_error": float((got - expected).norm() / expected.norm()),
                "max_probability_error": float((got.softmax(1) - expected.softmax(1)).abs().max()),
                "top1_agreement": float((got.argmax(1) == expected.argmax(1)).float().mean()),
            }
    return results


def measure(quick: bool, rounds: int, images: int) -> tuple[dict, dict, dict, dict]:
    """Timings and accuracy checks of every variant that runs here, setup seconds, what was skipped (why)."""
    torch.manual_seed(0)
    reference = build_model("resnet50", DOG_BREEDS).eval()
    ours = copy.deepcopy(reference).to(memory_format=torch.channels_last)
    data = inputs(images)
    example = data[:1].contiguous()
    variants = {EAGER: lambda x: ours(x.contiguous(memory_format=torch.channels_last))}
    setup, skipped = {}, {}
    if quick:
        skipped["torch.compile"] = "not run in --quick"
    else:
        compiled, setup["torch.compile (inductor, freezing) compile_s"] = compiled_variant(
            copy.deepcopy(ours), example
        )
        variants["torch.compile (inductor, freezing)"] = compiled
    try:
        with tempfile.TemporaryDirectory(prefix="inference-explore-") as scratch:
            onnx, setup["onnx export_s"] = onnx_variants(
                reference, example, data[: max(2, images // 2)], Path(scratch)
            )
            variants.update(onnx)
            return *time_and_check(variants, reference, data, rounds), setup, skipped
    except ImportError as error:
        skipped["ONNX Runtime"] = f"not installed ({error.name})"
    return *time_and_check(variants, reference, data, rounds), setup, skipped


def time_and_check(
    variants: dict[str, Callable], reference: torch.nn.Module, images: torch.Tensor, rounds: int
) -> tuple[dict, dict]:
    return time_variants(variants, images[:1].contiguous(), rounds), accuracy(variants, reference, images)


def main(argv: list[str] | None = None) -> int:
    args = base_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    rounds, images = (1, 2) if args.quick else (6, 16)
    with torch_threads(THREADS):
        samples, checks, setup, skipped = measure(args.quick, rounds, images)
    p50 = {name: statistics.median(values) * 1e3 for name, values in samples.items()}
    rows = [SummaryRow(f"forward p50, {name}", round(value, 1), "ms") for name, value in p50.items()]
    rows += [
        SummaryRow(f"forward speedup over ours, {name}", round(p50[EAGER] / value, 2), "x")
        for name, value in p50.items()
        if name != EAGER
    ]
    rows += [
        SummaryRow(f"top-1 agreement with fp32 eager, {name}", round(100 * check["top1_agreement"], 1), "%")
        for name, check in checks.items()
    ]
    args.results_dir.mkdir(parents=True, exist_ok=True)
    plot_path = plot(p50, args.results_dir / f"{NAME}.png")
    details = {
        "threads": THREADS,
        "rounds": rounds,
        "images_checked": images,
        "forward_ms": {name: [round(v * 1e3, 1) for v in values] for name, values in samples.items()},
        "accuracy_vs_fp32_eager": checks,
        "setup_seconds": {name: round(value, 1) for name, value in setup.items()},
        "skipped": skipped,
        "weights": "random init; the agreement numbers of a random head are fragile (near-uniform logits)",
        "plot": plot_path.name,
    }
    write_results(args.results_dir, NAME, rows, details, quick=args.quick)
    return 0


def plot(p50: dict[str, float], path: Path) -> Path:
    with png_figure(path, figsize=(8, 3.5)) as ax:
        ax.barh(list(p50), list(p50.values()), color="tab:gray")
        ax.set(
            xlabel=f"p50 ms per forward, batch 1, {THREADS} thread", title="Forward-pass options (explored)"
        )
        ax.grid(alpha=0.3, axis="x")
    return path


if __name__ == "__main__":
    sys.exit(main())
