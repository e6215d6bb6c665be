"""CPU inference: the course's inference2.py path against our SageMaker hooks, side by side in one process.

Course path (benchmarks/course_baseline.py: the course deployment's own model_fn / input_fn / predict_fn,
benchmarks/course_deployment/inference.py): PIL opens the full image, Resize((224, 224)), ToTensor,
Normalize, fp32 eager ResNet-50 under torch.no_grad at torch's default thread count, one request at a time,
raw logits as JSON.
Ours: model_fn / input_fn / predict_fn / output_fn of dogbreed.serving.hooks (what a packed model.tar.gz's
code/ holds a copy of) loading the packed model, which serves what the pack-time gate chose (int8 ONNX
Runtime when it passed), in the two thread layouts model_fn picks from SAGEMAKER_MODEL_SERVER_WORKERS: one
worker using every core (the layout for one request at a time, compared with the course at the same thread
count) and the toolkit's default of one worker per CPU at one thread each (the layout for concurrent load);
and, for attribution, the same hooks serving model.pt in fp32 torch (INFERENCE_RUNTIME=torch), as before int8.
Both load the same weights: benchmarks/served_model.py (ResNet-50, random-init backbone, head trained by
train.py on a generated dataset, packed with the int8 gate).

Measured, interleaved round by round so the shared machine's noise hits both alike:
  * per-request latency (p50/p99) and images/s on photo-like JPEGs of 0.3, 3 and 12 MP and PNGs;
  * the model forward alone against the FLOP floor: model FLOPs (torch's FlopCounterMode: convolutions and
    matmuls, 2 per multiply-add) / the matmul rate of the runtime's arithmetic measured in the same round:
    fp32 for torch (a 1024^3 torch matmul), int8 for the int8 network (a 1024^3 u8 x s8 MatMulInteger in ONNX
    Runtime, the MLAS integer GEMM its int8 convolutions run on; the head, quantize/dequantize, pooling and
    the elementwise ops are not counted in the FLOPs, so the floor is a lower bound);
  * forward variants (runtime, memory layout, thread count) and decode variants (draft mode on/off, the
    course's full decode + squash), which split the speedup into its sources;
  * our predictions against an fp32 reference (full decode, contiguous eager fp32 network): top-1 agreement
    and the largest probability difference.

    python -m benchmarks.inference_latency [--quick]
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks import served_model
from benchmarks.common import base_parser, photo, torch_threads, write_results
from benchmarks.course_baseline import CoursePath, course_deployment_dir
from benchmarks.latency_measurements import (
    CORES,
    DEFAULT_THREADS,
    PER_WORKER,
    TORCH_PATH,
    OurPath,
    Photo,
    Plan,
    agreement_set,
    measure_agreement,
    measure_decode,
    measure_forward,
    measure_latency,
    model_flops,
)
from benchmarks.latency_report import (
    decode_summary,
    forward_summary,
    latency_table,
    mix_stats,
    plot,
    summary_rows,
)
from dogbreed.preprocessing import Preprocessing
from dogbreed.serving.runtime import ONNX_RUNTIME, OnnxNetwork, onnx_session

NAME = "inference_latency"

PHOTO_MIX = (
    Photo("jpeg 0.3 MP", 0.3, "JPEG"),
    Photo("jpeg 3 MP", 3, "JPEG"),
    Photo("jpeg 12 MP", 12, "JPEG"),
)
PNGS = (Photo("png 0.3 MP", 0.3, "PNG"), Photo("png 3 MP", 3, "PNG"))
FULL = Plan(
    rounds=2,
    forward_rounds=3,
    max_rounds=8,
    decode_rounds=2,
    photos=PHOTO_MIX + PNGS,
    model=served_model.FULL,
)
QUICK = Plan(
    rounds=1, forward_rounds=1, max_rounds=1, decode_rounds=1, photos=PHOTO_MIX[:1] + PNGS[:1],
    model=served_model.QUICK,
)  # fmt: skip


def get_args_parser():
    return base_parser(__doc__.split("\n\n")[0])


@dataclass(frozen=True)
class Measurements:
    inputs: dict[Photo, bytes]
    latency: dict  # path name -> photo -> seconds per request
    forward: dict
    decode_ms: dict
    agreement: dict
    threads: dict[str, int]  # what each path ran at
    our_threads: int  # ours, 1 worker: the thread count the forward variants compare against 1
    serving: dict  # what the artifact serves with (model_meta.json)


def served_network_at_one_thread(ours: OurPath, model: served_model.ServedModel):
    """The served network as a worker at 1 thread runs it: an ONNX session fixes its threads when made."""
    if ours.model.runtime == ONNX_RUNTIME:
        session = onnx_session(model.model_dir / model.serving["file"], 1)
        return OnnxNetwork(session, ours.model.network.input_name)
    return ours.model.network  # torch: timed() sets the thread count


def measure(workdir: Path, plan: Plan) -> Measurements:
    """Everything this benchmark measures, on the served model."""
    model = served_model.served_model(plan.model)
    model_dir = model.model_dir
    course = CoursePath(course_deployment_dir(model_dir, workdir / "course"))
    ours = OurPath.load(model_dir, workers=1)
    paths = {
        "ours": ours,
        PER_WORKER: OurPath.load(model_dir, workers=CORES),
        TORCH_PATH: OurPath.load(model_dir, workers=1, runtime="torch"),
    }
    inputs = {p: photo(p.megapixels, seed, p.format) for seed, p in enumerate(plan.photos)}
    latency = measure_latency(course, paths, inputs, plan)
    crop = Preprocessing.from_dict(model.meta["preprocessing"]).crop
    network = paths[TORCH_PATH].model.network  # the fp32 torch network, channels_last
    served_1 = served_network_at_one_thread(ours, model)
    samples = measure_forward(network, ours.model.network, served_1, ours.threads, crop, plan)
    forward = forward_summary(samples, model_flops(network, crop), model.serving["precision"])
    largest_jpeg = max((p for p in inputs if p.format == "JPEG"), key=lambda p: p.megapixels)
    decode = measure_decode(inputs[largest_jpeg], plan.decode_rounds, ours.threads)
    agreement = measure_agreement(  # the serving default layout
        paths[PER_WORKER], network, model_dir, agreement_set(model.data_dir, inputs)
    )
    threads = {
        "course (torch default)": DEFAULT_THREADS,
        "ours (model_fn, 1 worker)": ours.threads,
        f"ours (model_fn, {CORES} workers, the toolkit's default)": paths[PER_WORKER].threads,
        "ours serving fp32 torch (model_fn, 1 worker)": paths[TORCH_PATH].threads,
    }
    decode_ms = decode_summary(decode, largest_jpeg)
    serving = {key: model.serving[key] for key in ("runtime", "precision", "file", "reason")}
    return Measurements(inputs, latency, forward, decode_ms, agreement, threads, ours.threads, serving)


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    plan = QUICK if args.quick else FULL
    with torch_threads(), tempfile.TemporaryDirectory(prefix="inference-latency-") as scratch:
        measured = measure(Path(scratch), plan)
    table = latency_table(measured.latency, measured.inputs)
    mix = mix_stats(measured.latency, tuple(p for p in measured.inputs if p.format == "JPEG"))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    plot_path = plot(table, measured.forward, args.results_dir / f"{NAME}.png")
    details = {
        "model": {"plan": plan.model.__dict__, "serving": measured.serving},
        "weights": "random init (--no-pretrained) backbone; head trained by train.py --freeze-backbone "
        f"--cache-features for {plan.model.epochs} epochs on {plan.model.classes} synthetic classes",
        "threads": measured.threads,
        "latency": table,
        "photo_mix": mix,
        "forward": measured.forward,
        "decode_ms": measured.decode_ms,
        "agreement": measured.agreement,
        "plot": plot_path.name,
    }
    rows = summary_rows(
        table, mix, measured.forward, measured.decode_ms, measured.agreement, measured.our_threads
    )
    write_results(args.results_dir, NAME, rows, details, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
