"""Fractional max pooling (Graham, 2014): the max of kernel windows whose starts advance by a
pseudo-random fractional stride, so the output size is any fraction of the input's.

Each (sample, channel) plane draws one number u in [0, 1) per spatial dim; along a dim of
``n`` inputs pooled by ``k`` to ``o`` outputs, window i starts at int((i + u)·α) - int(u·α)
with α = (n - k)/(o - 1), the last at n - k (torch's ``generate_intervals``, computed in the
input's dtype, so torch's ``_random_samples`` give torch's windows and values). The winner of a
window is torch's (the first maximum, or the last NaN); the gradient goes back to it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neuralab.ops._util import float_tensor
from neuralab.ops._window import first_max, ntuple, take_planes
from neuralab.random import generator
from neuralab.tensor import Tensor, as_array, constant

__all__ = [
    "fractional_max_pool2d", "fractional_max_pool2d_with_indices", "fractional_max_pool3d",
    "fractional_max_pool3d_with_indices",
]  # fmt: skip

_DIM_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}


def fractional_max_pool2d_with_indices(
    input: Tensor,
    kernel_size: int | tuple[int, int],
    output_size: int | tuple[int, int] | None = None,
    output_ratio: float | tuple[float, float] | None = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Fractional max pooling of (N, C, H, W) or (C, H, W) input with its flat H·W indices;
    ``_random_samples`` (N, C, 2) holds each plane's u for W, then H, as torch orders them."""
    return _fractional(
        "fractional_max_pool2d", 2, input, kernel_size, output_size, output_ratio, _random_samples
    )


