"""torch.nn.modules.activation: the activation layers and MultiheadAttention."""

from neuralab.nn.attention import MultiheadAttention
from neuralab.nn.layers.activation import *  # noqa: F403
from neuralab.nn.layers.activation import __all__ as _activations

__all__ = [*_activations, "MultiheadAttention"]
