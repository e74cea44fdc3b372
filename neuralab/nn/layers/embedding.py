"""The Embedding layer: a learned lookup table from integer ids to dense vectors."""

from __future__ import annotations

from typing import Any

from neuralab.nn import functional as F
from neuralab.nn import init
from neuralab.nn.layers._params import check_float_dtype, empty_parameter, parameter
from neuralab.nn.module import Module
from neuralab.tensor import Tensor, no_grad

__all__ = ["Embedding"]


class Embedding(Module):
    """Row ``weight[i]`` for each id i: (*) int64 ids → (*, embedding_dim) vectors.

    The weight is initialized from N(0, 1) like torch's; the ``padding_idx`` row (negative
    values count from the end) starts at zero and receives no gradient, so it stays zero.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_float_dtype(dtype, "Embedding")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} must be within num_embeddings "
                    f"({num_embeddings})"
                )
            padding_idx %= num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.weight = empty_parameter((num_embeddings, embedding_dim), dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw the weight from N(0, 1) and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    @classmethod
    def from_pretrained(
        cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None
    ) -> Embedding:
        """An Embedding holding a copy of the 2-D ``embeddings``, frozen unless ``freeze=False``."""
        if embeddings.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-D, got shape {embeddings.shape}"
            )
        layer = cls(*embeddings.shape, padding_idx=padding_idx, dtype=embeddings.dtype)
        layer.weight = parameter(embeddings._data.copy(), requires_grad=not freeze)
        return layer

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s if self.padding_idx is None else s + f", padding_idx={self.padding_idx}"
