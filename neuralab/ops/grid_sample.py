"""Spatial transformers: ``affine_grid`` makes a sampling grid from 2×3 (or 3×4) affine
matrices and ``grid_sample`` reads an NCHW image (or NCDHW volume) at a grid's points
(bilinear, nearest or, in 2-D, bicubic), as torch's.

Grid points are (x, y) in [-1, 1] across the image's width and height (x, y, z across a
volume's width, height and depth, where "bilinear" is trilinear): with
``align_corners=True`` -1 and 1 are the centres of the corner pixels, otherwise their outer
edges. Points outside read zeros, the nearest border pixel, or the image reflected at its
border (``padding_mode``). The backward sends gradients to the image (each tap's weight times
the output gradient, summed where taps coincide) and, for bilinear and bicubic sampling, to
the grid (the slope of the interpolation), so a localisation network before ``affine_grid``
learns. Bicubic sampling reads 4×4 taps with Keys' weights (A = -0.75), each tap put through
the padding mode on its own, as torch does.
"""

from __future__ import annotations

import itertools
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
    """The (N, H, W, 2) or (N, D, H, W, 3) grid of points θ·(x, y[, z], 1) for each output
    point of ``size`` (N, C, H, W) or (N, C, D, H, W), from ``theta`` (N, 2, 3) or (N, 3, 4);
    differentiable in theta."""
    op = "affine_grid"
    align = _align(align_corners, op)
    theta = to_tensor(theta)
    check_float(op, theta)
    size = tuple(int(s) for s in size)
    if len(size) not in (4, 5):
        raise NotImplementedError(
            f"{op}: only 4-D sizes (N, C, H, W) and 5-D sizes (N, C, D, H, W), for 2-D and "
            f"3-D affine transforms, are supported; got size {size}"
        )
    n, spatial = size[0], size[2:]
    k = len(spatial)
    if tuple(theta.shape) != (n, k, k + 1):
        raise ValueError(
            f"{op}: expected a batch of {k}-D affine matrices of shape ({n}, {k}, {k + 1}) for "
            f"size {size}, got theta of shape {tuple(theta.shape)}"
        )
    if min(size) <= 0:
        raise ValueError(f"{op}: expected a non-empty size, got {size}")
    dtype = theta._data.dtype
    base = np.ones((*spatial, k + 1), dtype)
    for axis, length in enumerate(reversed(spatial)):  # x runs along the last dimension
        shape = [1] * k
        shape[k - 1 - axis] = length
        base[..., axis] = _axis_points(length, align, dtype).reshape(shape)
    grid = constant(base.reshape(1, -1, k + 1)) @ theta.transpose(1, 2)
    return grid.reshape(n, *spatial, k)


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
    """``input`` (N, C, H, W) read at the points of ``grid`` (N, H_out, W_out, 2), or
    (N, C, D, H, W) at (N, D_out, H_out, W_out, 3): the (N, C, *out) samples (torch's
    F.grid_sample: bilinear/trilinear, nearest, or bicubic in 2-D)."""
    op = "grid_sample"
    x, g = to_tensor(input), to_tensor(grid)
    _check(op, x, g, mode, padding_mode)
    align = _align(align_corners, op)
    xd, gd = x._data, g._data
    n, c = xd.shape[:2]
    sizes = xd.shape[:1:-1]  # per grid coordinate (x, y[, z]): W, H[, D]
    out_shape = gd.shape[1:-1]
    flat = xd.reshape(n, c, -1)
    coords = [gd[..., axis].reshape(n, -1) for axis in range(len(sizes))]
    taps, frac, scales = _interpolate(coords, sizes, mode, padding_mode, align)
    out = np.zeros((n, c, coords[0].shape[1]), xd.dtype)
    for index, weight, _ in taps:
        out += _read(flat, index) * weight[:, None, :]

    def backward(go: np.ndarray) -> tuple:
        go = go.reshape(n, c, -1)
        gx = _input_grad(go, taps, xd.shape) if x.requires_grad else None
        gg = None
        if g.requires_grad:
            gg = np.zeros(gd.shape, gd.dtype)
            if mode != "nearest":
                slopes = _slopes if mode == "bilinear" else _cubic_slopes
                for axis, (slope, scale) in enumerate(zip(slopes(go, flat, taps, frac), scales)):
                    gg[..., axis] = (slope * scale).reshape(n, *out_shape)
        return gx, gg

    return make(out.reshape(n, c, *out_shape), (x, g), backward)


