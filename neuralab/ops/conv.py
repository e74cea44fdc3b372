"""Convolutions (conv1d, conv2d, conv_transpose2d): fused NumPy kernels with their backward.

Every convolution is im2col plus batched GEMMs (one matmul call per block of samples, batched
over those samples and the groups). The forward copies the windows of the padded input into a
batch-major (N, C, kh, kw, OH, OW) column array (``_window.im2col``), so with the weight as
(groups, out/groups, in/groups*kh*kw) each sample's output is ``weight @ cols`` and lands in
NCHW order with no transpose copies. Backward:

* grad weight = ``grad_out @ cols.T`` summed over the samples (columns up to
  ``KEEP_COLUMNS_BYTES`` are kept from the forward; larger ones are rebuilt, so the graph holds
  the input rather than a kh*kw times larger copy of it),
* grad input = ``weight.T @ grad_out`` followed by col2im, which loops over the kh*kw offsets
  only (compiled with numba when it is installed: NumPy's per-row overhead on small images made
  it as slow as the GEMM).

Both directions take a chunk's samples ``BLOCK_BYTES`` of columns at a time, so that the columns
are still in the cache when the GEMM reads them. A pointwise (1×1, stride 1, unpadded)
convolution's columns are its input itself: no im2col or col2im at all.

On small output planes with a large weight (4×4 and 8×8 planes of deep layers: ResNet-18's last
stages on CIFAR), per-sample products would pack the weight once per sample; there the samples'
columns go side by side into one product per chunk of samples (``_conv_wide``).

The transposed convolution is the same pair run the other way round: its forward is the
input-gradient of a convolution (GEMM then col2im) and its input-gradient is a convolution.
Layouts and semantics follow ``torch.nn.functional``: weights are (out, in/groups, kh, kw) for
convolutions and (in, out/groups, kh, kw) for transposed convolutions; inputs are NCHW / NCL, or
unbatched CHW / CL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from neuralab.ops import _conv_wide, winograd
from neuralab.ops._util import to_tensor
from neuralab.ops._window import (
    Pair,
    as_nchw,
    check_float,
    col2im,
    im2col,
    lower,
    memoized,
    ntuple,
    out_size,
    spatial,
)
from neuralab.ops.matmul import pmatmul
from neuralab.parallel import parallel_for
from neuralab.tensor import Tensor, is_grad_enabled, make


def conv2d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation of NCHW ``input`` and ``weight`` (torch's conv2d), as im2col + GEMM."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] | str = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
) -> Tensor:
    """1-D cross-correlation of NCL ``input`` (torch's conv1d), run as conv2d on a height-1 view."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    groups: int = 1,
    dilation: int | tuple[int, int] = 1,
) -> Tensor:
    """Transposed 2-D convolution (torch's conv_transpose2d): conv2d's adjoint, for upsampling."""
    op = "conv_transpose2d"
    x, w = to_tensor(input), to_tensor(weight)
    b = None if bias is None else to_tensor(bias)
    check_float(op, x, w, b)
    xd = as_nchw(x, 2, op)
    groups = _check_transposed_weight(op, x, xd, w, groups)
    n, _, h, wid = xd.shape
    cin, cout_g, kh, kw = w.shape
    cout = cout_g * groups
    _check_bias(b, cout, w, op)
    stride, dilation, pad, (oh, ow) = _transpose_geometry(
        op, x, w, (h, wid), stride, padding, output_padding, dilation
    )
    g_in = cin // groups
    x4 = xd.reshape(n, groups, g_in, h * wid)
    w4 = w._data.reshape(1, groups, g_in, cout_g * kh * kw)
    # small inputs with a large weight: one product over the batch (see _conv_wide)
    wide = _conv_wide.suits(n, groups, cout * kh * kw, cin, h * wid)
    cols = _products(w4.transpose(0, 1, 3, 2), x4, wide).reshape(n, cout, kh, kw, h, wid)
    out = col2im(cols, (oh, ow), stride, dilation, pad)
    if b is not None:
        out += b._data[:, None, None]
    out4_shape = out.shape

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        g4 = g.reshape(out4_shape)
        gcols = im2col(g4, (kh, kw), stride, dilation, (h, wid), pad).reshape(
            n, groups, cout_g * kh * kw, h * wid
        )
        gx = gw = None
        if x.requires_grad:
            gx = _products(w4, gcols, wide).reshape(x.shape)
        if w.requires_grad:
            if wide:
                gw = _conv_wide.summed_outer(x4[:, 0], gcols[:, 0]).reshape(w.shape)
            else:
                gw = pmatmul(x4, gcols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(w.shape)
        return _with_bias_grad(gx, gw, b, g4)

    return make(out.reshape(lower(out4_shape, 2, x.ndim == 4)), _parents(x, w, b), backward)


def _check_transposed_weight(op: str, x: Tensor, xd: np.ndarray, w: Tensor, groups: Any) -> int:
    """Check a transposed convolution's weight (in, out/groups, kH, kW) against its NCHW input
    ``xd`` and ``groups``; the groups as an int."""
    if w.ndim != 4:
        raise ValueError(
            f"{op}: weight must be 4-D (in_channels, out_channels/groups, kH, kW), "
            f"got shape {w.shape}"
        )
    groups = _check_groups(groups, op)
    c, cin = xd.shape[1], w.shape[0]
    if cin != c:
        raise ValueError(
            f"{op}: input of shape {x.shape} has {c} channels but weight {w.shape} expects {cin}"
        )
    if cin % groups:
        raise ValueError(
            f"{op}: weight {w.shape} has {cin} input channels, not divisible by groups={groups}"
        )
    return groups


def _products(a: np.ndarray, x: np.ndarray, wide: bool) -> np.ndarray:
    """``a[0, g] @ x[i, g]`` for every sample i and group g of x (N, groups, C, P): per sample,
    or (``wide``, one group) as one product over the samples side by side."""
    if wide:
        return _conv_wide.product_per_sample(a[0, 0], x[:, 0])
    return pmatmul(a, x)


def conv_transpose1d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] = 0,
    output_padding: int | tuple[int] = 0,
    groups: int = 1,
    dilation: int | tuple[int] = 1,
) -> Tensor:
    """Transposed 1-D convolution of (N, C, L) or unbatched (C, L) ``input`` (torch's
    conv_transpose1d), run as :func:`conv_transpose2d` on a height-1 view."""
    op = "conv_transpose1d"
    x, w = to_tensor(input), to_tensor(weight)
    if x.ndim not in (2, 3) or w.ndim != 3:
        raise ValueError(
            f"{op}: expected a 2-D (C, L) or 3-D (N, C, L) input and a 3-D weight (in_channels, "
            f"out_channels/groups, kL), got shapes {x.shape} and {w.shape}"
        )
    batched = x.ndim == 3
    x4 = (x if batched else x.unsqueeze(0)).unsqueeze(-2)
    out_pad = spatial(output_padding, 1, "output_padding", op, 0, 0)
    y = conv_transpose2d(
        x4, w.unsqueeze(-2), bias, spatial(stride, 1, "stride", op, 1, 1),
        spatial(padding, 1, "padding", op, 0, 0), out_pad, groups,
        spatial(dilation, 1, "dilation", op, 1, 1),
    ).squeeze(-2)  # fmt: skip
    return y if batched else y.squeeze(0)


