"""3-D (volumetric) convolution and pooling over (N, C, D, H, W), composed from the 2-D
kernels and differentiable ops, so their gradients come for free.

A 3-D convolution is a sum over the kernel's depth: for each depth tap, the input's depth
slices that tap reads go through a 2-D convolution as one batch of N·D_out images. Max pooling
takes 2-D windows per depth slice, then the maximum over the depth window (its indices are
torch's flat D·H·W positions, and its gradient goes to them); average pooling is a
3-D convolution with a kernel of ones divided by the window's count (torch's
``count_include_pad``, ``ceil_mode`` and ``divisor_override``). Adaptive average pooling is
separable: height and width first, then depth (adaptive max pooling is in
:mod:`neuralab.ops.adaptive_pool`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.ops._util import to_tensor
from neuralab.ops._window import check_float, ntuple, take_planes
from neuralab.ops.conv import conv2d
from neuralab.ops.elementwise import div
from neuralab.ops.padding import pad
from neuralab.ops.pool import _geometry, _lp_pool, adaptive_avg_pool2d, max_pool2d
from neuralab.ops.shape import getitem, permute, reshape
from neuralab.tensor import Tensor, constant, is_grad_enabled

Triple = tuple[int, int, int]


def _batched(op: str, x: Tensor) -> tuple[Tensor, bool]:
    """``x`` as (N, C, D, H, W), and whether it came batched ((C, D, H, W) otherwise)."""
    if x.ndim not in (4, 5):
        raise ValueError(
            f"{op}: expected a 4-D (C, D, H, W) or 5-D (N, C, D, H, W) input, got shape "
            f"{tuple(x.shape)}"
        )
    return (x, True) if x.ndim == 5 else (reshape(x, 1, *x.shape), False)


def _unbatch(y: Tensor, batched: bool) -> Tensor:
    return y if batched else reshape(y, *y.shape[1:])


def _same_pads(padding: Any, kernel: Triple, dilation: Triple, stride: Triple, op: str) -> list:
    """(before, after) zero padding per dimension; 'same' puts an odd extra after, as torch."""
    if padding == "valid":
        return [(0, 0)] * 3
    if padding == "same":
        if stride != (1, 1, 1):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return [(t // 2, t - t // 2) for t in totals]
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be 'same', 'valid' or sizes, got {padding!r}")
    return [(p, p) for p in ntuple(padding, 3, "padding", op, 0)]


def conv3d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int, int, int] = 1,
    padding: int | tuple[int, int, int] | str = 0,
    dilation: int | tuple[int, int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """3-D cross-correlation of (N, C, D, H, W) ``input`` with ``weight`` (C_out, C/groups,
    kD, kH, kW) (torch's conv3d)."""
    op = "conv3d"
    x, w = to_tensor(input), to_tensor(weight)
    check_float(op, x, w)
    x, batched = _batched(op, x)
    if w.ndim != 5:
        raise ValueError(
            f"{op}: weight must be 5-D (out_channels, in_channels/groups, kD, kH, kW), got shape "
            f"{tuple(w.shape)}"
        )
    if x.shape[1] != w.shape[1] * groups:
        raise ValueError(
            f"{op}: input of shape {tuple(x.shape)} has {x.shape[1]} channels but weight "
            f"{tuple(w.shape)} with groups={groups} expects {w.shape[1] * groups}"
        )
    kernel = tuple(w.shape[2:])
    stride = ntuple(stride, 3, "stride", op, 1)
    dilation = ntuple(dilation, 3, "dilation", op, 1)
    pads = _same_pads(padding, kernel, dilation, stride, op)
    if any(p for pair in pads for p in pair):
        x = pad(x, [p for pair in reversed(pads) for p in pair])
    n, c, depth = x.shape[:3]
    (kd, sd, dd) = kernel[0], stride[0], dilation[0]
    out_d = (depth - dd * (kd - 1) - 1) // sd + 1
    if out_d < 1:
        raise ValueError(f"{op}: input of shape {tuple(x.shape)} is smaller than the kernel")
    total = None
    for k in range(kd):
        first = k * dd
        slab = getitem(
            x, (slice(None), slice(None), slice(first, first + (out_d - 1) * sd + 1, sd))
        )
        images = reshape(permute(slab, 0, 2, 1, 3, 4), n * out_d, c, *x.shape[3:])
        part = conv2d(images, getitem(w, (slice(None), slice(None), k)), None, stride[1:], 0,
                      dilation[1:], groups)  # fmt: skip
        total = part if total is None else total + part
    y = permute(reshape(total, n, out_d, *total.shape[1:]), 0, 2, 1, 3, 4)
    if bias is not None:
        y = y + reshape(to_tensor(bias), 1, -1, 1, 1, 1)
    return _unbatch(y, batched)


def conv_transpose3d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: int | Triple = 1,
    padding: int | Triple = 0,
    output_padding: int | Triple = 0,
    groups: int = 1,
    dilation: int | Triple = 1,
) -> Tensor:
    """Transposed 3-D convolution (torch's conv_transpose3d) with ``weight`` (C_in,
    C_out/groups, kD, kH, kW): a :func:`conv3d` of the input spread out by ``stride`` (zeros
    between its elements) with the flipped kernel, channels swapped in each group."""
    op = "conv_transpose3d"
    x, w = to_tensor(input), to_tensor(weight)
    check_float(op, x, w)
    x, batched = _batched(op, x)
    if w.ndim != 5 or w.shape[0] != x.shape[1] or x.shape[1] % groups:
        raise ValueError(
            f"{op}: weight must be (in_channels={x.shape[1]}, out_channels/groups, kD, kH, kW) "
            f"with in_channels divisible by groups={groups}; got weight {tuple(w.shape)}"
        )
    stride = ntuple(stride, 3, "stride", op, 1)
    dilation = ntuple(dilation, 3, "dilation", op, 1)
    pads = ntuple(padding, 3, "padding", op, 0)
    extra = ntuple(output_padding, 3, "output_padding", op, 0)
    if any(o >= s and o >= d for o, s, d in zip(extra, stride, dilation)):
        raise ValueError(f"{op}: output_padding {extra} must be smaller than stride or dilation")
    sizes = [
        (n - 1) * st - 2 * p + d * (k - 1) + o + 1
        for n, st, p, d, k, o in zip(x.shape[2:], stride, pads, dilation, w.shape[2:], extra)
    ]
    if min(sizes) < 1:
        raise ValueError(f"{op}: input of shape {tuple(x.shape)} gives an empty output {sizes}")
    spread = _spread(x, stride)
    widths = []  # F.pad order: last dimension first; negative widths crop
    for k, d, p, o in reversed(list(zip(w.shape[2:], dilation, pads, extra))):
        widths += [d * (k - 1) - p, d * (k - 1) - p + o]
    spread = pad(spread, widths)
    c_in, c_out_g, *kernel = w.shape
    per = c_in // groups
    flipped = getitem(
        w,
        (
            slice(None),
            slice(None),
            slice(None, None, -1),
            slice(None, None, -1),
            slice(None, None, -1),
        ),
    )
    turned = reshape(
        permute(reshape(flipped, groups, per, c_out_g, *kernel), 0, 2, 1, 3, 4, 5),
        groups * c_out_g,
        per,
        *kernel,
    )
    y = conv3d(spread, turned, bias, 1, 0, dilation, groups)
    return _unbatch(y, batched)


