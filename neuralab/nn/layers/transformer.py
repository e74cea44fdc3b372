"""Transformer encoder/decoder layers and stacks with torch's arguments, names and behaviour.

``TransformerEncoderLayer`` is self-attention then a feed-forward block, each wrapped in a
residual connection with LayerNorm after it (post-norm, the default) or before it
(``norm_first=True``, pre-norm). ``TransformerDecoderLayer`` adds cross-attention over the
encoder's output (``memory``). The stacks hold deep copies of one layer, like torch, so their
parameters are independent; ``Transformer`` joins an encoder and a decoder. Submodule names
match torch's (``self_attn``, ``multihead_attn``, ``linear1``, ``linear2``, ``norm1``...), so a
torch ``state_dict``'s arrays load directly.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from neuralab.nn import init
from neuralab.nn.layers._params import check_factory
from neuralab.nn.layers.attention import MultiheadAttention
from neuralab.nn.layers.containers import ModuleList
from neuralab.nn.layers.dropout import Dropout
from neuralab.nn.layers.linear import Linear
from neuralab.nn.layers.normalization import LayerNorm
from neuralab.nn.module import Module
from neuralab.nn.registry import ACTIVATIONS
from neuralab.tensor import Tensor, constant, float32

__all__ = [
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "generate_square_subsequent_mask",
]

Activation = str | Callable[[Tensor], Tensor]


def generate_square_subsequent_mask(sz: int, dtype: Any = None) -> Tensor:
    """Causal float mask (sz, sz): 0 on and below the diagonal, -inf above (no peeking ahead)."""
    mask = np.triu(np.full((sz, sz), -np.inf, np.dtype(dtype or float32)), k=1)
    return constant(mask)


def _activation(activation: Activation) -> Callable[[Tensor], Tensor]:
    if activation in ("relu", "gelu"):  # the names torch's Transformer layers accept
        return ACTIVATIONS.get(activation).function
    if callable(activation):
        return activation
    raise RuntimeError(f"activation should be relu/gelu, not {activation!r}")


class _TransformerLayer(Module):
    """Shared parts of the encoder and decoder layers: the feed-forward block, norms, dropouts."""

    def _init_common(
        self,
        d_model: int,
        dim_feedforward: int,
        dropout: float,
        activation: Activation,
        layer_norm_eps: float,
        norm_first: bool,
        bias: bool,
        n_blocks: int,
        dtype: Any,
    ) -> None:
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        for i in range(1, n_blocks + 1):
            setattr(
                self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            )
        for i in range(1, n_blocks + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation(activation)

    def _ff_block(self, x: Tensor, n: int) -> Tensor:
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return getattr(self, f"dropout{n}")(x)

    def _attention_block(
        self,
        n: int,
        attention: MultiheadAttention,
        memory: Tensor | None,
        attn_mask: Any,
        key_padding_mask: Any,
        is_causal: bool,
    ) -> Callable[[Tensor], Tensor]:
        """Block n: x attends to ``memory`` (to itself when None), then dropout n."""

        def block(x: Tensor) -> Tensor:
            kv = x if memory is None else memory
            x = attention(
                x, kv, kv, key_padding_mask=key_padding_mask, need_weights=False,
                attn_mask=attn_mask, is_causal=is_causal,
            )[0]  # fmt: skip
            return getattr(self, f"dropout{n}")(x)

        return block

    def _residual(self, x: Tensor, n: int, block: Callable[[Tensor], Tensor]) -> Tensor:
        """x + block(norm(x)) in pre-norm, norm(x + block(x)) in post-norm; block n's norm."""
        norm = getattr(self, f"norm{n}")
        if self.norm_first:
            return x + block(norm(x))
        return norm(x + block(x))


class TransformerEncoderLayer(_TransformerLayer):
    """Self-attention block then feed-forward block, each residual with LayerNorm."""

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Activation = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_factory(device, dtype, type(self).__name__)
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype
        )
        self._init_common(
            d_model, dim_feedforward, dropout, activation, layer_norm_eps, norm_first, bias, 2,
            dtype,
        )  # fmt: skip

    def forward(
        self,
        src: Tensor,
        src_mask: Any = None,
        src_key_padding_mask: Any = None,
        is_causal: bool = False,
    ) -> Tensor:
        """Encode ``src`` (masks as in MultiheadAttention: bool True = not attended)."""
        self_attention = self._attention_block(
            1, self.self_attn, None, src_mask, src_key_padding_mask, is_causal
        )
        x = self._residual(src, 1, self_attention)
        return self._residual(x, 2, lambda x: self._ff_block(x, 2))


