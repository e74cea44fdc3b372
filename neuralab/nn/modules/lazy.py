"""torch.nn.modules.lazy: LazyModuleMixin (defined in neuralab.nn.layers.lazy)."""

from neuralab.nn.layers.lazy import LazyModuleMixin

__all__ = ["LazyModuleMixin"]
