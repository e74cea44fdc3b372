"""Optional compiled kernels (``pip install "neuralab[fast]"`` adds numba).

Some steps are a dozen NumPy passes over small arrays, or strided passes NumPy cannot
vectorise: Adam's update of every parameter, an LSTM or GRU cell's gate math at every time step
(or the whole recurrence, calling NumPy's BLAS without the GIL: :func:`numpy_sgemm`), ReLU, 2×2
max pooling, im2col, col2im and the row scatter-add of an embedding's backward. With numba
installed they run as one compiled pass each. Nothing else changes: without numba, or with
``NEURALAB_NUMBA=0``, the NumPy path runs. A kernel module is imported on first use (numba with
it, never at ``import neuralab``), and its compiled code is cached on disk, so only the first
call of the first run pays for compiling (the whole recurrences call BLAS by a symbol that each
process binds, so they are cached too: an LSTM's first step in a new process went from ~5 s to
~0.4 s).
"""

from __future__ import annotations

import ctypes
import importlib
import os
from types import ModuleType

__all__ = ["load", "numba_enabled", "numpy_sgemm"]

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


def numpy_sgemm() -> ctypes._CFuncPtr | None:
    """``cblas_sgemm`` of the OpenBLAS NumPy itself loaded, as a ctypes function that compiled
    code may call without the GIL; None when NumPy's BLAS is another library.

    The same library as NumPy's matmul, so the same kernels and bits; ``argtypes`` are set for
    its integer width (the wheels' ILP64 build exports ``scipy_cblas_sgemm64_``).
    """
    import numpy as np
    from threadpoolctl import threadpool_info

    home = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy")
    for info in threadpool_info():
        if info.get("internal_api") != "openblas" or not info["filepath"].startswith(home):
            continue
        lib = ctypes.CDLL(info["filepath"])
        for name in ("scipy_cblas_sgemm64_", "cblas_sgemm64_", "scipy_cblas_sgemm", "cblas_sgemm"):
            fn = getattr(lib, name, None)
            if fn is None:
                continue
            size = ctypes.c_int64 if name.endswith("64_") else ctypes.c_int
            enum, real, ptr = ctypes.c_int, ctypes.c_float, ctypes.c_void_p
            fn.argtypes = [enum, enum, enum, size, size, size, real, ptr, size, ptr, size, real]
            fn.argtypes += [ptr, size]
            fn.restype = None
            return fn
    return None