def _transpose_geometry(
    op: str, x: Tensor, w: Tensor, image_hw: Pair, stride: Any, padding: Any,
    output_padding: Any, dilation: Any,
) -> tuple[Pair, Pair, Pair, Pair]:  # fmt: skip
    """A transposed convolution's checked stride, dilation and padding, and its output size."""
    stride = ntuple(stride, 2, "stride", op, 1)
    dilation = ntuple(dilation, 2, "dilation", op, 1)
    pad = ntuple(padding, 2, "padding", op, 0)
    out_pad = ntuple(output_padding, 2, "output_padding", op, 0)
    for o, s, d in zip(out_pad, stride, dilation):
        if o >= s and o >= d:
            raise ValueError(
                f"{op}: output_padding {out_pad} must be smaller than either stride {stride} "
                f"or dilation {dilation}"
            )
    full = tuple(
        (size - 1) * s + (k - 1) * d + 1 + o
        for size, k, s, d, o in zip(image_hw, w.shape[2:], stride, dilation, out_pad)
    )
    oh, ow = full[0] - 2 * pad[0], full[1] - 2 * pad[1]
    if oh < 1 or ow < 1:
        raise ValueError(
            f"{op}: input of shape {x.shape} with weight {w.shape}, stride {stride}, "
            f"padding {pad} gives an empty output of size ({oh}, {ow})"
        )
    return stride, dilation, pad, (oh, ow)


