"""Positional encodings that tell a Transformer where each token is (batch-first input).

Both take (N, L, E) input — batch first, sequence length L ≤ max_len, model dimension E =
d_model — add the encoding of positions 0..L-1 (broadcast over the batch) and apply dropout.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neuralab.nn import init
from neuralab.nn.layers._params import check_float_dtype, empty_parameter
from neuralab.nn.layers.dropout import Dropout
from neuralab.nn.module import Module
from neuralab.tensor import Tensor, constant, float32

__all__ = ["LearnedPositionalEncoding", "SinusoidalPositionalEncoding"]


def _check_length(input: Tensor, max_len: int, d_model: int, layer: str) -> int:
    """The sequence length L of (N, L, E) input, checked against max_len and d_model."""
    if input.ndim != 3 or input.shape[2] != d_model or input.shape[1] > max_len:
        raise ValueError(
            f"{layer}: expected batch-first input (N, L, {d_model}) with L <= max_len={max_len}, "
            f"got shape {input.shape}"
        )
    return input.shape[1]


class SinusoidalPositionalEncoding(Module):
    """The fixed encoding of "Attention Is All You Need", added to (N, L, E) input.

    PE[pos, 2i] = sin(pos / 10000^(2i/d_model)), PE[pos, 2i+1] = cos(same). The table (max_len,
    d_model) is a non-persistent buffer ``pe``: recomputed on construction, not saved.
    """

    def __init__(
        self, d_model: int, max_len: int = 5000, dropout: float = 0.1, dtype: Any = None
    ) -> None:
        super().__init__()
        check_float_dtype(dtype, "SinusoidalPositionalEncoding")
        self.d_model = d_model
        self.max_len = max_len
        position = np.arange(max_len)[:, None]
        div_term = np.exp(np.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = np.zeros((max_len, d_model), np.dtype(dtype or float32))
        pe[:, 0::2] = np.sin(position * div_term)
        pe[:, 1::2] = np.cos(position * div_term[: d_model // 2])
        self.register_buffer("pe", constant(pe), persistent=False)
        self.dropout = Dropout(dropout)

    def forward(self, input: Tensor) -> Tensor:
        length = _check_length(input, self.max_len, self.d_model, "SinusoidalPositionalEncoding")
        return self.dropout(input + self.pe[:length])

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}"


class LearnedPositionalEncoding(Module):
    """A learned vector per position (BERT/GPT style), added to (N, L, E) input.

    ``weight`` (max_len, d_model) is initialized from N(0, 0.02²), as in BERT and GPT-2.
    """

    def __init__(self, max_len: int, d_model: int, dropout: float = 0.0, dtype: Any = None) -> None:
        super().__init__()
        check_float_dtype(dtype, "LearnedPositionalEncoding")
        self.max_len = max_len
        self.d_model = d_model
        self.weight = empty_parameter((max_len, d_model), dtype)
        self.dropout = Dropout(dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw the position vectors from N(0, 0.02²)."""
        init.normal_(self.weight, 0.0, 0.02)

    def forward(self, input: Tensor) -> Tensor:
        length = _check_length(input, self.max_len, self.d_model, "LearnedPositionalEncoding")
        return self.dropout(input + self.weight[:length])

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, d_model={self.d_model}"
