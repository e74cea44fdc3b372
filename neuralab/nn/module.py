"""Module and Parameter: the PyTorch surface for composing networks from layers.

As in torch, a Module keeps its parameters, buffers and submodules in the registries
``_parameters``, ``_buffers`` and ``_modules`` (filled on attribute assignment and read back by
``__getattr__``); parameters(), state_dict(), train()/eval(), to(), hooks, ... walk them.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from neuralab.device import require_cpu
from neuralab.dtypes import BFLOAT16_ERROR, bfloat16
from neuralab.nn.hooks import BackwardHook, RemovableHandle
from neuralab.tensor import Tensor, constant, is_grad_enabled, no_grad

__all__ = ["Module", "Parameter"]


def _is_dtype(value: Any) -> bool:
    """Whether ``value`` names a dtype (a NumPy dtype or scalar type, or nl.bfloat16)."""
    if isinstance(value, np.dtype) or value is bfloat16:
        return True
    return isinstance(value, type) and issubclass(value, np.generic)


def _parse_to(args: tuple, kwargs: dict) -> np.dtype | None:
    """The dtype (None: unchanged) of torch's overloads to(device, dtype), to(dtype),
    to(tensor), after checking that the device is the CPU."""
    kwargs = dict(kwargs)
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    rest = list(args)
    if rest and isinstance(rest[0], Tensor):
        dtype = rest.pop(0).dtype
    elif rest and _is_dtype(rest[0]):
        dtype = rest.pop(0)
    elif rest and not isinstance(rest[0], bool):
        device = rest.pop(0)
        if rest and (_is_dtype(rest[0]) or rest[0] is None):
            dtype = rest.pop(0)
    if rest and isinstance(rest[0], bool):  # non_blocking
        rest.pop(0)
    if rest or kwargs:
        raise TypeError(
            f"Module.to: unexpected arguments {tuple(rest)} {kwargs or ''}; expected to(device), "
            "to(dtype), to(device, dtype) or to(tensor)"
        )
    require_cpu(device, "Module.to")
    return None if dtype is None else np.dtype(dtype)


class Parameter(Tensor):
    """A tensor that a Module registers as trainable (requires_grad=True by default).

    ``Parameter(t)`` shares ``t``'s storage and keeps its dtype, like torch's.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.zeros(0, dtype=np.float32)
        super().__init__(data)
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> Parameter:
        """A new parameter with a copy of the values (not the gradient), like torch."""
        if id(self) not in memo:
            memo[id(self)] = Parameter(constant(self._data.copy()), self.requires_grad)
        return memo[id(self)]


class Buffer(Tensor):
    """A tensor that, assigned to a Module attribute, registers as a buffer (torch.nn.Buffer):
    ``self.steps = nn.Buffer(nl.zeros(3))`` is ``register_buffer("steps", ...)``;
    ``persistent=False`` leaves it out of the state_dict."""

    __slots__ = ("persistent",)

    def __init__(self, data: Any = None, *, persistent: bool = True) -> None:
        data = Tensor(np.zeros(0, np.float32)) if data is None else data
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer: expected a Tensor, got {type(data).__name__}")
        super().__init__(data.detach())
        self.requires_grad = data.requires_grad
        self.persistent = persistent


