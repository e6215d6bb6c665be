"""Fixtures every test area may use."""

from __future__ import annotations

import pytest

from tests.serving_stack import StackCache


@pytest.fixture(scope="session")
def serve_in_real_stack():
    """serve(archive, workers=1, **env) -> a ready ServingStack of that artifact, started once per session."""
    cache = StackCache()
    yield cache.serve
    cache.stop_all()
