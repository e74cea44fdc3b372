"""bench/settings.py: settings parsed, applied and taking turns around the timed steps."""

import os
import sys
import types

import pytest

from bench import settings
from neuralab import parallel


def test_configs_parse_into_assignments_with_clear_errors():
    assert settings.parse_config("OPENBLAS_THREAD_TIMEOUT=18, a.b=2.5,c.d='x'") == [
        ("OPENBLAS_THREAD_TIMEOUT", 18),
        ("a.b", 2.5),
        ("c.d", "x"),
    ]
    with pytest.raises(ValueError, match="expected NAME=VALUE"):
        settings.parse_config("OPENBLAS_THREAD_TIMEOUT")
    with pytest.raises(
        ValueError, match="neither OPENBLAS_THREAD_TIMEOUT, threads nor module.attribute"
    ):
        settings.parse_config("SPIN=3")
    with pytest.raises(ValueError, match="is not a Python literal"):
        settings.parse_config("a.b=fast")


def test_apply_sets_attributes_and_restarts_openblas_for_its_timeout(monkeypatch):
    restarts = []
    monkeypatch.setattr(parallel, "restart_openblas_workers", lambda: restarts.append(1))
    monkeypatch.setenv("OPENBLAS_THREAD_TIMEOUT", "18")
    monkeypatch.setattr(parallel, "MIN_CHUNK_WORK", parallel.MIN_CHUNK_WORK)
    settings.apply([("OPENBLAS_THREAD_TIMEOUT", 24), ("neuralab.parallel.MIN_CHUNK_WORK", 7)])
    assert os.environ["OPENBLAS_THREAD_TIMEOUT"] == "24" and restarts == [1]
    assert parallel.MIN_CHUNK_WORK == 7
    with pytest.raises(ValueError, match="has no attribute 'nope'"):
        settings.apply([("neuralab.parallel.nope", 1)])


def test_threads_setting_sets_neuralabs_thread_count():
    before = parallel.get_num_threads()
    try:
        settings.apply(settings.parse_config("threads=1"))
        assert parallel.get_num_threads() == 1
        settings.apply(settings.parse_config("threads=2"))
        assert parallel.get_num_threads() == 2
    finally:
        parallel.set_num_threads(before)


def test_configs_take_turns_around_the_timed_steps():
    knob = types.ModuleType("knob")
    knob.value = None
    seen = []
    sys.modules["knob"] = knob
    try:
        medians = settings.compare(
            lambda: seen.append(knob.value), [[("knob.value", "a")], [("knob.value", "b")]],
            rounds=3, steps=2,
        )  # fmt: skip
    finally:
        del sys.modules["knob"]
    # per round: one untimed and two timed steps under a, then the same under b
    assert seen == ["a"] * 3 + ["b"] * 3 + ["a"] * 3 + ["b"] * 3 + ["a"] * 3 + ["b"] * 3
    assert len(medians) == 2 and all(m >= 0 for m in medians)


def test_unknown_workloads_are_named():
    with pytest.raises(ValueError, match="unknown workload 'W9'"):
        settings.step_of("W9")
    with pytest.raises(ValueError, match="no variant V99"):
        settings.step_of("V99")
