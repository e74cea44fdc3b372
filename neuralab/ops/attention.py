"""Scaled dot-product attention as one fused kernel: softmax(q·kᵀ·scale + mask)·v and its backward.

Shapes: query (..., L, E), key (..., S, E), value (..., S, Ev) -> output (..., L, Ev); the leading
batch dims broadcast. ``attn_mask`` broadcasts to (..., L, S) and is either boolean (True = the
position takes part, like torch) or an additive float mask (which receives a gradient when it
requires one, e.g. a learned position bias). A query row whose positions are all masked out gets
zero weights and a zero output (torch's behaviour), not NaN.

``scaled_dot_product_attention_with_weights`` also returns the attention weights, for
``MultiheadAttention(need_weights=True)`` and for visualization; they cost nothing extra since the
kernel computes them anyway. They are detached (no gradient flows through them), read-only, and
taken after dropout, i.e. exactly the weights applied to v (as torch's MultiheadAttention does).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neuralab.ops._stable import safe_softmax
from neuralab.ops._util import float_tensor, to_tensor, unbroadcast
from neuralab.ops.dropout import check_dropout_p, dropout_mask
from neuralab.ops.matmul import pmatmul
from neuralab.tensor import Tensor, constant, make

__all__ = ["scaled_dot_product_attention", "scaled_dot_product_attention_with_weights"]


def _t(a: np.ndarray) -> np.ndarray:
    """Swap the last two axes (batched transpose)."""
    return np.swapaxes(a, -1, -2)


def scaled_dot_product_attention_with_weights(
    query: Any,
    key: Any,
    value: Any,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
) -> tuple[Tensor, Tensor]:
    """Attention output and its weights (..., L, S), detached and after dropout, as applied to v."""
    op = "scaled_dot_product_attention"
    q, k, v = (
        float_tensor(a, op, name) for a, name in ((query, "query"), (key, "key"), (value, "value"))
    )
    if not q._data.dtype == k._data.dtype == v._data.dtype:
        raise TypeError(
            f"{op}: query, key and value must have the same dtype, got {q._data.dtype}, "
            f"{k._data.dtype} and {v._data.dtype}"
        )
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(
            f"{op}: query, key and value need shapes (..., L, E), (..., S, E) and (..., S, Ev), "
            f"got {q.shape}, {k.shape} and {v.shape}"
        )
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"{op}: query (..., L, E), key (..., S, E) and value (..., S, Ev) must agree on E and "
            f"S, got {q.shape}, {k.shape} and {v.shape}"
        )
    check_dropout_p(dropout_p, op)
    dtype = q._data.dtype
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    n_q, n_k = q.shape[-2], k.shape[-2]

    scores = pmatmul(q._data, _t(k._data)) * scale
    mask = None
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{op}: pass either attn_mask or is_causal=True, not both")
        attn_mask = np.tril(np.ones((n_q, n_k), dtype=bool))
    if attn_mask is not None:
        mask = to_tensor(attn_mask)
        try:
            np.broadcast_shapes(mask.shape, scores.shape)
        except ValueError:
            raise ValueError(
                f"{op}: attn_mask of shape {mask.shape} does not broadcast to the attention "
                f"scores' shape (..., L, S) = {scores.shape}"
            ) from None
        if mask._data.dtype == np.bool_:
            scores = np.where(mask._data, scores, -np.inf)
        else:
            scores = scores + mask._data.astype(dtype, copy=False)
    probs = safe_softmax(scores, axis=-1)
    keep = dropout_mask(probs.shape, dropout_p, dtype) if dropout_p else None
    weights = probs if keep is None else probs * keep
    out = pmatmul(weights, v._data)

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        g_weights = pmatmul(g, _t(v._data))
        g_probs = g_weights if keep is None else g_weights * keep
        g_scores = probs * (g_probs - (g_probs * probs).sum(axis=-1, keepdims=True))
        grads = (
            unbroadcast(pmatmul(g_scores, k._data), q.shape) * scale,
            unbroadcast(pmatmul(_t(g_scores), q._data), k.shape) * scale,
            unbroadcast(pmatmul(_t(weights), g), v.shape),
        )
        if mask is not None and mask.requires_grad:
            grads += (unbroadcast(g_scores, mask.shape).astype(mask._data.dtype, copy=False),)
        return grads

    parents = (q, k, v) if mask is None else (q, k, v, mask)
    shown = weights.view()  # the backward keeps using ``weights``: hand out a read-only view
    shown.flags.writeable = False
    return make(out, parents, backward), constant(shown)


def scaled_dot_product_attention(
    query: Any,
    key: Any,
    value: Any,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
) -> Tensor:
    """softmax(q·kᵀ·scale + mask)·v, default scale 1/sqrt(E): each query averages the values."""
    return scaled_dot_product_attention_with_weights(
        query, key, value, attn_mask, dropout_p, is_causal, scale
    )[0]
