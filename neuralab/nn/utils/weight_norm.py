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


def hook_key(module: Module, name: str, kind: type) -> int | None:
    """The key of ``module``'s forward pre-hook of class ``kind`` for parameter ``name``."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, kind) and hook.name == name:
            return key
    return None


def hooked_parameter(op: str, module: Module, name: str, kind: type) -> Parameter:
    """Parameter ``name`` of ``module``, which a ``kind`` hook is about to take over: a clear
    error when one already has, or when there is no such parameter."""
    if hook_key(module, name, kind) is not None:
        raise RuntimeError(f"{op}: {name!r} of {type(module).__name__} is already normalized")
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"{op}: {type(module).__name__} has no parameter {name!r}")
    return weight


def restore_parameter(module: Module, name: str, key: int, weight: Tensor) -> Module:
    """Drop the pre-hook at ``key`` and make ``name`` a plain parameter holding ``weight`` again."""
    del module._forward_pre_hooks[key]
    module.__dict__.pop(name, None)
    module.register_parameter(name, Parameter(weight))
    return module


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Replace parameter ``name`` by ``name_g`` (its norm over every dim but ``dim``) and
    ``name_v`` (itself); the module's ``name`` is then g · v / ‖v‖ at every call (torch's
    deprecated ``nn.utils.weight_norm``; returns the module)."""
    weight = hooked_parameter("weight_norm", module, name, _WeightNormHook)
    hook = _WeightNormHook(name, dim)
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, dim).detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    object.__setattr__(module, name, hook.compute(module))
    module.register_forward_pre_hook(hook)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`weight_norm`: ``name`` is a parameter again, holding g · v / ‖v‖."""
    key = hook_key(module, name, _WeightNormHook)
    if key is None:
        raise ValueError(f"remove_weight_norm: weight_norm of {name!r} not found in {module}")
    weight = module._forward_pre_hooks[key].compute(module).detach()
    for suffix in ("_g", "_v"):
        del module._parameters[name + suffix]
    return restore_parameter(module, name, key, weight)