# Column matrices up to this size are kept from forward to backward (see _conv).
KEEP_COLUMNS_BYTES = 8 * 1024 * 1024
# Samples are im2col'ed and multiplied this many column bytes at a time (a core's L2 or less).
BLOCK_BYTES = 1024 * 1024
# A convolution's samples are split over threads in chunks of at least CONV_GRAIN times the
# pool's usual chunk work (2 million multiply-adds); smaller ones stay on the calling thread.
CONV_GRAIN = 2


class _ConvShape(NamedTuple):
    """A convolution's geometry in NCHW terms (a 1-D one has height 1)."""

    n: int
    c: int
    h: int
    w: int
    cout: int
    groups: int
    kernel: Pair
    stride: Pair
    dilation: Pair
    before: Pair  # top and left padding (the bottom and right follow from the output size)
    out_hw: Pair

    @property
    def k(self) -> int:
        """Rows of a sample's column matrix: C/groups·kh·kw."""
        return self.c // self.groups * self.kernel[0] * self.kernel[1]

    @property
    def p(self) -> int:
        """Columns of a sample's column matrix: OH·OW."""
        return self.out_hw[0] * self.out_hw[1]

    @property
    def pointwise(self) -> bool:
        """A 1×1 convolution with stride 1 and no padding: its columns are the input itself."""
        return self.kernel == (1, 1) and self.stride == (1, 1) and self.out_hw == (self.h, self.w)


@memoized
def _conv_shape(
    op: str, nd: int, x_shape: tuple, x4: tuple, w_shape: tuple, w4: tuple, groups: Any,
    stride: Any, padding: Any, dilation: Any,
) -> _ConvShape:  # fmt: skip
    """Check a conv1d/conv2d call's shapes (as given, and as NCHW / 4-D weights) and
    arguments; its geometry."""
    groups = _check_groups(groups, op)
    n, c, h, wid = x4
    cout, c_g, kh, kw = w4
    if c_g * groups != c:
        raise ValueError(
            f"{op}: input of shape {x_shape} has {c} channels but weight {w_shape} expects "
            f"{c_g * groups} (groups={groups})"
        )
    if cout % groups:
        raise ValueError(
            f"{op}: weight {w_shape} has {cout} output channels, not divisible by groups={groups}"
        )
    stride2 = spatial(stride, nd, "stride", op, 1, 1)
    dilation2 = spatial(dilation, nd, "dilation", op, 1, 1)
    pads = _conv_padding(padding, nd, (kh, kw), stride2, dilation2, op)
    padded = (h + sum(pads[0]), wid + sum(pads[1]))
    span = ((kh - 1) * dilation2[0] + 1, (kw - 1) * dilation2[1] + 1)
    if span[0] > padded[0] or span[1] > padded[1]:
        raise ValueError(
            f"{op}: kernel of size {w_shape[2:]} with dilation {dilation!r} spans "
            f"{span[2 - nd :]}, larger than the padded input {padded[2 - nd :]} "
            f"(input shape {x_shape}, padding {padding!r})"
        )
    out_hw = (
        out_size(padded[0], kh, stride2[0], 0, dilation2[0]),
        out_size(padded[1], kw, stride2[1], 0, dilation2[1]),
    )
    before = (pads[0][0], pads[1][0])
    return _ConvShape(n, c, h, wid, cout, groups, (kh, kw), stride2, dilation2, before, out_hw)


