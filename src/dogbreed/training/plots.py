"""Training curves as a PNG: losses on the left, validation accuracy on the right."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: training jobs have no display
import matplotlib.pyplot as plt  # noqa: E402


def plot_training_curves(history: list[dict], path: Path, best_epoch: int | None = None) -> None:
    epochs = [row["epoch"] for row in history]
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    loss_axis.plot(epochs, [row["train_loss"] for row in history], marker="o", label="train")
    loss_axis.plot(epochs, [row["valid_loss"] for row in history], marker="o", label="valid")
    loss_axis.set(title="Cross-entropy loss", xlabel="epoch", ylabel="mean loss per image")
    accuracy_axis.plot(epochs, [row["valid_accuracy"] for row in history], marker="o", color="tab:green")
    accuracy_axis.set(title="Validation accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    for axis in (loss_axis, accuracy_axis):
        axis.grid(alpha=0.3)
        axis.xaxis.get_major_locator().set_params(integer=True)
        if best_epoch is not None:
            axis.axvline(best_epoch, color="grey", linestyle="--", label=f"best epoch ({best_epoch})")
    loss_axis.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
