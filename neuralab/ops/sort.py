"""Order-based ops: sort, argsort, topk, kthvalue, median, mode, quantile, searchsorted and
bucketize. The values they return carry gradients back to the elements they were taken from."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.ops._util import one_dim
from neuralab.ops.elementwise import add, mul, sub
from neuralab.ops.reduce import ValuesIndices
from neuralab.ops.select import index_select
from neuralab.ops.shape import movedim, reshape, squeeze, unsqueeze
from neuralab.tensor import Tensor, constant, make


def _argsort(x: np.ndarray, ax: int, descending: bool) -> np.ndarray:
    """Stable sort order along ``ax``; descending keeps equal elements in their input order and
    puts NaN first (ascending: last), as torch does."""
    if not descending:
        return np.argsort(x, axis=ax, kind="stable")
    n = x.shape[ax]
    order = np.argsort(np.flip(x, ax), axis=ax, kind="stable")
    return np.flip(n - 1 - order, ax)


def _pick(input: Tensor, idx: np.ndarray, ax: int, keepdim: bool = True) -> ValuesIndices:
    """The values at ``idx`` along ``ax`` (distinct positions) with their indices."""
    x = input._data

    def backward(g: np.ndarray) -> tuple:
        gx = np.zeros(x.shape, g.dtype)
        np.put_along_axis(gx, idx, g if keepdim else np.expand_dims(g, ax), ax)
        return (gx,)

    values, indices = np.take_along_axis(x, idx, ax), idx
    if not keepdim:
        values, indices = values.squeeze(ax), idx.squeeze(ax)
    return ValuesIndices(make(values, (input,), backward), constant(indices.astype(np.int64)))


def sort(
    input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False
) -> ValuesIndices:
    """Values sorted along ``dim`` and where they came from (always stable here)."""
    if input.ndim == 0:
        return ValuesIndices(input, constant(np.zeros((), np.int64)))
    ax = one_dim(dim, input.ndim, "sort")
    return _pick(input, _argsort(input._data, ax, descending), ax)


def argsort(
    input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False
) -> Tensor:
    """The indices that sort ``input`` along ``dim``."""
    return sort(input, dim, descending, stable=stable).indices


def msort(input: Tensor) -> Tensor:
    """Values sorted along the first dimension."""
    return sort(input, 0).values


def topk(
    input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
) -> ValuesIndices:
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    ax = one_dim(dim, max(input.ndim, 1), "topk")
    n = input.shape[ax] if input.ndim else 1
    if not 0 <= k <= n:
        raise ValueError(f"topk: k ({k}) is out of range for dimension {dim} of size {n}")
    order = _argsort(input._data, ax, largest) if input.ndim else np.zeros(1, np.int64)
    idx = np.take(order, np.arange(k), axis=ax) if input.ndim else order[:k].reshape(())
    return _pick(input, idx, ax) if input.ndim else sort(input)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """The ``k``-th smallest value (1-based) along ``dim`` and its index."""
    ax = one_dim(dim, input.ndim, "kthvalue")
    n = input.shape[ax]
    if not 1 <= k <= n:
        raise ValueError(f"kthvalue: k ({k}) is out of range for dimension {dim} of size {n}")
    idx = np.take(_argsort(input._data, ax, False), [k - 1], axis=ax)
    return _pick(input, idx, ax, keepdim)


def _median(input: Tensor, dim: Any, keepdim: bool, skip_nan: bool) -> Tensor | ValuesIndices:
    op = "nanmedian" if skip_nan else "median"
    if input.numel() == 0:
        raise RuntimeError(f"{op}: cannot take the median of an empty tensor")
    t = reshape(input, -1) if dim is None else input
    ax = 0 if dim is None else one_dim(dim, input.ndim, op)
    x = t._data
    order = _argsort(x, ax, False)  # NaN sorts last
    n = x.shape[ax]
    nans = np.zeros(x.shape[:ax] + (1,) + x.shape[ax + 1 :], np.int64)
    if x.dtype.kind == "f":
        nans += np.isnan(x).sum(axis=ax, keepdims=True)
    if skip_nan:
        pos = np.where(nans < n, (n - nans - 1) // 2, (n - 1) // 2)
    else:  # any NaN makes the median NaN: pick the first NaN
        pos = np.where(nans > 0, n - nans, (n - 1) // 2)
    out = _pick(t, np.take_along_axis(order, pos, ax), ax, keepdim and dim is not None)
    return out.values if dim is None else out


def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median of all elements, or (values, indices) along ``dim``; NaN propagates."""
    return _median(input, dim, keepdim, False)


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """:func:`median` ignoring NaN."""
    return _median(input, dim, keepdim, True)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """The most frequent value along ``dim`` (the smallest on ties) and its last index."""
    ax = one_dim(dim, max(input.ndim, 1), "mode")
    x = np.moveaxis(np.atleast_1d(input._data), ax, -1)
    rows = x.reshape(-1, x.shape[-1])
    idx = np.empty(len(rows), np.int64)
    for r, row in enumerate(rows):
        values, counts = np.unique(row, return_counts=True)
        v = values[np.argmax(counts)]
        idx[r] = len(row) - 1 - np.argmax(row[::-1] == v)
    idx = np.moveaxis(idx.reshape(x.shape[:-1] + (1,)), -1, ax)
    if input.ndim == 0:
        return ValuesIndices(input, constant(np.zeros((), np.int64)))
    return _pick(input, idx, ax, keepdim)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(
    input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
    interpolation: str = "linear",
) -> Tensor:  # fmt: skip
    """The ``q``-quantiles (q in [0, 1], a number or 1-D tensor) over ``dim`` or all elements."""
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"quantile: interpolation must be one of {_INTERPOLATIONS}")
    qs = np.atleast_1d(q._data if isinstance(q, Tensor) else q).astype(np.float64)
    if qs.ndim > 1 or qs.size == 0 or (qs < 0).any() or (qs > 1).any():
        raise ValueError(f"quantile: q must be a number or 1-D tensor of values in [0, 1], got {q}")
    t = reshape(input, -1) if dim is None else input
    ax = 0 if dim is None else one_dim(dim, input.ndim, "quantile")
    s = sort(t, ax).values
    pos = qs * (s.shape[ax] - 1)
    lo, hi = np.floor(pos).astype(np.int64), np.ceil(pos).astype(np.int64)
    if interpolation == "nearest":
        lo = hi = np.round(pos).astype(np.int64)
    elif interpolation in ("lower", "higher"):
        lo = hi = lo if interpolation == "lower" else hi
    low = index_select(s, ax, constant(lo))
    out = low
    if interpolation in ("linear", "midpoint"):
        weight = (pos - lo) if interpolation == "linear" else np.full(pos.shape, 0.5)
        shape = [1] * s.ndim
        shape[ax] = -1
        w = constant(weight.reshape(shape).astype(s.dtype))
        if isinstance(q, Tensor) and q.requires_grad and interpolation == "linear":
            w = sub(mul(reshape(q, shape), s.shape[ax] - 1), constant(lo.reshape(shape)))
        out = add(low, mul(sub(index_select(s, ax, constant(hi)), low), w))
    if dim is None:  # (Q,) -> (Q, 1, ..., 1) with keepdim
        out = reshape(out, (-1,) + (1,) * input.ndim) if keepdim else out
    else:
        out = movedim(unsqueeze(out, ax + 1) if keepdim else out, ax, 0)
    return squeeze(out, 0) if np.ndim(q._data if isinstance(q, Tensor) else q) == 0 else out


def nanquantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """:func:`quantile` of the non-NaN elements (1-D or all elements only)."""
    x = input._data
    if dim is not None and input.ndim > 1:
        raise NotImplementedError("nanquantile: only dim=None or 1-D input is supported")
    keep = constant(np.flatnonzero(~np.isnan(x.reshape(-1))))
    return quantile(index_select(reshape(input, -1), 0, keep), q, None, keepdim)


def searchsorted(
    sorted_sequence: Tensor, input: Any, *, out_int32: bool = False, right: bool = False,
    side: str | None = None, sorter: Tensor | None = None,
) -> Tensor:  # fmt: skip
    """Where each value of ``input`` would be inserted to keep each row of the sequence sorted."""
    seq = sorted_sequence._data
    vals = input._data if isinstance(input, Tensor) else np.asarray(input)
    side = side or ("right" if right else "left")
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter._data, -1)
    if seq.ndim == 1:
        out = np.searchsorted(seq, vals, side=side)
    else:
        if seq.shape[:-1] != vals.shape[:-1]:
            raise ValueError(
                f"searchsorted: leading dimensions of the sequence {seq.shape} and the values "
                f"{vals.shape} must match"
            )
        rows, vr = seq.reshape(-1, seq.shape[-1]), vals.reshape(-1, vals.shape[-1])
        out = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(rows, vr)])
        out = out.reshape(vals.shape)
    return constant(np.asarray(out, np.int32 if out_int32 else np.int64))


def bucketize(
    input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False
) -> Tensor:
    """The index of the bucket of each value, for sorted 1-D ``boundaries``."""
    if boundaries.ndim != 1:
        raise ValueError(f"bucketize: boundaries must be 1-D, got shape {boundaries.shape}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)
