"""torch.nn.utils.parametrize: a module's tensor computed from other parameters by a module.

After ``register_parametrization(layer, "weight", P())`` the layer's ``weight`` is
``P()(original)`` at every read, where ``original`` (``layer.parametrizations.weight.original``,
the former parameter object itself, so optimizers keep it) is what training updates. A
parametrization with ``right_inverse`` sets the original(s) from a value, and may split it into
several (``original0``, ``original1``, ...), as weight normalization does. The layer's class is
swapped for a subclass that holds the computed property, as torch does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from neuralab.nn.layers.containers import ModuleDict, ModuleList
from neuralab.nn.module import Module, Parameter
from neuralab.tensor import Tensor, no_grad

__all__ = [
    "ParametrizationList", "cached", "is_parametrized", "register_parametrization",
    "remove_parametrizations", "type_before_parametrizations",
]  # fmt: skip

_cache: dict[tuple[int, str], Tensor] | None = None  # set inside ``cached()``


@contextlib.contextmanager
def cached() -> Iterator[None]:
    """Compute each parametrized tensor once inside the block (e.g. a recurrent layer's
    weight read at every step), instead of at every read."""
    global _cache
    outer = _cache
    _cache = {} if outer is None else outer
    try:
        yield
    finally:
        _cache = outer


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the original value(s)."""

    def __init__(self, modules: Sequence[Module], original: Parameter, unsafe: bool = False):
        super().__init__(modules)
        self.unsafe = unsafe
        with no_grad():
            new: Any = original
            for m in reversed(list(self)):
                if hasattr(m, "right_inverse"):
                    with contextlib.suppress(NotImplementedError):  # as torch: then identity
                        new = m.right_inverse(new)
        self.is_tensor = isinstance(new, Tensor)
        if self.is_tensor:
            if new is not original:  # keep the parameter object: optimizers hold it
                original._data = new.detach()._data.astype(original._data.dtype, copy=True)
            self.register_parameter("original", original)
        else:
            for i, t in enumerate(new):
                self.register_parameter(
                    f"original{i}", Parameter(t.detach(), original.requires_grad)
                )
        self.ntensors = 1 if self.is_tensor else len(new)

    def _originals(self) -> tuple[Tensor, ...]:
        if self.is_tensor:
            return (self.original,)
        return tuple(getattr(self, f"original{i}") for i in range(self.ntensors))

    def right_inverse(self, value: Tensor) -> None:
        """Set the original(s) so that the parametrized tensor becomes ``value``."""
        with no_grad():
            for m in reversed(list(self)):
                if hasattr(m, "right_inverse"):
                    value = m.right_inverse(value)
            values = (value,) if self.is_tensor else tuple(value)
            for target, v in zip(self._originals(), values):
                target._data[...] = v._data

    def forward(self) -> Tensor:
        x = self[0](*self._originals())
        for m in list(self)[1:]:
            x = m(x)
        return x


def _parametrized_class(module: Module) -> type:
    """A subclass of the module's class to hold the computed properties (made once)."""
    cls = type(module)
    if getattr(cls, "_is_parametrized_class", False):
        return cls
    return type(f"Parametrized{cls.__name__}", (cls,), {"_is_parametrized_class": True})


def _property(name: str) -> property:
    def get(self: Module) -> Tensor:
        if _cache is None:
            return self.parametrizations[name]()
        key = (id(self), name)
        if key not in _cache:
            _cache[key] = self.parametrizations[name]()
        return _cache[key]

    def set_(self: Module, value: Tensor) -> None:
        self.parametrizations[name].right_inverse(value)

    return property(get, set_)


def register_parametrization(
    module: Module, tensor_name: str, parametrization: Module, *, unsafe: bool = False
) -> Module:
    """Make ``module.<tensor_name>`` the output of ``parametrization`` applied to the former
    parameter (or buffer); a second call on the same name chains another parametrization."""
    if is_parametrized(module, tensor_name):
        module.parametrizations[tensor_name].append(parametrization)
        return module
    original = module._parameters.get(tensor_name)
    if original is None:
        original = module._buffers.get(tensor_name)
    if original is None:
        raise ValueError(
            f"register_parametrization: {type(module).__name__} has no parameter or buffer "
            f"{tensor_name!r}"
        )
    if not isinstance(original, Parameter):
        original = Parameter(original, requires_grad=False)
    module._forget(tensor_name)
    if not is_parametrized(module):
        module.__class__ = _parametrized_class(module)
        module.parametrizations = ModuleDict()
    module.parametrizations[tensor_name] = ParametrizationList([parametrization], original, unsafe)
    setattr(type(module), tensor_name, _property(tensor_name))
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has parametrizations (on ``tensor_name``, when given)."""
    found = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(found, ModuleDict):
        return False
    return tensor_name is None or tensor_name in found


def remove_parametrizations(
    module: Module, tensor_name: str, leave_parametrized: bool = True
) -> Module:
    """Turn ``module.<tensor_name>`` back into a parameter: its current parametrized value
    (``leave_parametrized``), or the original."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"remove_parametrizations: {tensor_name!r} is not parametrized")
    plist = module.parametrizations[tensor_name]
    if leave_parametrized:
        with no_grad():
            value = getattr(module, tensor_name)
        param = plist.original if plist.is_tensor else Parameter(value)
        param._data = value.detach()._data.copy()
    elif plist.is_tensor:
        param = plist.original
    else:
        raise ValueError(
            "remove_parametrizations: leave_parametrized=False needs a single original tensor"
        )
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    module.register_parameter(tensor_name, param)
    if not module.parametrizations:
        del module.parametrizations
        module.__class__ = type(module).__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class as it was before any parametrization."""
    cls = type(module)
    return cls.__bases__[0] if getattr(cls, "_is_parametrized_class", False) else cls
