"""Joining and splitting many tensors: hstack/vstack/dstack/column_stack, tensor_split and
h/v/dsplit, unbind, meshgrid, broadcast_tensors, atleast_Nd, block_diag, cartesian_prod.
All are built from the differentiable views in :mod:`neuralab.ops.shape`."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuralab.ops._util import one_dim
from neuralab.ops.shape import cat, expand, getitem, pad, pieces, reshape, stack, unsqueeze
from neuralab.tensor import Tensor


def _many(tensors: tuple) -> tuple:
    """Accept both f(a, b) and f([a, b])."""
    return (
        tuple(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], list | tuple) else tensors
    )


def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least one dimension (0-d becomes shape (1,))."""
    out = tuple(reshape(t, 1) if t.ndim == 0 else t for t in _many(tensors))
    return out[0] if len(out) == 1 and not isinstance(tensors[0], list | tuple) else out


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least two dimensions (a vector becomes a row)."""
    out = tuple(
        reshape(t, (1,) * (2 - t.ndim) + t.shape) if t.ndim < 2 else t for t in _many(tensors)
    )
    return out[0] if len(out) == 1 and not isinstance(tensors[0], list | tuple) else out


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least three dimensions ((n,) -> (1, n, 1), (m, n) -> (m, n, 1))."""

    def to_3d(t: Tensor) -> Tensor:
        if t.ndim == 0:
            return reshape(t, 1, 1, 1)
        if t.ndim == 1:
            return reshape(t, 1, -1, 1)
        return unsqueeze(t, -1) if t.ndim == 2 else t

    out = tuple(to_3d(t) for t in _many(tensors))
    return out[0] if len(out) == 1 and not isinstance(tensors[0], list | tuple) else out


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along the second dimension (the first for 1-D tensors)."""
    ts = [atleast_1d(t) for t in tensors]
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along the first dimension, vectors becoming rows."""
    return cat([atleast_2d(t) for t in tensors], 0)


row_stack = vstack


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along the third dimension."""
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Join vectors as columns (and matrices along their second dimension)."""
    return cat([reshape(t, -1, 1) if t.ndim < 2 else t for t in tensors], 1)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along ``dim``, that dimension removed."""
    ax = one_dim(dim, input.ndim, "unbind")
    indices = [(slice(None),) * ax + (i,) for i in range(input.shape[ax])]
    return pieces(input, indices, tiles=True)


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into n nearly equal parts (the first ones one longer) or at the given indices."""
    ax = one_dim(dim, input.ndim, "tensor_split")
    n = input.shape[ax]
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        spec = spec._data.tolist()
    if isinstance(spec, int):
        if spec <= 0:
            raise ValueError(f"tensor_split: the number of sections must be positive, got {spec}")
        q, r = divmod(n, spec)
        bounds = np.cumsum([0] + [q + 1] * r + [q] * (spec - r)).tolist()
    else:
        bounds = [0, *(min(max(int(i) + (n if i < 0 else 0), 0), n) for i in spec), n]
    lead = (slice(None),) * ax
    indices = [(*lead, slice(lo, max(lo, hi))) for lo, hi in zip(bounds, bounds[1:])]
    return pieces(input, indices, tiles=bounds == sorted(bounds))


def _split_even(op: str, input: Tensor, spec: Any, dim: int) -> tuple[Tensor, ...]:
    if isinstance(spec, int) and input.shape[dim] % spec:
        raise ValueError(
            f"{op}: dimension {dim} of size {input.shape[dim]} does not split into {spec} parts"
        )
    return tensor_split(input, spec, dim)


def hsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """Split along the second dimension (the first for 1-D tensors)."""
    return _split_even("hsplit", input, indices_or_sections, 0 if input.ndim == 1 else 1)


def vsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """Split along the first dimension."""
    return _split_even("vsplit", input, indices_or_sections, 0)


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """Split along the third dimension."""
    return _split_even("dsplit", input, indices_or_sections, 2)


def broadcast_shapes(*shapes: Any) -> tuple[int, ...]:
    """The shape the given shapes broadcast to."""
    try:
        return tuple(
            np.broadcast_shapes(*(tuple(s) if not isinstance(s, int) else (s,) for s in shapes))
        )
    except ValueError:
        raise ValueError(f"broadcast_shapes: shapes {shapes} do not broadcast together") from None


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors expanded to their common broadcast shape."""
    ts = _many(tensors)
    shape = broadcast_shapes(*(t.shape for t in ts))
    return tuple(expand(t, shape) for t in ts)


def meshgrid(*tensors: Tensor, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors: 'ij' (matrix) or 'xy' (Cartesian) indexing."""
    ts = _many(tensors)
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if any(t.ndim > 1 for t in ts):
        raise ValueError("meshgrid: expected 0-D or 1-D tensors")
    sizes = [t.numel() for t in ts]
    if indexing == "xy" and len(ts) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, t in enumerate(ts):
        axis = {0: 1, 1: 0}.get(i, i) if indexing == "xy" and len(ts) >= 2 else i
        shape = [1] * len(ts)
        shape[axis] = -1
        out.append(expand(reshape(t, shape), sizes))
    return tuple(out)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every combination of the 1-D inputs' elements, one per row (one input: itself)."""
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, -1) for g in grids], 1)


def block_diag(*tensors: Tensor) -> Tensor:
    """The tensors (0-, 1- or 2-D) as blocks on the diagonal of a zero matrix."""
    blocks = [reshape(t, 1, -1) if t.ndim < 2 else t for t in tensors]
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        rows.append(pad(b, (left, width - left - b.shape[1])))
        left += b.shape[1]
    return cat(rows, 0)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of a 1-D tensor's elements as rows, in itertools' order
    (torch.combinations); differentiable (a gather)."""
    if input.ndim != 1:
        raise ValueError(f"combinations: expected a 1-D tensor, got shape {tuple(input.shape)}")
    if r < 0:
        raise ValueError(f"combinations: r must be non-negative, got {r}")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(pick(range(input.shape[0]), r))
    if r == 0:
        return getitem(input, np.zeros(0, np.int64))  # torch: an empty 1-D tensor
    return getitem(input, np.array(rows, np.int64).reshape(-1, r))  # (0, r) when r > n
