"""torch.nn.modules.pixelshuffle: PixelShuffle and PixelUnshuffle."""

from neuralab.nn.layers.pooling import PixelShuffle, PixelUnshuffle

__all__ = ["PixelShuffle", "PixelUnshuffle"]
