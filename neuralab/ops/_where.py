"""``where(cond, a, b)``: NumPy's ``np.where``, the same array, by one compiled pass when large.

NumPy's ``where`` runs a branching scalar loop (0.28 ms for 65,536 float32 with a random mask,
where a multiply takes 16 µs); the kernels of :mod:`neuralab.compiled.where` choose
branch-free (15 µs). They take a float32 or float64 result whose operands are each a scalar
or a C-contiguous array of the result's shape and dtype; a boolean mask that broadcasts is
expanded first (a byte per element). Anything else, a small result, or numba turned off:
``np.where`` itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.compiled import load
from neuralab.parallel import map_flat

__all__ = ["where"]

# Below this many elements np.where's few microseconds beat the checks and a kernel's dispatch
# (counted on the largest operand: an outer broadcast of small ones stays with np.where).
_SMALL = 8192
_OPERANDS = (np.ndarray, int, float, bool, np.generic)  # lists and the like: np.where


def where(cond: np.ndarray, a: Any, b: Any) -> np.ndarray:
    """``np.where(cond, a, b)`` (its dtype promotion too), compiled when that pays."""
    if (  # small first, in a few attribute reads: most calls of a batch-1 forward end here
        not isinstance(cond, np.ndarray)
        or cond.dtype.kind != "b"
        or max(cond.size, getattr(a, "size", 1), getattr(b, "size", 1)) < _SMALL
        or not all(isinstance(x, _OPERANDS) for x in (a, b))
    ):
        return np.where(cond, a, b)
    shape, a_shape, b_shape = cond.shape, np.shape(a), np.shape(b)
    if a_shape not in (shape, ()) or b_shape not in (shape, ()):
        shape = np.broadcast_shapes(shape, a_shape, b_shape)
    dtype = np.result_type(a, b)
    if dtype.char not in "fd":
        return np.where(cond, a, b)
    first, second = _operand(a, shape, dtype), _operand(b, shape, dtype)
    kernels = load("neuralab.compiled.where")
    if kernels is None or first is None or second is None:
        return np.where(cond, a, b)
    if cond.shape == shape and cond.flags.c_contiguous:
        mask = cond.reshape(-1)
    else:
        mask = np.ascontiguousarray(np.broadcast_to(cond, shape)).reshape(-1)
    out = np.empty(shape, dtype)
    flat = out.reshape(-1)
    if first.ndim and second.ndim:
        map_flat(kernels.select, flat, mask, first, second, cost=2)
    elif first.ndim or second.ndim:
        array, scalar = (first, second) if first.ndim else (second, first)
        keep = bool(first.ndim)

        def one_scalar(m: np.ndarray, x: np.ndarray, o: np.ndarray) -> None:
            kernels.select_scalar(m, x, scalar, keep, o)

        map_flat(one_scalar, flat, mask, array, cost=2)
    else:
        map_flat(lambda m, o: kernels.choose(m, first, second, o), flat, mask, cost=2)
    return out


def _operand(x: Any, shape: tuple[int, ...], dtype: np.dtype) -> Any:
    """``x`` as the kernels take it: a scalar of ``dtype``, or a flat view of a C-contiguous
    array of ``shape`` and ``dtype``; None when it is neither (NumPy handles that case)."""
    if not isinstance(x, np.ndarray):
        return dtype.type(x)
    if x.ndim == 0:
        return dtype.type(x[()])
    if x.shape == shape and x.dtype == dtype and x.flags.c_contiguous:
        return x.reshape(-1)
    return None
