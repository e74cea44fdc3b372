"""``F.embedding_bag``: per bag of ids, the sum, mean or max of their embedding vectors, as
torch's; bags are the rows of a 2-D input, or the slices of a 1-D input that ``offsets`` start.

Each bag becomes a row of a padded (B, L) table of positions with a validity mask, so the
reduction is one masked sum, mean or max over L, differentiable through :func:`embedding`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.ops.elementwise import where
from neuralab.ops.embedding import checked, lookup, renorm_rows
from neuralab.tensor import Tensor, constant

__all__ = ["embedding_bag"]


def _ids(value: Any, what: str) -> np.ndarray:
    arr = value._data if isinstance(value, Tensor) else np.asarray(value)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"embedding_bag: {what} must have an integer dtype, got {arr.dtype}")
    return arr


def _bags(n: int, offsets: Any, include_last_offset: bool) -> tuple[np.ndarray, np.ndarray]:
    """``n`` ids cut at ``offsets`` as a padded (B, L) table of positions and its mask."""
    starts = _ids(offsets, "offsets").reshape(-1).astype(np.int64)
    if starts.size == 0 or starts[0] != 0:
        raise ValueError(f"embedding_bag: offsets must start with 0, got {starts.tolist()[:3]}")
    ends = np.append(starts[1:], n)
    if include_last_offset:
        starts, ends = starts[:-1], starts[1:]
    if np.any(ends < starts) or np.any(ends > n):
        raise ValueError("embedding_bag: offsets must be non-decreasing and within the input")
    width = max(int((ends - starts).max(initial=0)), 1)
    position = starts[:, None] + np.arange(width)
    mask = position < ends[:, None]
    return np.where(mask, position, 0), mask


def embedding_bag(
    input: Any,
    weight: Tensor,
    offsets: Any = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """(B, D): each bag's vectors reduced by ``mode``; ``per_sample_weights`` (mode 'sum')
    scale them; ids equal to ``padding_idx`` are left out (also of the mean's count); an empty
    bag gives zeros."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if scale_grad_by_freq and mode == "max":
        raise ValueError("embedding_bag: scale_grad_by_freq=True is not supported with mode='max'")
    ids = _ids(input, "input")
    if ids.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: offsets must be None for 2-D input (B, N)")
        index, mask = np.arange(ids.size).reshape(ids.shape), np.ones(ids.shape, bool)
    elif ids.ndim == 1 and offsets is not None:
        index, mask = _bags(ids.size, offsets, include_last_offset)
    else:
        raise ValueError(
            f"embedding_bag: expected 2-D input (B, N), or 1-D input with offsets; got shape "
            f"{ids.shape} and offsets {'given' if offsets is not None else 'None'}"
        )
    flat, w, padding_idx = checked("embedding_bag", ids.reshape(-1), weight, padding_idx)
    if max_norm is not None:
        renorm_rows(w, flat, max_norm, norm_type)
    bag_ids = flat[index]
    if padding_idx is not None:
        mask = mask & (bag_ids != padding_idx)
    counts = np.bincount(flat, minlength=w.shape[0]) if scale_grad_by_freq else None
    vectors = lookup(bag_ids, w, padding_idx, counts)  # (B, L, D)
    return _reduce(vectors, mask, index, per_sample_weights, mode)


def _reduce(vectors: Tensor, mask: np.ndarray, index: np.ndarray, psw: Any, mode: str) -> Tensor:
    """Sum, mean or max of each bag's vectors over the valid (``mask``) positions."""
    if psw is not None:
        if mode != "sum":
            raise ValueError(
                f"embedding_bag: per_sample_weights is only supported for mode='sum', got "
                f"mode={mode!r}"
            )
        vectors = vectors * psw.reshape(-1)[index].unsqueeze(-1)
    keep = constant(mask[..., None])
    if mode == "max":
        best = where(keep, vectors, float("-inf")).amax(dim=1)
        return where(constant(mask.any(axis=1)[:, None]), best, 0.0)
    total = where(keep, vectors, 0.0).sum(dim=1)
    if mode == "sum":
        return total
    count = np.maximum(mask.sum(axis=1, keepdims=True), 1).astype(total.dtype)
    return total / constant(count)
