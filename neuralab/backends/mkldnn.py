"""torch.backends.mkldnn: oneDNN, which neuralab does not use (its kernels are NumPy's)."""

from __future__ import annotations

enabled = True


def is_available() -> bool:
    """False: no oneDNN kernels here."""
    return False
