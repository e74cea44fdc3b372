"""Counting values: unique, unique_consecutive, bincount, histc and histogram (no gradients)."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.ops._util import one_dim
from neuralab.tensor import Tensor, constant


def _unique_result(values: np.ndarray, inverse: Any, counts: Any, flags: tuple) -> Any:
    out = [constant(values)]
    if flags[0]:
        out.append(constant(np.asarray(inverse, np.int64)))
    if flags[1]:
        out.append(constant(np.asarray(counts, np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique(
    input: Tensor, sorted: bool = True, return_inverse: bool = False,
    return_counts: bool = False, dim: int | None = None,
) -> Any:  # fmt: skip
    """The distinct values (or slices along ``dim``) in ascending order, optionally with each
    element's position among them and how often each occurs."""
    x = input._data
    axis = None if dim is None else one_dim(dim, input.ndim, "unique")
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True, axis=axis)
    inverse = inverse.reshape(x.shape) if axis is None else inverse.reshape(-1)
    return _unique_result(values, inverse, counts, (return_inverse, return_counts))


def unique_consecutive(
    input: Tensor, return_inverse: bool = False, return_counts: bool = False,
    dim: int | None = None,
) -> Any:  # fmt: skip
    """Collapse each run of equal consecutive values (or slices along ``dim``) to one."""
    x = input._data
    ax = None if dim is None else one_dim(dim, input.ndim, "unique_consecutive")
    seq = x.reshape(-1) if ax is None else np.moveaxis(x, ax, 0)
    if len(seq) == 0:
        return _unique_result(
            seq, np.zeros(x.shape, np.int64), np.zeros(0), (return_inverse, return_counts)
        )
    differs = (seq[1:] != seq[:-1]).reshape(len(seq) - 1, -1).any(axis=1)
    starts = np.flatnonzero(np.concatenate(([True], differs)))
    values = seq[starts] if ax is None else np.moveaxis(seq[starts], 0, ax)
    inverse = np.cumsum(np.concatenate(([True], differs))) - 1
    inverse = inverse.reshape(x.shape) if ax is None else inverse
    counts = np.diff(np.append(starts, len(seq)))
    return _unique_result(values, inverse, counts, (return_inverse, return_counts))


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each non-negative integer occurs in a 1-D tensor (or the sum of its weights)."""
    x = input._data
    if x.ndim != 1 or x.dtype.kind not in "iub":
        raise ValueError(
            f"bincount: expected a 1-D integer tensor, got {x.dtype} of shape {x.shape}"
        )
    if x.size and x.min() < 0:
        raise ValueError(f"bincount: the input must be non-negative, got {x.min()}")
    if weights is None:
        return constant(np.bincount(x, minlength=minlength).astype(np.int64))
    w = weights._data
    dtype = w.dtype if w.dtype.kind == "f" else np.float64
    return constant(np.bincount(x, w, minlength).astype(dtype))


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """Counts in ``bins`` equal bins over [min, max] (the data's range when both are 0)."""
    x = input._data
    if x.dtype.kind != "f":
        raise TypeError(f"histc: expected a floating-point input, got dtype {x.dtype}")
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise ValueError(f"histc: max ({hi}) must be larger than min ({lo})")
    counts, _ = np.histogram(x, bins, (lo, hi))
    return constant(counts.astype(x.dtype))


def histogram(
    input: Tensor, bins: Any = 100, *, range: tuple[float, float] | None = None,  # noqa: A002
    weight: Tensor | None = None, density: bool = False,
) -> tuple[Tensor, Tensor]:  # fmt: skip
    """(hist, bin_edges) of the values: ``bins`` equal bins or the given edges."""
    x = input._data
    edges = bins._data if isinstance(bins, Tensor) else bins
    w = None if weight is None else weight._data
    hist, out_edges = np.histogram(x, edges, range, density=density, weights=w)
    return constant(hist.astype(x.dtype)), constant(out_edges.astype(x.dtype))
