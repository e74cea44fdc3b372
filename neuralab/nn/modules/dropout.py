"""torch.nn.modules.dropout: the dropout layers and their base _DropoutNd."""

from neuralab.nn.layers.dropout import *  # noqa: F403
from neuralab.nn.layers.dropout import __all__ as _dropouts
from neuralab.nn.layers.dropout import _DropoutNd

__all__ = [*_dropouts, "_DropoutNd"]
