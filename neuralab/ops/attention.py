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

import functools
import math
from typing import Any

import numpy as np

from neuralab.compiled import load
from neuralab.ops._stable import safe_softmax
from neuralab.ops._util import float_tensor, to_tensor, unbroadcast
from neuralab.ops._where import where
from neuralab.ops.dropout import check_dropout_p, dropout_mask
from neuralab.ops.matmul import pmatmul
from neuralab.ops.shape import repeat_interleave
from neuralab.parallel import parallel_for
from neuralab.tensor import Tensor, constant, make

__all__ = ["scaled_dot_product_attention", "scaled_dot_product_attention_with_weights"]


def _t(a: np.ndarray) -> np.ndarray:
    """Swap the last two axes (batched transpose)."""
    return np.swapaxes(a, -1, -2)


def _checked(query: Any, key: Any, value: Any) -> tuple[Tensor, Tensor, Tensor]:
    """query, key and value as float tensors of one dtype and shapes that agree on E and S."""
    op = "scaled_dot_product_attention"
    q = float_tensor(query, op, "query")
    k = float_tensor(key, op, "key")
    v = float_tensor(value, op, "value")
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
    return q, k, v


@functools.lru_cache(maxsize=16)
def _causal_mask(n_q: int, n_k: int) -> np.ndarray:
    """The read-only lower-triangular (n_q, n_k) mask of ``is_causal`` (True = kept)."""
    mask = np.tril(np.ones((n_q, n_k), dtype=bool))
    mask.flags.writeable = False
    return mask


def _masked_scores(scores: np.ndarray, attn_mask: Any, is_causal: bool) -> tuple[Any, Any]:
    """(scores with the mask applied, the mask as a tensor or None)."""
    op = "scaled_dot_product_attention"
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{op}: pass either attn_mask or is_causal=True, not both")
        attn_mask = _causal_mask(*scores.shape[-2:])
    if attn_mask is None:
        return scores, None
    mask = to_tensor(attn_mask)
    try:
        np.broadcast_shapes(mask.shape, scores.shape)
    except ValueError:
        raise ValueError(
            f"{op}: attn_mask of shape {mask.shape} does not broadcast to the attention "
            f"scores' shape (..., L, S) = {scores.shape}"
        ) from None
    if mask._data.dtype == np.bool_:
        return where(mask._data, scores, -np.inf), mask
    return scores + mask._data.astype(scores.dtype, copy=False), mask


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
    q, k, v = _checked(query, key, value)
    check_dropout_p(dropout_p, "scaled_dot_product_attention")
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    scores = pmatmul(q._data, _t(k._data))
    kernels = None
    if attn_mask is None and not dropout_p and scores.dtype == np.float32 and scores.size:
        kernels = load("neuralab.compiled.attention")  # its exp is float32-exact, not float64
    if kernels is not None:
        return _attend_compiled(kernels, q, k, v, scores, scale, is_causal)
    scores, mask = _masked_scores(scores * scale, attn_mask, is_causal)
    probs = safe_softmax(scores, axis=-1)
    keep = dropout_mask(probs.shape, dropout_p, probs.dtype) if dropout_p else None
    weights = probs if keep is None else probs * keep
    out = pmatmul(weights, v._data)

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        g_weights = pmatmul(g, _t(v._data))
        g_probs = g_weights if keep is None else g_weights * keep
        g_scores = probs * (g_probs - (g_probs * probs).sum(axis=-1, keepdims=True))
        grads = _qkv_grads(q, k, v, g_scores * scale, weights, g)
        if mask is not None and mask.requires_grad:
            grads += (unbroadcast(g_scores, mask.shape).astype(mask._data.dtype, copy=False),)
        return grads

    parents = (q, k, v) if mask is None else (q, k, v, mask)
    return make(out, parents, backward), _read_only(weights)


def _attend_compiled(
    kernels: Any, q: Tensor, k: Tensor, v: Tensor, scores: np.ndarray, scale: float, causal: bool
) -> tuple[Tensor, Tensor]:
    """Attention without a mask tensor or dropout, its softmax by the compiled kernels
    (:mod:`neuralab.compiled.attention`), score rows split over threads."""
    n_q, n_k = scores.shape[-2:]
    rows = scores.reshape(-1, n_k)  # pmatmul's result: C-contiguous, the softmax in place
    scale = np.float32(scale)

    def forward_chunk(lo: int, hi: int) -> None:
        kernels.softmax_forward(rows, lo, hi, n_q, scale, causal)

    def forward_team(parts: int) -> None:
        kernels.softmax_forward_split(rows, n_q, scale, causal, parts)

    parallel_for(len(rows), forward_chunk, 8 * rows.size, blas=False, team=forward_team)
    out = pmatmul(scores, v._data)

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        g_scores = pmatmul(g, _t(v._data))  # the weights' gradient, then the scores' in place
        g_rows = g_scores.reshape(rows.shape)

        def backward_chunk(lo: int, hi: int) -> None:
            kernels.softmax_backward(rows, g_rows, lo, hi, n_q, scale, causal)

        def backward_team(parts: int) -> None:
            kernels.softmax_backward_split(rows, g_rows, n_q, scale, causal, parts)

        parallel_for(len(rows), backward_chunk, 4 * rows.size, blas=False, team=backward_team)
        return _qkv_grads(q, k, v, g_scores, scores, g)

    return make(out, (q, k, v), backward), _read_only(scores)


def _qkv_grads(
    q: Tensor, k: Tensor, v: Tensor, g_scores: np.ndarray, weights: np.ndarray, g: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of q, k and v from the (scaled) scores' and the output's gradients."""
    return (
        unbroadcast(pmatmul(g_scores, k._data), q.shape),
        unbroadcast(pmatmul(_t(g_scores), q._data), k.shape),
        unbroadcast(pmatmul(_t(weights), g), v.shape),
    )


def _read_only(weights: np.ndarray) -> Tensor:
    """The weights handed out: a read-only view (the backward keeps using the array)."""
    shown = weights.view()
    shown.flags.writeable = False
    return constant(shown)


def scaled_dot_product_attention(
    query: Any,
    key: Any,
    value: Any,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(q·kᵀ·scale + mask)·v, default scale 1/sqrt(E): each query averages the values.
    ``enable_gqa``: keys and values with fewer heads (dim -3) than the queries serve groups of
    query heads (grouped-query attention), each repeated to the queries' head count."""
    if enable_gqa:
        key, value = _grouped(query, key, value)
    return scaled_dot_product_attention_with_weights(
        query, key, value, attn_mask, dropout_p, is_causal, scale
    )[0]


def _grouped(query: Any, key: Any, value: Any) -> tuple[Tensor, Tensor]:
    """Keys and values repeated along their head dimension to the queries' head count."""
    q, k, v = to_tensor(query), to_tensor(key), to_tensor(value)
    if min(q.ndim, k.ndim, v.ndim) < 3:
        raise ValueError("scaled_dot_product_attention: enable_gqa needs (..., heads, L, E) inputs")
    heads, kv_heads = q.shape[-3], k.shape[-3]
    if kv_heads != v.shape[-3] or heads % kv_heads:
        raise ValueError(
            f"scaled_dot_product_attention: with enable_gqa the query's {heads} heads must be a "
            f"multiple of the key's and value's ({kv_heads} and {v.shape[-3]})"
        )
    if heads == kv_heads:
        return k, v
    groups = heads // kv_heads
    return repeat_interleave(k, groups, dim=-3), repeat_interleave(v, groups, dim=-3)
