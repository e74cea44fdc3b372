"""torch.nn.modules.flatten: Flatten and Unflatten (defined in neuralab.nn.layers)."""

from neuralab.nn.layers.containers import Flatten, Unflatten

__all__ = ["Flatten", "Unflatten"]