def _conv(
    op: str,
    nd: int,
    input: Any,
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
) -> Tensor:
    """Shared conv1d/conv2d kernel: checks, im2col + GEMM forward, and its backward closure."""
    x, w = to_tensor(input), to_tensor(weight)
    b = None if bias is None else to_tensor(bias)
    check_float(op, x, w, b)
    xd = as_nchw(x, nd, op)
    if w.ndim != nd + 2:
        dims = "kH, kW" if nd == 2 else "kL"
        raise ValueError(
            f"{op}: weight must be {nd + 2}-D (out_channels, in_channels/groups, {dims}), "
            f"got shape {w.shape}"
        )
    wd = w._data if nd == 2 else w._data[:, :, None, :]
    shape = _conv_shape(
        op, nd, x.shape, xd.shape, w.shape, wd.shape, groups, stride, padding, dilation
    )
    _check_bias(b, shape.cout, w, op)
    keep = w.requires_grad and is_grad_enabled()
    conv = _conv_call(shape, xd, wd, keep)
    out = conv.forward(None if b is None else b._data)

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        g4 = g.reshape(out.shape)
        gx, gw = conv.backward(g4, x.requires_grad, w.requires_grad)
        gx = None if gx is None else gx.reshape(x.shape)
        return _with_bias_grad(gx, None if gw is None else gw.reshape(w.shape), b, g4)

    return make(out.reshape(lower(out.shape, nd, x.ndim == nd + 2)), _parents(x, w, b), backward)


def _conv_call(shape: _ConvShape, xd: np.ndarray, wd: np.ndarray, keep: bool) -> Any:
    """The call's forward-and-backward object: batch-wide products on small planes
    (:mod:`neuralab.ops._conv_wide`), except on 8×8 planes of under 256 channels where Winograd
    suits (faster there: 1.07x torch's speed against 0.84x for 256 -> 128), else per sample."""
    s = shape
    if _conv_wide.suits(s.n, s.groups, s.cout, s.k, s.p) and (
        s.p <= 16
        or min(s.c, s.cout) >= 256
        or not _winograd_fits(s, xd.dtype, s.c, s.cout, s.out_hw)
    ):
        keep_columns = keep and s.n * s.k * s.p * xd.dtype.itemsize <= KEEP_COLUMNS_BYTES
        return _conv_wide.WideConv(s, xd, wd, keep_columns, CONV_GRAIN)
    return _Im2colConv(shape, xd, wd, keep)


