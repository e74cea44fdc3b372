"""Diagonals and triangles: diag, diagonal, diag_embed, diagflat, trace, tril, triu and their
index helpers. Taking a diagonal and putting one into zeros are each other's backward."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.ops._util import one_dim, to_tensor
from neuralab.ops.reduce import sum as _sum
from neuralab.ops.shape import reshape
from neuralab.tensor import Tensor, constant, int64, make


def _positions(length: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of ``length`` elements on diagonal ``offset``."""
    k = np.arange(length)
    return k + max(-offset, 0), k + max(offset, 0)


def _take(x: np.ndarray, offset: int, d1: int, d2: int) -> np.ndarray:
    return np.diagonal(x, offset, d1, d2).copy()


def _put(diag: np.ndarray, shape: tuple[int, ...], offset: int, d1: int, d2: int) -> np.ndarray:
    """Zeros of ``shape`` with ``diag`` (diagonal along its last axis) on dims d1, d2."""
    out = np.zeros(shape, diag.dtype)
    rows, cols = _positions(diag.shape[-1], offset)
    np.moveaxis(out, (d1, d2), (-2, -1))[..., rows, cols] = diag
    return out


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal over dims ``dim1``/``dim2`` (moved to the last dimension)."""
    d1, d2 = one_dim(dim1, input.ndim, "diagonal"), one_dim(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise ValueError(f"diagonal: dim1 and dim2 must differ, both are {dim1}")
    return _diagonal(input, offset, d1, d2)


def _diagonal(input: Tensor, offset: int, d1: int, d2: int) -> Tensor:
    shape = input.shape
    out = _take(input._data, offset, d1, d2)
    return make(out, (input,), lambda g: (_put(g, shape, offset, d1, d2),))


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices (on dims ``dim1``/``dim2`` of the output) whose diagonals are the last dimension."""
    nd = input.ndim + 1
    d1, d2 = one_dim(dim1, nd, "diag_embed"), one_dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise ValueError(f"diag_embed: dim1 and dim2 must differ, both are {dim1}")
    n = input.shape[-1] + abs(offset)
    rest = list(input.shape[:-1])
    shape = [0] * nd
    for d in (d1, d2):
        shape[d] = n
    for i, d in enumerate(d for d in range(nd) if d not in (d1, d2)):
        shape[d] = rest[i]
    out = _put(input._data, tuple(shape), offset, d1, d2)
    return make(out, (input,), lambda g: (_take(g, offset, d1, d2),))


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D tensor's square diagonal matrix, or a 2-D tensor's diagonal as a vector."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return _diagonal(input, diagonal, 0, 1)
    raise ValueError(f"diag: expected a 1-D or 2-D tensor, got shape {tuple(input.shape)}")


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The flattened input on the diagonal of a square matrix."""
    return diag_embed(reshape(input, -1), offset, 0, 1)


def trace(input: Tensor) -> Tensor:
    """The sum of a matrix's main diagonal."""
    if input.ndim != 2:
        raise ValueError(f"trace: expected a 2-D tensor, got shape {tuple(input.shape)}")
    return _sum(diagonal(input))


def _triangle(name: str, input: Tensor, k: int) -> Tensor:
    if input.ndim < 2:
        raise ValueError(f"{name}: expected a tensor with at least 2 dims, got {input.ndim}")
    keep = np.tril if name == "tril" else np.triu
    return make(keep(input._data, k), (input,), lambda g: (keep(g, k),))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """Zero the elements above diagonal ``diagonal`` of the last two dimensions."""
    return _triangle("tril", input, diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """Zero the elements below diagonal ``diagonal`` of the last two dimensions."""
    return _triangle("triu", input, diagonal)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: object = int64) -> Tensor:
    """The (2, N) row/column indices of a row x col matrix's lower triangle."""
    return constant(np.stack(np.tril_indices(row, offset, col)).astype(dtype))


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: object = int64) -> Tensor:
    """The (2, N) row/column indices of a row x col matrix's upper triangle."""
    return constant(np.stack(np.triu_indices(row, offset, col)).astype(dtype))


def fill_diagonal(input: Tensor, fill_value: float, wrap: bool = False) -> Tensor:
    """A copy with the main diagonal set to ``fill_value`` (all dims equal, or 2-D; ``wrap``
    restarts the diagonal below a tall matrix's square part)."""
    x = input._data
    if x.ndim < 2 or (x.ndim > 2 and len(set(x.shape)) != 1):
        raise ValueError(f"fill_diagonal: expected a 2-D tensor or equal dims, got {x.shape}")
    out = x.copy()
    np.fill_diagonal(out, fill_value, wrap)

    def backward(g: np.ndarray) -> tuple:
        gx = g.copy()
        np.fill_diagonal(gx, 0, wrap)
        return (gx,)

    return make(out, (input,), backward)


def diagonal_scatter(
    input: Tensor, src: Any, offset: int = 0, dim1: int = 0, dim2: int = 1
) -> Tensor:
    """``input`` with the diagonal that :func:`diagonal` reads replaced by ``src``."""
    d1, d2 = (
        one_dim(dim1, input.ndim, "diagonal_scatter"),
        one_dim(dim2, input.ndim, "diagonal_scatter"),
    )
    if d1 == d2:
        raise ValueError(f"diagonal_scatter: dim1 and dim2 must differ, both are {dim1}")
    s = to_tensor(src)
    x, shape = input._data, input.shape
    old = _take(x, offset, d1, d2)
    if old.shape != s._data.shape:
        raise RuntimeError(
            f"diagonal_scatter: src of shape {s._data.shape} does not fit the diagonal of shape "
            f"{old.shape}"
        )
    on = _put(np.ones(old.shape, bool), shape, offset, d1, d2)  # where the diagonal is
    out = np.where(on, _put(s._data.astype(x.dtype), shape, offset, d1, d2), x)

    def backward(g: np.ndarray) -> tuple:
        gx = np.where(on, 0, g).astype(g.dtype) if input.requires_grad else None
        return gx, (np.array(_take(g, offset, d1, d2)) if s.requires_grad else None)

    return make(out, (input, s), backward)
