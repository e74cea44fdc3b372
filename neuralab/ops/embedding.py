"""Embedding lookup and one-hot encoding: integer class indices turned into vectors.

``embedding`` is a row gather from a weight matrix whose backward scatter-adds the output
gradient into the rows that were read (a row read twice gets both contributions); it equals
``one_hot(indices) @ weight`` without building the one-hot matrix.

An embedding's recorded backward (:class:`EmbeddingBackward`) also says how its output was
made, so :func:`neuralab.ops.matmul.project_embedded` can compute a linear map of that output
from the table.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.ops._util import float_tensor, scatter_add_rows, to_tensor
from neuralab.tensor import Tensor, constant, make

__all__ = [
    "EmbeddingBackward", "aten_embedding", "checked", "embedding", "lookup", "one_hot",
    "renorm_rows",
]  # fmt: skip


def _indices(op: str, x: Any) -> np.ndarray:
    """The data of an integer tensor, or a TypeError naming ``op``."""
    idx = to_tensor(x)._data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must have an integer dtype, got {idx.dtype}")
    return idx


def embedding(
    input: Any,
    weight: Any,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows ``weight[input]`` (input.shape + (D,)); the ``padding_idx`` row gets no gradient.
    ``max_norm`` first rescales, in place, each row read whose ``norm_type``-norm exceeds it;
    ``scale_grad_by_freq`` divides each row's gradient by how often the input reads it;
    ``sparse`` is accepted (the gradient is dense)."""
    idx, w, padding_idx = checked("embedding", input, weight, padding_idx)
    if max_norm is not None:
        renorm_rows(w, idx, max_norm, norm_type)
    counts = np.bincount(idx.ravel(), minlength=w.shape[0]) if scale_grad_by_freq else None
    return lookup(idx, w, padding_idx, counts)


def aten_embedding(
    weight: Any,
    indices: Any,
    padding_idx: int = -1,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """torch.embedding: the table first (ATen's order), and a negative ``padding_idx`` means
    none (F.embedding counts it from the end)."""
    padding = padding_idx if padding_idx >= 0 else None
    return embedding(indices, weight, padding, None, 2.0, scale_grad_by_freq, sparse)


def checked(
    op: str, input: Any, weight: Any, padding_idx: int | None
) -> tuple[np.ndarray, Tensor, int | None]:
    """The ids (integers within the table), the table (a 2-D float tensor) and padding_idx
    (made non-negative), or a clear error naming ``op``."""
    idx = _indices(op, input)
    w = float_tensor(weight, op, "weight")
    if w.ndim != 2:
        raise ValueError(f"{op}: weight must have shape (num_embeddings, dim), got {w.shape}")
    n = w.shape[0]
    bad = idx[(idx < 0) | (idx >= n)]
    if bad.size:
        raise IndexError(
            f"{op}: index {bad.flat[0]} is out of range for {n} embeddings (valid: 0..{n - 1})"
        )
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"{op}: padding_idx {padding_idx} is out of range for {n} embeddings")
        padding_idx %= n
    return idx, w, padding_idx


def lookup(
    idx: np.ndarray, w: Tensor, padding_idx: int | None, counts: np.ndarray | None = None
) -> Tensor:
    """The rows ``w[idx]`` (checked by the caller), recorded; with ``counts``, each row's
    gradient is divided by its count (``scale_grad_by_freq``)."""
    out = w._data[idx]  # fancy indexing copies: the output never aliases the weight
    backward = EmbeddingBackward(idx, w, padding_idx, out)
    if counts is not None:  # not an EmbeddingBackward: a fused projection would not scale
        scale = (1 / np.maximum(counts, 1))[:, None].astype(out.dtype)
        return make(out, (w,), lambda g: (backward(g)[0] * scale,))
    return make(out, (w,), backward)


def renorm_rows(weight: Tensor, ids: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale the rows of ``weight`` read by ``ids`` down to norm ``max_norm``, in place (torch's
    ``max_norm``: the table itself changes, outside the graph)."""
    rows = np.unique(ids)
    table = weight._data
    norms = np.linalg.norm(table[rows], ord=norm_type, axis=1)
    big = norms > max_norm
    table[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(table.dtype)


class EmbeddingBackward:
    """An embedding's backward (the output gradient scatter-added into the rows read), which
    also tells :func:`~neuralab.ops.matmul.project_embedded` how the output was made."""

    __slots__ = ("indices", "weight", "padding_idx", "out")

    def __init__(
        self, indices: np.ndarray, weight: Tensor, padding_idx: int | None, out: np.ndarray
    ) -> None:
        self.indices, self.weight, self.padding_idx, self.out = indices, weight, padding_idx, out

    def __call__(self, g: np.ndarray) -> tuple[np.ndarray]:
        idx = self.indices
        gw = scatter_add_rows(self.weight.shape[0], idx.ravel(), g.reshape(idx.size, -1))
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return (gw,)


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding, shape tensor.shape + (C,); C = max + 1 when num_classes is -1."""
    op = "one_hot"
    idx = _indices(op, tensor)
    if idx.size and idx.min() < 0:
        raise ValueError(f"{op}: class values must be non-negative, got {idx.min()}")
    if num_classes == -1:
        if not idx.size:
            raise ValueError(f"{op}: cannot infer num_classes from an empty tensor; pass it")
        num_classes = int(idx.max()) + 1
    elif idx.size and idx.max() >= num_classes:
        raise ValueError(
            f"{op}: class value {idx.max()} is out of range for num_classes={num_classes}"
        )
    return constant((idx[..., None] == np.arange(num_classes)).astype(np.int64))
