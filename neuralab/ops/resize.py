"""Resizing of (N, C, L), (N, C, H, W) and (N, C, D, H, W) inputs (``interpolate``): nearest,
nearest-exact, (bi/tri)linear, bicubic and area, forward and backward.

Every mode but 'area' is separable: resizing is one sparse linear map per spatial axis, the
last first (:class:`~neuralab.ops._window.AxisMap`: a gather of one to four taps per output,
weighted and summed), and the backward applies the transposed maps to the gradient. Source
indices and weights are computed as PyTorch's CPU kernels do (nearest in float32; the others in
the input's dtype, with PyTorch's handling of ``scale_factor`` and ``align_corners``), so
outputs match torch. 'area' is adaptive average pooling.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from neuralab.ops._util import to_tensor
from neuralab.ops._window import AxisMap, check_float, ntuple
from neuralab.ops.adaptive_pool import adaptive_avg_pool1d
from neuralab.ops.pool import adaptive_avg_pool2d
from neuralab.ops.volume import adaptive_avg_pool3d
from neuralab.tensor import Tensor, make

# The modes torch has and the number of spatial dimensions each takes (None: any).
_MODES = {
    "nearest": None, "nearest-exact": None, "area": None, "linear": 1, "bilinear": 2,
    "bicubic": 2, "trilinear": 3,
}  # fmt: skip
_INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")


def interpolate(
    input: Any,
    size: int | tuple[int, ...] | None = None,
    scale_factor: float | tuple[float, ...] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dimensions of (N, C, *spatial) ``input`` (1 to 3 of them) to ``size``
    or by ``scale_factor`` (torch's F.interpolate)."""
    op = "interpolate"
    x = to_tensor(input)
    check_float(op, x)
    nd = x.ndim - 2
    _check_mode(op, x, nd, mode, align_corners, antialias)
    out_sizes, scales = _output_sizes(op, x, nd, size, scale_factor)
    if recompute_scale_factor:  # torch: the sizes alone then set the scales
        scales = (None,) * nd
    if mode == "area":  # torch's 'area' is adaptive average pooling
        adaptive = (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[nd - 1]
        return adaptive(x, out_sizes if nd > 1 else out_sizes[0])
    maps = [
        _axis_map(mode, n, o, s, bool(align_corners), x._data.dtype)
        for n, o, s in zip(x.shape[2:], out_sizes, scales)
    ]
    out = x._data
    for axis in range(x.ndim - 1, 1, -1):  # the last axis first: torch's order of arithmetic
        out = maps[axis - 2](out, axis)
    adjoints = [m.transpose() for m in maps]

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        for axis in range(2, x.ndim):
            g = adjoints[axis - 2](g, axis)
        return (g,)

    return make(out, (x,), backward)


def _check_mode(
    op: str, x: Tensor, nd: int, mode: str, align_corners: bool | None, antialias: bool
) -> None:
    """torch's checks of the mode against the input's rank, with what was given."""
    if not 1 <= nd <= 3:
        raise ValueError(
            f"{op}: expected a 3-D, 4-D or 5-D input (N, C, *spatial), got shape {x.shape}"
        )
    if mode not in _MODES:
        raise ValueError(f"{op}: mode must be one of {sorted(_MODES)}, got {mode!r}")
    if _MODES[mode] not in (None, nd):
        raise ValueError(
            f"{op}: mode {mode!r} takes a {_MODES[mode] + 2}-D input, got shape {x.shape}"
        )
    if align_corners is not None and mode not in _INTERPOLATING:
        raise ValueError(
            f"{op}: align_corners can only be set with the interpolating modes "
            f"{_INTERPOLATING}, not {mode!r}"
        )
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported")


def _output_sizes(op: str, x: Tensor, nd: int, size: Any, scale_factor: Any) -> tuple:
    """The output's spatial sizes and the per-axis scale factors (None where a size was given)."""
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor")
    if size is not None:
        return ntuple(size, nd, "size", op, 1), (None,) * nd
    if isinstance(scale_factor, int | float):
        scales = (float(scale_factor),) * nd
    else:
        scales = tuple(float(s) for s in scale_factor)
    if len(scales) != nd or min(scales) <= 0:
        raise ValueError(
            f"{op}: scale_factor must be a positive number or {nd} of them, got {scale_factor!r}"
        )
    out_sizes = tuple(math.floor(n * s) for n, s in zip(x.shape[2:], scales))
    if min(out_sizes) < 1:
        raise ValueError(
            f"{op}: scale_factor {scale_factor!r} shrinks input of shape {x.shape} "
            f"to an empty output {out_sizes}"
        )
    return out_sizes, scales


def _axis_map(
    mode: str, n_in: int, n_out: int, scale: float | None, align: bool, dtype: np.dtype
) -> AxisMap:
    if mode in ("nearest", "nearest-exact"):
        return _nearest_map(n_in, n_out, scale, exact=mode == "nearest-exact")
    if mode == "bicubic":
        return _cubic_map(n_in, n_out, scale, align, dtype)
    return _linear_map(n_in, n_out, scale, align, dtype)


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


def _nearest_map(n_in: int, n_out: int, scale_factor: float | None, exact: bool = False) -> AxisMap:
    """Nearest-neighbour source index per output in float32 like torch: floor(dst * scale), or
    for 'nearest-exact' floor((dst + 0.5) * scale), the pixel whose centre is nearest."""
    dst = np.arange(n_out)
    if n_out == n_in:
        src = dst
    elif n_out == 2 * n_in and not exact:
        src = dst >> 1
    else:
        scale = (
            np.float32(1.0 / scale_factor) if scale_factor else np.float32(n_in) / np.float32(n_out)
        )
        at = dst.astype(np.float32) + np.float32(0.5) if exact else dst.astype(np.float32)
        src = np.minimum(np.floor(at * scale).astype(np.int64), n_in - 1)
    return AxisMap(dst, src, None, n_out, n_in)


def _source(
    n_in: int, n_out: int, scale_factor: float | None, align_corners: bool, dtype: np.dtype
) -> np.ndarray:
    """Each output position's source coordinate along an axis, computed in ``dtype`` as torch's
    linear and cubic kernels do (the half-pixel form unless ``align_corners``; unclamped)."""
    f = dtype.type
    dst = np.arange(n_out).astype(dtype)
    if align_corners:
        return dst * (f(n_in - 1) / f(n_out - 1) if n_out > 1 else f(0))
    scale = f(1.0 / scale_factor) if scale_factor else f(n_in) / f(n_out)
    return (dst + f(0.5)) * scale - f(0.5)


def _linear_map(
    n_in: int, n_out: int, scale_factor: float | None, align_corners: bool, dtype: np.dtype
) -> AxisMap:
    """Two taps per output with weights 1 - lambda and lambda, computed in ``dtype`` like torch."""
    f = dtype.type
    src = _source(n_in, n_out, scale_factor, align_corners, dtype)
    if not align_corners:
        src = np.maximum(src, f(0))  # (the cubic taps are not clamped at 0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    lam = np.clip(src - i0.astype(dtype), f(0), f(1))
    i1 = i0 + (i0 < n_in - 1)
    rows = np.repeat(np.arange(n_out), 2)
    cols = np.stack([i0, i1], axis=1).reshape(-1)
    weights = np.stack([f(1) - lam, lam], axis=1).reshape(-1)
    return AxisMap(rows, cols, weights, n_out, n_in)


def _cubic_map(
    n_in: int, n_out: int, scale_factor: float | None, align_corners: bool, dtype: np.dtype
) -> AxisMap:
    """Four taps per output (the neighbours at -1, 0, +1, +2, clamped to the edge) with Keys'
    cubic-convolution weights (A = -0.75), computed in ``dtype`` like torch's bicubic kernel."""
    a = dtype.type(-0.75)
    src = _source(n_in, n_out, scale_factor, align_corners, dtype)
    base = np.floor(src)
    t = src - base
    weights = [
        ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
        ((a + 2) * t - (a + 3)) * t * t + 1,
        ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
        ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a,
    ]
    cols = [np.clip(base.astype(np.int64) + k, 0, n_in - 1) for k in (-1, 0, 1, 2)]
    rows = np.repeat(np.arange(n_out), 4)
    return AxisMap(
        rows, np.stack(cols, 1).reshape(-1), np.stack(weights, 1).reshape(-1), n_out, n_in
    )
