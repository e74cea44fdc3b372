"""Spatial transformers: ``affine_grid`` makes a sampling grid from 2×3 affine matrices and
``grid_sample`` reads an NCHW image at a grid's points (bilinear, nearest or bicubic), as
torch's.

Grid points are (x, y) in [-1, 1] across the image's width and height: with
``align_corners=True`` -1 and 1 are the centres of the corner pixels, otherwise their outer
edges. Points outside read zeros, the nearest border pixel, or the image reflected at its
border (``padding_mode``). The backward sends gradients to the image (each tap's weight times
the output gradient, summed where taps coincide) and, for bilinear and bicubic sampling, to
the grid (the slope of the interpolation), so a localisation network before ``affine_grid``
learns. Bicubic sampling reads 4×4 taps with Keys' weights (A = -0.75), each tap put through
the padding mode on its own, as torch does.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from neuralab.ops._util import to_tensor
from neuralab.ops._window import check_float
from neuralab.tensor import Tensor, constant, make

MODES = ("bilinear", "nearest", "bicubic")
PADDING_MODES = ("zeros", "border", "reflection")


def _align(align_corners: bool | None, op: str) -> bool:
    """``align_corners`` with torch's default (False, with its warning when left unset)."""
    if align_corners is None:
        warnings.warn(
            f"{op}: align_corners defaults to False (corner points at the pixels' outer edges) "
            "since torch 1.3; pass align_corners=True for the older behaviour",
            UserWarning,
            stacklevel=3,
        )
        return False
    return bool(align_corners)


def affine_grid(theta: Any, size: Any, align_corners: bool | None = None) -> Tensor:
    """The (N, H, W, 2) grid of points θ·(x, y, 1) for each output pixel of ``size``
    (N, C, H, W), from ``theta`` (N, 2, 3); differentiable in theta."""
    op = "affine_grid"
    align = _align(align_corners, op)
    theta = to_tensor(theta)
    check_float(op, theta)
    size = tuple(int(s) for s in size)
    if len(size) != 4:
        raise NotImplementedError(
            f"{op}: only 4-D sizes (N, C, H, W), for 2-D affine transforms, are supported; "
            f"got size {size}"
        )
    n, _, h, w = size
    if tuple(theta.shape) != (n, 2, 3):
        raise ValueError(
            f"{op}: expected a batch of 2-D affine matrices of shape ({n}, 2, 3) for size "
            f"{size}, got theta of shape {tuple(theta.shape)}"
        )
    if min(size) <= 0:
        raise ValueError(f"{op}: expected a non-empty size, got {size}")
    dtype = theta._data.dtype
    base = np.ones((h, w, 3), dtype)
    base[..., 0] = _axis_points(w, align, dtype)
    base[..., 1] = _axis_points(h, align, dtype)[:, None]
    grid = constant(base.reshape(1, h * w, 3)) @ theta.transpose(1, 2)
    return grid.reshape(n, h, w, 2)


def _axis_points(n: int, align: bool, dtype: np.dtype) -> np.ndarray:
    """The n normalised coordinates of one axis' pixel centres."""
    points = np.linspace(-1.0, 1.0, n, dtype=dtype) if n > 1 else np.zeros(1, dtype)
    return points if align else points * dtype.type((n - 1) / n)


def grid_sample(
    input: Any,
    grid: Any,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
    align_corners: bool | None = None,
) -> Tensor:
    """``input`` (N, C, H, W) read at the points of ``grid`` (N, H_out, W_out, 2): the
    (N, C, H_out, W_out) samples (torch's F.grid_sample, 2-D: bilinear, nearest or bicubic)."""
    op = "grid_sample"
    x, g = to_tensor(input), to_tensor(grid)
    _check(op, x, g, mode, padding_mode)
    align = _align(align_corners, op)
    xd, gd = x._data, g._data
    n, c, h, w = xd.shape
    out_hw = gd.shape[1:3]
    flat = xd.reshape(n, c, h * w)
    gx_, gy_ = gd[..., 0].reshape(n, -1), gd[..., 1].reshape(n, -1)
    if mode == "bicubic":
        taps, frac = _bicubic(gx_, gy_, h, w, padding_mode, align)
        dx, dy = frac[-2:]
    else:
        ix, dx = _source(gx_, w, padding_mode, align)
        iy, dy = _source(gy_, h, padding_mode, align)
        taps, frac = _nearest(ix, iy, h, w) if mode == "nearest" else _bilinear(ix, iy, h, w)
    out = np.zeros((n, c, gx_.shape[1]), xd.dtype)
    for index, weight, _ in taps:
        out += np.take_along_axis(flat, index[:, None, :], 2) * weight[:, None, :]

    def backward(go: np.ndarray) -> tuple:
        go = go.reshape(n, c, -1)
        gx = _input_grad(go, taps, (n, c, h, w)) if x.requires_grad else None
        gg = None
        if g.requires_grad:
            gg = np.zeros(gd.shape, gd.dtype)
            if mode != "nearest":
                slopes = _slopes if mode == "bilinear" else _cubic_slopes
                slope_x, slope_y = slopes(go, flat, taps, frac)
                gg[..., 0] = (slope_x * dx).reshape(n, *out_hw)
                gg[..., 1] = (slope_y * dy).reshape(n, *out_hw)
        return gx, gg

    return make(out.reshape(n, c, *out_hw), (x, g), backward)


