"""Adaptive pooling beyond ``pool.adaptive_avg_pool2d``: its 1-D form and adaptive max pooling
(1-D and 2-D, optionally with torch's flat indices), for any input size to a fixed output size.

Output cell i along an axis of length n covers inputs floor(i·n/out) to ceil((i+1)·n/out) - 1
(cells may overlap when out does not divide n).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.ops._util import float_tensor
from neuralab.ops.pool import adaptive_avg_pool2d
from neuralab.tensor import Tensor, constant, make

__all__ = [
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d", "adaptive_max_pool2d_with_indices",
]  # fmt: skip


def _sizes(op: str, output_size: Any, spatial: tuple[int, ...]) -> tuple[int, ...]:
    """``output_size`` (an int or one entry per spatial dim, None keeping the input's) checked."""
    n = len(spatial)
    sizes = (output_size,) * n if isinstance(output_size, int | np.integer | None) else output_size
    if len(sizes) != n:
        raise ValueError(f"{op}: output_size must be an int or {n} values, got {output_size!r}")
    out = tuple(s if o is None else int(o) for s, o in zip(spatial, sizes))
    if min(out) < 1:
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    return out


def _cells(n_in: int, n_out: int) -> list[tuple[int, int]]:
    """The input range [start, stop) of each of the n_out output cells."""
    return [((i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)) for i in range(n_out)]


def adaptive_avg_pool1d(input: Tensor, output_size: int) -> Tensor:
    """Average (N, C, L) or (C, L) input down (or up) to length ``output_size``."""
    x = float_tensor(input, "adaptive_avg_pool1d")
    if x.ndim not in (2, 3):
        raise ValueError(f"adaptive_avg_pool1d: expected (N, C, L) or (C, L), got {x.shape}")
    (size,) = _sizes("adaptive_avg_pool1d", output_size, x.shape[-1:])
    return adaptive_avg_pool2d(x.unsqueeze(-2), (1, size)).squeeze(-2)


def _adaptive_max(op: str, input: Tensor, output_size: Any, nd: int) -> tuple[Tensor, Tensor]:
    """Max over each adaptive cell of the last ``nd`` (1 or 2) dims, and its flat index there."""
    x = float_tensor(input, op)
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{op}: expected a {nd + 1}-D or {nd + 2}-D input, got {x.shape}")
    sizes = _sizes(op, output_size, x.shape[-nd:])
    (h, w), (oh, ow) = ((1,) * (2 - nd) + x.shape[-nd:]), ((1,) * (2 - nd) + sizes)
    planes = x._data.reshape(-1, h, w)
    p = len(planes)
    index = np.empty((p, oh, ow), np.int64)
    for i, (h0, h1) in enumerate(_cells(h, oh)):
        for j, (w0, w1) in enumerate(_cells(w, ow)):
            best = planes[:, h0:h1, w0:w1].reshape(p, -1).argmax(axis=1)
            index[:, i, j] = (h0 + best // (w1 - w0)) * w + w0 + best % (w1 - w0)
    flat = index.reshape(p, -1)
    values = np.take_along_axis(planes.reshape(p, -1), flat, axis=1)
    out_shape = x.shape[:-nd] + sizes

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        targets = (flat + np.arange(p)[:, None] * (h * w)).ravel()
        gx = np.bincount(targets, weights=g.ravel(), minlength=p * h * w)
        return (gx.astype(g.dtype, copy=False).reshape(x.shape),)

    return make(values.reshape(out_shape), (x,), backward), constant(index.reshape(out_shape))


def adaptive_max_pool1d_with_indices(
    input: Tensor, output_size: int, return_indices: bool = False
) -> tuple[Tensor, Tensor]:
    """Adaptive max pooling of (N, C, L) or (C, L) input, with the positions of the maxima."""
    return _adaptive_max("adaptive_max_pool1d", input, output_size, 1)


def adaptive_max_pool2d_with_indices(
    input: Tensor, output_size: Any, return_indices: bool = False
) -> tuple[Tensor, Tensor]:
    """Adaptive max pooling of (N, C, H, W) or (C, H, W) input, with flat H·W indices."""
    return _adaptive_max("adaptive_max_pool2d", input, output_size, 2)


def adaptive_max_pool1d(
    input: Tensor, output_size: int, return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling of (N, C, L) or (C, L) input to length ``output_size``."""
    out, index = _adaptive_max("adaptive_max_pool1d", input, output_size, 1)
    return (out, index) if return_indices else out


def adaptive_max_pool2d(
    input: Tensor, output_size: Any, return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling of (N, C, H, W) or (C, H, W) input to ``output_size`` (H_out, W_out)."""
    out, index = _adaptive_max("adaptive_max_pool2d", input, output_size, 2)
    return (out, index) if return_indices else out
