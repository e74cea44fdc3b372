"""torch.backends.mkl: neuralab calls whichever BLAS NumPy was built with, not MKL directly."""

from __future__ import annotations


def is_available() -> bool:
    """False: neuralab has no MKL kernels of its own."""
    return False
