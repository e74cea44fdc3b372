"""Lookup-table layers: ``Embedding`` (a learned vector per integer id) and ``EmbeddingBag``
(the sum, mean or max of the vectors of each bag of ids, without materializing the lookups of
the whole batch as separate outputs)."""

from __future__ import annotations

from typing import Any

from neuralab.nn import functional as F
from neuralab.nn import init
from neuralab.nn.layers._params import check_factory, empty_parameter
from neuralab.nn.module import Module, Parameter
from neuralab.tensor import Tensor, no_grad

__all__ = ["Embedding", "EmbeddingBag"]


def _padding_index(padding_idx: int | None, num_embeddings: int, layer: str) -> int | None:
    """``padding_idx`` made non-negative, or an error if it is outside the table."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"{layer}: padding_idx {padding_idx} must be within num_embeddings ({num_embeddings})"
        )
    return padding_idx % num_embeddings


def _table(
    module: Module, shape: tuple[int, int], weight: Tensor | None, freeze: bool, dtype: Any
) -> None:
    """Give ``module`` its ``weight``: the given tensor (sharing its storage) or a new one."""
    layer = type(module).__name__
    if weight is None:
        module.weight = empty_parameter(shape, dtype)
        module.reset_parameters()
        return
    if tuple(weight.shape) != shape:
        raise ValueError(
            f"{layer}: _weight of shape {tuple(weight.shape)} does not match (num_embeddings, "
            f"embedding_dim) = {shape}"
        )
    module.weight = Parameter(weight, requires_grad=not freeze)


class Embedding(Module):
    """Row ``weight[i]`` for each id i: (*) int64 ids → (*, embedding_dim) vectors.

    The weight is initialized from N(0, 1) like torch's; the ``padding_idx`` row (negative
    values count from the end) starts at zero and receives no gradient, so it stays zero.
    ``max_norm`` rescales, in place, each looked-up row whose ``norm_type``-norm exceeds it.
    ``sparse=True`` is accepted, but gradients are dense. ``_weight`` (shared, not copied) and
    ``_freeze`` give a ready table, as ``from_pretrained`` does.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_factory(device, dtype, "Embedding")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _padding_index(padding_idx, num_embeddings, "Embedding")
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        _table(self, (num_embeddings, embedding_dim), _weight, _freeze, dtype)

    def reset_parameters(self) -> None:
        """Redraw the weight from N(0, 1) and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding whose weight is the 2-D ``embeddings`` (shared), frozen unless
        ``freeze=False``."""
        if embeddings.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-D, got shape {embeddings.shape}"
            )
        return cls(
            *embeddings.shape, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
            _weight=embeddings, _freeze=freeze,
        )  # fmt: skip

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(
            input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
            self.scale_grad_by_freq, self.sparse,
        )  # fmt: skip

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        if self.sparse:
            s += ", sparse=True"
        return s


class EmbeddingBag(Module):
    """Per bag of ids, the sum, mean or max of their embedding vectors: (B, embedding_dim).

    Bags are the rows of a 2-D input (B, N), or the slices of a 1-D input that ``offsets``
    start (``include_last_offset``: the last offset ends the last bag). ``per_sample_weights``
    (mode 'sum' only) scales each vector; ids equal to ``padding_idx`` are left out (also from
    the mean's count); an empty bag gives zeros.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight: Tensor | None = None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_factory(device, dtype, "EmbeddingBag")
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset
        self.padding_idx = _padding_index(padding_idx, num_embeddings, "EmbeddingBag")
        _table(self, (num_embeddings, embedding_dim), _weight, False, dtype)

    reset_parameters = Embedding.reset_parameters

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
    ) -> EmbeddingBag:
        """An EmbeddingBag whose weight is the 2-D ``embeddings`` (shared), frozen unless
        ``freeze=False``."""
        bag = cls(
            *embeddings.shape, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
            embeddings, include_last_offset, padding_idx,
        )  # fmt: skip
        bag.weight.requires_grad_(not freeze)
        return bag

    def forward(
        self, input: Tensor, offsets: Tensor | None = None, per_sample_weights: Tensor | None = None
    ) -> Tensor:
        return F.embedding_bag(
            input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
            self.mode,
            self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx,
        )  # fmt: skip

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
