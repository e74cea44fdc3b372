"""torch.nn.modules.container: Sequential, ModuleList, ModuleDict, ParameterList/Dict."""

from neuralab.nn.layers.containers import (
    ModuleDict,
    ModuleList,
    ParameterDict,
    ParameterList,
    Sequential,
)

__all__ = ["ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential"]
