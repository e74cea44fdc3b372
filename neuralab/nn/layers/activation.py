"""Activation functions as modules, so they can sit inside a Sequential."""

from __future__ import annotations

import warnings

from neuralab.nn import functional as F
from neuralab.nn.module import Module
from neuralab.ops.elementwise import sign
from neuralab.tensor import Tensor

__all__ = ["GELU", "LeakyReLU", "LogSoftmax", "ReLU", "Sigmoid", "Sign", "Softmax", "Tanh"]


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e⁻ˣ): squashes scores to probabilities in (0, 1)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x): a zero-centred squashing to (-1, 1)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class ReLU(Module):
    """max(0, x). ``inplace`` is accepted for torch compatibility; the output is always new."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x for x > 0, else negative_slope·x: keeps a small gradient for negative inputs."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """x·Φ(x), the Gaussian error linear unit (``approximate='tanh'`` for the fast form)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


def _softmax_dim(ndim: int, name: str) -> int:
    """torch's legacy implicit dimension for Softmax(dim=None): 0 for 0/1/3-d input, else 1."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """exp(x) / Σ exp(x) along ``dim``: turns logits into a probability distribution.

    Do not put it in front of ``CrossEntropyLoss``, which applies log-softmax itself.
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        dim = _softmax_dim(input.ndim, "softmax") if self.dim is None else self.dim
        return F.softmax(input, dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably; pairs with ``NLLLoss``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        dim = _softmax_dim(input.ndim, "log_softmax") if self.dim is None else self.dim
        return F.log_softmax(input, dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Sign(Module):
    """The step sign(x) ∈ {-1, 0, +1}: the perceptron's prediction. Forward only (no gradient)."""

    def forward(self, input: Tensor) -> Tensor:
        return sign(input)
