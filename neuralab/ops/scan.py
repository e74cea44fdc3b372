"""Running (cumulative) ops along a dimension beyond cumsum: cumprod, cummax, cummin and
logcumsumexp, each with an exact backward (cumprod's also where the input has zeros)."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.ops._util import one_dim
from neuralab.ops.reduce import ValuesIndices, _in_dtype
from neuralab.tensor import Tensor, constant, make


def _reverse_cumsum(g: np.ndarray, ax: int) -> np.ndarray:
    return np.flip(np.cumsum(np.flip(g, ax), axis=ax), ax)


def _cumprod_grad(x: np.ndarray, out: np.ndarray, g: np.ndarray, ax: int) -> np.ndarray:
    """d/dx_i of sum_j g_j prod_{k<=j} x_k; exact with zeros (no division by x)."""
    if (x != 0).all():
        return _reverse_cumsum(g * out, ax) / x
    xm, gm = np.moveaxis(x, ax, 0), np.moveaxis(g, ax, 0)
    before = np.concatenate([np.ones_like(xm[:1]), np.cumprod(xm[:-1], axis=0)])
    tail = np.empty_like(gm)  # tail_i = g_i + x_{i+1} * tail_{i+1}
    tail[-1] = gm[-1]
    for i in range(len(xm) - 2, -1, -1):
        tail[i] = gm[i] + xm[i + 1] * tail[i + 1]
    return np.moveaxis(before * tail, 0, ax)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running product along ``dim``."""
    a = _in_dtype(input, dtype)
    x = a._data
    ax = one_dim(dim, a.ndim, "cumprod")
    out = np.cumprod(x, axis=ax)
    if x.dtype == np.bool_:
        out = out.astype(np.int64)
    if x.ndim == 0 or x.size == 0:
        return make(out, (a,), lambda g: (g,))
    return make(out, (a,), lambda g: (_cumprod_grad(x, out, g, ax),))


def _cumulative_extreme(input: Tensor, dim: int, op: str) -> ValuesIndices:
    x = input._data
    ax = one_dim(dim, input.ndim, op)
    better = np.greater_equal if op == "cummax" else np.less_equal
    xm = np.moveaxis(np.atleast_1d(x), ax, 0)
    values, indices = xm.copy(), np.zeros(xm.shape, np.int64)
    for i in range(1, len(xm)):  # the latest position wins a tie, as in torch
        take = better(xm[i], values[i - 1]) | np.isnan(xm[i])
        values[i] = np.where(take, xm[i], values[i - 1])
        indices[i] = np.where(take, i, indices[i - 1])
    values, indices = np.moveaxis(values, 0, ax), np.moveaxis(indices, 0, ax)

    def backward(g: np.ndarray) -> tuple:
        gx = np.zeros(indices.shape, g.dtype)
        where = list(np.indices(indices.shape, sparse=True))
        where[ax] = indices
        np.add.at(gx, tuple(where), g.reshape(indices.shape))
        return (gx.reshape(x.shape),)

    shape = x.shape
    return ValuesIndices(
        make(values.reshape(shape), (input,), backward), constant(indices.reshape(shape))
    )


def cummax(input: Tensor, dim: int) -> ValuesIndices:
    """Running maximum along ``dim`` and the index where each was found."""
    return _cumulative_extreme(input, dim, "cummax")


def cummin(input: Tensor, dim: int) -> ValuesIndices:
    """Running minimum along ``dim`` and the index where each was found."""
    return _cumulative_extreme(input, dim, "cummin")


def _reverse_logcumsumexp(v: np.ndarray, ax: int) -> np.ndarray:
    return np.flip(np.logaddexp.accumulate(np.flip(v, ax), axis=ax), ax)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(input))) along ``dim``, computed stably."""
    x = input._data
    if x.dtype.kind != "f":
        raise TypeError(f"logcumsumexp: expected a floating-point input, got dtype {x.dtype}")
    ax = one_dim(dim, input.ndim, "logcumsumexp")
    out = np.logaddexp.accumulate(x, axis=ax) if x.ndim else x.copy()

    def backward(g: np.ndarray) -> tuple:
        if x.ndim == 0:
            return (g,)
        # grad_i = sum_{j >= i} g_j exp(x_i - out_j), positive and negative g in log space
        with np.errstate(divide="ignore"):
            pos = _reverse_logcumsumexp(np.log(np.maximum(g, 0)) - out, ax)
            neg = _reverse_logcumsumexp(np.log(np.maximum(-g, 0)) - out, ax)
        return ((np.exp(x + pos) - np.exp(x + neg)).astype(g.dtype),)

    return make(out, (input,), backward)


def diff(
    input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
    append: Tensor | None = None,
) -> Tensor:  # fmt: skip
    """The n-th forward difference along ``dim`` (after ``prepend`` and ``append`` are joined);
    booleans differ by exclusive or, as in torch."""
    from neuralab.ops.logic import logical_xor
    from neuralab.ops.shape import cat, narrow

    if n < 0:
        raise RuntimeError(f"diff: order must be non-negative, got {n}")
    parts = [t for t in (prepend, input, append) if t is not None]
    x = cat(parts, dim) if len(parts) > 1 else input
    ax = one_dim(dim, x.ndim, "diff")
    for _ in range(n):
        size = x.shape[ax]
        if size == 0:
            break
        later, earlier = narrow(x, ax, 1, size - 1), narrow(x, ax, 0, size - 1)
        x = logical_xor(later, earlier) if x.dtype == np.bool_ else later - earlier
    return x
