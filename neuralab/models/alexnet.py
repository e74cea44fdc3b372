"""AlexNet (Krizhevsky, Sutskever & Hinton, 2012): five convolutions and three fully connected
layers, ReLU, overlapping 3×3/2 max pooling, dropout, optional local response normalization.

Layout: conv1 (11×11, stride 4) → ReLU → [LRN] → maxpool 3/2 → conv2 (5×5) → ReLU → [LRN] →
maxpool 3/2 → conv3, conv4, conv5 (3×3) with ReLU → maxpool 3/2 → adaptive average pool to 6×6 →
dropout → fc 4096 → ReLU → dropout → fc 4096 → ReLU → fc ``num_classes``.

Three builders: ``alexnet`` is torchvision's single-tower layout (channels 64-192-384-256-256, no
LRN; 61,100,840 parameters); ``alexnet_paper`` is the paper's (channels 96-256-384-384-256, LRN
after conv1 and conv2, conv2/4/5 split in two groups as on the paper's two GPUs; 60,965,224
parameters: the paper's "60 million"); ``alexnet_small`` scales widths down and swaps the stem
for a 3×3 stride-1 convolution so it trains on 32×32 images.
"""

from __future__ import annotations

from collections.abc import Sequence

from neuralab import nn
from neuralab.models.registry import register_model
from neuralab.nn import functional as F
from neuralab.nn.module import Module
from neuralab.tensor import Tensor

__all__ = [
    "AlexNet",
    "LocalResponseNorm",
    "alexnet",
    "alexnet_paper",
    "alexnet_small",
    "local_response_norm",
]


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """torch's local_response_norm: divide by (k + alpha/size · Σ a² over ``size`` channels)^beta.

    The window around channel c spans c - size//2 .. c + (size-1)//2, zero beyond the edges.
    """
    if input.ndim < 3:
        raise ValueError(
            f"local_response_norm: input must be (N, C, ...) with at least 3 dims, "
            f"got shape {tuple(input.shape)}"
        )
    channels = input.shape[1]
    squares = F.pad(input * input, [0, 0] * (input.ndim - 2) + [size // 2, (size - 1) // 2])
    window = squares[:, 0:channels]
    for offset in range(1, size):
        window = window + squares[:, offset : offset + channels]
    return input / (window * (alpha / size) + k) ** beta


class LocalResponseNorm(Module):
    """Local response normalization across channels (torch.nn.LocalResponseNorm's semantics).

    Note torch divides ``alpha`` by ``size``; the paper's α = 1e-4 with n = 5 is alpha = 5e-4 here.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        if size < 1:
            raise ValueError(f"LocalResponseNorm: size must be at least 1, got {size}")
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        """Each activation divided by the energy of its ``size`` neighbouring channels."""
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class AlexNet(Module):
    """Five convolutions and three fully connected layers; see the module docstring for the layout.

    ``channels`` are conv1..conv5's output channels, ``hidden`` the two fc layers' widths.
    ``small_input`` uses a 3×3 stride-1 conv1 and pools to 3×3 (for 32×32 images) instead of the
    11×11 stride-4 conv1 and 6×6 pooling (for 224×224). ``groups`` splits conv2, conv4 and conv5
    into that many towers (2 is the paper's two-GPU layout); ``lrn`` adds the paper's local
    response normalization (n = 5, α = 1e-4, β = 0.75, k = 2) after conv1 and conv2.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        in_channels: int = 3,
        channels: Sequence[int] = (64, 192, 384, 256, 256),
        hidden: int = 4096,
        small_input: bool = False,
        groups: int = 1,
        lrn: bool = False,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if len(channels) != 5:
            raise ValueError(f"AlexNet: channels must list 5 conv widths, got {list(channels)}")
        c1, c2, c3, c4, c5 = channels
        k1, s1, p1 = (3, 1, 1) if small_input else (11, 4, 2)  # conv1's kernel, stride, padding

        def conv_relu(conv: Module, normalize: bool = False) -> list[Module]:
            lrn_layer = [LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)] if normalize else []
            return [conv, nn.ReLU(), *lrn_layer]

        # without LRN the indices match torchvision's state dict (features.0, .3, .6, .8, .10)
        self.features = nn.Sequential(
            *conv_relu(nn.Conv2d(in_channels, c1, k1, s1, p1), lrn), nn.MaxPool2d(3, 2),
            *conv_relu(nn.Conv2d(c1, c2, 5, padding=2, groups=groups), lrn), nn.MaxPool2d(3, 2),
            *conv_relu(nn.Conv2d(c2, c3, 3, padding=1)),
            *conv_relu(nn.Conv2d(c3, c4, 3, padding=1, groups=groups)),
            *conv_relu(nn.Conv2d(c4, c5, 3, padding=1, groups=groups)), nn.MaxPool2d(3, 2),
        )  # fmt: skip
        pooled = 3 if small_input else 6
        self.avgpool = nn.AdaptiveAvgPool2d(pooled)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(c5 * pooled * pooled, hidden), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        """Logits (N, num_classes) for images (N, in_channels, H, W)."""
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


@register_model("alexnet", data="cifar10")
def alexnet(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> AlexNet:
    """torchvision's AlexNet layout for 224×224 images: 61,100,840 parameters at 1000 classes."""
    return AlexNet(num_classes, in_channels, dropout=dropout)


@register_model("alexnet_paper", data="cifar10")
def alexnet_paper(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> AlexNet:
    """The 2012 paper's layout (two towers, LRN) for 224×224 images: 60,965,224 parameters."""
    return AlexNet(
        num_classes, in_channels, (96, 256, 384, 384, 256), groups=2, lrn=True, dropout=dropout
    )


@register_model("alexnet_small")
def alexnet_small(
    num_classes: int = 10, in_channels: int = 3, width: int = 16, dropout: float = 0.5
) -> AlexNet:
    """AlexNet for 32×32 images: 3×3 stem, conv widths (w, 3w, 6w, 4w, 4w), fc 16w units."""
    channels = [width, 3 * width, 6 * width, 4 * width, 4 * width]
    return AlexNet(
        num_classes, in_channels, channels, 16 * width, small_input=True, dropout=dropout
    )
