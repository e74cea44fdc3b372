"""torch.nn.modules.conv: the convolution layers (defined in neuralab.nn.layers.conv)."""

from neuralab.nn.layers.conv import (
    Conv1d,
    Conv2d,
    ConvTranspose1d,
    ConvTranspose2d,
    _ConvNd,
    _ConvTransposeNd,
)

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "_ConvNd", "_ConvTransposeNd"]
