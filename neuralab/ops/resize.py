"""Resizing of NCHW images (``interpolate``, nearest and bilinear), forward and backward.

Both modes are separable: resizing is one sparse linear map along W, then one along H
(:class:`~neuralab.ops._window.AxisMap`: a gather of one or two taps per output, weighted and
summed), and the backward applies the transposed maps to the gradient. Source indices and weights
are computed exactly as PyTorch's CPU kernels do (nearest in float32; bilinear in the input's
dtype, with PyTorch's handling of ``scale_factor`` and ``align_corners``), so outputs match torch.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from neuralab.ops._util import to_tensor
from neuralab.ops._window import AxisMap, check_float, ntuple
from neuralab.tensor import Tensor, make


def interpolate(
    input: Any,
    size: int | tuple[int, int] | None = None,
    scale_factor: float | tuple[float, float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """Resize 4-D ``input`` to ``size`` or by ``scale_factor`` (torch's F.interpolate)."""
    op = "interpolate"
    x = to_tensor(input)
    check_float(op, x)
    if x.ndim != 4:
        raise ValueError(f"{op}: only 4-D (N, C, H, W) input is supported, got shape {x.shape}")
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"{op}: mode must be 'nearest' or 'bilinear', got {mode!r}")
    if align_corners is not None and mode == "nearest":
        raise ValueError(f"{op}: align_corners can only be set with mode='bilinear'")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor")
    in_hw = x.shape[2:]
    if size is not None:
        out_hw = ntuple(size, 2, "size", op, 1)
        scales: tuple[float | None, ...] = (None, None)
    else:
        if isinstance(scale_factor, int | float):
            scales = (float(scale_factor),) * 2
        else:
            scales = tuple(float(s) for s in scale_factor)
        if len(scales) != 2 or min(scales) <= 0:
            raise ValueError(
                f"{op}: scale_factor must be a positive number or pair, got {scale_factor!r}"
            )
        out_hw = tuple(math.floor(n * s) for n, s in zip(in_hw, scales))
        if min(out_hw) < 1:
            raise ValueError(
                f"{op}: scale_factor {scale_factor!r} shrinks input of shape {x.shape} "
                f"to an empty output {out_hw}"
            )
    if mode == "nearest":
        maps = [_nearest_map(n, o, s) for n, o, s in zip(in_hw, out_hw, scales)]
    else:
        maps = [
            _linear_map(n, o, s, bool(align_corners), x.dtype)
            for n, o, s in zip(in_hw, out_hw, scales)
        ]
    mh, mw = maps
    out = mh(mw(x._data, 3), 2)  # W first, then H: torch's order of bilinear arithmetic
    mh_t, mw_t = mh.transpose(), mw.transpose()

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (mw_t(mh_t(g, 2), 3),)

    return make(out, (x,), backward)


def upsample(
    input: Any,
    size: int | tuple[int, int] | None = None,
    scale_factor: float | tuple[float, float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """torch's deprecated F.upsample: :func:`interpolate`, with torch's warning."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(
    input: Any,
    size: int | tuple[int, int] | None = None,
    scale_factor: float | tuple[float, float] | None = None,
) -> Tensor:
    """torch's deprecated F.upsample_nearest: :func:`interpolate` with mode 'nearest'."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, "nearest")


def upsample_bilinear(
    input: Any,
    size: int | tuple[int, int] | None = None,
    scale_factor: float | tuple[float, float] | None = None,
) -> Tensor:
    """torch's deprecated F.upsample_bilinear: :func:`interpolate`, bilinear, corners aligned."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, "bilinear", align_corners=True)


def _deprecated(name: str) -> None:
    warnings.warn(
        f"nn.functional.{name} is deprecated; use nn.functional.interpolate instead",
        UserWarning,
        stacklevel=3,
    )


def _nearest_map(n_in: int, n_out: int, scale_factor: float | None) -> AxisMap:
    """Nearest-neighbour source index per output, floor(dst * scale) in float32 like torch."""
    dst = np.arange(n_out)
    if n_out == n_in:
        src = dst
    elif n_out == 2 * n_in:
        src = dst >> 1
    else:
        scale = (
            np.float32(1.0 / scale_factor) if scale_factor else np.float32(n_in) / np.float32(n_out)
        )
        src = np.minimum(np.floor(dst.astype(np.float32) * scale).astype(np.int64), n_in - 1)
    return AxisMap(dst, src, None, n_out, n_in)


def _linear_map(
    n_in: int, n_out: int, scale_factor: float | None, align_corners: bool, dtype: np.dtype
) -> AxisMap:
    """Two taps per output with weights 1 - lambda and lambda, computed in ``dtype`` like torch."""
    f = dtype.type
    dst = np.arange(n_out).astype(dtype)
    if align_corners:
        scale = f(n_in - 1) / f(n_out - 1) if n_out > 1 else f(0)
        src = dst * scale
    else:
        scale = f(1.0 / scale_factor) if scale_factor else f(n_in) / f(n_out)
        src = np.maximum((dst + f(0.5)) * scale - f(0.5), f(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    lam = np.clip(src - i0.astype(dtype), f(0), f(1))
    i1 = i0 + (i0 < n_in - 1)
    rows = np.repeat(np.arange(n_out), 2)
    cols = np.stack([i0, i1], axis=1).reshape(-1)
    weights = np.stack([f(1) - lam, lam], axis=1).reshape(-1)
    return AxisMap(rows, cols, weights, n_out, n_in)