def fractional_max_pool2d(
    input: Tensor,
    kernel_size: int | tuple[int, int],
    output_size: int | tuple[int, int] | None = None,
    output_ratio: float | tuple[float, float] | None = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> Tensor | tuple[Tensor, Tensor]:
    """Fractional max pooling of (N, C, H, W) or (C, H, W) input to ``output_size`` or
    ``output_ratio`` of its size (torch's fractional_max_pool2d)."""
    out, index = fractional_max_pool2d_with_indices(
        input, kernel_size, output_size, output_ratio, True, _random_samples
    )
    return (out, index) if return_indices else out


def fractional_max_pool3d_with_indices(
    input: Tensor,
    kernel_size: int | tuple[int, int, int],
    output_size: int | tuple[int, int, int] | None = None,
    output_ratio: float | tuple[float, float, float] | None = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Fractional max pooling of (N, C, T, H, W) or (C, T, H, W) input with its flat T·H·W
    indices; ``_random_samples`` (N, C, 3) holds each plane's u for T, H and W."""
    return _fractional(
        "fractional_max_pool3d", 3, input, kernel_size, output_size, output_ratio, _random_samples
    )


def fractional_max_pool3d(
    input: Tensor,
    kernel_size: int | tuple[int, int, int],
    output_size: int | tuple[int, int, int] | None = None,
    output_ratio: float | tuple[float, float, float] | None = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> Tensor | tuple[Tensor, Tensor]:
    """Fractional max pooling of (N, C, T, H, W) or (C, T, H, W) input to ``output_size`` or
    ``output_ratio`` of its size (torch's fractional_max_pool3d)."""
    out, index = fractional_max_pool3d_with_indices(
        input, kernel_size, output_size, output_ratio, True, _random_samples
    )
    return (out, index) if return_indices else out


def _fractional(
    op: str, nd: int, input: Any, kernel_size: Any, output_size: Any, output_ratio: Any,
    samples: Any,
) -> tuple[Tensor, Tensor]:  # fmt: skip
    """Values and flat indices of every plane's fractional windows (the module docstring)."""
    x = _checked_input(op, nd, input)
    kernel = ntuple(kernel_size, nd, "kernel_size", op, 1)
    spatial = x.shape[-nd:]
    sizes = _target_size(op, nd, spatial, output_size, output_ratio)
    for name, n, k, o in zip(_DIM_NAMES[nd], spatial, kernel, sizes):
        if o + k - 1 > n:
            raise RuntimeError(
                f"{op}(): pool {name} {k} too large relative to input {name} {n} "
                f"(output {name} {o}: it needs output + kernel_size - 1 <= input)"
            )
    u = _samples(op, nd, x, samples)
    order = (1, 0) if nd == 2 else (0, 1, 2)  # torch's 2-D samples are (W, H); 3-D (T, H, W)
    starts = [_starts(u[:, j], n, o, k) for j, n, o, k in zip(order, spatial, sizes, kernel)]
    windows = _window_positions(starts, kernel, spatial)  # (P, O, K)
    planes = x._data.reshape(len(u), -1)
    values = np.take_along_axis(planes, windows.reshape(len(u), -1), axis=1)
    best = first_max(values.reshape(windows.shape))
    index = np.take_along_axis(windows, best[..., None], axis=2)
    index = index.reshape(x.shape[:-nd] + sizes)
    return take_planes(x, index, nd), constant(index)


def _checked_input(op: str, nd: int, input: Any) -> Tensor:
    """``input`` as a float tensor of nd + 1 or nd + 2 dims with non-empty planes."""
    x = float_tensor(input, op)
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(x.shape)}"
        )
    empty = [d for d in range(x.ndim - nd - 1, x.ndim) if x.shape[d] == 0]
    if empty:
        raise RuntimeError(
            f"{op}(): Expected input to have non-zero size for non-batch dimensions, but got "
            f"{list(x.shape)} with dimension {empty[0]} being empty."
        )
    return x


def _target_size(
    op: str, nd: int, spatial: tuple[int, ...], output_size: Any, output_ratio: Any
) -> tuple[int, ...]:
    """The output's spatial size: ``output_size``, or ``output_ratio`` of the input's (floored)."""
    if output_size is not None:
        return ntuple(output_size, nd, "output_size", op, 0)
    if output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    ratio = (output_ratio,) * nd if isinstance(output_ratio, int | float) else output_ratio
    if len(ratio) != nd:
        raise ValueError(
            f"{op} requires output_ratio to either be a single number or a tuple of {nd}, "
            f"got {output_ratio!r}"
        )
    return tuple(int(n * r) for n, r in zip(spatial, ratio))


def _samples(op: str, nd: int, x: Tensor, samples: Any) -> np.ndarray:
    """Each plane's nd numbers in [0, 1) as a (planes, nd) array of the input's dtype: the
    given ``_random_samples`` (N, C, nd), checked as torch checks them, or fresh ones."""
    batch, channels = (x.shape[0], x.shape[1]) if x.ndim == nd + 2 else (1, x.shape[0])
    if samples is None:
        u = generator().random((batch, channels, nd)).astype(x.dtype)
    else:
        u = as_array(samples)
        if u.ndim != 3 or u.shape[2] != nd:
            raise RuntimeError(
                f"{op}(): Expect _random_samples.size(2) equals to {nd}; got shape {u.shape}."
            )
        if u.dtype != x.dtype:
            raise RuntimeError(
                f"{op}(): Expect _random_samples to have the same dtype as input ({x.dtype}), "
                f"got {u.dtype}"
            )
        if u.shape[0] < batch:
            raise RuntimeError(
                f"{op}(): Expect _random_samples.size(0) no less then input batch size "
                f"({batch}), got {u.shape[0]}."
            )
        if u.shape[1] != channels:
            raise RuntimeError(
                f"{op}(): Expect _random_samples.size(1) equals to input channel size "
                f"({channels}), got {u.shape[1]}."
            )
    return u[:batch].reshape(batch * channels, nd)


def _starts(u: np.ndarray, n_in: int, n_out: int, k: int) -> np.ndarray:
    """(planes, n_out) window starts along one dim for the planes' samples ``u``: torch's
    ``generate_intervals``, in u's dtype and with its truncation to int."""
    t = u.dtype.type
    starts = np.empty((len(u), n_out), np.int64)
    if n_out > 1:
        alpha = t(n_in - k) / t(n_out - 1)
        i = np.arange(n_out - 1, dtype=u.dtype)
        ends = ((i[None, :] + u[:, None]) * alpha).astype(np.int64)
        starts[:, :-1] = ends - (u * alpha).astype(np.int64)[:, None]
    if n_out > 0:
        starts[:, -1] = n_in - k
    return starts


def _window_positions(
    starts: list[np.ndarray], kernel: tuple[int, ...], spatial: tuple[int, ...]
) -> np.ndarray:
    """(planes, outputs, window) flat positions in each plane of every window's elements, the
    window's in row-major order (torch's scan order)."""
    nd = len(kernel)
    flat: Any = 0
    for d, (start, k) in enumerate(zip(starts, kernel)):
        shape = [len(start)] + [1] * (2 * nd)
        shape[1 + d], shape[1 + nd + d] = start.shape[1], k
        coords = start[:, :, None] + np.arange(k)
        flat = flat + coords.reshape(shape) * math.prod(spatial[d + 1 :])
    n_planes = len(starts[0])
    outputs = math.prod(s.shape[1] for s in starts)
    return np.broadcast_to(flat, (n_planes, *flat.shape[1:])).reshape(
        n_planes, outputs, math.prod(kernel)
    )
