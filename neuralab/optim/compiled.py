"""Optional compiled kernels for the optimizers (``pip install neuralab[fast]`` adds numba).

NumPy runs Adam's update as a dozen passes over every parameter, each reading and writing whole
arrays; on a small network that is a quarter of a training step. With numba installed the
update is one compiled pass (bit-identical to the NumPy path). Nothing else changes: without
numba, or with ``NEURALAB_NUMBA=0``, the NumPy path runs. numba is imported on first use, and
its compiled code is cached on disk, so only the first step of the first run pays for it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable

__all__ = ["adam_kernel", "numba_enabled"]

_cache: dict[str, Callable | None] = {}


def numba_enabled() -> bool:
    """Whether compiled kernels may be used: numba importable and not disabled."""
    return adam_kernel() is not None


def adam_kernel() -> Callable | None:
    """The compiled Adam update, or None (numba missing, or ``NEURALAB_NUMBA=0``)."""
    if "adam" not in _cache:
        kernel = None
        if os.environ.get("NEURALAB_NUMBA", "1") != "0":
            try:
                kernel = importlib.import_module("neuralab.optim._adam_kernel").adam_update
            except ImportError:
                kernel = None
        _cache["adam"] = kernel
    return _cache["adam"]