class _Im2colConv:
    """One convolution call as im2col + batched GEMMs: the forward, and the backward it keeps.

    Column matrices up to ``KEEP_COLUMNS_BYTES`` are kept from the forward for the weight
    gradient (``keep``); larger ones are rebuilt in backward, so the graph holds the input rather
    than a kh·kw times larger copy of it. A pointwise (1×1, stride 1) convolution's columns are
    the input itself. Samples go ``BLOCK_BYTES`` of columns at a time, so the columns are still
    in the cache when the GEMM reads them (each per-sample product, and so the result, is the
    same whatever the block).
    """

    def __init__(self, shape: _ConvShape, xd: np.ndarray, wd: np.ndarray, keep: bool) -> None:
        self.shape, self.xd, self.wd = shape, xd, wd
        s = shape
        # the geometry's derived sizes, once: the per-block loops below read them often
        self.k, self.p, self.rows, self.pointwise = s.k, s.p, s.cout // s.groups, s.pointwise
        self.w4 = wd.reshape(1, s.groups, self.rows, self.k)
        # Winograd for the forward, and for the input gradient (channels swapped, image size)
        self.winograd = _winograd_fits(s, xd.dtype, s.c, s.cout, s.out_hw)
        self.winograd_grad = _winograd_fits(s, xd.dtype, s.cout, s.c, (s.h, s.w))
        nbytes = s.n * s.groups * self.k * self.p * xd.dtype.itemsize
        self.kept = None
        if keep and not (self.pointwise or self.winograd) and nbytes <= KEEP_COLUMNS_BYTES:
            self.kept = np.empty((s.n, s.groups, self.k, self.p), xd.dtype)
        self.block = max(1, BLOCK_BYTES // (s.groups * self.k * self.p * xd.dtype.itemsize))
        self.work = s.n * s.cout * self.k * self.p  # the forward GEMM's multiply-adds

    def columns(self, lo: int, hi: int, build: bool = False) -> np.ndarray:
        """im2col of samples lo..hi: (hi-lo, groups, C/groups·kh·kw, OH·OW)."""
        s, xd, k, p = self.shape, self.xd, self.k, self.p
        if self.pointwise:
            return xd[lo:hi].reshape(hi - lo, s.groups, k, p)
        if self.kept is None:
            cols = im2col(xd[lo:hi], s.kernel, s.stride, s.dilation, s.out_hw, s.before)
            return cols.reshape(hi - lo, s.groups, k, p)
        if build:
            target = self.kept[lo:hi].reshape(hi - lo, s.c, *s.kernel, *s.out_hw)
            im2col(xd[lo:hi], s.kernel, s.stride, s.dilation, s.out_hw, s.before, target)
        return self.kept[lo:hi]

    def blocks(self, lo: int, hi: int) -> Iterator[tuple[int, int]]:
        """Consecutive (start, stop) sample blocks covering lo..hi."""
        return ((s, min(s + self.block, hi)) for s in range(lo, hi, self.block))

    def forward(self, bias: np.ndarray | None) -> np.ndarray:
        """The (N, C_out, OH, OW) output: per sample W @ cols, already in NCHW order."""
        s = self.shape
        if self.winograd:
            u = winograd.weight_tiles(self.wd)
            return winograd.conv3x3(self.xd, u, bias, s.before, s.out_hw, self.work, CONV_GRAIN)
        out = np.empty((s.n, s.cout, *s.out_hw), self.xd.dtype)
        out4 = out.reshape(s.n, s.groups, self.rows, self.p)

        def chunk(lo: int, hi: int) -> None:
            for start, stop in self.blocks(lo, hi):
                np.matmul(self.w4, self.columns(start, stop, build=True), out=out4[start:stop])
            if bias is not None:
                out[lo:hi] += bias[:, None, None]

        parallel_for(s.n, chunk, self.work, grain=CONV_GRAIN)
        return out

    def backward(
        self, g4: np.ndarray, need_x: bool, need_w: bool
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(input gradient (N, C, H, W), weight gradient (groups, out/groups, K)), each or None.

        The input gradient of a 3×3 stride-1 convolution is one too, of the output gradient
        with the kernel flipped and its channels swapped (padding 2 - p): Winograd where it
        suits, and so is the weight gradient of a Winograd forward; the rest is
        :meth:`gemm_backward`.
        """
        s, gx, gw = self.shape, None, None
        if need_x and self.winograd_grad:
            u = winograd.weight_tiles(self.wd, flip=True)
            pad = (2 - s.before[0], 2 - s.before[1])
            gx = winograd.conv3x3(g4, u, None, pad, (s.h, s.w), self.work, CONV_GRAIN)
            need_x = False
        if need_w and self.winograd:
            gw = winograd.weight_grad(self.xd, g4, s.before, self.work, CONV_GRAIN)
            need_w = False
        if need_x or need_w:
            rest = self.gemm_backward(g4, need_x, need_w)
            gx, gw = (rest[0] if need_x else gx), (rest[1] if need_w else gw)
        return gx, gw

    def gemm_backward(
        self, g4: np.ndarray, need_x: bool, need_w: bool
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The gradients as im2col + GEMM (see :meth:`backward`).

        Per chunk of samples: the weight gradient transposed (cols @ gradᵀ: K rows, which
        OpenBLAS runs up to 2x faster than grad @ colsᵀ) summed over the chunk, and the input
        gradient as Wᵀ @ grad followed by col2im.
        """
        s, dtype, rows, k = self.shape, self.xd.dtype, self.rows, self.k
        g_cols = g4.reshape(s.n, s.groups, rows, self.p)
        gx = np.empty((s.n, s.c, s.h, s.w), dtype) if need_x else None
        w_t = self.w4.transpose(0, 1, 3, 2)
        parts: dict[int, np.ndarray] = {}

        def chunk(lo: int, hi: int) -> None:
            per_sample = np.empty((hi - lo, s.groups, k, rows), dtype) if need_w else None
            for start, stop in self.blocks(lo, hi):
                grad = g_cols[start:stop]
                if per_sample is not None:
                    cols = self.columns(start, stop)
                    np.matmul(
                        cols, grad.transpose(0, 1, 3, 2), out=per_sample[start - lo : stop - lo]
                    )
                if gx is not None:
                    self._input_grad(w_t, grad, gx[start:stop], start, stop)
            if per_sample is not None:
                parts[lo] = per_sample.sum(axis=0)

        parallel_for(s.n, chunk, (int(need_w) + int(need_x)) * self.work, grain=CONV_GRAIN)
        gw = sum(parts[lo] for lo in sorted(parts)).transpose(0, 2, 1) if parts else None
        return gx, gw

    def _input_grad(
        self, w_t: np.ndarray, grad: np.ndarray, gx: np.ndarray, start: int, stop: int
    ) -> None:
        """``gx`` (samples start..stop) = col2im(Wᵀ @ grad); a pointwise conv's is Wᵀ @ grad."""
        s = self.shape
        if self.pointwise:
            np.matmul(w_t, grad, out=gx.reshape(stop - start, s.groups, self.k, self.p))
            return
        gcols = np.matmul(w_t, grad).reshape(stop - start, s.c, *s.kernel, *s.out_hw)
        col2im(gcols, (s.h, s.w), s.stride, s.dilation, s.before, gx)


def _winograd_fits(s: _ConvShape, dtype: np.dtype, c_in: int, c_out: int, out_hw: Pair) -> bool:
    """Whether a convolution (or its input gradient: channels swapped) runs as Winograd: 3×3,
    stride 1, undilated, ungrouped, at most 2 padding before, and a shape where it is faster."""
    plain = s.kernel == (3, 3) and s.stride == (1, 1) and s.dilation == (1, 1) and s.groups == 1
    return plain and max(s.before) <= 2 and winograd.suits(dtype, c_in, c_out, out_hw)


def _conv_padding(
    padding: Any, nd: int, kernel: Pair, stride: Pair, dilation: Pair, op: str
) -> tuple[Pair, Pair]:
    """Padding as ((top, bottom), (left, right)); 'same' puts the odd extra row/column last."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(
                    f"{op}: padding='same' is not supported for strided convolutions "
                    f"(stride={stride[2 - nd :]})"
                )
            totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return (totals[0] // 2, totals[0] - totals[0] // 2), (
                totals[1] // 2,
                totals[1] - totals[1] // 2,
            )
        raise ValueError(
            f"{op}: padding must be an int, a tuple of ints, 'valid' or 'same', got {padding!r}"
        )
    ph, pw = spatial(padding, nd, "padding", op, 0, 0)
    return (ph, ph), (pw, pw)


def _check_groups(groups: Any, op: str) -> int:
    """``groups`` as a positive int."""
    if not isinstance(groups, int | np.integer) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    return int(groups)


def _check_bias(b: Tensor | None, channels: int, w: Tensor, op: str) -> None:
    """Raise unless the bias is absent or has shape (channels,)."""
    if b is not None and b.shape != (channels,):
        raise ValueError(
            f"{op}: bias of shape {b.shape} does not match the {channels} output channels of "
            f"weight {w.shape}; expected shape ({channels},)"
        )


def _parents(x: Tensor, w: Tensor, b: Tensor | None) -> tuple[Tensor, ...]:
    """The op's parents: input, weight and, when given, bias."""
    return (x, w) if b is None else (x, w, b)


def _with_bias_grad(
    gx: np.ndarray | None, gw: np.ndarray | None, b: Tensor | None, g4: np.ndarray
) -> tuple[np.ndarray | None, ...]:
    """Append the bias gradient (the output gradient summed over batch and space) when needed."""
    if b is None:
        return gx, gw
    return gx, gw, (g4.sum(axis=(0, 2, 3)) if b.requires_grad else None)
