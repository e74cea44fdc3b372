"""torch.nn.modules.padding: the padding layers (defined in neuralab.nn.layers.padding)."""

from neuralab.nn.layers.padding import *  # noqa: F403
from neuralab.nn.layers.padding import __all__ as __all__
