"""The accuracy gate a faster serving model must pass before it ships: compared with the fp32 torch network on
the validation split, image by image, decoded and transformed as predict_fn does.

    top-1 agreement          share of images where both pick the same class        >= min_agreement
    accuracy drop            fp32 accuracy - candidate accuracy, in points        <= max_accuracy_drop_points
    max probability diff     largest |softmax difference| over images and classes   <= max_probability_diff
                                                                                   (only where set)

Defaults (GateThresholds): agreement >= 99% and a drop of at most 0.5 points for int8; the ONNX Runtime fp32
model must also stay within 0.001 of every probability (it is the same arithmetic, reordered). With the
real dogImages validation split (835 images) 99% allows 8 changed predictions; on a small split one image
can be more than 1%, so a small split passes only with no change at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import numpy as np

DEFAULT_MIN_AGREEMENT = 0.99
DEFAULT_MAX_ACCURACY_DROP_POINTS = 0.5
FP32_MAX_PROBABILITY_DIFF = 1e-3


@dataclass(frozen=True)
class GateThresholds:
    min_agreement: float = DEFAULT_MIN_AGREEMENT
    max_accuracy_drop_points: float = DEFAULT_MAX_ACCURACY_DROP_POINTS
    max_probability_diff: float | None = None  # None: not checked

    def __post_init__(self):
        if not 0.0 <= self.min_agreement <= 1.0:
            raise ValueError(f"min agreement must be within 0..1, got {self.min_agreement}")
        if self.max_accuracy_drop_points < 0:
            raise ValueError(f"max accuracy drop must not be negative, got {self.max_accuracy_drop_points}")
        if self.max_probability_diff is not None and not 0.0 <= self.max_probability_diff <= 1.0:
            raise ValueError(
                f"max probability difference must be within 0..1, got {self.max_probability_diff}"
            )


@dataclass(frozen=True)
class GateReport:
    candidate: str
    images: int
    top1_agreement: float
    disagreements: int
    accuracy_fp32: float
    accuracy_candidate: float
    accuracy_drop_points: float
    max_probability_diff: float
    thresholds: dict
    passed: bool
    failures: list[str]  # why it did not pass, one sentence per broken threshold

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        verdict = "passed" if self.passed else "FAILED (" + "; ".join(self.failures) + ")"
        return (
            f"{self.candidate} vs fp32 on {self.images} validation images: agreement "
            f"{100 * self.top1_agreement:.2f}% ({self.disagreements} changed), accuracy "
            f"{100 * self.accuracy_fp32:.2f}% -> {100 * self.accuracy_candidate:.2f}%, max probability "
            f"difference {self.max_probability_diff:.4f}: {verdict}"
        )


Network = Callable[[np.ndarray], np.ndarray]  # (N, 3, H, W) float32 -> (N, classes) logits


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def compare(
    reference: Network, candidates: dict[str, Network], batches: Iterable[tuple[np.ndarray, list[int]]]
) -> tuple[dict[str, np.ndarray], list[int]]:
    """Runs the reference and every candidate on the same (images, labels) batches; returns the logits by
    name ("fp32" for the reference) and the labels."""
    outputs: dict[str, list[np.ndarray]] = {"fp32": [], **{name: [] for name in candidates}}
    labels: list[int] = []
    for images, batch_labels in batches:
        outputs["fp32"].append(np.asarray(reference(images), dtype=np.float32))
        for name, network in candidates.items():
            outputs[name].append(np.asarray(network(images), dtype=np.float32))
        labels += batch_labels
    if not labels:
        raise ValueError("no validation image could be decoded")
    return {name: np.concatenate(parts) for name, parts in outputs.items()}, labels


def judge(
    name: str, reference: np.ndarray, candidate: np.ndarray, labels: list[int], thresholds: GateThresholds
) -> GateReport:
    """The gate's numbers for one candidate's logits against the reference's, and its verdict."""
    truth = np.asarray(labels)
    ours, theirs = reference.argmax(axis=1), candidate.argmax(axis=1)
    agreement = float((ours == theirs).mean())
    accuracy_fp32, accuracy_candidate = float((ours == truth).mean()), float((theirs == truth).mean())
    drop = 100.0 * (accuracy_fp32 - accuracy_candidate)
    max_diff = float(np.abs(softmax(reference) - softmax(candidate)).max())
    failures = []
    if agreement < thresholds.min_agreement:
        failures.append(f"top-1 agreement {100 * agreement:.2f}% < {100 * thresholds.min_agreement:g}%")
    if drop > thresholds.max_accuracy_drop_points + 1e-9:
        failures.append(f"accuracy drop {drop:.2f} points > {thresholds.max_accuracy_drop_points:g}")
    if thresholds.max_probability_diff is not None and max_diff > thresholds.max_probability_diff:
        failures.append(f"max probability difference {max_diff:.4f} > {thresholds.max_probability_diff:g}")
    return GateReport(
        candidate=name,
        images=len(truth),
        top1_agreement=round(agreement, 6),
        disagreements=int((ours != theirs).sum()),
        accuracy_fp32=round(accuracy_fp32, 6),
        accuracy_candidate=round(accuracy_candidate, 6),
        accuracy_drop_points=round(drop, 4),
        max_probability_diff=round(max_diff, 6),
        thresholds=asdict(thresholds),
        passed=not failures,
        failures=failures,
    )
