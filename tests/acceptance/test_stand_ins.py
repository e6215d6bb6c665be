"""The offline acceptance environment on a fresh machine: the runs that `test_offline_run.py` starts side by
side must not each fill the same empty provider cache (it is not safe for concurrent installs)."""

from __future__ import annotations

import pytest

from dev.acceptance_stand_ins import offline_environment

pytestmark = pytest.mark.terraform


def test_the_environment_fills_an_empty_plugin_cache_before_any_run_uses_it(tmp_path, monkeypatch):
    cache = tmp_path / "empty-plugin-cache"
    monkeypatch.setenv("TF_PLUGIN_CACHE_DIR", str(cache))
    with offline_environment():
        providers = list(cache.glob("registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws_*"))
    assert len(providers) == 1
