"""Pooling (max, average, adaptive average, max-unpool): fused NumPy kernels with their backward.

Max and average pooling fold the window separably: the kernel rows over whole rows of the
padded input, then the kernel columns (kh + kw passes over strided planes, not kh·kw). Max
pooling also records which offset won, for its backward; average pooling's backward spreads the
gradient back the same separable way, a plain copy where windows tile the input. No Python loop
runs over pixels or the batch; with numba installed, 2×2 max pooling with stride 2 (the common
case) runs as compiled passes instead (:mod:`neuralab.compiled.pool`, the same bits).
Adaptive average pooling is separable: one sparse window-averaging map per spatial axis
(:class:`~neuralab.ops._window.AxisMap`), whose transpose is its backward. Semantics follow
``torch.nn.functional``, including ``ceil_mode``, ``count_include_pad``, NaN propagation in max
pooling and flat H*W indices from ``return_indices`` (as ``max_unpool2d`` expects them).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from neuralab.compiled import load
from neuralab.ops._util import to_tensor
from neuralab.ops._window import (
    AxisMap,
    Pair,
    as_nchw,
    check_float,
    lower,
    memoized,
    ntuple,
    offsets,
    spatial,
)
from neuralab.parallel import parallel_for
from neuralab.tensor import Tensor, as_array, constant, is_grad_enabled, make


def max_pool2d(
    input: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Max over each kernel window of NCHW ``input`` (torch's max_pool2d); indices flat in H*W."""
    return _max_pool(
        "max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool1d(
    input: Any,
    kernel_size: int | tuple[int],
    stride: int | tuple[int] | None = None,
    padding: int | tuple[int] = 0,
    dilation: int | tuple[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Max over each window of NCL ``input`` (torch's max_pool1d), via the 2-D kernel."""
    return _max_pool(
        "max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool2d_with_indices(
    input: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = True,
) -> tuple[Tensor, Tensor]:
    """:func:`max_pool2d` with its indices (torch's F.max_pool2d_with_indices)."""
    return _max_pool(
        "max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, True
    )


def max_pool1d_with_indices(
    input: Any,
    kernel_size: int | tuple[int],
    stride: int | tuple[int] | None = None,
    padding: int | tuple[int] = 0,
    dilation: int | tuple[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = True,
) -> tuple[Tensor, Tensor]:
    """:func:`max_pool1d` with its indices (torch's F.max_pool1d_with_indices)."""
    return _max_pool(
        "max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, True
    )


def lp_pool2d(
    input: Any,
    norm_type: float,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    """The p-norm of each window, (Σ xᵖ)^(1/p) (torch's lp_pool2d: p = 1 is sum pooling, large
    p tends to max pooling); windows whose sum of powers is negative give 0."""
    return _lp_pool(
        "lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode, (avg_pool2d, max_pool2d)
    )


def lp_pool1d(
    input: Any,
    norm_type: float,
    kernel_size: int | tuple[int],
    stride: int | tuple[int] | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    """The p-norm of each window of NCL ``input`` (torch's lp_pool1d)."""
    return _lp_pool(
        "lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode, (avg_pool1d, max_pool1d)
    )


def _lp_pool(
    op: str, nd: int, input: Any, p: float, kernel_size: Any, stride: Any, ceil_mode: bool,
    pools: tuple[Callable[..., Any], Callable[..., Any]],
) -> Tensor:  # fmt: skip
    """Window means of xᵖ times the window size, to the power 1/p, as torch computes it, by
    ``pools`` (the rank's average and max pooling); p = ±inf is the max (min) of |x|."""
    x = to_tensor(input)
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, "
            f"got shape {x.shape}"
        )
    window = math.prod(ntuple(kernel_size, nd, "kernel_size", op, 1))
    average, maximum = pools
    try:
        if p in (math.inf, -math.inf):
            sign = 1.0 if p > 0 else -1.0
            return maximum(x.abs() * sign, kernel_size, stride, 0, 1, ceil_mode) * sign
        mean = average(x**p, kernel_size, stride, 0, ceil_mode)
    except ValueError as error:  # say which op was called, then which pooling refused
        raise ValueError(f"{op}: {error}") from None
    return (mean.sign() * mean.abs().relu() * window) ** (1.0 / p)


def avg_pool2d(
    input: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Mean over each kernel window of NCHW ``input`` (torch's avg_pool2d)."""
    return _avg_pool(
        "avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad
    )


def avg_pool1d(
    input: Any,
    kernel_size: int | tuple[int],
    stride: int | tuple[int] | None = None,
    padding: int | tuple[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Mean over each window of NCL ``input`` (torch's avg_pool1d), via the 2-D kernel."""
    return _avg_pool(
        "avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad
    )


def adaptive_avg_pool2d(input: Any, output_size: int | tuple[int | None, int | None]) -> Tensor:
    """Average NCHW ``input`` down (or up) to a fixed ``output_size`` (torch's adaptive_avg_pool2d).

    Output cell i along an axis of length n averages input rows floor(i*n/out) to
    ceil((i+1)*n/out) - 1, so any input size maps to one head size (``output_size=1``: global
    average pooling).
    """
    op = "adaptive_avg_pool2d"
    x = to_tensor(input)
    check_float(op, x)
    xd = as_nchw(x, 2, op)
    sizes = (output_size,) * 2 if isinstance(output_size, int | np.integer) else output_size
    if len(sizes) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    oh, ow = (xd.shape[2 + i] if s is None else int(s) for i, s in enumerate(sizes))
    if oh < 1 or ow < 1:
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    if (oh, ow) == (1, 1):  # global average pooling: one mean per plane, spread back evenly
        out = xd.mean(axis=(2, 3), keepdims=True)
        out4_shape, scale = out.shape, xd.dtype.type(1 / (xd.shape[2] * xd.shape[3]))

        def global_backward(g: np.ndarray) -> tuple[np.ndarray]:
            gx = np.empty(xd.shape, g.dtype)
            np.multiply(g.reshape(out4_shape), scale, out=gx)
            return (gx.reshape(x.shape),)

        return make(out.reshape(lower(out4_shape, 2, x.ndim == 4)), (x,), global_backward)
    mh, mw = _adaptive_map(xd.shape[2], oh), _adaptive_map(xd.shape[3], ow)
    out = mw(mh(xd, 2), 3)
    out4_shape = out.shape
    mh_t, mw_t = mh.transpose(), mw.transpose()

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (mh_t(mw_t(g.reshape(out4_shape), 3), 2).reshape(x.shape),)

    return make(out.reshape(lower(out4_shape, 2, x.ndim == 4)), (x,), backward)


def max_unpool1d(
    input: Any,
    indices: Any,
    kernel_size: int | tuple[int],
    stride: int | tuple[int] | None = None,
    padding: int | tuple[int] = 0,
    output_size: tuple[int, ...] | None = None,
) -> Tensor:
    """:func:`max_unpool2d` for (N, C, L) or (C, L) input and max_pool1d's indices."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(
    input: Any,
    indices: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    output_size: tuple[int, ...] | None = None,
) -> Tensor:
    """Scatter pooled values back to the positions max_pool2d took them from (SegNet upsampling).

    Every other output position is zero; the gradient of each input is the output gradient at
    its index. ``output_size`` ((H, W) or (N, C, H, W)) resolves the ambiguity of odd sizes.
    """
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(
    input: Any,
    indices: Any,
    kernel_size: int | tuple[int, int, int],
    stride: int | tuple[int, int, int] | None = None,
    padding: int | tuple[int, int, int] = 0,
    output_size: tuple[int, ...] | None = None,
) -> Tensor:
    """:func:`max_unpool2d` for (N, C, D, H, W) or (C, D, H, W) input and max_pool3d's flat
    D·H·W indices."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)


def _max_unpool(
    op: str, nd: int, input: Any, indices: Any, kernel_size: Any, stride: Any, padding: Any,
    output_size: tuple[int, ...] | None,
) -> Tensor:  # fmt: skip
    """Each value of ``input`` at its flat index in its output plane of ``nd`` spatial dims,
    zeros elsewhere; the backward gathers the gradient at the same indices."""
    x = to_tensor(input)
    check_float(op, x)
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, "
            f"got shape {x.shape}"
        )
    idx = as_array(indices)
    if idx.dtype.kind not in "iu" or idx.shape != x.shape:
        raise ValueError(
            f"{op}: indices must be an integer tensor of the input's shape {x.shape}, "
            f"got dtype {idx.dtype} and shape {idx.shape}"
        )
    sizes = _unpool_size(op, nd, x.shape, kernel_size, stride, padding, output_size)
    lead, plane = x.shape[:-nd], math.prod(sizes)
    n_planes = math.prod(lead)
    flat = idx.reshape(n_planes, -1)
    if flat.size and (flat.min() < 0 or flat.max() >= plane):
        bad = flat.min() if flat.min() < 0 else flat.max()
        raise ValueError(
            f"{op}: index {bad} in indices is out of range for an output plane of size "
            f"{'x'.join(map(str, sizes))}"
        )
    # one index into the flat output: a plain scatter and gather, 2.5x and 5x quicker than
    # put_along_axis and take_along_axis (which build an index per axis)
    spots = (flat + (np.arange(n_planes) * plane)[:, None]).reshape(-1)
    out = np.zeros(n_planes * plane, x.dtype)
    out[spots] = x._data.reshape(-1)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (np.take(g.reshape(-1), spots).reshape(x.shape),)

    return make(out.reshape(tuple(lead) + sizes), (x,), backward)


def _unpool_size(
    op: str, nd: int, shape: tuple[int, ...], kernel_size: Any, stride: Any, padding: Any,
    output_size: Any,
) -> tuple[int, ...]:  # fmt: skip
    """The unpooled spatial size: ``output_size`` (its last ``nd`` entries, checked to lie within
    a stride of the default) or the size pooling with these windows came from."""
    kernel = ntuple(kernel_size, nd, "kernel_size", op, 1)
    stride = kernel if stride is None else ntuple(stride, nd, "stride", op, 1)
    pad = ntuple(padding, nd, "padding", op, 0)
    default = tuple(
        (size - 1) * s - 2 * p + k for size, s, p, k in zip(shape[-nd:], stride, pad, kernel)
    )
    if output_size is None:
        return default
    sizes = tuple(int(s) for s in output_size)
    sizes = sizes[2:] if len(sizes) == nd + 2 else sizes
    if len(sizes) != nd:
        raise ValueError(
            f"{op}: output_size must have {nd} or {nd + 2} entries (the spatial size, or the "
            f"whole shape), got {output_size}"
        )
    low = tuple(d - s for d, s in zip(default, stride))
    high = tuple(d + s for d, s in zip(default, stride))
    if not all(lo < size < hi for lo, size, hi in zip(low, sizes, high)):
        raise ValueError(
            f"{op}: output_size {output_size} is invalid for input of shape {shape}: the "
            f"spatial size must lie strictly between {low} and {high}"
        )
    return sizes


def _max_pool(
    op: str,
    nd: int,
    input: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
    return_indices: bool,
) -> Tensor | tuple[Tensor, Tensor]:
    """Shared max_pool1d/max_pool2d kernel: running max over the kernel offsets, and backward."""
    x, xd = _pool_input(op, nd, input)
    kernel, stride, pad, dil, out_hw, pads = _geometry(
        op, nd, x.shape, xd.shape, kernel_size, stride, padding, dilation, ceil_mode
    )
    xp = np.pad(xd, ((0, 0), (0, 0)) + pads, constant_values=-np.inf) if any(sum(pads, ())) else xd
    n = xd.shape[0]
    best = np.empty(xd.shape[:2] + out_hw, xd.dtype)
    # which offset won: needed for the indices and by backward (computed now, so the graph keeps
    # this small integer array rather than the input and output)
    needs_grad = x.requires_grad and is_grad_enabled()
    keep_arg = return_indices or needs_grad
    arg = np.empty(best.shape, np.min_scalar_type(kernel[0] * kernel[1] - 1)) if keep_arg else None
    geometry = (xd.shape, kernel, stride, pad, dil, out_hw)
    tiles = stride == kernel and dil == (1, 1) and not any(sum(pads, ()))
    kernels = load("neuralab.compiled.pool") if xd.dtype.kind == "f" else None
    if kernels is not None and not (tiles and kernel == (2, 2)):
        return _compiled_max_pool(kernels, x, xd, nd, best, arg, geometry, return_indices)
    if kernels is not None and arg is None:
        arg = np.empty(best.shape, np.uint8)  # the kernel finds it anyway; only not kept

    def forward_chunk(lo: int, hi: int) -> None:
        if kernels is not None:
            kernels.max_pool_2x2(xp[lo:hi], best[lo:hi], arg[lo:hi])
            return
        # np.maximum propagates NaN, as torch does
        _fold_windows(np.maximum, xp[lo:hi], best[lo:hi], kernel, stride, dil, out_hw)
        if arg is not None:
            _argmax_offsets(xp[lo:hi], best[lo:hi], arg[lo:hi], *geometry)

    cost = 1 if kernels is not None else (3 if keep_arg else 1)
    parallel_for(n, forward_chunk, xp.size * cost, blas=False)
    backward = _max_pool_backward(kernels, arg, geometry, pads, tiles, (x.shape, xp.shape))
    return _pooled(x, xd, nd, best, arg, geometry, backward, return_indices)


def _max_pool_backward(
    kernels: Any, arg: np.ndarray, geometry: tuple, pads: tuple, tiles: bool, shapes: tuple
) -> Callable[[np.ndarray], tuple[np.ndarray]]:
    """Max pooling's backward: each output's gradient to the input its window's winner came from
    (``arg``: the winning offset); ``shapes`` are the input's and the padded input's."""
    in4_shape, kernel, stride, _, dil, out_hw = geometry
    x_shape, padded_shape = shapes
    out4_shape = in4_shape[:2] + out_hw

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        g4 = g.reshape(out4_shape)
        if kernels is not None:
            return (_tiled_max_grad_2x2(kernels, g4, arg, in4_shape).reshape(x_shape),)
        if tiles:  # windows tile the input: each offset writes its own slots, no accumulation
            return (_tiled_max_grad(g4, arg, kernel, in4_shape).reshape(x_shape),)
        gxp = np.zeros(padded_shape, g.dtype)

        def backward_chunk(lo: int, hi: int) -> None:
            for i, j, index in offsets(kernel, stride, dil, out_hw):
                gxp[lo:hi][index] += np.where(arg[lo:hi] == i * kernel[1] + j, g4[lo:hi], 0)

        parallel_for(in4_shape[0], backward_chunk, 2 * gxp.size, blas=False)
        return (_crop(gxp, pads, in4_shape).reshape(x_shape),)

    return backward


def _pooled(
    x: Tensor, xd: np.ndarray, nd: int, best: np.ndarray, arg: np.ndarray | None,
    geometry: tuple, backward: Any, return_indices: bool,
) -> Tensor | tuple[Tensor, Tensor]:  # fmt: skip
    """Max pooling's output tensor, and with ``return_indices`` its flat H*W indices."""
    _, kernel, stride, pad, dil, out_hw = geometry
    shape = lower(best.shape, nd, x.ndim == nd + 2)
    out = make(best.reshape(shape), (x,), backward)
    if not return_indices:
        return out
    # flat index = the window's top-left corner's + the winning offset's, looked up per offset:
    # two passes (integer // and % over the output took 0.63 ms for 16,384 windows, this 0.05)
    width, offsets = xd.shape[3], np.arange(kernel[0] * kernel[1])
    step = (offsets // kernel[1]) * dil[0] * width + (offsets % kernel[1]) * dil[1]
    rows = (np.arange(out_hw[0]) * stride[0] - pad[0]) * width
    corner = rows[:, None] + (np.arange(out_hw[1]) * stride[1] - pad[1])
    flat = np.take(step, arg)
    flat += corner
    return out, constant(flat.reshape(shape))


def _compiled_max_pool(
    kernels: Any, x: Tensor, xd: np.ndarray, nd: int, best: np.ndarray, arg: np.ndarray | None,
    geometry: tuple, return_indices: bool,
) -> Tensor | tuple[Tensor, Tensor]:  # fmt: skip
    """Max pooling of any geometry by the compiled kernels (:mod:`neuralab.compiled.pool`):
    one pass over the unpadded input (padding skipped), the same bits as the NumPy path."""
    _, kernel, stride, pad, dil, _ = geometry
    taps = (kernel, stride, pad, dil)
    if arg is None:
        arg = np.empty(best.shape, np.min_scalar_type(kernel[0] * kernel[1] - 1))
    xc = np.ascontiguousarray(xd)
    n, cost = xd.shape[0], best.size * kernel[0] * kernel[1]

    def forward_chunk(lo: int, hi: int) -> None:
        kernels.max_pool(xc[lo:hi], best[lo:hi], arg[lo:hi], *taps)

    parallel_for(n, forward_chunk, cost, blas=False)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        g4 = np.ascontiguousarray(g.reshape(best.shape))
        gx = np.empty(xd.shape, g4.dtype)

        def backward_chunk(lo: int, hi: int) -> None:
            kernels.max_pool_backward(g4[lo:hi], arg[lo:hi], gx[lo:hi], *taps)

        parallel_for(n, backward_chunk, cost, blas=False)
        return (gx.reshape(x.shape),)

    return _pooled(x, xd, nd, best, arg, geometry, backward, return_indices)


def _axis_planes(a: np.ndarray, axis: int, k: int, s: int, d: int, o: int) -> list[np.ndarray]:
    """The ``k`` strided views of ``a`` along ``axis`` that window offsets 0..k-1 see (o each)."""
    lead = (slice(None),) * (axis % a.ndim)
    return [a[(*lead, slice(i * d, i * d + (o - 1) * s + 1, s))] for i in range(k)]


def _fold(ufunc: np.ufunc, planes: list[np.ndarray], out: np.ndarray) -> None:
    """``out`` = ``ufunc`` folded over ``planes``."""
    if len(planes) == 1:
        np.copyto(out, planes[0])
        return
    ufunc(planes[0], planes[1], out=out)
    for plane in planes[2:]:
        ufunc(out, plane, out=out)


def _fold_windows(
    ufunc: np.ufunc,
    xp: np.ndarray,
    out: np.ndarray,
    kernel: Pair,
    stride: Pair,
    dil: Pair,
    out_hw: Pair,
) -> None:
    """``out`` = ``ufunc`` (max or sum) folded over every window of ``xp``.

    Separable: the kernel rows first, over whole rows into an (.., OH, W) buffer, then the
    kernel columns; kh + kw passes instead of kh·kw passes over strided planes.
    """
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dil, out_hw
    rows = np.empty(xp.shape[:-2] + (oh, xp.shape[-1]), xp.dtype)
    _fold(ufunc, _axis_planes(xp, -2, kh, sh, dh, oh), rows)
    _fold(ufunc, _axis_planes(rows, -1, kw, sw, dw, ow), out)


def _spread_windows(g: np.ndarray, out: np.ndarray, kernel: Pair, stride: Pair, dil: Pair) -> None:
    """The adjoint of the summing :func:`_fold_windows`: ``out`` (the padded input's shape)
    receives each window's ``g`` on every position the window covers. Separable like the fold:
    columns into an (.., OH, W) buffer, then rows; where windows tile an axis, a plain copy."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dil
    oh, ow = g.shape[-2:]
    height, width = out.shape[-2:]
    if sw == kw and dw == 1 and ow * kw == width:
        rows = np.repeat(g, kw, axis=-1)
    else:
        rows = np.zeros(g.shape[:-1] + (width,), g.dtype)
        for plane in _axis_planes(rows, -1, kw, sw, dw, ow):
            plane += g
    if sh == kh and dh == 1 and oh * kh == height:
        tiled = out.reshape(out.shape[:-2] + (oh, kh, width))
        for i in range(kh):
            tiled[..., i, :] = rows
        return
    out.fill(0)
    for plane in _axis_planes(out, -2, kh, sh, dh, oh):
        plane += rows


def _tiled_max_grad_2x2(
    kernels: Any, g4: np.ndarray, arg: np.ndarray, shape: tuple[int, ...]
) -> np.ndarray:
    """:func:`_tiled_max_grad` for 2×2 windows by the compiled kernel (the same values)."""
    n, c, oh, ow = g4.shape
    whole = shape[2:] == (2 * oh, 2 * ow)
    gx = np.empty(shape, g4.dtype) if whole else np.zeros(shape, g4.dtype)
    covered = gx if whole else gx[:, :, : 2 * oh, : 2 * ow]

    def chunk(lo: int, hi: int) -> None:
        kernels.max_pool_2x2_backward(g4[lo:hi], arg[lo:hi], covered[lo:hi])

    parallel_for(n, chunk, 2 * gx.size, blas=False)
    return gx


def _tiled_max_grad(
    g4: np.ndarray, arg: np.ndarray, kernel: Pair, shape: tuple[int, ...]
) -> np.ndarray:
    """Max-pool input gradient when stride equals the kernel (no padding or dilation).

    The windows do not overlap, so the gradient is laid out as (N, C, OH, kh, OW, kw) and each
    kernel offset copies the gradient into its own slots where it won (no additions); as in
    torch, a window's gradient lands on its winner only, even when it is NaN.
    """
    n, c, oh, ow = g4.shape
    kh, kw = kernel
    g6 = np.empty((n, c, oh, kh, ow, kw), g4.dtype)

    def chunk(lo: int, hi: int) -> None:
        g6[lo:hi] = 0  # then each window's gradient at its winner only (a NaN stays there)
        for i in range(kh):
            for j in range(kw):
                target = g6[lo:hi, :, :, i, :, j]
                np.copyto(target, g4[lo:hi], where=arg[lo:hi] == i * kw + j)

    parallel_for(n, chunk, 2 * g6.size, blas=False)
    covered = g6.reshape(n, c, oh * kh, ow * kw)
    if covered.shape == shape:
        return covered
    gx = np.zeros(shape, g4.dtype)  # rows/columns past the last whole window get no gradient
    gx[:, :, : oh * kh, : ow * kw] = covered
    return gx


def _argmax_offsets(
    xp: np.ndarray,
    best: np.ndarray,
    arg: np.ndarray,
    shape: tuple[int, ...],
    kernel: Pair,
    stride: Pair,
    pad: Pair,
    dil: Pair,
    out_hw: Pair,
) -> None:
    """Write into ``arg`` which kernel offset (i*kw + j) holds each window's max, as torch does.

    The first real (non-padding) position equal to the max wins; in a window holding NaN, the
    last NaN wins. Built from whole-plane comparisons, one per kernel offset (arithmetic on the
    masks: a masked copy is many times slower in NumPy).
    """
    kw = kernel[1]
    arg[...] = 0
    found = np.zeros(best.shape, bool)
    hit = np.empty(best.shape, bool)
    real = _real_positions(shape, kernel, stride, pad, dil, out_hw)
    for i, j, index in offsets(kernel, stride, dil, out_hw):
        np.equal(xp[index], best, out=hit)
        if not real[i][j].all():
            hit &= real[i][j]
        np.greater(hit, found, out=hit)  # a hit, and the first one: hit & ~found
        if i or j:
            arg += hit * arg.dtype.type(i * kw + j)
        found |= hit
    if np.isnan(best).any():
        for i, j, index in offsets(kernel, stride, dil, out_hw):
            arg[np.isnan(xp[index])] = i * kw + j


def _real_positions(
    shape: tuple[int, ...], kernel: Pair, stride: Pair, pad: Pair, dil: Pair, out_hw: Pair
) -> list[list[np.ndarray]]:
    """For each kernel offset (i, j), an (OH, OW) mask of the windows where it is not padding."""
    masks = []
    for size, k, s, p, d, o in zip(shape[2:], kernel, stride, pad, dil, out_hw):
        pos = (np.arange(o) * s - p)[None, :] + (np.arange(k) * d)[:, None]  # (k, o)
        masks.append((pos >= 0) & (pos < size))
    rows, cols = masks
    return [
        [rows[i][:, None] & cols[j][None, :] for j in range(kernel[1])] for i in range(kernel[0])
    ]


def _avg_pool(
    op: str,
    nd: int,
    input: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: bool,
    count_include_pad: bool,
) -> Tensor:
    """Shared avg_pool1d/avg_pool2d kernel: running sum over the kernel offsets, and backward."""
    x, xd = _pool_input(op, nd, input)
    kernel, stride, pad, dil, out_hw, pads = _geometry(
        op, nd, x.shape, xd.shape, kernel_size, stride, padding, 1, ceil_mode
    )
    padded = any(sum(pads, ()))
    xp = np.pad(xd, ((0, 0), (0, 0)) + pads) if padded else xd
    n = xd.shape[0]
    divisor = (  # with no padding, every window holds kh·kw elements of the input
        _divisor(xd, kernel, stride, pad, out_hw, count_include_pad)
        if padded
        else xd.dtype.type(kernel[0] * kernel[1])
    )
    total = np.empty(xd.shape[:2] + out_hw, xd.dtype)
    # 2×2 tiles (LeNet's): one compiled pass, the same additions in the same order
    tiles = kernel == stride == (2, 2) and not padded and xd.dtype.kind == "f"
    fast = load("neuralab.compiled.pool") if tiles else None

    def forward_chunk(lo: int, hi: int) -> None:
        if fast is not None:
            fast.avg_pool_2x2(xp[lo:hi], total[lo:hi], divisor)
            return
        _fold_windows(np.add, xp[lo:hi], total[lo:hi], kernel, stride, dil, out_hw)
        total[lo:hi] /= divisor

    parallel_for(n, forward_chunk, xp.size, blas=False)
    out4_shape, padded_shape = total.shape, xp.shape

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        if fast is not None:
            gx = _avg_pool_2x2_backward(fast, g.reshape(out4_shape), xd.shape, divisor)
            return (gx.reshape(x.shape),)
        gd = g.reshape(out4_shape) / divisor
        gxp = np.empty(padded_shape, g.dtype)

        def backward_chunk(lo: int, hi: int) -> None:
            _spread_windows(gd[lo:hi], gxp[lo:hi], kernel, stride, dil)

        parallel_for(n, backward_chunk, gxp.size, blas=False)
        return (_crop(gxp, pads, xd.shape).reshape(x.shape),)

    return make(total.reshape(lower(out4_shape, nd, x.ndim == nd + 2)), (x,), backward)


def _avg_pool_2x2_backward(
    kernels: Any, g4: np.ndarray, shape: tuple[int, ...], divisor: Any
) -> np.ndarray:
    """The input gradient of 2×2 average pooling by the compiled kernel; an odd last row or
    column, in no window, gets zeros."""
    g4 = np.ascontiguousarray(g4)
    odd = shape[2] % 2 or shape[3] % 2
    gx = (np.zeros if odd else np.empty)(shape, g4.dtype)

    def chunk(lo: int, hi: int) -> None:
        kernels.avg_pool_2x2_backward(g4[lo:hi], gx[lo:hi], divisor)

    parallel_for(shape[0], chunk, gx.size, blas=False)
    return gx


def _divisor(
    xd: np.ndarray, kernel: Pair, stride: Pair, pad: Pair, out_hw: Pair, count_include_pad: bool
) -> Any:
    """Each output's divisor when windows reach into padding: (OH, OW), or one scalar when it
    is the same for all."""
    counts = [
        _window_counts(size, k, s, p, o, count_include_pad)
        for size, k, s, p, o in zip(xd.shape[2:], kernel, stride, pad, out_hw)
    ]
    divisor = np.multiply.outer(*counts).astype(xd.dtype)
    return divisor.flat[0] if (divisor == divisor.flat[0]).all() else divisor


def _pool_input(op: str, nd: int, input: Any) -> tuple[Tensor, np.ndarray]:
    """The float input of an ``nd``-D pooling and its data as NCHW (a height-1 view for 1-D)."""
    x = to_tensor(input)
    check_float(op, x)
    return x, as_nchw(x, nd, op)


@memoized
def _geometry(
    op: str,
    nd: int,
    x_shape: tuple,
    xd_shape: tuple,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
) -> tuple[Pair, Pair, Pair, Pair, Pair, tuple[Pair, Pair]]:
    """Validated kernel, stride, padding, dilation, output size and the ((top, bottom), ..) pads.

    The bottom/right pads cover the extra windows ``ceil_mode`` adds (with -inf / 0 fill).
    """
    kernel = spatial(kernel_size, nd, "kernel_size", op, 1, 1)
    stride = kernel if stride is None else spatial(stride, nd, "stride", op, 1, 1)
    pad = spatial(padding, nd, "padding", op, 0, 0)
    dil = spatial(dilation, nd, "dilation", op, 1, 1)
    if any(p > k // 2 for p, k in zip(pad, kernel)):
        raise ValueError(
            f"{op}: padding {padding!r} must be at most half of kernel_size {kernel_size!r}"
        )
    out_hw, pads = [], []
    for size, k, s, p, d in zip(xd_shape[2:], kernel, stride, pad, dil):
        span = d * (k - 1) + 1
        o = (size + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= size + p:  # the last window must start inside the input
            o -= 1
        out_hw.append(o)
        pads.append((p, max((o - 1) * s + span - size - p, 0)))
    if min(out_hw) < 1:
        raise ValueError(
            f"{op}: input of shape {x_shape} is too small for kernel_size {kernel_size!r} "
            f"(padding {padding!r}, dilation {dilation!r}): the output would be empty"
        )
    return kernel, stride, pad, dil, tuple(out_hw), tuple(pads)


def _window_counts(
    size: int, kernel: int, stride: int, pad: int, n_out: int, include_pad: bool
) -> np.ndarray:
    """Per-output divisor along one axis: window length within the padded (or the real) input."""
    start = np.arange(n_out) * stride - pad
    if include_pad:
        return np.minimum(start + kernel, size + pad) - start
    return np.minimum(start + kernel, size) - np.maximum(start, 0)


def _crop(gxp: np.ndarray, pads: tuple[Pair, Pair], shape: tuple[int, ...]) -> np.ndarray:
    """The unpadded (N, C, H, W) region of a gradient computed on the padded input."""
    (top, _), (left, _) = pads
    return np.ascontiguousarray(gxp[:, :, top : top + shape[2], left : left + shape[3]])


def _adaptive_map(n_in: int, n_out: int) -> AxisMap:
    """The window-averaging map of adaptive average pooling along one axis."""
    i = np.arange(n_out)
    start = i * n_in // n_out
    end = -(-(i + 1) * n_in // n_out)
    lengths = end - start
    rows = np.repeat(i, lengths)
    first = np.repeat(np.cumsum(lengths) - lengths, lengths)
    cols = np.repeat(start, lengths) + np.arange(lengths.sum()) - first
    return AxisMap(rows, cols, 1.0 / lengths[rows], n_out, n_in)
