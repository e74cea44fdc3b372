"""Margin losses of torch.nn.functional: ranking and embedding losses on pairs and triplets, the
soft-margin (logistic) losses, and the multi-class and multi-label hinge losses.

The pair and triplet losses are compositions of differentiable ops (so every input, the target
included, gets torch's gradient); the multi-class hinges are fused. (The score losses of labels in
{-1, +1}, ``hinge_loss``, ``perceptron_loss`` and ``logistic_loss``, are in ``neuralab.ops.loss``.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from neuralab.ops import elementwise as E
from neuralab.ops._loss_util import (
    check_reduction,
    legacy_reduction,
    reduce_loss,
    reduce_tensor,
    reduction_name,
    target_grad,
    weight_array,
)
from neuralab.ops._stable import sigmoid, softplus
from neuralab.ops._util import float_tensor, to_tensor
from neuralab.ops.loss import binary_cross_entropy_with_logits
from neuralab.ops.reduce import mean as reduce_mean
from neuralab.ops.reduce import sum as reduce_sum
from neuralab.ops.similarity import pairwise_distance
from neuralab.tensor import Tensor

__all__ = [
    "aten_cosine_embedding_loss", "aten_hinge_embedding_loss", "aten_margin_ranking_loss",
    "aten_triplet_margin_loss", "cosine_embedding_loss", "hinge_embedding_loss",
    "margin_ranking_loss", "multi_margin_loss", "multilabel_margin_loss",
    "multilabel_soft_margin_loss", "soft_margin_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]  # fmt: skip

# torch's floor under the squared norms in cosine_embedding_loss
_COSINE_EPSILON = 1e-12


def _same_ndim(op: str, **tensors: Tensor) -> None:
    """Raise unless all the named tensors have the same number of dimensions (torch's check)."""
    if len({t.ndim for t in tensors.values()}) > 1:
        shapes = ", ".join(f"{name} {t.shape}" for name, t in tensors.items())
        raise ValueError(f"{op}: the inputs must have the same number of dimensions, got {shapes}")


# ----------------------------------------------------------------------------- pairs


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, -y·(x1 - x2) + margin): x1 should rank above x2 when y = 1, below when y = -1."""
    op = "margin_ranking_loss"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    x1, x2 = float_tensor(input1, op, "input1"), float_tensor(input2, op, "input2")
    y = to_tensor(target)
    _same_ndim(op, input1=x1, input2=x2, target=y)
    per = E.clamp(E.add(E.mul(E.neg(y), E.sub(x1, x2)), margin), min=0)
    return reduce_tensor(per, reduction)


def hinge_embedding_loss(
    input: Tensor,
    target: Tensor,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1: for distances x of similar / dissimilar
    pairs."""
    op = "hinge_embedding_loss"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    x, y = float_tensor(input, op), to_tensor(target)
    zero = E.operand(0, x)
    pushed = E.where(E.ne(y, 1)._data, E.clamp(E.sub(margin, x), min=0), zero)
    pulled = E.where(E.ne(y, -1)._data, x, zero)
    return reduce_tensor(E.add(pushed, pulled), reduction)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1; rows of (N, D)
    or single (D,) vectors."""
    op = "cosine_embedding_loss"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    x1, x2 = float_tensor(input1, op, "input1"), float_tensor(input2, op, "input2")
    y = to_tensor(target)
    if x1.ndim not in (1, 2) or x1.shape != x2.shape or y.shape != x1.shape[:-1]:
        raise ValueError(
            f"{op}: expected input1 and input2 of one shape (N, D) or (D,) and target (N,) or (), "
            f"got {x1.shape}, {x2.shape} and {y.shape}"
        )
    dim = x1.ndim - 1
    dot = reduce_sum(E.mul(x1, x2), dim)
    sq1 = E.add(reduce_sum(E.mul(x1, x1), dim), _COSINE_EPSILON)
    sq2 = E.add(reduce_sum(E.mul(x2, x2), dim), _COSINE_EPSILON)
    cos = E.div(dot, E.sqrt(E.mul(sq1, sq2)))
    zero = E.operand(0, cos)
    similar = E.where(E.eq(y, 1)._data, E.sub(1, cos), zero)
    dissimilar = E.where(E.eq(y, -1)._data, E.clamp(E.sub(cos, margin), min=0), zero)
    return reduce_tensor(E.add(similar, dissimilar), reduction)


# ----------------------------------------------------------------------------- triplets


def _triplet(
    op: str,
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    distance: Callable[[Tensor, Tensor], Tensor],
    margin: float,
    swap: bool,
    reduction: str,
) -> Tensor:
    """max(0, margin + d(a, p) - d(a, n)), with d(a, n) replaced by min(d(a, n), d(p, n))
    when ``swap`` (the harder negative distance)."""
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = E.minimum(d_neg, distance(positive, negative))
    return reduce_tensor(E.clamp(E.sub(E.add(d_pos, margin), d_neg), min=0), reduction)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Triplet loss with p-norm distances: the anchor nearer the positive than the negative by
    at least ``margin``."""
    op = "triplet_margin_loss"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    a, pos, neg = (
        float_tensor(t, op, n)
        for t, n in ((anchor, "anchor"), (positive, "positive"), (negative, "negative"))
    )
    _same_ndim(op, anchor=a, positive=pos, negative=neg)
    if a.ndim not in (1, 2):
        raise ValueError(f"{op}: expected (N, D) or (D,) inputs, got anchor of shape {a.shape}")

    def distance(x: Tensor, y: Tensor) -> Tensor:
        return pairwise_distance(x, y, p, eps)

    return _triplet(op, a, pos, neg, distance, margin, swap, reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """Triplet loss with any ``distance_function`` (default: the Euclidean pairwise distance)."""
    op = "triplet_margin_with_distance_loss"
    check_reduction(reduction, op)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    distance = pairwise_distance if distance_function is None else distance_function
    return _triplet(op, anchor, positive, negative, distance, margin, swap, reduction)


# ----------------------------------------------------------------------------- soft margins


def soft_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """log(1 + exp(-y·x)) for labels y = ±1: the logistic loss of a score, stable for any x."""
    op = "soft_margin_loss"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    x, y = float_tensor(input, op), to_tensor(target)
    if x.shape != y.shape:
        raise ValueError(f"{op}: target shape {y.shape} does not match input shape {x.shape}")
    z = x._data
    yv = y._data.astype(z.dtype, copy=False)
    m = -yv * z

    def backward(g: np.ndarray) -> tuple:
        s = g * sigmoid(m)
        return -s * yv, target_grad(y, lambda: -s * z)

    return reduce_loss(softplus(m), (x, y), backward, reduction)


def multilabel_soft_margin_loss(
    input: Tensor,
    target: Tensor,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy of logits per label (targets 0/1), averaged over the labels (last
    dim), optionally weighted per label."""
    op = "multilabel_soft_margin_loss"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    x = float_tensor(input, op)
    if x.ndim == 0:
        raise ValueError(f"{op}: expected input of shape (N, C) or (C,), got a 0-d tensor")
    per = binary_cross_entropy_with_logits(x, target, weight, reduction="none")
    return reduce_tensor(reduce_mean(per, -1), reduction)


# ----------------------------------------------------------------------------- multi-class


def _class_rows(
    op: str, input: Any, target: Any, per_class_target: bool
) -> tuple[Tensor, np.ndarray, np.ndarray]:
    """The input as (N, C) rows and the target's indices as (N,) or (N, C); checked."""
    x = float_tensor(input, op)
    y = to_tensor(target)._data
    if y.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold class indices (integer dtype), got {y.dtype}")
    expected = x.shape if per_class_target else x.shape[:-1]
    if x.ndim not in (1, 2) or y.shape != expected:
        want = "the input's shape" if per_class_target else "(N,) for input (N, C), () for (C,)"
        raise ValueError(
            f"{op}: expected input (N, C) or (C,) and target {want}, got {x.shape} and {y.shape}"
        )
    rows = x._data.reshape(-1, x.shape[-1])
    return x, rows, y.reshape(len(rows), -1) if per_class_target else y.reshape(-1)


def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-class hinge: Σ_{i≠y} w[y]·max(0, margin - x[y] + x[i])^p / C per sample (p = 1, 2)."""
    op = "multi_margin_loss"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p = 1 and p = 2 are supported, got {p}")
    x, rows, y = _class_rows(op, input, target, per_class_target=False)
    n, c = rows.shape
    if y.size and (y.min() < 0 or y.max() >= c):
        raise IndexError(
            f"{op}: target class index out of range for {c} classes: {y.min()}..{y.max()}"
        )
    w = weight_array(op, "weight", weight, (c,), rows.dtype, exact=True)
    wy = (w[y] if weight is not None else np.ones(n, rows.dtype))[:, None] / c
    picked = rows[np.arange(n), y][:, None]
    h = np.maximum(margin - picked + rows, 0)
    h[np.arange(n), y] = 0
    per = ((h**p) * wy).sum(axis=1).reshape(x.shape[:-1])

    def backward(g: np.ndarray) -> tuple:
        d = np.asarray(g, rows.dtype).reshape(-1, 1) * wy * (2 * h if p == 2 else (h > 0))
        d[np.arange(n), y] -= d.sum(axis=1)
        return (d.reshape(x.shape),)

    return reduce_loss(per, (x,), backward, reduction)


def multilabel_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-label hinge: Σ over target classes j and non-target classes i of
    max(0, 1 - (x[j] - x[i])) / C; each target row lists class indices, ended by the first -1."""
    op = "multilabel_margin_loss"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    x, rows, y = _class_rows(op, input, target, per_class_target=True)
    n, c = rows.shape
    listed = np.cumprod(y >= 0, axis=1).astype(bool)  # entries before the first -1
    if (y[listed] >= c).any():
        raise IndexError(f"{op}: target class index out of range for {c} classes")
    counts = np.zeros((n, c), rows.dtype)  # how often each class j is listed (duplicates count)
    np.add.at(counts, (np.nonzero(listed)[0], y[listed]), 1)
    others = (counts == 0).astype(rows.dtype)
    h = np.maximum(1 - rows[:, :, None] + rows[:, None, :], 0)  # h[n, j, i]
    pair = counts[:, :, None] * others[:, None, :]
    per = (h * pair).sum(axis=(1, 2)).reshape(x.shape[:-1]) / c

    def backward(g: np.ndarray) -> tuple:
        active = (h > 0) * pair * (np.asarray(g, rows.dtype).reshape(-1, 1, 1) / c)
        return ((active.sum(axis=1) - active.sum(axis=2)).reshape(x.shape),)

    return reduce_loss(per, (x,), backward, reduction)


# ----------------------------------------------------------------------------- torch.* forms
# torch's top-level losses take ATen's signatures: no size_average/reduce, the reduction an int


def aten_margin_ranking_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction: int = 1
) -> Tensor:
    """torch.margin_ranking_loss (see :func:`margin_ranking_loss`)."""
    name = reduction_name(reduction, "margin_ranking_loss")
    return margin_ranking_loss(input1, input2, target, margin, reduction=name)


def aten_hinge_embedding_loss(
    input: Tensor, target: Tensor, margin: float = 1.0, reduction: int = 1
) -> Tensor:
    """torch.hinge_embedding_loss (see :func:`hinge_embedding_loss`)."""
    name = reduction_name(reduction, "hinge_embedding_loss")
    return hinge_embedding_loss(input, target, margin, reduction=name)


def aten_cosine_embedding_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction: int = 1
) -> Tensor:
    """torch.cosine_embedding_loss (see :func:`cosine_embedding_loss`)."""
    name = reduction_name(reduction, "cosine_embedding_loss")
    return cosine_embedding_loss(input1, input2, target, margin, reduction=name)


def aten_triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    swap: bool = False,
    reduction: int = 1,
) -> Tensor:
    """torch.triplet_margin_loss (see :func:`triplet_margin_loss`)."""
    name = reduction_name(reduction, "triplet_margin_loss")
    return triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction=name)
