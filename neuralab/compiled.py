"""Optional compiled kernels (``pip install "neuralab[fast]"`` adds numba).

Some steps are a dozen NumPy passes over small arrays, or strided passes NumPy cannot
vectorise: Adam's update of every parameter, an LSTM or GRU cell's gate math at every time step,
2×2 max pooling, im2col and col2im. With numba installed they run as one compiled pass each.
Nothing else changes: without numba, or with ``NEURALAB_NUMBA=0``, the NumPy path runs. A
kernel module is imported on first use (numba with it, never at ``import neuralab``), and its
compiled code is cached on disk, so only the first call of the first run pays for compiling.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

__all__ = ["load", "numba_enabled"]

_cache: dict[str, ModuleType | None] = {}


def load(module: str) -> ModuleType | None:
    """The kernel module ``module`` (a dotted name), or None: numba missing or turned off."""
    if module not in _cache:
        kernels = None
        if os.environ.get("NEURALAB_NUMBA", "1") != "0":
            try:
                kernels = importlib.import_module(module)
            except ImportError:
                kernels = None
        _cache[module] = kernels
    return _cache[module]


def numba_enabled() -> bool:
    """Whether compiled kernels may be used: numba importable and not turned off."""
    if os.environ.get("NEURALAB_NUMBA", "1") == "0":
        return False
    try:
        importlib.import_module("numba")
    except ImportError:
        return False
    return True
