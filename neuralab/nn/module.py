"""Module and Parameter: the PyTorch surface for composing networks from layers.

Parameters, buffers and submodules register themselves on attribute assignment; everything
else (parameters(), state_dict(), train()/eval(), ...) walks that registry.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from neuralab.tensor import Tensor, no_grad


class Parameter(Tensor):
    """A tensor that a Module registers as trainable (requires_grad=True by default)."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.zeros(0, dtype=np.float32)
        super().__init__(data)
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and network: override ``forward``; call the module itself."""

    training: bool

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Make each subclass record its constructor arguments, so ``nl.save`` can rebuild it."""
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        @functools.wraps(init)
        def recording_init(self: Module, *args: Any, **kw: Any) -> None:
            if "_init_args" not in self.__dict__:  # the outermost __init__, not a super() call
                object.__setattr__(self, "_init_args", (args, kw))
            init(self, *args, **kw)

        cls.__init__ = recording_init

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # --- registration ---------------------------------------------------------------------
    # Parameters and buffers are also mirrored in the instance __dict__, so that reading
    # ``self.weight`` in a forward pass is a plain attribute lookup, not a __getattr__ call.
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        if name in self._buffers and (value is None or isinstance(value, Tensor)):
            self._buffers[name] = d[name] = value
            return
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = d[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
            d.pop(name, None)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        for registry in ("_parameters", "_buffers", "_modules"):
            table = self.__dict__.get(registry)
            if table is not None and name in table:
                return table[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self.__dict__.pop(name, None)
                return
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register state that is saved and loaded but not trained (e.g. running means)."""
        self._buffers[name] = self.__dict__[name] = tensor
        if not persistent:
            self.__dict__.setdefault("_non_persistent", set()).add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register a parameter (or None, for an optional one such as a missing bias)."""
        if param is None:
            self._parameters[name] = self.__dict__[name] = None
        else:
            setattr(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a submodule under ``name``."""
        self._modules[name] = module

    # --- calling --------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        hooks = self.__dict__.get("_forward_hooks")
        out = self.forward(*args, **kwargs)
        if hooks:
            for hook in list(hooks):
                hook(self, args, out)
        return out

    def register_forward_hook(self, hook: Callable[[Module, tuple, Any], None]) -> Callable:
        """Call ``hook(module, inputs, output)`` after every forward; returns a remover."""
        hooks = self.__dict__.setdefault("_forward_hooks", [])
        hooks.append(hook)
        return lambda: hooks.remove(hook)

    # --- traversal ------------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every descendant, each once, with dotted names."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, mod = stack.pop()
            if id(mod) in seen:
                continue
            seen.add(id(mod))
            yield name, mod
            children = [
                (f"{name}.{k}" if name else k, m) for k, m in mod._modules.items() if m is not None
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named(self, registry: str, recurse: bool) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        mods = self.named_modules() if recurse else [("", self)]
        for prefix, mod in mods:
            for name, t in getattr(mod, registry).items():
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))
                yield (f"{prefix}.{name}" if prefix else name), t

    def named_parameters(self, recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name, shared ones once."""
        return self._named("_parameters", recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse):
            yield p

    def named_buffers(self, recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named("_buffers", recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse):
            yield b

    # --- modes and bulk changes -----------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm uses batch statistics) recursively."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Set evaluation mode recursively (same as ``train(False)``)."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad._data = np.zeros_like(p._data)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every parameter."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule (children first) and on this module."""
        for m in reversed(list(self.modules())):
            fn(m)
        return self

    def to(self, dtype: Any) -> Module:
        """Convert floating parameters and buffers to ``dtype`` in place (``.to(nl.float64)``)."""
        dtype = np.dtype(dtype)
        for t in list(self.parameters()) + list(self.buffers()):
            if t._data.dtype.kind == "f":
                t._data = t._data.astype(dtype)
                if t.grad is not None:
                    t.grad._data = t.grad._data.astype(dtype)
        return self

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    # --- state ----------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, Tensor]:
        """Parameters and persistent buffers by dotted name (sharing memory with the model)."""
        state: OrderedDict[str, Tensor] = OrderedDict()
        for prefix, mod in self.named_modules():
            skip = mod.__dict__.get("_non_persistent", set())
            for registry in (mod._parameters, mod._buffers):
                for name, t in registry.items():
                    if t is not None and name not in skip:
                        state[f"{prefix}.{name}" if prefix else name] = t.detach()
        return state

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> tuple:
        """Copy values in; with ``strict`` every key must match and every shape must agree."""
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        for k, target in own.items():
            if k in state_dict:
                value = state_dict[k]
                arr = value._data if isinstance(value, Tensor) else np.asarray(value)
                if arr.shape != target.shape:
                    mismatched.append(f"{k}: checkpoint {arr.shape} vs model {target.shape}")
        problems = []
        if strict and missing:
            problems.append(f"missing keys: {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {unexpected}")
        if mismatched:
            problems.append("shape mismatch: " + "; ".join(mismatched))
        if problems:
            raise RuntimeError(
                f"load_state_dict for {type(self).__name__}: " + " | ".join(problems)
            )
        with no_grad():
            for k, target in own.items():
                if k in state_dict:
                    value = state_dict[k]
                    arr = value._data if isinstance(value, Tensor) else np.asarray(value)
                    target._data[...] = arr.astype(target._data.dtype, copy=False)
        return missing, unexpected

    # --- display --------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """One line of settings shown in the repr (override in layers)."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self.named_children()]
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = ([extra] if extra else []) + lines
        return f"{type(self).__name__}(\n  " + "\n  ".join(body) + "\n)"

    def summary(self, input_shape: Any, dtype: Any = None, print_summary: bool = True) -> Any:
        """Print and return a Keras-style table of output shapes and parameter counts."""
        from neuralab.nn.summary import summary

        return summary(self, input_shape, dtype, print_summary)

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Total number of parameter elements."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)