class TransformerDecoderLayer(_TransformerLayer):
    """Self-attention, cross-attention over ``memory``, feed-forward: each residual, LayerNormed."""

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Activation = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_factory(device, dtype, type(self).__name__)
        kw = dict(dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, **kw)
        self._init_common(
            d_model, dim_feedforward, dropout, activation, layer_norm_eps, norm_first, bias, 3,
            dtype,
        )  # fmt: skip

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Any = None,
        memory_mask: Any = None,
        tgt_key_padding_mask: Any = None,
        memory_key_padding_mask: Any = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """Decode ``tgt`` attending to itself (``tgt_mask``) and to ``memory`` (``memory_mask``)."""
        self_attention = self._attention_block(
            1, self.self_attn, None, tgt_mask, tgt_key_padding_mask, tgt_is_causal
        )
        cross_attention = self._attention_block(
            2, self.multihead_attn, memory, memory_mask, memory_key_padding_mask, memory_is_causal
        )
        x = self._residual(tgt, 1, self_attention)
        x = self._residual(x, 2, cross_attention)
        return self._residual(x, 3, lambda x: self._ff_block(x, 3))


def _clones(layer: Module, n: int) -> ModuleList:
    """``n`` independent deep copies of ``layer`` (torch's stacks never share parameters)."""
    return ModuleList(copy.deepcopy(layer) for _ in range(n))


class TransformerEncoder(Module):
    """``num_layers`` deep copies of ``encoder_layer`` applied in turn, then an optional norm."""

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        src: Tensor,
        mask: Any = None,
        src_key_padding_mask: Any = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        """Run every layer with the same masks."""
        x = src
        for layer in self.layers:
            x = layer(
                x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                is_causal=bool(is_causal),
            )  # fmt: skip
        return x if self.norm is None else self.norm(x)


class TransformerDecoder(Module):
    """``num_layers`` deep copies of ``decoder_layer`` applied in turn, then an optional norm."""

    def __init__(
        self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None
    ) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Any = None,
        memory_mask: Any = None,
        tgt_key_padding_mask: Any = None,
        memory_key_padding_mask: Any = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """Run every layer over ``tgt`` with the same ``memory`` and masks."""
        x = tgt
        for layer in self.layers:
            x = layer(
                x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal,
            )  # fmt: skip
        return x if self.norm is None else self.norm(x)


class Transformer(Module):
    """Encoder-decoder transformer ("Attention Is All You Need"), torch's ``nn.Transformer``.

    Weights with two or more dimensions are re-initialized Xavier-uniform, as torch does.
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Activation = "relu",
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_factory(device, dtype, type(self).__name__)
        layer_kw = dict(
            dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
            layer_norm_eps=layer_norm_eps, batch_first=batch_first, norm_first=norm_first,
            bias=bias, dtype=dtype,
        )  # fmt: skip
        norm_kw = dict(eps=layer_norm_eps, bias=bias, dtype=dtype)
        if custom_encoder is None:
            layer = TransformerEncoderLayer(d_model, nhead, **layer_kw)
            custom_encoder = TransformerEncoder(
                layer, num_encoder_layers, LayerNorm(d_model, **norm_kw)
            )
        if custom_decoder is None:
            layer = TransformerDecoderLayer(d_model, nhead, **layer_kw)
            custom_decoder = TransformerDecoder(
                layer, num_decoder_layers, LayerNorm(d_model, **norm_kw)
            )
        self.encoder = custom_encoder
        self.decoder = custom_decoder
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    generate_square_subsequent_mask = staticmethod(generate_square_subsequent_mask)

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_mask: Any = None,
        tgt_mask: Any = None,
        memory_mask: Any = None,
        src_key_padding_mask: Any = None,
        tgt_key_padding_mask: Any = None,
        memory_key_padding_mask: Any = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """Encode ``src`` into memory, then decode ``tgt`` against it."""
        batch = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch] != tgt.shape[batch]:
            raise RuntimeError(
                f"Transformer: the batch number of src {src.shape} and tgt {tgt.shape} must be "
                f"equal (batch_first={self.batch_first})"
            )
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(
                f"Transformer: the feature number of src {src.shape} and tgt {tgt.shape} must "
                f"equal d_model={self.d_model}"
            )
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
            is_causal=src_is_causal,
        )  # fmt: skip
        return self.decoder(
            tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )  # fmt: skip
