"""The multilayer perceptron: fully connected layers of any depth and width.

Each hidden layer is ``Linear → [BatchNorm1d] → activation → [Dropout]`` (torchvision's MLP
order); a last ``Linear`` maps to the outputs. Inputs with more than two dimensions (images) are
flattened first, so ``mlp(in_features=64)`` takes digits as (N, 64) or (N, 1, 8, 8).
The activation is named by a string so the model's config stays JSON (``nl.save``/``nl.load``).
"""

from __future__ import annotations

from collections.abc import Sequence

from neuralab import nn
from neuralab.models.registry import register_model
from neuralab.nn.module import Module
from neuralab.tensor import Tensor

__all__ = ["ACTIVATIONS", "MLP", "activation_layer", "mlp"]

ACTIVATIONS: dict[str, type[Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
    "identity": nn.Identity,
}


def activation_layer(name: str) -> Module:
    """A fresh activation module named as the zoo's configs spell it: 'relu', 'tanh', ..."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


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
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout must lie in [0, 1), got {dropout}")
        layers: list[Module] = [nn.Flatten()]
        width = in_features
        for size in hidden:
            layers.append(nn.Linear(width, size))
            if batch_norm:
                layers.append(nn.BatchNorm1d(size))
            layers.append(activation_layer(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, out_features))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Logits (N, out_features) for inputs (N, in_features) or (N, ...) that flatten to it."""
        return self.layers(x)


@register_model("mlp")
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
