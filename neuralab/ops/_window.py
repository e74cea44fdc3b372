"""Sliding-window machinery shared by the convolution, pooling and resampling kernels.

Argument normalization (an int or a tuple per spatial dimension), lifting of unbatched and 1-D
inputs to NCHW views, and the two halves of im2col: :func:`im2col` copies every kernel window into
a column matrix so a convolution is one GEMM, and :func:`col2im` adds columns back into an image,
looping only over the kh*kw kernel offsets. :class:`AxisMap` is a sparse linear map along one axis
(gather taps, weight them, sum per output), the building block of separable resampling.
:func:`first_max` and :func:`take_planes` are the two halves of max pooling by recorded
indices: which element of each window wins (torch's rule), and the gather that sends each
output's gradient back to its winner.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from neuralab.compiled import load
from neuralab.tensor import Tensor, make

Pair = tuple[int, int]
R = TypeVar("R")


def memoized(fn: Callable[..., R]) -> Callable[..., R]:
    """``fn`` (checks and geometry from shapes and arguments) computed once per distinct
    hashable arguments: a layer calls its op with the same ones every step. Unhashable ones (a
    list for a size) are computed every time; errors are raised every time, never kept."""
    kept = functools.lru_cache(maxsize=1024, typed=True)(fn)  # typed: 1.0 is not 1

    @functools.wraps(fn)
    def call(*args: Any) -> R:
        try:
            hash(args)
        except TypeError:
            return fn(*args)
        return kept(*args)

    return call


def check_float(op: str, *tensors: Tensor | None) -> None:
    """Raise unless every given tensor is floating point and all share one dtype."""
    given = [t for t in tensors if t is not None]
    for t in given:
        if t.dtype.kind != "f":
            raise TypeError(f"{op}: expected floating-point tensors, got dtype {t.dtype}")
    dtypes = {t.dtype for t in given}
    if len(dtypes) > 1:
        names = ", ".join(str(t.dtype) for t in given)
        raise TypeError(f"{op}: all tensors must have the same dtype, got {names}")


def ntuple(value: Any, n: int, name: str, op: str, minimum: int) -> tuple[int, ...]:
    """``value`` (an int or a length-``n`` sequence of ints) as an n-tuple, each >= ``minimum``."""
    if isinstance(value, int | np.integer):
        out = (int(value),) * n
    elif not isinstance(value, Sequence | np.ndarray):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    else:
        out = tuple(int(v) for v in value)
        if len(out) != n:
            raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in out):
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return out


def spatial(value: Any, nd: int, name: str, op: str, minimum: int, fill: int) -> Pair:
    """An ``nd``-D window argument as a 2-tuple; a 1-D op gets ``fill`` for its unit height."""
    t = ntuple(value, nd, name, op, minimum)
    return ((fill,) + t) if nd == 1 else t


def as_nchw(x: Tensor, nd: int, op: str) -> np.ndarray:
    """View ``x`` ((N, C, *spatial) or unbatched (C, *spatial), ``nd`` spatial dims) as NCHW."""
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, "
            f"got shape {x.shape}"
        )
    a = x._data if x.ndim == nd + 2 else x._data[None]
    return a[:, :, None, :] if nd == 1 else a


def lower(shape4: tuple[int, ...], nd: int, batched: bool) -> tuple[int, ...]:
    """The user-facing shape of an NCHW result: drop the unit height (1-D) and batch (unbatched)."""
    shape = shape4[:2] + shape4[3:] if nd == 1 else shape4
    return shape if batched else shape[1:]


def out_size(size: int, kernel: int, stride: int, pad_total: int, dilation: int) -> int:
    """Number of window positions along one axis (floor mode)."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def offsets(kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair) -> Iterator[tuple]:
    """Yield ``(i, j, index)``: ``a[index]`` is the (.., OH, OW) plane kernel offset (i, j) sees."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    for i in range(kh):
        rows = slice(i * dh, i * dh + (oh - 1) * sh + 1, sh)
        for j in range(kw):
            yield i, j, (..., rows, slice(j * dw, j * dw + (ow - 1) * sw + 1, sw))


def _padded_extent(
    kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair, pad: Pair, image_hw: Sequence[int]
) -> list[int]:
    """Height and width of the padded image: as far as the windows reach, or the image does."""
    return [
        max((o - 1) * s + (k - 1) * d + 1, p + size)
        for o, k, s, d, p, size in zip(out_hw, kernel, stride, dilation, pad, image_hw)
    ]


def im2col(
    x: np.ndarray,
    kernel: Pair,
    stride: Pair,
    dilation: Pair,
    out_hw: Pair,
    pad: Pair = (0, 0),
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Copy the windows of NCHW ``x`` into a contiguous (N, C, kh, kw, OH, OW) array.

    ``x`` is zero-padded by ``pad`` (top, left; bottom and right as far as the windows reach).
    Batch-major, so that per sample the columns are a (C·kh·kw, OH·OW) matrix: a convolution's
    output comes out of the GEMM already in NCHW order, with no transpose copies. ``out``, when
    given, receives the copy. With numba, a compiled copy (:mod:`neuralab.compiled.im2col`)
    reads ``x`` directly instead of a padded copy of it.
    """
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    if out is None:
        out = np.empty((*x.shape[:2], kh, kw, oh, ow), x.dtype)
    kernels = load("neuralab.compiled.im2col")
    if kernels is not None:
        kernels.im2col(np.ascontiguousarray(x), out, sh, sw, *pad, dh, dw)
        return out
    span = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
    extent = _padded_extent(kernel, stride, dilation, out_hw, pad, x.shape[2:])
    after = [e - p - size for e, p, size in zip(extent, pad, x.shape[2:])]
    if any(pad) or any(after):
        x = np.pad(x, ((0, 0), (0, 0), (pad[0], after[0]), (pad[1], after[1])))
    v = sliding_window_view(x, span, axis=(2, 3))
    v = v[:, :, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw, ::dh, ::dw]
    np.copyto(out, v.transpose(0, 1, 4, 5, 2, 3))
    return out


