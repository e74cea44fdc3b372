"""torch.backends.openmp: neuralab's threads are its own pool (``set_num_threads``), not OpenMP."""

from __future__ import annotations


def is_available() -> bool:
    """False: no OpenMP kernels here."""
    return False
