"""The notebook's idle auto-stop decision (terraform/modules/notebook/stop_when_idle.py)."""

from __future__ import annotations

import datetime
import importlib.util

import pytest

from dev.offline_terraform import REPO_ROOT

SCRIPT = REPO_ROOT / "terraform" / "modules" / "notebook" / "stop_when_idle.py"
NOW = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
STARTED = NOW - datetime.timedelta(hours=5)


def load_script():
    spec = importlib.util.spec_from_file_location("stop_when_idle", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stop_when_idle = load_script()


def kernel(state: str, minutes_ago: int) -> dict:
    last = (NOW - datetime.timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"execution_state": state, "last_activity": last}


@pytest.mark.parametrize(
    ("kernels", "started", "idle"),
    [
        ([kernel("idle", 61), kernel("idle", 90)], STARTED, True),
        ([kernel("idle", 59), kernel("idle", 90)], STARTED, False),  # the latest activity counts
        ([kernel("busy", 600)], STARTED, False),  # a long-running cell is activity
        ([], STARTED, True),  # no kernel for 5 hours
        ([], NOW - datetime.timedelta(minutes=10), False),  # just started, nothing opened yet
        ([kernel("idle", 300)], NOW - datetime.timedelta(minutes=30), False),  # restarted after a stop
    ],
)
def test_is_idle_after_sixty_minutes_without_kernel_activity(kernels, started, idle):
    assert stop_when_idle.is_idle(kernels, started, NOW, idle_minutes=60) is idle


def test_jupyter_timestamps_with_z_suffix_parse_as_utc():
    assert stop_when_idle.parse_time("2026-01-01T11:00:00.000000Z") == NOW - datetime.timedelta(hours=1)
