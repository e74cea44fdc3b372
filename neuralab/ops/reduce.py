"""Reductions along dimensions: sum, mean, var, max/min, prod, cumsum, logsumexp, arg-reductions."""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from neuralab.ops._util import norm_dim, one_dim
from neuralab.ops.elementwise import _to_float
from neuralab.tensor import Tensor, constant, float32, make


class ValuesIndices(NamedTuple):
    """What max/min along a dimension return: the values and where they are (like torch)."""

    values: Tensor
    indices: Tensor


def _numpy_spellings(fn: Callable) -> Callable:
    """Let ``fn`` take NumPy's ``axis=`` and ``keepdims=`` for ``dim=`` and ``keepdim=``, as
    torch's reductions do."""

    @functools.wraps(fn)
    def reduction(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            if "axis" in kwargs:
                kwargs["dim"] = kwargs.pop("axis")
            if "keepdims" in kwargs:
                kwargs["keepdim"] = kwargs.pop("keepdims")
        return fn(*args, **kwargs)

    return reduction


def _in_dtype(a: Tensor, dtype: Any) -> Tensor:
    from neuralab.ops.elementwise import cast

    return a if dtype is None else cast(a, np.dtype(dtype))


def _expand_back(g: np.ndarray, axes: tuple[int, ...] | None, keepdim: bool) -> np.ndarray:
    """Reinsert the reduced axes into a gradient so it broadcasts against the input."""
    if axes is None or keepdim:
        return g
    return np.expand_dims(g, axes)


@_numpy_spellings
def sum(a: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Sum over ``dim`` (all elements when None), computed in ``dtype`` when given."""
    a = _in_dtype(a, dtype)
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


@_numpy_spellings
def mean(a: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Arithmetic mean over ``dim`` (all elements when None), computed in ``dtype`` when given."""
    a = _in_dtype(a, dtype)
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


@_numpy_spellings
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


@_numpy_spellings
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
    """``max``/``min`` (``op``) of ``a``: over everything, as (values, indices) along ``dim``,
    or elementwise against ``dim`` when it is a tensor."""
    if isinstance(dim, Tensor):
        from neuralab.ops.elementwise import maximum, minimum

        return (maximum if op == "max" else minimum)(a, dim)
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


@_numpy_spellings
def max(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor | ValuesIndices:
    """The largest value, or with ``dim`` a (values, indices) pair along it; with a tensor
    in place of ``dim``, the elementwise maximum of the two."""
    return _extreme(a, dim, keepdim, "max")


@_numpy_spellings
def min(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor | ValuesIndices:
    """The smallest value, or with ``dim`` a (values, indices) pair along it; with a tensor
    in place of ``dim``, the elementwise minimum of the two."""
    return _extreme(a, dim, keepdim, "min")


@_numpy_spellings
def amax(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The largest values over ``dim`` (ties share the gradient)."""
    return _amaxmin(a, dim, keepdim, "amax")


@_numpy_spellings
def amin(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The smallest values over ``dim`` (ties share the gradient)."""
    return _amaxmin(a, dim, keepdim, "amin")


def _amaxmin(a: Tensor, dim: Any, keepdim: bool, op: str) -> Tensor:
    axes = norm_dim(dim, a.ndim, op)
    x = a._data
    if x.size == 0:
        raise RuntimeError(f"{op}: cannot reduce an empty tensor of shape {x.shape}")
    out = x.max(axis=axes, keepdims=True) if op == "amax" else x.min(axis=axes, keepdims=True)

    def backward(g: np.ndarray) -> tuple:
        mask = x == out
        return (mask * (_expand_back(g, axes, keepdim) / mask.sum(axis=axes, keepdims=True)),)

    return make(out if keepdim else out.squeeze(axes), (a,), backward)


def _arg_extreme(a: Tensor, dim: int | None, keepdim: bool, op: str) -> Tensor:
    """int64 indices of ``a``'s ``op`` ('argmax' or 'argmin'), flat when ``dim`` is None."""
    if dim is None:
        return constant(np.asarray(getattr(a._data, op)(), dtype=np.int64))
    ax = one_dim(dim, a.ndim, op)
    return constant(getattr(a._data, op)(axis=ax, keepdims=keepdim).astype(np.int64))


@_numpy_spellings
def argmax(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (over the flattened tensor when ``dim`` is None)."""
    return _arg_extreme(a, dim, keepdim, "argmax")


@_numpy_spellings
def argmin(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value (over the flattened tensor when ``dim`` is None)."""
    return _arg_extreme(a, dim, keepdim, "argmin")


@_numpy_spellings
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


@_numpy_spellings
def cumsum(a: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sum along ``dim``."""
    a = _in_dtype(a, dtype)
    ax = one_dim(dim, a.ndim, "cumsum")
    out = np.cumsum(a._data, axis=ax)
    if a._data.dtype == np.bool_:
        out = out.astype(np.int64)

    def backward(g: np.ndarray) -> tuple:
        return (np.flip(np.cumsum(np.flip(g, ax), axis=ax), ax),)

    return make(out, (a,), backward)


@_numpy_spellings
def logsumexp(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(a))) over ``dim``, shifted by the maximum so that it never overflows."""
    a = _to_float(a)  # integers: the default float dtype, as torch
    axes = norm_dim(dim, a.ndim, "logsumexp")
    x = a._data
    m = x.max(axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    full = m + np.log(np.exp(x - m).sum(axis=axes, keepdims=True))

    def backward(g: np.ndarray) -> tuple:
        return (_expand_back(g, axes, keepdim) * np.exp(x - full),)

    out = full if keepdim else (full.squeeze(axes) if axes is not None else full.reshape(()))
    return make(out, (a,), backward)


# ----------------------------------------------------------------------------- more reductions


class MinMax(NamedTuple):
    """What aminmax returns."""

    min: Tensor
    max: Tensor


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> MinMax:
    """The smallest and the largest values over ``dim`` (all elements when None)."""
    return MinMax(amin(input, dim, keepdim), amax(input, dim, keepdim))


def _truth(op: str, input: Tensor, dim: Any, keepdim: bool) -> Tensor:
    axes = norm_dim(dim, input.ndim, op)
    fn = np.any if op == "any" else np.all
    return constant(np.asarray(fn(input._data, axis=axes, keepdims=keepdim)))


@_numpy_spellings
def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """True where some element over ``dim`` is nonzero."""
    return _truth("any", input, dim, keepdim)


@_numpy_spellings
def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """True where every element over ``dim`` is nonzero."""
    return _truth("all", input, dim, keepdim)


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    """The number of nonzero elements over ``dim`` (int64)."""
    axes = norm_dim(dim, input.ndim, "count_nonzero")
    return constant(np.asarray(np.count_nonzero(input._data, axis=axes), np.int64))


@_numpy_spellings
def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Sum over ``dim`` treating NaN as zero."""
    a = _in_dtype(input, dtype)
    x = a._data
    if x.dtype.kind != "f":
        return sum(a, dim, keepdim)
    axes = norm_dim(dim, a.ndim, "nansum")
    keep = ~np.isnan(x)
    out = np.asarray(np.nansum(x, axis=axes, keepdims=keepdim), x.dtype)
    return make(out, (a,), lambda g: (_expand_back(g, axes, keepdim) * keep,))


@_numpy_spellings
def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Mean over ``dim`` of the elements that are not NaN."""
    a = _in_dtype(input, dtype)
    x = a._data
    if x.dtype.kind != "f":
        raise TypeError(f"nanmean: expected a floating-point input, got dtype {x.dtype}")
    axes = norm_dim(dim, a.ndim, "nanmean")
    keep = ~np.isnan(x)
    count = keep.sum(axis=axes, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        full = (np.nansum(x, axis=axes, keepdims=True) / count).astype(x.dtype)

    def backward(g: np.ndarray) -> tuple:
        with np.errstate(invalid="ignore", divide="ignore"):
            return ((_expand_back(g, axes, keepdim) * keep / count).astype(g.dtype),)

    out = full if keepdim else (full.reshape(()) if axes is None else full.squeeze(axes))
    return make(out, (a,), backward)


def var_mean(
    input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
    correction: int | None = None,
) -> tuple[Tensor, Tensor]:  # fmt: skip
    """The variance and the mean over ``dim``."""
    v = var(input, dim, unbiased=unbiased, keepdim=keepdim, correction=correction)
    return v, mean(input, dim, keepdim)


def std_mean(
    input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
    correction: int | None = None,
) -> tuple[Tensor, Tensor]:  # fmt: skip
    """The standard deviation and the mean over ``dim``."""
    s = std(input, dim, unbiased=unbiased, keepdim=keepdim, correction=correction)
    return s, mean(input, dim, keepdim)


def sum_to_size(a: Tensor, *size: Any) -> Tensor:
    """``a`` summed down to ``size`` (which ``a`` broadcasts from): the reverse of expanding
    (``Tensor.sum_to_size``)."""
    shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else tuple(size)
    lead = a.ndim - len(shape)
    tail = a.shape[lead:]
    if lead < 0 or [s for s, n in zip(shape, tail) if s not in (1, n)]:  # (any: shadowed here)
        raise RuntimeError(f"sum_to_size: size {shape} is not expandable to shape {a.shape}")
    dims = [*range(lead), *(lead + i for i, s in enumerate(shape) if s == 1 and tail[i] != 1)]
    out = sum(a, dims, keepdim=True) if dims else a
    return out.reshape(shape) if lead else out
