"""Small helpers shared by the op families: input coercion, broadcasting reduction, dimensions."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

from neuralab.compiled import load
from neuralab.tensor import Tensor, as_array, constant


def to_tensor(x: Any) -> Tensor:
    """``x`` itself if it is a Tensor, else a graph-free tensor wrapping it."""
    return x if isinstance(x, Tensor) else constant(as_array(x))


def float_tensor(x: Any, op: str, what: str = "input") -> Tensor:
    """``x`` as a Tensor, raising a TypeError naming ``op`` unless it holds floating-point data."""
    t = to_tensor(x)
    if t._data.dtype.kind != "f":
        raise TypeError(f"{op}: {what} must be a floating-point tensor, got dtype {t._data.dtype}")
    return t


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` over the axes that broadcasting added or stretched, so it has ``shape``."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


def norm_dim(dim: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """Normalize ``dim`` (None, int or sequence, negatives allowed) to a sorted tuple of axes."""
    if dim is None:
        return None
    if type(dim) is int and -ndim <= dim < ndim:  # the common case, without the loop
        return (dim % ndim,)
    dims = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
    out = []
    for d in dims:
        d = int(d)
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(
                f"{op}: dimension {d} is out of range for a tensor with {ndim} dimensions"
            )
        out.append(d % max(ndim, 1))
    return tuple(sorted(set(out)))


def one_dim(dim: int, ndim: int, op: str) -> int:
    """Normalize a single dimension index."""
    return norm_dim(dim, ndim, op)[0]


def scatter_add_rows(rows: int, idx: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Zeros of shape (rows, *values.shape[1:]) with ``values[k]`` added into row ``idx[k]``.

    Equal to ``np.add.at`` but many times faster: one compiled pass in index order when numba
    is there (:mod:`neuralab.compiled.scatter`), else sort the indices once and sum each run
    of equal indices with ``np.add.reduceat`` (which may group a run's additions differently:
    the two can differ in the last bits).
    """
    kernels = None
    if idx.size and values.dtype in (np.float32, np.float64):
        kernels = load("neuralab.compiled.scatter")
    if kernels is not None:
        out = np.empty((rows, *values.shape[1:]), values.dtype)
        flat = np.ascontiguousarray(values).reshape(len(values), -1)
        kernels.scatter_add_rows(idx, flat, out.reshape(rows, -1))
        return out
    out = np.zeros((rows, *values.shape[1:]), values.dtype)
    if idx.size == 0:
        return out
    order = np.argsort(idx, kind="stable")
    ordered = idx[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    out[ordered[starts]] = np.add.reduceat(values[order], starts, axis=0)
    return out


class LazyFunctions:
    """A module's functions, imported at their first call: ``LazyFunctions("scipy.special").erf``.

    SciPy's special functions cost ~0.3 s of ``import neuralab`` (more on a loaded machine),
    and most programs never call one.
    """

    def __init__(self, module: str) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Callable[..., Any]:
        module = self._module

        def call(*args: Any, **kwargs: Any) -> Any:
            return getattr(importlib.import_module(module), name)(*args, **kwargs)

        call.__name__ = name
        return call
