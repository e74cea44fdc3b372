"""torch.nn.modules.upsampling: Upsample and its fixed-mode spellings."""

from neuralab.nn.layers.pooling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = ["Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]