def _interpolate(coords: list, sizes: tuple, mode: str, padding: str, align: bool) -> tuple:
    """The taps (flat index, weight, inside) of each point, what the grid's gradient needs
    of the interpolation, and d(pixel)/d(coordinate) per axis."""
    if mode == "bicubic":
        return _bicubic(coords, sizes, padding, align)
    positions, scales = zip(*(_source(cd, sz, padding, align) for cd, sz in zip(coords, sizes)))
    taps, frac = _nearest(positions, sizes) if mode == "nearest" else _linear(positions, sizes)
    return taps, frac, scales


def _check(op: str, x: Tensor, g: Tensor, mode: str, padding_mode: str) -> None:
    """torch's checks of grid_sample's arguments, with what was given."""
    check_float(op, x)
    if mode not in MODES:
        raise ValueError(f"{op}: mode must be one of {MODES}, got {mode!r}")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"{op}: padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
    if x.ndim not in (4, 5) or g.ndim != x.ndim:
        raise ValueError(
            f"{op}: expected a 4-D input (N, C, H, W) with a 4-D grid (N, H_out, W_out, 2), or a "
            "5-D input (N, C, D, H, W) with a 5-D grid (N, D_out, H_out, W_out, 3), got shapes "
            f"{tuple(x.shape)} and {tuple(g.shape)}"
        )
    k = x.ndim - 2
    if g.shape[0] != x.shape[0] or g.shape[-1] != k:
        layout = "(N, H_out, W_out, 2)" if k == 2 else "(N, D_out, H_out, W_out, 3)"
        raise ValueError(
            f"{op}: the grid must be {layout} with the input's N={x.shape[0]}, got {tuple(g.shape)}"
        )
    if mode == "bicubic" and k == 3:
        raise RuntimeError(f"{op}: bicubic interpolation only supports 4-D input, got 5-D")
    if x._data.dtype != g._data.dtype:
        raise TypeError(
            f"{op}: the input ({x._data.dtype}) and the grid ({g._data.dtype}) must have the "
            "same dtype"
        )
    if min(x.shape[2:]) <= 0:
        raise ValueError(f"{op}: the input's spatial sizes must be positive, got {x.shape}")


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


def _tap(points: list, weight: np.ndarray, sizes: tuple) -> tuple:
    """One tap at integer ``points`` (x, y[, z]): flat indices (0 where outside), its weight
    (0 outside) and where it is inside the input."""
    inside = np.logical_and.reduce([(p >= 0) & (p < size) for p, size in zip(points, sizes)])
    index, stride = 0, 1
    for p, size in zip(points, sizes):
        index, stride = index + p * stride, stride * size
    return np.where(inside, index, 0), np.where(inside, weight, 0).astype(weight.dtype), inside


def _corners(k: int) -> list[tuple[int, ...]]:
    """The 2**k corners of a unit cell as offsets (x, y[, z]), x varying fastest."""
    return [corner[::-1] for corner in itertools.product((0, 1), repeat=k)]


def _corner_weight(corner: tuple, frac: list, skip: int = -1) -> np.ndarray:
    """The product over axes (but ``skip``) of f or 1 - f: the share of a corner's tap."""
    weight = np.ones(frac[0].shape, frac[0].dtype)
    for axis, (bit, f) in enumerate(zip(corner, frac)):
        if axis != skip:
            weight = weight * (f if bit else 1 - f)
    return weight


