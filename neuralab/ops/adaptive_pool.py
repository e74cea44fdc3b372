"""Adaptive pooling beyond ``pool.adaptive_avg_pool2d``: its 1-D form and adaptive max pooling
(1-D, 2-D and 3-D, optionally with torch's flat indices), for any input size to a fixed output
size.

Output cell i along an axis of length n covers inputs floor(i·n/out) to ceil((i+1)·n/out) - 1
(cells may overlap when out does not divide n).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from neuralab.ops._util import float_tensor
from neuralab.ops._window import first_max, take_planes
from neuralab.ops.pool import adaptive_avg_pool2d
from neuralab.tensor import Tensor, constant

__all__ = [
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d", "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d",
    "adaptive_max_pool3d_with_indices",
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
    """Max over each adaptive cell of the last ``nd`` dims, and its flat index there (torch's
    winner: the first maximum of the cell, or its last NaN)."""
    x = float_tensor(input, op)
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{op}: expected a {nd + 1}-D or {nd + 2}-D input, got {x.shape}")
    spatial = x.shape[-nd:]
    sizes = _sizes(op, output_size, spatial)
    grid = x._data.reshape((-1, *spatial))
    strides = [int(np.prod(spatial[d + 1 :])) for d in range(nd)]
    index = np.empty((len(grid), *sizes), np.int64)
    axes = [list(enumerate(_cells(n, o))) for n, o in zip(spatial, sizes)]
    for cell in itertools.product(*axes):
        bounds = [bound for _, bound in cell]
        window = grid[(slice(None), *(slice(a, b) for a, b in bounds))]
        best = first_max(window.reshape(len(grid), -1))
        coords = np.unravel_index(best, [b - a for a, b in bounds])
        flat = sum((a + c) * s for (a, _), c, s in zip(bounds, coords, strides))
        index[(slice(None), *(i for i, _ in cell))] = flat
    index = index.reshape(x.shape[:-nd] + sizes)
    return take_planes(x, index, nd), constant(index)


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


def adaptive_max_pool3d_with_indices(
    input: Tensor, output_size: Any, return_indices: bool = False
) -> tuple[Tensor, Tensor]:
    """Adaptive max pooling of (N, C, D, H, W) or (C, D, H, W) input, with flat D·H·W indices."""
    return _adaptive_max("adaptive_max_pool3d", input, output_size, 3)


def adaptive_max_pool3d(
    input: Tensor, output_size: Any, return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling of (N, C, D, H, W) or (C, D, H, W) input to ``output_size`` (D, H, W)."""
    out, index = _adaptive_max("adaptive_max_pool3d", input, output_size, 3)
    return (out, index) if return_indices else out
