"""torch.nn.modules.channelshuffle: ChannelShuffle (defined in neuralab.nn.layers.pooling)."""

from neuralab.nn.layers.pooling import ChannelShuffle

__all__ = ["ChannelShuffle"]
