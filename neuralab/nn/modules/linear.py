"""torch.nn.modules.linear: Identity, Linear, Bilinear (defined in neuralab.nn.layers)."""

from neuralab.nn.layers.containers import Identity
from neuralab.nn.layers.lazy import LazyLinear
from neuralab.nn.layers.linear import Bilinear, Linear, NonDynamicallyQuantizableLinear

__all__ = ["Bilinear", "Identity", "LazyLinear", "Linear", "NonDynamicallyQuantizableLinear"]
