"""A convolutional autoencoder: the encoder squeezes an image into a code, the decoder redraws it.

Encoder: per stage a 3×3 conv (padding 1) → ReLU → 2×2 max pool, so each stage halves H and W.
Decoder: per stage a 4×4 transposed conv with stride 2 and padding 1 (doubling H and W; the
windows overlap, so neighbouring output pixels share code positions) → ReLU, then a 3×3 conv back
to the input's channels and a sigmoid (pixels in [0, 1]). The code is the last stage's feature map,
``channels[-1] · H/2^s · W/2^s`` numbers. Trained to map a noisy image to the clean one (a
*denoising* autoencoder) it must keep what makes a digit a digit and drop the noise.
"""

from __future__ import annotations

from collections.abc import Sequence

from neuralab import nn
from neuralab.models.registry import register_model
from neuralab.tensor import Tensor

__all__ = ["ConvAutoencoder", "conv_autoencoder"]


class ConvAutoencoder(nn.Module):
    """Conv encoder (conv → ReLU → max pool per stage) and a transposed-conv decoder.

    ``channels[i]`` is the width of encoder stage i; the decoder's upsampling stages all have the
    width ``channels[0]``. H and W must be divisible by ``2 ** len(channels)``.
    """

    def __init__(self, in_channels: int = 1, channels: Sequence[int] = (32, 8)) -> None:
        super().__init__()
        channels = list(channels)
        if not channels:
            raise ValueError("ConvAutoencoder: channels must name at least one stage")
        self.stages = len(channels)
        encoder: list[nn.Module] = []
        for c_in, c_out in zip([in_channels, *channels[:-1]], channels):
            encoder += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        decoder: list[nn.Module] = []
        for c_in in [channels[-1]] + [channels[0]] * (self.stages - 1):
            decoder += [nn.ConvTranspose2d(c_in, channels[0], 4, stride=2, padding=1), nn.ReLU()]
        decoder += [nn.Conv2d(channels[0], in_channels, 3, padding=1), nn.Sigmoid()]
        self.encoder = nn.Sequential(*encoder)
        self.decoder = nn.Sequential(*decoder)

    def encode(self, x: Tensor) -> Tensor:
        """The code of images (N, C, H, W): (N, channels[-1], H / 2^s, W / 2^s)."""
        factor = 2**self.stages
        if x.ndim != 4 or x.shape[2] % factor or x.shape[3] % factor:
            raise ValueError(
                f"ConvAutoencoder: expected images (N, C, H, W) with H and W divisible by "
                f"{factor}, got shape {tuple(x.shape)}"
            )
        return self.encoder(x)

    def decode(self, code: Tensor) -> Tensor:
        """Images in [0, 1] redrawn from codes."""
        return self.decoder(code)

    def forward(self, x: Tensor) -> Tensor:
        """The reconstruction of ``x`` (same shape, values in [0, 1])."""
        return self.decode(self.encode(x))


@register_model("conv_autoencoder", task="denoising")
def conv_autoencoder(in_channels: int = 1, channels: Sequence[int] = (32, 8)) -> ConvAutoencoder:
    """The denoising autoencoder for 8×8 digits: 64 pixels → a code of 8 × 2 × 2 = 32 numbers."""
    return ConvAutoencoder(in_channels, channels)
