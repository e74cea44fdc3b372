"""torch.nn.modules.loss: the loss modules and their bases _Loss and _WeightedLoss."""

from neuralab.nn.layers.loss import *  # noqa: F403
from neuralab.nn.layers.loss import __all__ as _losses
from neuralab.nn.layers.loss import _Loss, _WeightedLoss

__all__ = [*_losses, "_Loss", "_WeightedLoss"]
