"""torch.nn.utils.weight_norm: reparametrize a weight as a magnitude g and a direction v,
w = g · v / ‖v‖ (Salimans & Kingma, 2016), recomputed before every forward pass."""

from __future__ import annotations

from typing import Any

from neuralab.nn.module import Module, Parameter
from neuralab.tensor import Tensor

__all__ = ["remove_weight_norm", "weight_norm"]


def norm_except_dim(v: Tensor, dim: int | None) -> Tensor:
    """The 2-norm of ``v`` over every dimension but ``dim`` (kept, the others size 1); over
    everything when ``dim`` is None or -1."""
    if dim is None or dim == -1:
        return v.norm()
    dim = dim % v.ndim
    others = [d for d in range(v.ndim) if d != dim]
    return (v * v).sum(dim=others, keepdim=True).sqrt()


class _WeightNormHook:
    """The forward pre-hook: ``module.<name> = g · v / ‖v‖`` from the two parameters."""

    def __init__(self, name: str, dim: int | None) -> None:
        self.name, self.dim = name, dim

    def compute(self, module: Module) -> Tensor:
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / norm_except_dim(v, self.dim))

    def __call__(self, module: Module, args: Any) -> None:
        object.__setattr__(module, self.name, self.compute(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Replace parameter ``name`` by ``name_g`` (its norm over every dim but ``dim``) and
    ``name_v`` (itself); the module's ``name`` is then g · v / ‖v‖ at every call (torch's
    deprecated ``nn.utils.weight_norm``; returns the module)."""
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, _WeightNormHook) and hook.name == name:
            raise RuntimeError(
                f"weight_norm: {name!r} of {type(module).__name__} is already normalized"
            )
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"weight_norm: {type(module).__name__} has no parameter {name!r}")
    hook = _WeightNormHook(name, dim)
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, dim).detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    object.__setattr__(module, name, hook.compute(module))
    module.register_forward_pre_hook(hook)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`weight_norm`: ``name`` is a parameter again, holding g · v / ‖v‖."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, _WeightNormHook) and hook.name == name:
            weight = hook.compute(module).detach()
            del module._forward_pre_hooks[key]
            for suffix in ("_g", "_v"):
                del module._parameters[name + suffix]
            module.__dict__.pop(name, None)
            module.register_parameter(name, Parameter(weight))
            return module
    raise ValueError(f"remove_weight_norm: weight_norm of {name!r} not found in {module}")
