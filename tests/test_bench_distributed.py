"""Smoke test of `python -m bench distributed`: its step counting and one tiny run under
mpiexec (no timing assertions)."""

import pytest

import neuralab.distributed as dist
from bench import distributed as bench


def test_timed_makes_exactly_the_calls_it_is_given():
    calls = []
    result = bench._timed(lambda: calls.append(1), seconds=100.0, calls=7)
    assert len(calls) == 2 + 7  # two warm-up calls, then the timed ones
    assert result["steps_per_s"] > 0 and result["best_step_s"] >= 0


@pytest.mark.skipif(not dist.is_available(), reason="needs neuralab[distributed]")
def test_one_process_against_two_on_the_smallest_workload():
    (row,) = bench.here(["W1"], repeats=1, seconds=0.2)
    assert row["workload"] == "W1" and len(row["ratios"]) == 1
    assert row["one_process_2_threads"] > 0 and row["two_processes_1_thread"] > 0
    assert row["allreduce_ms"] > 0
