"""Containers that hold submodules (Sequential, ModuleList, ModuleDict) and shape-only layers."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from neuralab.nn.module import Module, Parameter
from neuralab.ops.shape import flatten, reshape
from neuralab.tensor import Tensor

__all__ = [
    "Flatten",
    "Identity",
    "ModuleDict",
    "ModuleList",
    "ParameterDict",
    "ParameterList",
    "Sequential",
    "Unflatten",
]


def _check_module(value: Any, container: str) -> Module:
    if not isinstance(value, Module):
        raise TypeError(f"{container}: {type(value).__name__} is not a Module subclass")
    return value


class _IndexedModules(Module):
    """Shared integer/slice indexing over modules registered under the keys '0', '1', ..."""

    def _index(self, idx: int) -> int:
        n = len(self._modules)
        i = operator.index(idx)
        if not -n <= i < n:
            raise IndexError(f"{type(self).__name__}: index {i} is out of range for {n} modules")
        return i % n

    def _renumber(self, modules: list[Module]) -> None:
        """Register ``modules`` in order as '0'..'n-1' (after a deletion or an insertion)."""
        self._modules.clear()
        for i, m in enumerate(modules):
            self._modules[str(i)] = m

    def _sliced(self, items: list[tuple[str, Module]]) -> Module:
        raise NotImplementedError

    def __getitem__(self, idx: int | slice) -> Module:
        if isinstance(idx, slice):
            return self._sliced(list(self._modules.items())[idx])
        return list(self._modules.values())[self._index(idx)]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[self._index(idx)]
        self._modules[key] = _check_module(module, type(self).__name__)

    def __delitem__(self, idx: int | slice) -> None:
        modules = list(self._modules.values())
        del modules[idx if isinstance(idx, slice) else self._index(idx)]
        self._renumber(modules)  # numbering stays contiguous, like torch

    def pop(self, key: int | slice) -> Module:
        """Remove the module at ``key`` and return it."""
        module = self[key]
        del self[key]
        return module

    def append(self, module: Module) -> _IndexedModules:
        """Add ``module`` at the end."""
        self.add_module(str(len(self)), _check_module(module, type(self).__name__))
        return self

    def extend(self, modules: Iterable[Module]) -> _IndexedModules:
        """Add each module of ``modules`` at the end."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index``."""
        modules = list(self._modules.values())
        modules.insert(index, _check_module(module, type(self).__name__))
        self._renumber(modules)

    def __iadd__(self, modules: Iterable[Module]) -> _IndexedModules:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> _IndexedModules:
        return type(self)().extend([*self, *other])


class Sequential(_IndexedModules):
    """Modules applied in order, each to the previous one's output.

    ``Sequential(a, b, c)`` names them '0', '1', '2'; ``Sequential(OrderedDict(name=module))``
    keeps the given names. Supports indexing (a slice gives a Sequential), len, iteration,
    append, insert, extend, pop, + and +=.
    """

    def __init__(self, *args: Module | OrderedDict) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, _check_module(m, "Sequential"))
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), _check_module(m, "Sequential"))

    def _sliced(self, items: list[tuple[str, Module]]) -> Sequential:
        return Sequential(OrderedDict(items))

    def forward(self, input: Any) -> Any:
        for m in self._modules.values():
            input = m(input)
        return input


