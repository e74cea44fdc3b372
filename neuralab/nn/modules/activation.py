"""torch.nn.modules.activation: the activation layers and MultiheadAttention."""

from neuralab.nn.layers.activation import *  # noqa: F403
from neuralab.nn.layers.activation import __all__ as _activations
from neuralab.nn.layers.attention import MultiheadAttention

__all__ = [*_activations, "MultiheadAttention"]
