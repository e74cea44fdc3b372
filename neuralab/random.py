"""One global NumPy Generator, seeded by ``nl.manual_seed``, behind every random op."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator, making every later random op reproducible."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def generator() -> np.random.Generator:
    """The global generator (replaced by each ``manual_seed`` call)."""
    return _generator


@contextlib.contextmanager
def use_generator(rng: np.random.Generator) -> Iterator[np.random.Generator]:
    """Make ``rng`` the global generator inside the block, then put the previous one back.

    For code that keeps its own random stream (a playground session, a search trial) while
    calling layers that draw from the global one (initialisation, dropout).
    """
    global _generator
    saved, _generator = _generator, rng
    try:
        yield rng
    finally:
        _generator = saved
