"""Per-epoch checkpoints, written atomically so a kill mid-write never leaves a corrupt file to resume from.

`checkpoint.pt` holds everything needed to continue (model, optimizer, scheduler, grad scaler, epoch,
RNG states, args, early-stopping state, metric history); `best.pt` holds the best weights so far with the
metadata needed to pack them (`dogbreed-pack`).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dogbreed.utils.fileio import atomic_write

LATEST = "checkpoint.pt"
BEST = "best.pt"


def save_atomically(payload: dict[str, Any], path: Path) -> None:
    with atomic_write(path, mode=0o600) as file:
        torch.save(payload, file)


def load(path: Path) -> dict[str, Any]:
    # weights_only=False: our own checkpoints hold RNG states and plain Python objects, not just tensors.
    return torch.load(path, map_location="cpu", weights_only=False)


def capture_rng_states() -> dict[str, Any]:
    states = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, Any]) -> None:
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
