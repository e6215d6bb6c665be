"""int8 against fp32 where the decision is made: the pack-time gate's numbers on two validation splits.

  demo       the demo's dataset and training, exactly as `make demo` runs them (dev/demo.py: 5 generated
             breeds, 24 training and 8 validation images each; ResNet-18 trained from random weights at 64 px
             for 6 epochs): 40 validation images
  larger     a larger generated dataset (8 breeds, 24 training and 25 validation images each, another seed),
             trained the demo's way: 200 validation images

train.py packs each one with the default gate: it calibrates the int8 model on training images (eval
transform), then compares it with the fp32 torch network image by image on the validation split, decoded as
predict_fn decodes. Every number below is that comparison, read back from the artifact's model_meta.json
(`serving.gate`): nothing is recomputed here. Goal: top-1 agreement >= 99% on both.

Also reported, without a goal: the same comparison for the serving benchmarks' ResNet-50
(benchmarks/served_model.py), whose random-init backbone makes a weak, low-margin classifier (packed with
the gate opened for the speed measurements).

    python -m benchmarks.int8_agreement [--quick]
"""

from __future__ import annotations

import json
import sys
import tarfile
import tempfile
from pathlib import Path

from benchmarks import served_model
from benchmarks.common import SummaryRow, base_parser, write_results
from dev import demo
from dogbreed.data.synthetic import generate

NAME = "int8_agreement"
AGREEMENT_GOAL = 0.99
QUICK_DEMO_FLAGS = ["--classes", "2", "--epochs", "1"]
LARGER = {"classes": 8, "per_split": {"train": 24, "valid": 25, "test": 2}, "seed": 1}
QUICK_LARGER = {"classes": 2, "per_split": {"train": 4, "valid": 4, "test": 1}, "seed": 1}


def get_args_parser():
    return base_parser(__doc__.split("\n\n")[0])


def trained_serving(data: Path, workdir: Path, quick: bool) -> dict:
    """model_meta.json's serving entry of a model trained and packed on `data` as the demo does."""
    args = demo.get_args_parser().parse_args(QUICK_DEMO_FLAGS if quick else [])
    archive = demo.train(data, workdir, args)
    with tarfile.open(archive) as tar:
        return json.load(tar.extractfile("model_meta.json"))["serving"]


def demo_serving(workdir: Path, quick: bool) -> dict:
    classes = demo.get_args_parser().parse_args(QUICK_DEMO_FLAGS if quick else []).classes
    return trained_serving(demo.generated_dataset(workdir / "data", classes), workdir, quick)


def larger_serving(workdir: Path, quick: bool) -> dict:
    spec = QUICK_LARGER if quick else LARGER
    generate(workdir / "data", spec["classes"], spec["per_split"], seed=spec["seed"])
    return trained_serving(workdir / "data", workdir, quick)


def gate_numbers(serving: dict) -> dict:
    """The int8 candidate's gate report; an error when packing never compared one (no int8 was built)."""
    if "gate" not in serving:
        raise RuntimeError(f"packing built no int8 model to compare: {serving['reason']}")
    return serving["gate"]


def rows_for(label: str, serving: dict, goal: bool = True) -> list[SummaryRow]:
    gate = gate_numbers(serving)
    agreement = gate["top1_agreement"]
    if not goal:
        return [
            SummaryRow(f"{label}: validation images compared", gate["images"], "images"),
            SummaryRow(f"{label}: top-1 agreement int8 vs fp32", round(100 * agreement, 2), "%"),
            SummaryRow(f"{label}: accuracy fp32", round(100 * gate["accuracy_fp32"], 2), "%"),
            SummaryRow(f"{label}: accuracy int8", round(100 * gate["accuracy_candidate"], 2), "%"),
        ]
    return [
        SummaryRow(f"{label}: validation images compared", gate["images"], "images"),
        SummaryRow(
            f"{label}: top-1 agreement int8 vs fp32",
            round(100 * agreement, 2),
            "%",
            goal=f">= {100 * AGREEMENT_GOAL:g}%",
            met=agreement >= AGREEMENT_GOAL,
        ),
        SummaryRow(f"{label}: accuracy fp32", round(100 * gate["accuracy_fp32"], 2), "%"),
        SummaryRow(f"{label}: accuracy int8", round(100 * gate["accuracy_candidate"], 2), "%"),
        SummaryRow(f"{label}: max probability difference", gate["max_probability_diff"], "abs"),
        SummaryRow(
            f"{label}: int8 shipped by the gate (1 yes, 0 no)", int(serving["precision"] == "int8"), "flag"
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="int8-agreement-") as scratch:
        entries = {
            "demo dataset": demo_serving(Path(scratch) / "demo", args.quick),
            "larger generated dataset": larger_serving(Path(scratch) / "larger", args.quick),
        }
    speed_model = served_model.served_model(served_model.QUICK if args.quick else served_model.FULL)
    label = f"serving benchmarks' {speed_model.meta['arch']} (random backbone, gate opened)"
    rows = [row for name, entry in entries.items() for row in rows_for(name, entry)]
    rows += rows_for(label, speed_model.serving, goal=False)
    details = {
        name: {key: value for key, value in entry.items() if key != "calibration"}
        for name, entry in {**entries, label: speed_model.serving}.items()
    }
    details["larger generated dataset"]["dataset"] = QUICK_LARGER if args.quick else LARGER
    details["method"] = __doc__.split("\n\n")[1]
    write_results(args.results_dir, NAME, rows, details, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
