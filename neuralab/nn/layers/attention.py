"""Multi-head attention with torch's arguments, parameter names, mask semantics and return values.

The query, key and value are projected (one packed ``in_proj_weight`` when their widths equal
``embed_dim``), split into ``num_heads`` heads, attended with the fused scaled-dot-product kernel
(:func:`neuralab.ops.attention.scaled_dot_product_attention_with_weights`) and recombined by
``out_proj``. Masks follow ``torch.nn.MultiheadAttention``: a boolean ``attn_mask`` or
``key_padding_mask`` marks with True the positions that may NOT be attended (the opposite of
``scaled_dot_product_attention``'s boolean mask); a float mask is added to the scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.nn import init
from neuralab.nn.layers._params import check_factory, parameter
from neuralab.nn.layers.linear import NonDynamicallyQuantizableLinear
from neuralab.nn.module import Module, Parameter
from neuralab.ops.attention import scaled_dot_product_attention_with_weights
from neuralab.ops.matmul import linear
from neuralab.ops.shape import cat, pad
from neuralab.tensor import Tensor, constant, float32

__all__ = ["MultiheadAttention"]


def _project(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """linear() over (B, N, E) as one 2-D GEMM."""
    b, n, e = x.shape
    return linear(x.reshape(b * n, e), weight, bias).reshape(b, n, -1)


def _additive(mask: Any, what: str, dtype: np.dtype) -> Tensor:
    """A bool mask (True = not allowed) as 0 / -inf scores; a float mask as it is (same dtype)."""
    m = mask if isinstance(mask, Tensor) else constant(np.asarray(mask))
    if m.dtype == np.bool_:
        return constant(np.where(m._data, -np.inf, 0).astype(dtype))
    if m.dtype.kind != "f":
        raise TypeError(
            f"MultiheadAttention: only bool and floating {what} is supported, got {m.dtype}"
        )
    return m if m.dtype == dtype else m.astype(dtype)


class MultiheadAttention(Module):
    """Attention from ``num_heads`` parallel heads of width embed_dim/num_heads (torch's layer).

    Parameters, as torch names them: ``in_proj_weight`` (3E, E) and ``in_proj_bias`` (3E,) when
    kdim = vdim = embed_dim, else ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight``;
    ``out_proj`` (a Linear); ``bias_k``, ``bias_v`` (1, 1, E) with ``add_bias_kv``. The returned
    attention weights are a detached tensor (no gradient flows back through them).
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_factory(device, dtype, "MultiheadAttention")
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim ({embed_dim}) must be positive and divisible by "
                f"num_heads ({num_heads})"
            )
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout}")
        dtype = np.dtype(dtype or float32)
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        self.add_zero_attn = add_zero_attn

        def param(*shape: int) -> Parameter:
            return parameter(np.zeros(shape, dtype))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = param(3 * embed_dim, embed_dim)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = param(embed_dim, embed_dim)
            self.k_proj_weight = param(embed_dim, self.kdim)
            self.v_proj_weight = param(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = param(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = param(1, 1, embed_dim)
            self.bias_v = param(1, 1, embed_dim)
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """torch's init: Xavier-uniform projections, zero biases, Xavier-normal bias_k/bias_v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                init.xavier_normal_(b)

    def _projections(self, query: Tensor, key: Tensor, value: Tensor, same: bool) -> list:
        """Project batch-first (B, N, ·) query, key and value to (B, N, E) each."""
        e = self.embed_dim
        bias = self.in_proj_bias
        biases = [None] * 3 if bias is None else [bias[i * e : (i + 1) * e] for i in range(3)]
        if self._qkv_same_embed_dim:
            if same:  # self-attention: one GEMM for all three projections
                return _project(query, self.in_proj_weight, bias).chunk(3, dim=-1)
            weights = [self.in_proj_weight[i * e : (i + 1) * e] for i in range(3)]
        else:
            weights = [self.q_proj_weight, self.k_proj_weight, self.v_proj_weight]
        return [_project(x, w, b) for x, w, b in zip((query, key, value), weights, biases)]

    def _check_shapes(self, query: Tensor, key: Tensor, value: Tensor) -> None:
        dims = (query.ndim, key.ndim, value.ndim)
        layout = "(B, N, E)" if self.batch_first else "(N, B, E)"
        if dims not in ((3, 3, 3), (2, 2, 2)):
            raise ValueError(
                f"MultiheadAttention: query, key and value must all be batched {layout} or all "
                f"unbatched (N, E), got shapes {query.shape}, {key.shape} and {value.shape}"
            )
        widths = (query.shape[-1], key.shape[-1], value.shape[-1])
        if widths != (self.embed_dim, self.kdim, self.vdim) or key.shape[:-1] != value.shape[:-1]:
            raise ValueError(
                f"MultiheadAttention: query {query.shape}, key {key.shape} and value "
                f"{value.shape} must have last dimensions (embed_dim={self.embed_dim}, "
                f"kdim={self.kdim}, vdim={self.vdim}) and key and value the same length and batch"
            )
        if query.ndim == 3:
            batch = 0 if self.batch_first else 1
            if query.shape[batch] != key.shape[batch]:
                raise ValueError(
                    f"MultiheadAttention: query {query.shape} and key {key.shape} have different "
                    f"batch sizes (layout {layout})"
                )
        dtypes = {query.dtype, key.dtype, value.dtype, self.out_proj.weight.dtype}
        if len(dtypes) != 1:
            raise TypeError(
                f"MultiheadAttention: query, key, value and the parameters must share a dtype, "
                f"got {query.dtype}, {key.dtype}, {value.dtype} and {self.out_proj.weight.dtype}"
            )

    def _merged_mask(
        self, attn_mask: Any, key_padding_mask: Any, batch: int, n_q: int, n_k: int, dtype: Any
    ) -> Tensor | None:
        """attn_mask and key_padding_mask as one additive mask broadcasting to (B, heads, L, S)."""
        mask = None
        if attn_mask is not None:
            mask = _additive(attn_mask, "attn_mask", dtype)
            allowed = {(n_q, n_k), (batch * self.num_heads, n_q, n_k)}
            if mask.shape not in allowed:
                raise ValueError(
                    f"MultiheadAttention: attn_mask of shape {mask.shape} should be (L, S) = "
                    f"{(n_q, n_k)} or (batch * num_heads, L, S) = "
                    f"{(batch * self.num_heads, n_q, n_k)}"
                )
            if mask.ndim == 3:
                mask = mask.reshape(batch, self.num_heads, n_q, n_k)
        if key_padding_mask is not None:
            kpm = _additive(key_padding_mask, "key_padding_mask", dtype)
            if kpm.shape != (batch, n_k):
                raise ValueError(
                    f"MultiheadAttention: key_padding_mask of shape {kpm.shape} should be "
                    f"(batch, S) = {(batch, n_k)} (or (S,) for unbatched input)"
                )
            kpm = kpm.reshape(batch, 1, 1, n_k)
            mask = kpm if mask is None else mask + kpm
        return mask

    def _heads(
        self, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """Projected (B, L, E) tensors as (B, heads, L, head_dim), with bias_k/bias_v and the
        zero key appended when asked (the mask widened so the appended keys are attended)."""
        batch, extra_keys = q.shape[0], 0
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(batch, 1, self.embed_dim)], dim=1)
            v = cat([v, self.bias_v.expand(batch, 1, self.embed_dim)], dim=1)
            extra_keys += 1
        heads, width = self.num_heads, self.head_dim
        q, k, v = (t.reshape(batch, -1, heads, width).transpose(1, 2) for t in (q, k, v))
        if self.add_zero_attn:
            zeros = constant(np.zeros((batch, heads, 1, width), k.dtype))
            k, v = cat([k, zeros], dim=2), cat([v, zeros], dim=2)
            extra_keys += 1
        if mask is not None and extra_keys:
            mask = pad(mask, (0, extra_keys))
        return q, k, v, mask

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Any = None,
        need_weights: bool = True,
        attn_mask: Any = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """Attend: returns (output like query with embed_dim features, weights or None).

        Weights are (B, L, S) averaged over heads, or (B, num_heads, L, S) with
        ``average_attn_weights=False`` (without B for unbatched input). ``is_causal`` is only a
        hint, as in torch: the causal ``attn_mask`` itself must be given.
        """
        self._check_shapes(query, key, value)
        if is_causal and attn_mask is None:
            raise RuntimeError(
                "MultiheadAttention: is_causal=True needs attn_mask (the hint does not build the "
                "mask); use generate_square_subsequent_mask(L) to create it"
            )
        batched = query.ndim == 3
        same = query is key and key is value
        if not batched:
            query, key, value = (t.unsqueeze(0) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = _additive(key_padding_mask, "key_padding_mask", query.dtype)
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        batch, n_q, _ = query.shape
        n_k = key.shape[1]
        mask = self._merged_mask(attn_mask, key_padding_mask, batch, n_q, n_k, query.dtype)
        q, k, v, mask = self._heads(*self._projections(query, key, value, same), mask)
        out, weights = scaled_dot_product_attention_with_weights(
            q, k, v, mask, self.dropout if self.training else 0.0
        )
        out = self.out_proj(out.transpose(1, 2).reshape(batch, n_q, self.embed_dim))
        if batched and not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            weights = None
        elif average_attn_weights:
            weights = weights.mean(dim=1)
        if not batched:
            out = out.squeeze(0)
            weights = None if weights is None else weights.squeeze(0)
        return out, weights