def _check(op: str, x: Tensor, g: Tensor, mode: str, padding_mode: str) -> None:
    """torch's checks of grid_sample's arguments, with what was given."""
    check_float(op, x)
    if mode not in MODES:
        raise ValueError(f"{op}: mode must be one of {MODES}, got {mode!r}")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"{op}: padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
    if x.ndim != 4 or g.ndim != 4:
        raise ValueError(
            f"{op}: expected a 4-D input (N, C, H, W) and a 4-D grid (N, H_out, W_out, 2), got "
            f"shapes {tuple(x.shape)} and {tuple(g.shape)}"
        )
    if g.shape[0] != x.shape[0] or g.shape[3] != 2:
        raise ValueError(
            f"{op}: the grid must be (N, H_out, W_out, 2) with the input's N={x.shape[0]}, "
            f"got {tuple(g.shape)}"
        )
    if x._data.dtype != g._data.dtype:
        raise TypeError(
            f"{op}: the input ({x._data.dtype}) and the grid ({g._data.dtype}) must have the "
            "same dtype"
        )
    if min(x.shape[2:]) <= 0:
        raise ValueError(f"{op}: the input's height and width must be positive, got {x.shape}")


def _source(coords: np.ndarray, size: int, padding: str, align: bool) -> tuple:
    """Pixel coordinates of normalised ``coords`` along an axis of ``size`` pixels after the
    padding mode's clipping or reflection, and d(pixel)/d(coordinate) for the grid's gradient."""
    scale = (size - 1) / 2 if align else size / 2
    pos = ((coords + 1) * size - 1) / 2 if not align else (coords + 1) / 2 * (size - 1)
    slope = np.full(pos.shape, scale, pos.dtype)
    if padding == "reflection":
        low, high = (0, 2 * (size - 1)) if align else (-1, 2 * size - 1)
        pos, sign = _reflect(pos, low, high)
        slope *= sign
    if padding != "zeros":
        inside = (pos >= 0) & (pos <= size - 1)
        pos = np.clip(pos, 0, size - 1)
        slope *= inside
    return pos, slope


def _reflect(pos: np.ndarray, twice_low: int, twice_high: int) -> tuple:
    """``pos`` reflected into [twice_low/2, twice_high/2] and the sign of d(out)/d(pos)."""
    if twice_low == twice_high:
        return np.zeros_like(pos), np.zeros_like(pos)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    shifted = pos - low
    sign = np.where(shifted < 0, -1.0, 1.0).astype(pos.dtype)
    shifted = np.abs(shifted)
    extra = np.fmod(shifted, span)
    odd = np.floor(shifted / span) % 2 == 1
    out = np.where(odd, span - extra + low, extra + low).astype(pos.dtype)
    return out, np.where(odd, -sign, sign)


def _tap(xs: np.ndarray, ys: np.ndarray, weight: np.ndarray, h: int, w: int) -> tuple:
    """One tap: flat pixel indices (0 where outside), its weight (0 outside) and where it is
    inside the image."""
    inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
    index = np.where(inside, ys * w + xs, 0)
    return index, np.where(inside, weight, 0).astype(weight.dtype), inside


def _bilinear(ix: np.ndarray, iy: np.ndarray, h: int, w: int) -> tuple[list[tuple], tuple]:
    """The four taps around each point, weighted by the opposite areas, and the fractional
    offsets (fx, fy) of the points from their top-left taps."""
    x0, y0 = np.floor(ix), np.floor(iy)
    fx, fy = ix - x0, iy - y0
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    taps = [
        _tap(x0, y0, (1 - fx) * (1 - fy), h, w),
        _tap(x0 + 1, y0, fx * (1 - fy), h, w),
        _tap(x0, y0 + 1, (1 - fx) * fy, h, w),
        _tap(x0 + 1, y0 + 1, fx * fy, h, w),
    ]
    return taps, (fx, fy)


