"""One global NumPy Generator, seeded by ``nl.manual_seed``, behind every random op."""

from __future__ import annotations

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
