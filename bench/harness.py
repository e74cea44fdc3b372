"""Paired, interleaved timing of two implementations of the same workload.

Timing two frameworks one after the other lets machine noise (other processes, frequency
scaling, a neighbour's test run) land on one of them only. :func:`compare` instead alternates
them, ``ours theirs ours theirs ...``, so each pair of samples sees nearly the same machine, and
summarises with the median of the per-pair ratios ``theirs / ours``, which shrugs off the pairs a
burst of noise hit. The module knows nothing about neural networks: the engine benchmark and any
later workload (a training step against torch or scikit-learn) pass two zero-argument callables.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Paired:
    """Per-pair seconds per call of two implementations, and their median ratio."""

    ours: tuple[float, ...]
    theirs: tuple[float, ...]

    @property
    def ratios(self) -> tuple[float, ...]:
        """``theirs / ours`` for each pair: above 1 means ours was faster in that pair."""
        return tuple(t / o for o, t in zip(self.ours, self.theirs))

    @property
    def ratio(self) -> float:
        """Median of the per-pair ratios: the headline number (>1: ours is faster)."""
        return statistics.median(self.ratios)

    @property
    def ours_median(self) -> float:
        """Median seconds per call of ours."""
        return statistics.median(self.ours)

    @property
    def theirs_median(self) -> float:
        """Median seconds per call of theirs."""
        return statistics.median(self.theirs)


def _sample(fn: Callable[[], object], inner: int, settle: float) -> float:
    """Seconds per call of ``fn``, averaged over ``inner`` back-to-back calls after a pause."""
    if settle:
        time.sleep(settle)
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - start) / inner


def compare(
    ours: Callable[[], object],
    theirs: Callable[[], object],
    *,
    pairs: int = 11,
    warmup: int = 2,
    inner: int = 1,
    settle: float = 0.0,
) -> Paired:
    """Time ``ours`` and ``theirs`` alternately, ``pairs`` times, after ``warmup`` calls of each.

    Each sample is the mean over ``inner`` consecutive calls (use many for microsecond work, so
    the timer's resolution and the loop around it do not matter). ``settle`` seconds are slept,
    untimed, before every sample: multi-threaded pools busy-wait after a call (torch's OpenMP for
    about 10 ms, OpenBLAS by default for about 0.1 s, 90 µs under neuralab) and would otherwise
    steal cores from the other implementation's next sample. The garbage collector stays on:
    the objects a framework leaves behind are part of its cost.
    """
    if pairs < 1 or inner < 1 or warmup < 0 or settle < 0:
        raise ValueError(
            f"compare: need pairs >= 1, inner >= 1, warmup >= 0, settle >= 0; "
            f"got pairs={pairs}, inner={inner}, warmup={warmup}, settle={settle}"
        )
    for _ in range(warmup):
        ours()
        theirs()
    gc.collect()
    ours_s, theirs_s = [], []
    for _ in range(pairs):
        ours_s.append(_sample(ours, inner, settle))
        theirs_s.append(_sample(theirs, inner, settle))
    return Paired(tuple(ours_s), tuple(theirs_s))


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table; the first column left-aligned, the others right."""
    widths = [max(3, *(len(c) for c in col)) for col in zip(header, *rows)]
    align = [":" + "-" * (widths[0] - 1)] + ["-" * (w - 1) + ":" for w in widths[1:]]

    def line(cells: Sequence[str]) -> str:
        first, *rest = zip(cells, widths)
        padded = [first[0].ljust(first[1]), *(c.rjust(w) for c, w in rest)]
        return "| " + " | ".join(padded) + " |"

    return "\n".join([line(header), line(align), *(line(r) for r in rows)])
