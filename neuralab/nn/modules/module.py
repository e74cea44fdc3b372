"""torch.nn.modules.module: the Module base class (defined in neuralab.nn.module)."""

from neuralab.nn.hooks import RemovableHandle
from neuralab.nn.module import Module, Parameter, _addindent, _IncompatibleKeys

__all__ = ["Module", "Parameter", "RemovableHandle", "_IncompatibleKeys", "_addindent"]