def _linear(positions: list, sizes: tuple) -> tuple[list[tuple], list]:
    """The 2**k taps around each point (bilinear, or trilinear in 3-D), each weighted by the
    opposite cell's volume, and the points' fractional offsets from their lowest corner."""
    lows = [np.floor(p) for p in positions]
    frac = [p - low for p, low in zip(positions, lows)]
    lows = [low.astype(np.int64) for low in lows]
    taps = [
        _tap([low + bit for low, bit in zip(lows, corner)], _corner_weight(corner, frac), sizes)
        for corner in _corners(len(positions))
    ]
    return taps, frac


def _nearest(positions: list, sizes: tuple) -> tuple[list[tuple], None]:
    """The nearest pixel (halves round to even, as torch's nearbyint)."""
    one = np.ones(positions[0].shape, positions[0].dtype)
    return [_tap([np.rint(p).astype(np.int64) for p in positions], one, sizes)], None


def _read(flat: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The (N, C, P) values of the flattened input at one tap's (N, P) indices."""
    return np.take_along_axis(flat, index[:, None, :], 2)


def _tap_sums(go: np.ndarray, flat: np.ndarray, tap: tuple) -> np.ndarray:
    """Σ over channels of the output gradient times a tap's value (zero outside the input)."""
    index, _, inside = tap
    return np.einsum("ncp,ncp->np", go, _read(flat, index)) * inside


def _input_grad(go: np.ndarray, taps: list[tuple], shape: tuple) -> np.ndarray:
    """The input's gradient: each tap's weighted output gradient added at its pixel."""
    n, c = shape[:2]
    size = int(np.prod(shape[2:]))
    rows = (np.arange(n * c) * size).reshape(n, c, 1)
    total = np.zeros(n * c * size, np.float64)
    for index, weight, _ in taps:
        where = (rows + index[:, None, :]).ravel()
        total += np.bincount(where, (go * weight[:, None, :]).ravel(), total.size)
    return total.astype(go.dtype).reshape(shape)


def _slopes(go: np.ndarray, flat: np.ndarray, taps: list[tuple], frac: list) -> list:
    """d(loss)/d(pixel coordinate) along each axis at each linearly interpolated point: the
    differences of the taps' values across that axis, weighted over the other axes."""
    sums = [_tap_sums(go, flat, tap) for tap in taps]
    corners = _corners(len(frac))
    return [
        sum(
            (s if corner[axis] else -s) * _corner_weight(corner, frac, skip=axis)
            for corner, s in zip(corners, sums)
        )
        for axis in range(len(frac))
    ]


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


def _bicubic(coords: list, sizes: tuple, padding: str, align: bool) -> tuple:
    """The 4×4 taps around each 2-D point, weighted by products of cubic weights, the per-axis
    weights and slopes for the grid's gradient, and d(pixel)/d(coordinate) per axis."""
    (gx, gy), (w, h) = coords, sizes
    ix, dx = _source(gx, w, "zeros", align)  # the point itself is not clipped, only its taps
    iy, dy = _source(gy, h, "zeros", align)
    x0, y0 = np.floor(ix), np.floor(iy)
    (wx, sx), (wy, sy) = _cubic(ix - x0), _cubic(iy - y0)
    columns = [_tap_position(x0 + (j - 1), w, padding, align) for j in range(4)]
    taps = []
    for i in range(4):
        row = _tap_position(y0 + (i - 1), h, padding, align)
        taps += [_tap([columns[j], row], wx[j] * wy[i], sizes) for j in range(4)]
    return taps, (wx, sx, wy, sy), (dx, dy)


def _cubic_slopes(go: np.ndarray, flat: np.ndarray, taps: list[tuple], frac: tuple) -> list:
    """d(loss)/d(pixel x) and d(loss)/d(pixel y) at each bicubic point."""
    wx, sx, wy, sy = frac
    slope_x = slope_y = 0
    for k, tap in enumerate(taps):
        i, j = divmod(k, 4)
        value = _tap_sums(go, flat, tap)
        slope_x = slope_x + value * wy[i] * sx[j]
        slope_y = slope_y + value * sy[i] * wx[j]
    return [slope_x, slope_y]
