"""``F.unfold`` (im2col: every sliding block as a column) and ``F.fold`` (col2im: sum columns
back into an image), each the other's adjoint, on the convolution's window machinery."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.ops._util import float_tensor
from neuralab.ops._window import col2im, im2col, ntuple, out_size
from neuralab.tensor import Tensor, make

__all__ = ["fold", "unfold"]


def _input(op: str, input: Any, ndims: tuple[int, int], expected: str) -> Tensor:
    """``input`` as a float tensor, checked to have one of ``ndims`` dimensions (unbatched or
    batched); ``expected`` names the layouts in the error."""
    x = float_tensor(input, op)
    if x.ndim not in ndims:
        raise ValueError(f"{op}: expected {expected} {x.shape}")
    return x


def _geometry(op: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> tuple:
    """(kernel, dilation, padding, stride) as pairs, checked."""
    return (
        ntuple(kernel_size, 2, "kernel_size", op, 1),
        ntuple(dilation, 2, "dilation", op, 1),
        ntuple(padding, 2, "padding", op, 0),
        ntuple(stride, 2, "stride", op, 1),
    )


def _blocks(image_hw: tuple[int, ...], kernel: tuple, dilation: tuple, pad: tuple, stride: tuple):
    """The number of sliding blocks along each spatial dim."""
    return tuple(
        out_size(image_hw[i], kernel[i], stride[i], 2 * pad[i], dilation[i]) for i in range(2)
    )


def unfold(
    input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
) -> Tensor:
    """(N, C, H, W) → (N, C·kh·kw, L): each of the L sliding blocks flattened into a column."""
    op = "unfold"
    x = _input(op, input, (3, 4), "(N, C, H, W) or (C, H, W) input, got shape")
    kernel, dilation, pad, stride = _geometry(op, kernel_size, dilation, padding, stride)
    image = x._data if x.ndim == 4 else x._data[None]
    n, c, h, w = image.shape
    oh, ow = _blocks((h, w), kernel, dilation, pad, stride)
    if oh < 1 or ow < 1:
        raise ValueError(f"{op}: the blocks of kernel {kernel} do not fit input shape {x.shape}")
    cols = im2col(image, kernel, stride, dilation, (oh, ow), pad)
    out = cols.reshape(n, c * kernel[0] * kernel[1], oh * ow)

    def backward(g: np.ndarray) -> tuple:
        image_g = col2im(g.reshape(cols.shape), (h, w), stride, dilation, pad)
        return (image_g.reshape(x.shape),)

    return make(out if x.ndim == 4 else out[0], (x,), backward)


def fold(
    input: Tensor,
    output_size: Any,
    kernel_size: Any,
    dilation: Any = 1,
    padding: Any = 0,
    stride: Any = 1,
) -> Tensor:
    """(N, C·kh·kw, L) → (N, C, H, W): sum the columns back into their blocks (overlaps add)."""
    op = "fold"
    x = _input(op, input, (2, 3), "(N, C·kh·kw, L) or (C·kh·kw, L) input, got")
    kernel, dilation, pad, stride = _geometry(op, kernel_size, dilation, padding, stride)
    h, w = ntuple(output_size, 2, "output_size", op, 1)
    oh, ow = _blocks((h, w), kernel, dilation, pad, stride)
    cols = x._data if x.ndim == 3 else x._data[None]
    n, ckk, length = cols.shape
    kk = kernel[0] * kernel[1]
    if ckk % kk or length != oh * ow:
        raise ValueError(
            f"{op}: input shape {x.shape} does not fit: dim -2 must be a multiple of "
            f"kh·kw = {kk} and dim -1 the {oh}·{ow} = {oh * ow} blocks of output_size {(h, w)}"
        )
    blocks = cols.reshape(n, ckk // kk, *kernel, oh, ow)
    image = col2im(blocks, (h, w), stride, dilation, pad)

    def backward(g: np.ndarray) -> tuple:
        g4 = g if x.ndim == 3 else g[None]
        return (im2col(g4, kernel, stride, dilation, (oh, ow), pad).reshape(x.shape),)

    return make(image if x.ndim == 3 else image[0], (x,), backward)