class _IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` returns: the keys it missed and the ones it did not expect."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        missing, unexpected = self.missing_keys, self.unexpected_keys
        return f"_IncompatibleKeys(missing_keys={missing}, unexpected_keys={unexpected})"

    __str__ = __repr__


def _addindent(text: str, spaces: int) -> str:
    """Indent every line of ``text`` but the first (for nested reprs)."""
    return text.replace("\n", "\n" + " " * spaces)


def _check_name(name: Any, kind: str, module: Module) -> None:
    """Refuse a registry name that is not a string, is dotted or empty, or is taken already."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if "." in name or name == "":
        raise KeyError(f'{kind} name can\'t contain "." or be empty, got {name!r}')
    registries = (module._parameters, module._buffers, module._modules)
    if hasattr(module, name) and not any(name in r for r in registries):
        raise KeyError(f"attribute '{name}' already exists")


# The words of torch's assignment errors per registry: (what cannot be assigned before
# __init__, the role a registered name plays, the type it expects).
_REGISTRY_WORDS = {
    "_parameters": ("parameters", "parameter", "nn.Parameter"),
    "_modules": ("module", "child module", "nn.Module"),
}


class _Mirrored(OrderedDict):
    """A module's parameter or buffer registry whose entries are also kept in the module's
    ``__dict__``: reading ``self.weight`` in a forward pass is then a plain attribute lookup
    instead of a failed one plus ``__getattr__`` (~0.5 us each), and direct edits of
    ``module._parameters`` stay visible as attributes."""

    def __init__(self, mirror: dict | None = None) -> None:
        super().__init__()
        self.mirror = {} if mirror is None else mirror

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.mirror[key] = value

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.mirror.pop(key, None)

    def pop(self, key: str, *default: Any) -> Any:
        if key in self:
            self.mirror.pop(key, None)
        return super().pop(key, *default)


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
            if any(isinstance(a, Iterator) for a in args):  # e.g. ModuleList(a generator):
                args = tuple(list(a) if isinstance(a, Iterator) else a for a in args)  # keep it
            if "_init_args" not in self.__dict__:  # the outermost __init__, not a super() call
                saved = kw
                if kw.get("device") is not None and not isinstance(kw["device"], str):
                    saved = {**kw, "device": str(kw["device"])}  # a device object saves as text
                object.__setattr__(self, "_init_args", (args, saved))
            init(self, *args, **kw)

        cls.__init__ = recording_init

    def __init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "training", True)
        set_(self, "_parameters", _Mirrored(self.__dict__))
        set_(self, "_buffers", _Mirrored(self.__dict__))
        for name in ("_modules", "_forward_hooks", "_forward_pre_hooks", "_backward_hooks",
                     "_backward_pre_hooks"):  # fmt: skip
            set_(self, name, OrderedDict())
        for name in ("_non_persistent_buffers_set", "_forward_hooks_with_kwargs",
                     "_forward_pre_hooks_with_kwargs"):  # fmt: skip
            set_(self, name, set())

    # --- attributes -------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Buffer):
            self._forget(name)
            self.register_buffer(name, value, value.persistent)
            return
        if self._set_registered("_parameters", Parameter, name, value):
            return
        if self._set_registered("_modules", Module, name, value):
            return
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None "
                    "expected)"
                )
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _set_registered(self, registry: str, kind: type, name: str, value: Any) -> bool:
        """Store ``value`` in ``registry`` (``_parameters`` or ``_modules``) when it is a ``kind``
        or clears a registered ``name`` with None, as torch; False when neither applies."""
        table = self.__dict__.get(registry)
        early, role, expected = _REGISTRY_WORDS[registry]
        if isinstance(value, kind):
            if table is None:
                raise AttributeError(f"cannot assign {early} before Module.__init__() call")
            self._forget(name)
            table[name] = value
        elif table is not None and name in table:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as {role} '{name}' ({expected} or "
                    "None expected)"
                )
            table[name] = None
        else:
            return False
        return True

    def _forget(self, name: str) -> None:
        """Drop ``name`` from every registry and the instance dict (before re-registering it)."""
        for table in (self.__dict__, self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __setstate__(self, state: dict) -> None:
        """Restore a copy (``copy.deepcopy``): its registries mirror into its own ``__dict__``."""
        self.__dict__.update(state)
        for registry in ("_parameters", "_buffers"):
            table = state.get(registry)
            if isinstance(table, _Mirrored):
                table.mirror = self.__dict__

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            table = d.get(registry)
            if table is not None and name in table:
                return table[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if name in self._parameters or name in self._buffers or name in self._modules:
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        keys = list(super().__dir__())
        registries = (self._parameters, self._modules, self._buffers)
        return sorted(set(keys) | {k for r in registries for k in r if not k[0].isdigit()})

    def _register(self, registry: str, role: str, kind: type, name: str, value: Any) -> None:
        """Check ``name`` and ``value`` (a ``kind`` or None), then store it in ``registry``:
        what ``register_buffer`` and ``register_parameter`` share."""
        if registry not in self.__dict__:
            raise AttributeError(f"cannot assign {role} before Module.__init__() call")
        _check_name(name, role, self)
        if value is not None and not isinstance(value, kind):
            expected = "nn.Parameter" if kind is Parameter else kind.__name__
            raise TypeError(
                f"cannot assign '{type(value).__name__}' object to {role} '{name}' "
                f"({expected} or None required)"
            )
        self._forget(name)
        self.__dict__[registry][name] = value

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register state that moves with the module but is not trained (e.g. running means).

        A non-persistent buffer is left out of ``state_dict``.
        """
        self._register("_buffers", "buffer", Tensor, name, tensor)
        if not persistent:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register a parameter (or None, for an optional one such as a missing bias)."""
        self._register("_parameters", "parameter", Parameter, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a submodule (or None) under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name(name, "module", self)
        self._forget(name)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The submodule at the dotted path ``target`` ('' is this module)."""
        mod = self
        for item in target.split(".") if target else []:
            if not hasattr(mod, item):
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Put ``module`` at the dotted path ``target`` (its parent must exist)."""
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{parent._get_name()} has no attribute `{name}`")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module).__name__}")
        setattr(parent, name, module)

    def _get_member(self, target: str, registry: str, kind: str) -> Tensor:
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        if name not in getattr(mod, registry):
            raise AttributeError(f"`{name}` is not {kind}")
        return getattr(mod, name)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target`` (e.g. 'encoder.0.weight')."""
        return self._get_member(target, "_parameters", "an nn.Parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path ``target`` (e.g. 'bn.running_mean')."""
        return self._get_member(target, "_buffers", "a buffer")

    # --- calling ----------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        d = self.__dict__
        if (
            d["_forward_hooks"]
            or d["_forward_pre_hooks"]
            or d["_backward_hooks"]
            or (d["_backward_pre_hooks"])
        ):
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    _call_impl = __call__

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        """forward with the pre-hooks before, the hooks after and backward hooks wired in."""
        for key, hook in list(self._forward_pre_hooks.items()):
            if key in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            "forward pre-hook must return None or a tuple of (new_args, "
                            f"new_kwargs), but got {result!r}"
                        )
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        wiring = None
        if (self._backward_hooks or self._backward_pre_hooks) and is_grad_enabled():
            wiring = BackwardHook(
                self, self._backward_hooks.values(), self._backward_pre_hooks.values()
            )
            args = wiring.setup_input_hook(args)
        out = self.forward(*args, **kwargs)
        for key, hook in list(self._forward_hooks.items()):
            if key in self._forward_hooks_with_kwargs:
                result = hook(self, args, kwargs, out)
            else:
                result = hook(self, args, out)
            if result is not None:
                out = result
        return out if wiring is None else wiring.setup_output_hook(out)

    def _add_hook(
        self, table: str, hook: Callable, prepend: bool, flags: str = ""
    ) -> RemovableHandle:
        hooks = self.__dict__[table]
        extra = self.__dict__[flags] if flags else None
        handle = RemovableHandle(hooks, extra_dict=extra)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False,
        always_call: bool = False,
    ) -> RemovableHandle:  # fmt: skip
        """Call ``hook(module, args, output)`` after every forward; a non-None result replaces
        the output. ``with_kwargs`` passes ``(module, args, kwargs, output)``."""
        if always_call:
            raise NotImplementedError("register_forward_hook: always_call=True is not supported")
        handle = self._add_hook("_forward_hooks", hook, prepend, "_forward_hooks_with_kwargs")
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle.id)
        return handle

    def register_forward_pre_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, args)`` before every forward; a non-None result replaces the args.
        ``with_kwargs`` passes ``(module, args, kwargs)`` and expects ``(args, kwargs)`` back."""
        table, flags = "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs"
        handle = self._add_hook(table, hook, prepend, flags)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle.id)
        return handle

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to the
        call's tensor inputs are computed; a non-None result replaces ``grad_input``."""
        return self._add_hook("_backward_hooks", hook, prepend)

    register_backward_hook = register_full_backward_hook

    def register_full_backward_pre_hook(
        self, hook: Callable, prepend: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` before the module's gradients are computed; a
        non-None result replaces ``grad_output``."""
        return self._add_hook("_backward_pre_hooks", hook, prepend)

    # --- traversal --------------------------------------------------------------------------
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module and every descendant (depth first, each once) with dotted names."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                sub = prefix + ("." if prefix else "") + name
                yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every descendant, each once."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct submodules with their names, each once."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and m not in seen:
                seen.add(m)
                yield name, m

    def children(self) -> Iterator[Module]:
        """The direct submodules, each once."""
        for _, m in self.named_children():
            yield m

    def _named_members(
        self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        for mod_prefix, mod in mods if recurse else [(prefix, self)]:
            for name, t in mod.__dict__[registry].items():
                if t is None or id(t) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(t))
                yield mod_prefix + ("." if mod_prefix else "") + name, t

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name (shared ones once)."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (shared ones once), e.g. to hand to an optimizer."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """Every buffer with its dotted name (shared ones once)."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer (shared ones once)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # --- modes and bulk changes -------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm uses batch statistics) recursively."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for m in self.children():
            m.train(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode recursively (same as ``train(False)``)."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (set it to None, or to zeros)."""
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
        """Call ``fn`` on every submodule (children first, recursively) and then on this module."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> Module:
        """Replace every parameter's values (and gradient's) by ``fn`` of them, in place, and
        every buffer by ``fn`` of it: the engine of to(), float(), double(), half(), type()."""
        if recurse:
            for m in self.children():
                m._apply(fn)
        for p in self._parameters.values():
            if p is None:
                continue
            p._data = fn(p)._data
            if p.grad is not None:
                p.grad._data = fn(p.grad)._data
        for name, b in self._buffers.items():
            if b is not None:
                self._buffers[name] = fn(b)
        return self

    def _cast_floating(self, dtype: np.dtype) -> Module:
        return self._apply(
            lambda t: constant(t._data.astype(dtype)) if t.is_floating_point() else t
        )

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move or cast in place and return self: ``to(device)``, ``to(dtype)``,
        ``to(device, dtype)`` or ``to(tensor)`` (its dtype); only the CPU exists, and only
        floating-point parameters and buffers change dtype, as in torch."""
        dtype = _parse_to(args, kwargs)
        if dtype is None:
            return self
        if dtype.kind not in "fc":
            raise TypeError(
                f"nn.Module.to only accepts floating point or complex dtypes, but got desired "
                f"dtype={dtype}"
            )
        return self._cast_floating(dtype)

    def cpu(self) -> Module:
        """Everything already lives on the CPU: returns self."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """Raises: neuralab runs on the CPU only."""
        require_cpu("cuda" if device is None else device, "Module.cuda")
        return self

    def type(self, dst_type: Any) -> Module:
        """Cast every parameter and buffer (floating or not) to ``dst_type``."""
        dtype = np.dtype(dst_type)
        return self._apply(lambda t: constant(t._data.astype(dtype)))

    def float(self) -> Module:
        """Cast floating-point parameters and buffers to float32."""
        return self._cast_floating(np.dtype(np.float32))

    def double(self) -> Module:
        """Cast floating-point parameters and buffers to float64."""
        return self._cast_floating(np.dtype(np.float64))

    def half(self) -> Module:
        """Cast floating-point parameters and buffers to float16."""
        return self._cast_floating(np.dtype(np.float16))

    def bfloat16(self) -> Module:
        """Raises: NumPy has no bfloat16 dtype."""
        raise TypeError(f"Module.bfloat16: {BFLOAT16_ERROR}")

    def share_memory(self) -> Module:
        """Move every parameter, gradient and buffer into memory shared with the processes forked
        afterwards (Hogwild training: :mod:`neuralab.multiprocessing`); returns self."""
        for t in [*self.parameters(), *self.buffers()]:
            t.share_memory_()
            if t.grad is not None:
                t.grad.share_memory_()
        return self

    # --- state ------------------------------------------------------------------------------
    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        """Put this module's own parameters and persistent buffers into ``destination``."""
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()

    def state_dict(
        self, *, destination: dict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict[str, Tensor]:
        """Parameters and persistent buffers by dotted name, sharing memory with the model."""
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)  # fmt: skip
        return destination

    def _load_from_state_dict(
        self, state_dict: Mapping, prefix: str, local_metadata: dict, strict: bool,
        missing_keys: list, unexpected_keys: list, error_msgs: list,
    ) -> None:  # fmt: skip
        """Copy this module's own entries of ``state_dict`` in; record what is off."""
        assign = local_metadata.get("assign_to_params_buffers", False)
        local = {**self._parameters, **self._buffers}
        for name, target in local.items():
            key = prefix + name
            if target is None or name in self._non_persistent_buffers_set:
                continue
            if key not in state_dict:
                missing_keys.append(key)
                continue
            value = state_dict[key]
            arr = value._data if isinstance(value, Tensor) else np.asarray(value)
            if arr.shape != target.shape:
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {arr.shape} from "
                    f"checkpoint, the shape in current model is {target.shape}."
                )
            elif assign:
                target._data = arr
            else:
                with no_grad():
                    target._data[...] = arr.astype(target._data.dtype, copy=False)
        if strict:
            for key in state_dict:
                if key.startswith(prefix):
                    head = key[len(prefix) :].split(".", 1)[0]
                    if head not in self._modules and head not in local:
                        unexpected_keys.append(key)

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> _IncompatibleKeys:
        """Copy values in (shapes must agree); with ``strict`` every key must match.

        Returns ``(missing_keys, unexpected_keys)`` as a named tuple, like torch. ``assign``
        makes the parameters and buffers take the given arrays instead of copying into them.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing: list[str] = []
        unexpected: list[str] = []
        errors: list[str] = []
        meta = {"assign_to_params_buffers": assign}

        def load(module: Module, prefix: str) -> None:
            module._load_from_state_dict(
                state_dict, prefix, meta, True, missing, unexpected, errors
            )
            for name, child in module._modules.items():
                if child is not None:
                    load(child, prefix + name + ".")

        load(self, "")
        if strict:
            for what, keys in (("Unexpected", unexpected), ("Missing", missing)):
                if keys:
                    quoted = ", ".join(f'"{k}"' for k in keys)
                    errors.insert(0, f"{what} key(s) in state_dict: {quoted}. ")
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {self._get_name()}:\n\t" + "\n\t".join(errors)
            )
        return _IncompatibleKeys(missing, unexpected)

    # --- display ----------------------------------------------------------------------------
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The module's settings shown in its repr (override in layers)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({key}): " + _addindent(repr(module), 2) for key, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"

    def summary(self, input_shape: Any, dtype: Any = None, print_summary: bool = True) -> Any:
        """Print and return a Keras-style table of output shapes and parameter counts."""
        from neuralab.nn.summary import summary

        return summary(self, input_shape, dtype, print_summary)

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Total number of parameter elements."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)