def _spread(x: Tensor, stride: Triple) -> Tensor:
    """``x`` with stride − 1 zeros between neighbours along each of its three last axes."""
    for axis, s in zip((2, 3, 4), stride):
        if s == 1:
            continue
        size = x.shape[axis]
        x = pad(
            reshape(x, *x.shape[: axis + 1], 1, *x.shape[axis + 1 :]),
            [0, 0] * (4 - axis) + [0, s - 1],
        )
        x = reshape(x, *x.shape[:axis], size * s, *x.shape[axis + 2 :])
        x = getitem(x, (slice(None),) * axis + (slice(0, (size - 1) * s + 1),))
    return x


def max_pool3d(
    input: Any,
    kernel_size: int | Triple,
    stride: int | Triple | None = None,
    padding: int | Triple = 0,
    dilation: int | Triple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Max over each (kD, kH, kW) window of (N, C, D, H, W) ``input`` (torch's max_pool3d); with
    ``return_indices`` also each maximum's flat D·H·W position, as ``max_unpool3d`` takes it."""
    x = to_tensor(input)
    if return_indices or (x.requires_grad and is_grad_enabled()):
        out, index = max_pool3d_with_indices(x, kernel_size, stride, padding, dilation, ceil_mode)
        return (out, index) if return_indices else out
    # values only (inference): no 2-D winners to track, a third of the time
    args = (kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool3d(x, *args, indices=False)[0]


def max_pool3d_with_indices(
    input: Any,
    kernel_size: int | Triple,
    stride: int | Triple | None = None,
    padding: int | Triple = 0,
    dilation: int | Triple = 1,
    ceil_mode: bool = False,
    return_indices: bool = True,
) -> tuple[Tensor, Tensor]:
    """:func:`max_pool3d` and its indices: 2-D windows of every depth slice (with their flat
    H·W winners), then the first maximum over the depth window (the last NaN), as torch picks."""
    return _max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, indices=True)


def _max_pool3d(input: Any, *args: Any, indices: bool) -> tuple[Tensor, Tensor | None]:
    """The maxima of :func:`max_pool3d` (args: its kernel_size ... ceil_mode) and, with
    ``indices``, their flat D·H·W positions, the output then differentiable through them."""
    kernel_size, stride, padding, dilation, ceil_mode = args
    op = "max_pool3d"
    x, batched = _batched(op, to_tensor(input))
    check_float(op, x)
    n, c, depth, h, w = x.shape
    kernel, stride, pads_, dil, out, _ = _geometry(
        op, 3, tuple(x.shape), tuple(x.shape), kernel_size, stride, padding, dilation, ceil_mode
    )
    planes = constant(x._data.reshape(n, c * depth, h, w))
    pooled = max_pool2d(planes, kernel[1:], stride[1:], pads_[1:], dil[1:], ceil_mode, indices)
    flat, where = pooled if indices else (pooled, None)
    shape = (n, c, depth, *flat.shape[2:])
    taps = (kernel[0], stride[0], pads_[0], dil[0], out[0])
    where = None if where is None else where._data.reshape(shape)
    best, index = _depth_winners(flat._data.reshape(shape), where, taps, h * w)
    if index is None:
        return _unbatch(constant(best), batched), None
    y = take_planes(x, index, 3, best)
    return _unbatch(y, batched), constant(index if batched else index[0])


def _depth_winners(
    values: np.ndarray, where: np.ndarray | None, taps: tuple[int, ...], plane: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Each depth window's maximum among the slices' 2-D maxima (``values``, at ``where`` in
    their H·W plane) and its flat D·H·W index (None without ``where``): the first real tap
    holding the maximum, or the last holding NaN; taps in the depth padding never win."""
    k, s, p, d, out_d = taps
    depth = values.shape[2]
    best = index = None
    seen = np.zeros(out_d, bool)
    for tap in range(k):
        slices = np.arange(out_d) * s - p + tap * d
        real = (slices >= 0) & (slices < depth)
        at = np.clip(slices, 0, depth - 1)
        v = values[:, :, at]  # a copy
        moved = None if where is None else where[:, :, at] + (at * plane)[:, None, None]
        if best is None:  # the first tap: where it is padding, a later real one replaces it
            best, index, seen = v, moved, real
            continue
        wins = (real & ~seen)[:, None, None] | (real[:, None, None] & ((v > best) | np.isnan(v)))
        np.copyto(best, v, where=wins)
        if index is not None:
            np.copyto(index, moved, where=wins)
        seen = seen | real
    return best, index


def avg_pool3d(
    input: Any,
    kernel_size: int | Triple,
    stride: int | Triple | None = None,
    padding: int | Triple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over each (kD, kH, kW) window of (N, C, D, H, W) ``input`` (torch's avg_pool3d)."""
    op = "avg_pool3d"
    x, batched = _batched(op, to_tensor(input))
    n, c = x.shape[:2]
    kernel, stride, _, _, _, pads = _geometry(
        op, 3, tuple(x.shape), tuple(x.shape), kernel_size, stride, padding, 1, ceil_mode
    )
    widths = [p for pair in reversed(pads) for p in pair]
    ones = constant(np.ones((1, 1, *kernel), x._data.dtype))
    sums = conv3d(pad(reshape(x, n * c, 1, *x.shape[2:]), widths), ones, stride=stride)
    if divisor_override:
        counts: Any = float(divisor_override)
    else:
        real = np.ones(x.shape[2:], x._data.dtype)
        if count_include_pad:  # the padding counts, the extra ceil_mode cells do not
            real = np.pad(real, [(b, min(a, b)) for b, a in pads], constant_values=1)
            grown = [(0, a - min(a, b)) for b, a in pads]
        else:
            grown = pads
        field = np.pad(real, grown)[None, None]
        counts = conv3d(constant(field), ones, stride=stride)
    y = reshape(div(sums, counts), n, c, *sums.shape[2:])
    return _unbatch(y, batched)


def lp_pool3d(
    input: Any,
    norm_type: float,
    kernel_size: int | Triple,
    stride: int | Triple | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    """The p-norm of each (kD, kH, kW) window of (N, C, D, H, W) ``input`` (torch's lp_pool3d)."""
    pools = (avg_pool3d, max_pool3d)
    return _lp_pool("lp_pool3d", 3, input, norm_type, kernel_size, stride, ceil_mode, pools)


def _adaptive3d(op: str, input: Any, output_size: Any, pool2d: Any) -> Tensor:
    """Separable adaptive pooling: (H, W) of every depth slice, then (D, ·) of every column."""
    x, batched = _batched(op, to_tensor(input))
    n, c, depth, h, w = x.shape
    size = (output_size,) * 3 if isinstance(output_size, int) else tuple(output_size)
    if len(size) != 3:
        raise ValueError(f"{op}: output_size must be an int or 3 sizes, got {output_size!r}")
    od, oh, ow = (s if s is not None else full for s, full in zip(size, (depth, h, w)))
    planes = pool2d(reshape(x, n, c * depth, h, w), (oh, ow))
    columns = pool2d(reshape(planes, n, c, depth, oh * ow), (od, oh * ow))
    return _unbatch(reshape(columns, n, c, od, oh, ow), batched)


def adaptive_avg_pool3d(input: Any, output_size: int | tuple) -> Tensor:
    """Average (N, C, D, H, W) ``input`` to ``output_size`` (torch's adaptive_avg_pool3d)."""
    return _adaptive3d("adaptive_avg_pool3d", input, output_size, adaptive_avg_pool2d)
