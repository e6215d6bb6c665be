"""The auto-loaded `*.auto.tfvars.json` files tools write for the Terraform root stack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dogbreed.utils.fileio import write_json_atomically


def write_tfvars(path: Path, variables: dict[str, Any]) -> Path:
    """Write `variables` atomically: a half-written file would make the next plan fail to parse it."""
    return write_json_atomically(path, variables)