def col2im(
    cols: np.ndarray,
    image_hw: Pair,
    stride: Pair,
    dilation: Pair,
    pad: Pair = (0, 0),
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Sum (N, C, kh, kw, OH, OW) columns back into an (N, C, H, W) image: im2col's adjoint.

    The columns were taken from the image padded by ``pad`` (top, left; bottom and right as far
    as the windows reach); what lands on the padding is dropped. ``out``, when given, receives
    the image. Each pixel sums its contributions by kernel offset, first to last, from zero: the
    compiled kernel (:mod:`neuralab.compiled.im2col`, with numba) does the same additions in
    the same order, so both paths give the same bits. The compiled kernel may overwrite the
    entries of ``cols`` that fall on the padding (with zeros): pass a temporary.
    """
    n, c, kh, kw, oh, ow = cols.shape
    if out is None:
        out = np.empty((n, c, *image_hw), cols.dtype)
    kernels = load("neuralab.compiled.im2col")
    if kernels is not None:
        kernels.col2im(np.ascontiguousarray(cols), out, *stride, *pad, *dilation)
        return out
    extent = _padded_extent((kh, kw), stride, dilation, (oh, ow), pad, image_hw)
    padded = np.zeros((n, c, *extent), cols.dtype)
    for i, j, index in offsets((kh, kw), stride, dilation, (oh, ow)):
        padded[index] += cols[:, :, i, j]
    (top, left), (height, width) = pad, image_hw
    out[...] = padded[:, :, top : top + height, left : left + width]
    return out


class AxisMap:
    """A sparse linear map along one axis: ``out[i] = sum of weight[k] * x[col[k]]`` over i's taps.

    The taps are grouped by their rank within their row, so applying the map is a short loop over
    tap ranks (2 for bilinear, 1 for nearest), each one gather (``take``), one multiply and one add.
    No dense (out, in) matrix is formed, so cost stays linear and non-finite values stay in their
    own taps; the adjoint (:meth:`transpose`) is the same structure with rows and columns swapped.
    """

    def __init__(
        self, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray | None, n_out: int, n_in: int
    ) -> None:
        order = np.argsort(rows, kind="stable")
        rows, cols = rows[order], cols[order]
        weights = None if weights is None else weights[order]
        self._coo = rows, cols, weights
        self.n_out, self.n_in = n_out, n_in
        counts = np.bincount(rows, minlength=n_out)
        rank = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
        self._taps = []  # per rank: (rows having that tap, or None for all rows; cols; weights)
        for r in range(counts.max(initial=0)):
            sel = rank == r
            self._taps.append(
                (
                    None if sel.sum() == n_out else rows[sel],
                    cols[sel],
                    None if weights is None else weights[sel],
                )
            )

    def transpose(self) -> AxisMap:
        """The adjoint map (input <- output), which backward applies to the gradient."""
        rows, cols, weights = self._coo
        return AxisMap(cols, rows, weights, self.n_in, self.n_out)

    def __call__(self, x: np.ndarray, axis: int) -> np.ndarray:
        """Apply the map along ``axis`` of ``x``; dtype is preserved, ``x`` is not modified."""
        shape = [1] * x.ndim
        shape[axis] = -1
        index: list[Any] = [slice(None)] * x.ndim
        out = None
        for rows, cols, weights in self._taps:
            v = x.take(cols, axis=axis)
            if weights is not None:
                v *= weights.astype(x.dtype, copy=False).reshape(shape)
            if out is None and rows is None:  # the first rank covers every row: start from it
                out = v
                continue
            if out is None:
                out_shape = list(x.shape)
                out_shape[axis] = self.n_out
                out = np.zeros(out_shape, x.dtype)
            index[axis] = slice(None) if rows is None else rows
            out[tuple(index)] += v
        return out


def first_max(values: np.ndarray) -> np.ndarray:
    """The index along the last axis of each row's maximum as torch's max pooling picks it: the
    first maximum, or the last NaN in a row holding NaN (its ``val > max || isnan(val)`` scan)."""
    arg = values.argmax(axis=-1)
    nan = np.isnan(values)
    if nan.any():
        last = values.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
        arg = np.where(nan.any(axis=-1), last, arg)
    return arg


def take_planes(x: Tensor, index: np.ndarray, nd: int, values: np.ndarray | None = None) -> Tensor:
    """``x``'s elements at ``index``: flat positions within each plane of its last ``nd`` dims
    (the leading dims as ``x``'s; ``values``, when given, are those elements already). Each
    output's gradient goes back to its position, summed where positions repeat (overlapping
    pooling windows), in output order as torch adds them."""
    lead = x.shape[: x.ndim - nd]
    n_planes, plane = int(np.prod(lead)), int(np.prod(x.shape[x.ndim - nd :]))
    flat = index.reshape(n_planes, -1)
    if values is None:
        values = np.take_along_axis(x._data.reshape(n_planes, plane), flat, axis=1)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        targets = flat + (np.arange(n_planes) * plane)[:, None]
        gx = np.zeros(n_planes * plane, g.dtype)
        np.add.at(gx, targets.ravel(), g.ravel())
        return (gx.reshape(x.shape),)

    return make(values.reshape(index.shape), (x,), backward)
