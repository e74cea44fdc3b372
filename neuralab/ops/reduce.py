"""Reductions along dimensions: sum, mean, var, max/min, prod, cumsum, logsumexp, arg-reductions."""

from __future__ import annotations

import builtins
from typing import Any, NamedTuple

import numpy as np

from neuralab.ops._util import norm_dim, one_dim
from neuralab.tensor import Tensor, constant, float32, make


class ValuesIndices(NamedTuple):
    """What max/min along a dimension return: the values and where they are (like torch)."""

    values: Tensor
    indices: Tensor


def _expand_back(g: np.ndarray, axes: tuple[int, ...] | None, keepdim: bool) -> np.ndarray:
    """Reinsert the reduced axes into a gradient so it broadcasts against the input."""
    if axes is None or keepdim:
        return g
    return np.expand_dims(g, axes)


def sum(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Sum over ``dim`` (all elements when None)."""
    axes = norm_dim(dim, a.ndim, "sum")
    x = a._data
    out = x.sum(axis=axes, keepdims=keepdim)
    if x.dtype == np.bool_:
        out = out.astype(np.int64)
    shape = x.shape
    return make(
        np.asarray(out),
        (a,),
        lambda g: (np.broadcast_to(_expand_back(g, axes, keepdim), shape),),
    )


def mean(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Arithmetic mean over ``dim`` (all elements when None)."""
    axes = norm_dim(dim, a.ndim, "mean")
    x = a._data if a._data.dtype.kind == "f" else a._data.astype(float32)
    out = np.asarray(x.mean(axis=axes, keepdims=keepdim), dtype=x.dtype)
    n = x.size // builtins.max(out.size, 1) if x.size else 0
    shape = x.shape
    return make(
        out,
        (a,),
        lambda g: (np.broadcast_to(_expand_back(g / n, axes, keepdim), shape),),
    )


def var(
    a: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    correction: int | None = None,
) -> Tensor:
    """Variance over ``dim`` with Bessel's correction by default (``correction=1``)."""
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axes = norm_dim(dim, a.ndim, "var")
    x = a._data
    m = x.mean(axis=axes, keepdims=True)
    centered = x - m
    n = x.size // builtins.max(m.size, 1)
    denom = builtins.max(n - correction, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray((centered * centered).sum(axis=axes, keepdims=keepdim) / denom, x.dtype)

    def backward(g: np.ndarray) -> tuple:
        return (_expand_back(g, axes, keepdim) * (2 / denom) * centered,)

    return make(out, (a,), backward)


def std(
    a: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    correction: int | None = None,
) -> Tensor:
    """Standard deviation: the square root of :func:`var`."""
    from neuralab.ops.elementwise import sqrt

    return sqrt(var(a, dim, unbiased=unbiased, keepdim=keepdim, correction=correction))


def _extreme(a: Tensor, dim: Any, keepdim: bool, op: str) -> Tensor | ValuesIndices:
    x = a._data
    if x.size == 0:
        raise RuntimeError(f"{op}: cannot reduce an empty tensor of shape {x.shape}")
    if dim is None:
        out = x.max() if op == "max" else x.min()

        def backward_all(g: np.ndarray) -> tuple:
            mask = x == out
            return (mask * (g / mask.sum()),)

        return make(np.asarray(out), (a,), backward_all)
    ax = one_dim(dim, a.ndim, op)
    idx = np.expand_dims(x.argmax(axis=ax) if op == "max" else x.argmin(axis=ax), ax)
    values = np.take_along_axis(x, idx, axis=ax)

    def backward(g: np.ndarray) -> tuple:
        gx = np.zeros_like(x)
        np.put_along_axis(gx, idx, g if keepdim else np.expand_dims(g, ax), axis=ax)
        return (gx,)

    indices = idx if keepdim else idx.squeeze(ax)
    values = values if keepdim else values.squeeze(ax)
    return ValuesIndices(make(values, (a,), backward), constant(indices.astype(np.int64)))


def max(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor | ValuesIndices:
    """The largest value, or with ``dim`` a (values, indices) pair along it."""
    return _extreme(a, dim, keepdim, "max")


def min(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor | ValuesIndices:
    """The smallest value, or with ``dim`` a (values, indices) pair along it."""
    return _extreme(a, dim, keepdim, "min")


def amax(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The largest values over ``dim`` (ties share the gradient)."""
    axes = norm_dim(dim, a.ndim, "amax")
    x = a._data
    out = x.max(axis=axes, keepdims=True)

    def backward(g: np.ndarray) -> tuple:
        mask = x == out
        return (mask * (_expand_back(g, axes, keepdim) / mask.sum(axis=axes, keepdims=True)),)

    return make(out if keepdim else out.squeeze(axes), (a,), backward)


def argmax(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (over the flattened tensor when ``dim`` is None)."""
    if dim is None:
        return constant(np.asarray(a._data.argmax(), dtype=np.int64))
    ax = one_dim(dim, a.ndim, "argmax")
    return constant(a._data.argmax(axis=ax, keepdims=keepdim).astype(np.int64))


def argmin(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value (over the flattened tensor when ``dim`` is None)."""
    if dim is None:
        return constant(np.asarray(a._data.argmin(), dtype=np.int64))
    ax = one_dim(dim, a.ndim, "argmin")
    return constant(a._data.argmin(axis=ax, keepdims=keepdim).astype(np.int64))


def prod(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Product over ``dim``; the gradient is the product of the others (exact with zeros)."""
    x = a._data
    if dim is None:
        flat = x.reshape(-1)
        ax, shape_back = 0, x.shape
    else:
        flat = x
        ax, shape_back = one_dim(dim, a.ndim, "prod"), x.shape
    out = np.asarray(flat.prod(axis=ax, keepdims=keepdim and dim is not None))

    def backward(g: np.ndarray) -> tuple:
        moved = np.moveaxis(flat, ax, -1)
        ones = np.ones(moved.shape[:-1] + (1,), dtype=x.dtype)
        left = np.cumprod(np.concatenate([ones, moved[..., :-1]], axis=-1), axis=-1)
        right = np.cumprod(np.concatenate([ones, moved[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = np.moveaxis(left * right, -1, ax)
        gg = g if dim is None or keepdim else np.expand_dims(g, ax)
        return ((others * gg).reshape(shape_back),)

    return make(out, (a,), backward)


def cumsum(a: Tensor, dim: int) -> Tensor:
    """Running sum along ``dim``."""
    ax = one_dim(dim, a.ndim, "cumsum")
    out = np.cumsum(a._data, axis=ax)
    if a._data.dtype == np.bool_:
        out = out.astype(np.int64)

    def backward(g: np.ndarray) -> tuple:
        return (np.flip(np.cumsum(np.flip(g, ax), axis=ax), ax),)

    return make(out, (a,), backward)


def logsumexp(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(a))) over ``dim``, shifted by the maximum so that it never overflows."""
    axes = norm_dim(dim, a.ndim, "logsumexp")
    x = a._data
    m = x.max(axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    full = m + np.log(np.exp(x - m).sum(axis=axes, keepdims=True))

    def backward(g: np.ndarray) -> tuple:
        return (_expand_back(g, axes, keepdim) * np.exp(x - full),)

    out = full if keepdim else (full.squeeze(axes) if axes is not None else full.reshape(()))
    return make(out, (a,), backward)
