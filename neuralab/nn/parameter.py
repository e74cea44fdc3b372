"""torch.nn.parameter: the Parameter class (defined in neuralab.nn.module)."""

from neuralab.nn.module import Parameter

__all__ = ["Parameter"]
