"""torch.nn.modules.adaptive: AdaptiveLogSoftmaxWithLoss."""

from neuralab.nn.layers.adaptive import AdaptiveLogSoftmaxWithLoss

__all__ = ["AdaptiveLogSoftmaxWithLoss"]