class ModuleList(_IndexedModules):
    """A list of modules whose parameters are registered (a plain list would hide them)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _sliced(self, items: list[tuple[str, Module]]) -> ModuleList:
        return ModuleList(m for _, m in items)

    def __repr__(self) -> str:
        """torch's compact form: a run of equal modules shows once as '(i-j): n x module'."""
        runs: list[list] = []  # [first index, last index, repr]
        for i, m in enumerate(self):
            text = repr(m)
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        if not runs:
            return f"{self._get_name()}()"
        lines = [
            (f"({a}): {t}" if a == b else f"({a}-{b}): {b - a + 1} x {t}").replace("\n", "\n  ")
            for a, b, t in runs
        ]
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules whose parameters are registered, in insertion order."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, _check_module(module, "ModuleDict"))

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        """The names, in insertion order."""
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        """The modules, in insertion order."""
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        """(name, module) pairs, in insertion order."""
        return self._modules.items()

    def pop(self, key: str) -> Module:
        """Remove ``key`` and return its module."""
        return self._modules.pop(key)

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple]) -> None:
        """Add or replace modules from a mapping or from (name, module) pairs."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for key, m in pairs:
            self[key] = m


def _as_parameter(value: Any, container: str) -> Parameter:
    """A Parameter as it is; any other tensor wrapped as one (sharing its storage), like torch."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{container}: expected a Tensor or Parameter, got {type(value).__name__}")


def _describe(p: Parameter) -> str:
    size = "x".join(str(n) for n in p.shape)
    return f"Parameter containing: [{p.dtype} of size {size}]"


class _ParameterContainer(Module):
    """What ParameterList and ParameterDict share: a repr listing shapes, and no forward."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{type(self).__name__} should not be called.")

    def extra_repr(self) -> str:
        return "\n".join(f"({k}): {_describe(p)}" for k, p in self._parameters.items())


class ParameterList(_ParameterContainer):
    """A list of parameters, registered as '0', '1', ... (plain tensors become Parameters)."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return ParameterList(list(self)[idx])
        return list(self._parameters.values())[self._index(idx)]

    def _index(self, idx: int) -> int:
        n = len(self)
        if not -n <= operator.index(idx) < n:
            raise IndexError(f"ParameterList: index {idx} is out of range for {n} parameters")
        return idx % n

    def __setitem__(self, idx: int, value: Any) -> None:
        setattr(self, str(self._index(idx)), _as_parameter(value, "ParameterList"))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._parameters.values())

    def append(self, value: Any) -> ParameterList:
        """Add ``value`` (a Parameter or a tensor) at the end."""
        setattr(self, str(len(self)), _as_parameter(value, "ParameterList"))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Add each of ``values`` at the end."""
        for v in values:
            self.append(v)
        return self

    __iadd__ = extend


class ParameterDict(_ParameterContainer):
    """A dict of parameters by string key, in insertion order (plain tensors become Parameters)."""

    def __init__(self, parameters: Mapping[str, Any] | Iterable[tuple] | None = None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Parameter:
        return self._parameters[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.register_parameter(key, _as_parameter(value, "ParameterDict"))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __contains__(self, key: str) -> bool:
        return key in self._parameters

    def keys(self) -> Iterable[str]:
        """The keys, in insertion order."""
        return self._parameters.keys()

    def values(self) -> Iterable[Parameter]:
        """The parameters, in insertion order."""
        return self._parameters.values()

    def items(self) -> Iterable[tuple[str, Parameter]]:
        """(key, parameter) pairs, in insertion order."""
        return self._parameters.items()

    def get(self, key: str, default: Any = None) -> Any:
        """The parameter under ``key``, or ``default``."""
        return self._parameters.get(key, default)

    def pop(self, key: str) -> Parameter:
        """Remove ``key`` and return its parameter."""
        return self._parameters.pop(key)

    def clear(self) -> None:
        """Remove every parameter."""
        self._parameters.clear()

    def update(self, parameters: Mapping[str, Any] | Iterable[tuple]) -> None:
        """Add or replace parameters from a mapping or from (key, value) pairs."""
        pairs = parameters.items() if isinstance(parameters, Mapping) else parameters
        for key, value in pairs:
            self[key] = value


class Identity(Module):
    """Returns its input unchanged (a placeholder; accepts and ignores constructor arguments)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


class Flatten(Module):
    """Merge dimensions start_dim..end_dim into one (default: all but the batch dimension)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (the inverse of Flatten)."""

    def __init__(self, dim: int, unflattened_size: tuple[int, ...]) -> None:
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        shape = input.shape
        d = self.dim % input.ndim
        return reshape(input, shape[:d] + self.unflattened_size + shape[d + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
