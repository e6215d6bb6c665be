"""Load the Lambda's handler module the way the Lambda runtime does: `handler` from the function's folder."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from dogbreed.utils.repo import REPO_ROOT

FUNCTION_DIR = REPO_ROOT / "functions" / "predict"


def import_lambda_handler() -> ModuleType:
    """A fresh `handler` module (a cold start: it reads the environment and builds its client again)."""
    spec = importlib.util.spec_from_file_location("handler", FUNCTION_DIR / "handler.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["handler"] = module  # registered before it runs, as an import would (dataclasses need it)
    spec.loader.exec_module(module)
    return module
