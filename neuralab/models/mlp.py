"""The multilayer perceptron: fully connected layers of any depth and width.

Each hidden layer is ``Linear → [BatchNorm1d] → activation → [Dropout]`` (torchvision's MLP
order); a last ``Linear`` maps to the outputs. :func:`mlp_layers` is the one place that stacks
them: the zoo's :class:`MLP`, the scikit-learn-style estimators and the playground all build
their perceptrons with it. The activation is named (see ``neuralab.nn.registry.ACTIVATIONS``)
so a model's config stays JSON (``nl.save``/``nl.load``); 'identity' adds no layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuralab import nn
from neuralab.models.registry import register_model
from neuralab.nn.module import Module
from neuralab.nn.registry import ACTIVATIONS
from neuralab.tensor import Tensor

__all__ = ["MLP", "mlp", "mlp_layers"]


def mlp_layers(
    sizes: Sequence[int] = (),
    activation: str = "relu",
    dropout: float = 0.0,
    batch_norm: bool = False,
    *,
    dtype: Any = None,
    linears: Sequence[nn.Linear] | None = None,
) -> list[Module]:
    """The layers of a perceptron with layer widths ``sizes`` (inputs, hidden..., outputs).

    Each hidden block is ``Linear → [BatchNorm1d] → activation → [Dropout]``, the last Linear
    has none of them. ``linears`` reuses existing Linear layers (the playground keeps its
    weights when the activation or dropout changes) instead of making new ones from ``sizes``.
    """
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"MLP: dropout must lie in [0, 1), got {dropout}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"MLP: {ACTIVATIONS.unknown(activation)}")
    act = ACTIVATIONS.get(activation)
    if linears is None:
        if len(sizes) < 2 or any(int(n) < 1 for n in sizes):
            raise ValueError(f"MLP: layer sizes must be two or more positive widths, got {sizes}")
        linears = [nn.Linear(a, b, dtype=dtype) for a, b in zip(sizes[:-1], sizes[1:])]
    layers: list[Module] = []
    for linear in linears[:-1]:
        layers.append(linear)
        if batch_norm:
            layers.append(nn.BatchNorm1d(linear.out_features, dtype=dtype))
        if act.module is not nn.Identity:
            layers.append(act.layer())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    layers.append(linears[-1])
    return layers


class MLP(Module):
    """A perceptron with ``len(hidden)`` hidden layers: flatten, hidden blocks, a linear head.

    Each hidden block is ``Linear → [BatchNorm1d] → activation → [Dropout]``.
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        out_features: int,
        activation: str = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        sizes = [in_features, *hidden, out_features]
        body = mlp_layers(sizes, activation, dropout, batch_norm)
        self.layers = nn.Sequential(nn.Flatten(), *body)

    def forward(self, x: Tensor) -> Tensor:
        """Logits (N, out_features) for inputs (N, in_features) or (N, ...) that flatten to it."""
        return self.layers(x)


@register_model("mlp", task="classification", data="digits")
def mlp(
    in_features: int = 784,
    num_classes: int = 10,
    width: int = 128,
    depth: int = 2,
    activation: str = "relu",
    dropout: float = 0.0,
    batch_norm: bool = False,
) -> MLP:
    """An MLP with ``depth`` hidden layers of ``width`` units each (MLP takes uneven widths)."""
    return MLP(in_features, [width] * depth, num_classes, activation, dropout, batch_norm)
