"""The hooks' thread choice: INFERENCE_THREADS wins, else the CPUs divided among the serving workers."""

from __future__ import annotations

import os

import pytest

from dogbreed.serving import hooks as inference

CPUS = len(os.sched_getaffinity(0))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    monkeypatch.delenv(inference.THREADS_ENV, raising=False)
    monkeypatch.delenv(inference.WORKERS_ENV, raising=False)


def test_default_is_one_worker_per_cpu_so_one_thread_each():
    assert inference.inference_threads() == 1


def test_cpus_are_shared_among_the_configured_workers(monkeypatch):
    monkeypatch.setenv(inference.WORKERS_ENV, "1")
    assert inference.inference_threads() == CPUS
    monkeypatch.setenv(inference.WORKERS_ENV, str(CPUS * 4))
    assert inference.inference_threads() == 1


def test_explicit_thread_count_wins(monkeypatch):
    monkeypatch.setenv(inference.WORKERS_ENV, "1")
    monkeypatch.setenv(inference.THREADS_ENV, "3")
    assert inference.inference_threads() == 3


@pytest.mark.parametrize("name", [inference.THREADS_ENV, inference.WORKERS_ENV])
@pytest.mark.parametrize("value", ["0", "-2", "two", ""])
def test_bad_values_are_refused_with_the_variable_named(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    if name == inference.WORKERS_ENV and value == "":
        assert inference.inference_threads() == 1  # unset-equivalent: the toolkit's default
        return
    with pytest.raises(ValueError, match=name):
        inference.inference_threads()
