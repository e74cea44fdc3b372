"""LeNet-5 in the layout of LeCun, Bottou, Bengio & Haffner (1998), "Gradient-based learning
applied to document recognition".

32×32 input → C1: 6 maps 5×5 (28×28) → S2: 2×2 subsampling (14×14) → C3: 16 maps 5×5 (10×10) →
S4: 2×2 subsampling (5×5) → C5: 120 maps 5×5 (1×1, i.e. fully connected to S4) → F6: 84 units →
output: ``num_classes`` units. Two simplifications, as in most modern re-implementations: C3 sees
all six S2 maps (the paper's connection table leaves some out), and the output is a linear layer
read by softmax cross-entropy rather than the paper's Euclidean RBF units. Subsampling is average
pooling (the paper's trainable coefficient and bias per map are folded into the next layer) or,
with ``pooling='max'``, max pooling; the activation is tanh (as in the paper) or any zoo name.
"""

from __future__ import annotations

from collections import OrderedDict

from neuralab import nn
from neuralab.models.registry import register_model
from neuralab.nn.module import Module
from neuralab.nn.registry import activation_layer
from neuralab.tensor import Tensor

__all__ = ["LeNet5", "lenet5"]

_POOLS = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}


class LeNet5(Module):
    """LeNet-5 (C1 S2 C3 S4 C5 F6 output) for 32×32 images; pad 28×28 MNIST by 2 pixels."""

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 1,
        activation: str = "tanh",
        pooling: str = "avg",
    ) -> None:
        super().__init__()
        if pooling not in _POOLS:
            raise ValueError(f"LeNet5: pooling must be 'avg' or 'max', got {pooling!r}")
        pool = _POOLS[pooling]
        self.features = nn.Sequential(
            OrderedDict(
                c1=nn.Conv2d(in_channels, 6, 5),
                act1=activation_layer(activation),
                s2=pool(2),
                c3=nn.Conv2d(6, 16, 5),
                act3=activation_layer(activation),
                s4=pool(2),
                c5=nn.Conv2d(16, 120, 5),
                act5=activation_layer(activation),
            )
        )
        self.classifier = nn.Sequential(
            OrderedDict(
                flatten=nn.Flatten(),
                f6=nn.Linear(120, 84),
                act6=activation_layer(activation),
                output=nn.Linear(84, num_classes),
            )
        )

    def forward(self, x: Tensor) -> Tensor:
        """Logits (N, num_classes) for images (N, in_channels, 32, 32)."""
        if x.ndim != 4 or tuple(x.shape[2:]) != (32, 32):
            raise ValueError(
                f"LeNet5: expects images (N, C, 32, 32) as in the 1998 layout, got shape "
                f"{tuple(x.shape)} (pad 28×28 MNIST by 2, or resize 8×8 digits with size=32)"
            )
        return self.classifier(self.features(x))


@register_model("lenet5")
def lenet5(
    num_classes: int = 10, in_channels: int = 1, activation: str = "tanh", pooling: str = "avg"
) -> LeNet5:
    """LeNet-5 (1998 layout, 61,706 parameters at 10 classes) for 32×32 images."""
    return LeNet5(num_classes, in_channels, activation, pooling)
