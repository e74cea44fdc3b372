"""torch.backends.mps: Apple's GPU backend, absent here."""

from __future__ import annotations


def is_available() -> bool:
    """False: no MPS device."""
    return False


def is_built() -> bool:
    """False: neuralab is not built with MPS."""
    return False
