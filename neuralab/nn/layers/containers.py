"""Containers that hold submodules (Sequential, ModuleList, ModuleDict) and shape-only layers."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from neuralab.nn.module import Module
from neuralab.ops.shape import flatten, reshape
from neuralab.tensor import Tensor

__all__ = ["Flatten", "Identity", "ModuleDict", "ModuleList", "Sequential", "Unflatten"]


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


class Sequential(_IndexedModules):
    """Modules applied in order, each to the previous one's output.

    ``Sequential(a, b, c)`` names them '0', '1', '2'; ``Sequential(OrderedDict(name=module))``
    keeps the given names. Supports indexing (a slice gives a Sequential), len, iteration, append.
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

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])


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
