"""Dropout layers: random zeroing in training mode, the identity in evaluation mode."""

from __future__ import annotations

from neuralab.nn import functional as F
from neuralab.nn.module import Module
from neuralab.tensor import Tensor

__all__ = ["Dropout", "Dropout2d"]


class _DropoutNd(Module):
    """Holds the drop probability ``p``; ``inplace`` is accepted for torch compatibility only."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability p in training and scale survivors by 1/(1-p)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) input with probability p in training (scale 1/(1-p))."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training)
