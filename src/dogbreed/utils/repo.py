"""Where the repository checkout is, for the commands that read or write its files (terraform/, build/).

The project is installed editable from its checkout (`pip install -e .`, as `make setup` does), so the
package's own location names the checkout whatever the current directory is.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]  # <root>/src/dogbreed/utils/repo.py
TERRAFORM_DIR = REPO_ROOT / "terraform"
BUILD_DIR = REPO_ROOT / "build"