def _nearest(ix: np.ndarray, iy: np.ndarray, h: int, w: int) -> tuple[list[tuple], None]:
    """The nearest pixel (halves round to even, as torch's nearbyint)."""
    one = np.ones(ix.shape, ix.dtype)
    return [_tap(np.rint(ix).astype(np.int64), np.rint(iy).astype(np.int64), one, h, w)], None


def _input_grad(go: np.ndarray, taps: list[tuple], shape: tuple) -> np.ndarray:
    """The image's gradient: each tap's weighted output gradient added at its pixel."""
    n, c, h, w = shape
    rows = (np.arange(n * c) * (h * w)).reshape(n, c, 1)
    total = np.zeros(n * c * h * w, np.float64)
    for index, weight, _ in taps:
        where = (rows + index[:, None, :]).ravel()
        total += np.bincount(where, (go * weight[:, None, :]).ravel(), total.size)
    return total.astype(go.dtype).reshape(shape)


def _slopes(go: np.ndarray, flat: np.ndarray, taps: list[tuple], frac: tuple) -> tuple:
    """d(loss)/d(pixel x) and d(loss)/d(pixel y) at each bilinear point (taps outside the
    image read zero)."""
    s00, s10, s01, s11 = (
        np.einsum("ncp,ncp->np", go, np.take_along_axis(flat, index[:, None, :], 2)) * inside
        for index, _, inside in taps
    )  # Σ over channels of the output gradient times each tap's value
    fx, fy = frac
    return (s10 - s00) * (1 - fy) + (s11 - s01) * fy, (s01 - s00) * (1 - fx) + (s11 - s10) * fx


def _cubic(t: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Keys' cubic-convolution weights (A = -0.75) of the taps at -1, 0, +1, +2 for fractional
    offsets ``t``, and their derivatives in t."""
    a = t.dtype.type(-0.75)
    u, v, s = 1 - t, 2 - t, t + 1
    weights = [
        ((a * s - 5 * a) * s + 8 * a) * s - 4 * a,
        ((a + 2) * t - (a + 3)) * t * t + 1,
        ((a + 2) * u - (a + 3)) * u * u + 1,
        ((a * v - 5 * a) * v + 8 * a) * v - 4 * a,
    ]
    slopes = [
        3 * a * s * s - 10 * a * s + 8 * a,
        3 * (a + 2) * t * t - 2 * (a + 3) * t,
        -(3 * (a + 2) * u * u - 2 * (a + 3) * u),
        -(3 * a * v * v - 10 * a * v + 8 * a),
    ]
    return weights, slopes


def _tap_position(pos: np.ndarray, size: int, padding: str, align: bool) -> np.ndarray:
    """One tap's integer pixel after the padding mode (torch pads each bicubic tap alone)."""
    if padding == "reflection":
        low, high = (0, 2 * (size - 1)) if align else (-1, 2 * size - 1)
        pos = _reflect(pos, low, high)[0]
    if padding != "zeros":
        pos = np.clip(pos, 0, size - 1)
    return np.rint(pos).astype(np.int64)


def _bicubic(gx: np.ndarray, gy: np.ndarray, h: int, w: int, padding: str, align: bool) -> tuple:
    """The 4×4 taps around each point, weighted by products of cubic weights, and what the
    grid's gradient needs: the per-axis weights and slopes and d(pixel)/d(coordinate)."""
    ix, dx = _source(gx, w, "zeros", align)  # the point itself is not clipped, only its taps
    iy, dy = _source(gy, h, "zeros", align)
    x0, y0 = np.floor(ix), np.floor(iy)
    (wx, sx), (wy, sy) = _cubic(ix - x0), _cubic(iy - y0)
    columns = [_tap_position(x0 + (j - 1), w, padding, align) for j in range(4)]
    taps = []
    for i in range(4):
        row = _tap_position(y0 + (i - 1), h, padding, align)
        taps += [_tap(columns[j], row, wx[j] * wy[i], h, w) for j in range(4)]
    return taps, (wx, sx, wy, sy, dx, dy)


def _cubic_slopes(go: np.ndarray, flat: np.ndarray, taps: list[tuple], frac: tuple) -> tuple:
    """d(loss)/d(pixel x) and d(loss)/d(pixel y) at each bicubic point."""
    wx, sx, wy, sy = frac[:4]
    slope_x = slope_y = 0
    for k, (index, _, inside) in enumerate(taps):
        i, j = divmod(k, 4)
        value = np.einsum("ncp,ncp->np", go, np.take_along_axis(flat, index[:, None, :], 2))
        value = value * inside
        slope_x = slope_x + value * wy[i] * sx[j]
        slope_y = slope_y + value * sy[i] * wx[j]
    return slope_x, slope_y
