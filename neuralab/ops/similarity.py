"""Similarities and distances between feature vectors, as torch.nn.functional has them:
cosine similarity, pairwise (row-by-row) distance, all-pairs ``pdist`` and p-norm normalization.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.ops._util import float_tensor, one_dim, unbroadcast
from neuralab.ops.distance import vector_norm
from neuralab.ops.elementwise import add, clamp, div, sub
from neuralab.ops.shape import getitem
from neuralab.tensor import Tensor, make

__all__ = ["cosine_similarity", "normalize", "pairwise_distance", "pdist"]


def _broadcast(op: str, x1: Any, x2: Any) -> tuple[Tensor, Tensor, np.ndarray, np.ndarray]:
    """Both inputs as float tensors plus their data broadcast to one shape (clear error if not)."""
    a, b = float_tensor(x1, op, "x1"), float_tensor(x2, op, "x2")
    try:
        u, v = np.broadcast_arrays(a._data, b._data)
    except ValueError:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} do not broadcast") from None
    return a, b, u, v


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Σ x1·x2 / (max(‖x1‖, eps)·max(‖x2‖, eps)) along ``dim`` (inputs broadcast).

    As in torch, the clamp of a norm below ``eps`` does not stop the norm's own gradient.
    """
    op = "cosine_similarity"
    a, b, x, y = _broadcast(op, x1, x2)
    ax = one_dim(dim, x.ndim, op)
    n1 = np.sqrt((x * x).sum(axis=ax, keepdims=True))
    n2 = np.sqrt((y * y).sum(axis=ax, keepdims=True))
    c1, c2 = np.maximum(n1, eps), np.maximum(n2, eps)
    u, v = x / c1, y / c2

    def grad(g: np.ndarray, p: np.ndarray, other: np.ndarray, n: np.ndarray, c: np.ndarray):
        """Gradient with respect to p (norm n, clamped c), the other side normalized."""
        radial = (p * other).sum(axis=ax, keepdims=True) / (c * c)
        with np.errstate(invalid="ignore", divide="ignore"):
            dn = np.where(n > 0, p / n, 0)
        return g * (other / c - radial * dn)

    def backward(g: np.ndarray) -> tuple:
        ge = np.expand_dims(g, ax)
        return (
            unbroadcast(grad(ge, x, v, n1, c1), a.shape) if a.requires_grad else None,
            unbroadcast(grad(ge, y, u, n2, c2), b.shape) if b.requires_grad else None,
        )

    return make((u * v).sum(axis=ax), (a, b), backward)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """‖x1 - x2 + eps‖_p along the last dimension (rows paired one to one, inputs broadcast)."""
    _broadcast("pairwise_distance", x1, x2)
    return vector_norm(add(sub(x1, x2), eps), p, -1, keepdim)


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """The p-norm distances between every pair of rows i < j of an (N, M) input, flattened."""
    x = float_tensor(input, "pdist")
    if x.ndim != 2:
        raise ValueError(f"pdist: expected a 2-D input (N, M), got shape {x.shape}")
    if p < 0:
        raise ValueError(f"pdist: p must be non-negative, got {p}")
    i, j = np.triu_indices(x.shape[0], k=1)
    return vector_norm(sub(getitem(x, i), getitem(x, j)), p, -1)


def normalize(
    input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Any = None
) -> Tensor:
    """input / max(‖input‖_p, eps) along ``dim``: unit-norm vectors (zero vectors stay zero)."""
    if out is not None:
        raise ValueError("normalize: out= is not supported; use the returned tensor")
    x = float_tensor(input, "normalize")
    return div(x, clamp(vector_norm(x, p, dim, True), min=eps))
