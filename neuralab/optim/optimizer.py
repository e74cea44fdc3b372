"""The Optimizer base class: parameter groups, per-parameter state, hooks, state_dict.

Two ways to write an optimizer, as in PyTorch:

* torch's way: subclass, call ``super().__init__(params, defaults)`` and write ``step`` yourself
  (``@nl.no_grad()``, ``for group in self.param_groups: for p in group["params"]: ...``, state in
  ``self.state[p]``). Step hooks run around any ``step``.
* the built-ins' way: implement :meth:`Optimizer._update_group`, which updates every parameter of
  one group in place (``p._data``) from its ``p.grad``. Gradient arrays are never written to (the
  autograd engine may share them between parameters): updates compute into new arrays or into the
  optimizer's own state arrays.

State layout
------------
``optimizer.state`` maps each parameter (the Tensor itself) to a dict of its state, e.g. for
Adam ``{"step": 3, "exp_avg": Tensor, "exp_avg_sq": Tensor}``. ``step`` is a Python int (torch
keeps a 0-d float tensor); every array is a neuralab Tensor with the parameter's dtype and shape.

:meth:`Optimizer.state_dict` returns the same information with parameters replaced by their
index (in the order of ``param_groups``, counting from 0 across groups), as PyTorch does::

    {
        "state": {0: {"step": 3, "exp_avg": Tensor, "exp_avg_sq": Tensor}, 1: {...}},
        "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), ..., "params": [0, 1]}],
    }

To store it (``nl.save``), every Tensor sits at ``state[i][name]`` (save it as a tensor named
e.g. ``"state.0.exp_avg"``) and everything else is plain JSON: numbers, bools, None, strings,
lists and tuples. :meth:`Optimizer.load_state_dict` accepts what a JSON round trip gives back:
string keys (``"0"``) for the integer ones, lists for tuples (``betas``) and ndarrays in place of
Tensors; state arrays are copied and cast to their parameter's dtype.
"""

from __future__ import annotations

import functools
import itertools
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from neuralab.optim._checks import check_group
from neuralab.tensor import Tensor, constant, enable_grad

_SET_MESSAGE = (
    "optimizer parameters must be an ordered collection (a list), not a set: the order of a set "
    "changes between runs"
)
# Hooks every optimizer runs around step() (torch.optim.optimizer.register_optimizer_step_*).
_GLOBAL_PRE_HOOKS: OrderedDict[int, Callable] = OrderedDict()
_GLOBAL_POST_HOOKS: OrderedDict[int, Callable] = OrderedDict()
_hook_ids = itertools.count()
_live_hooks = [0]  # hooks registered and not removed, anywhere: 0 keeps step() on its fast path


class _RequiredParameter:
    """The default of an option a parameter group must set itself (torch's ``required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class RemovableHandle:
    """What the ``register_*_hook`` methods return: ``handle.remove()`` unregisters the hook."""

    def __init__(self, hooks: dict[int, Callable]) -> None:
        self._hooks = hooks
        self.id = next(_hook_ids)

    def remove(self) -> None:
        """Unregister the hook (again is harmless)."""
        if self._hooks.pop(self.id, None) is not None:
            _live_hooks[0] -= 1

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _register(hooks: OrderedDict[int, Callable], hook: Callable, prepend: bool = False) -> Any:
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    _live_hooks[0] += 1
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` before every optimizer's step (all instances)."""
    return _register(_GLOBAL_PRE_HOOKS, hook)


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` after every optimizer's step (all instances)."""
    return _register(_GLOBAL_POST_HOOKS, hook)


def _with_step_hooks(step: Callable) -> Callable:
    """Wrap a ``step`` so the pre/post hooks run around it (once, however deeply it nests)."""

    @functools.wraps(step)
    def hooked(self: Optimizer, *args: Any, **kwargs: Any) -> Any:
        if not _live_hooks[0] or self.__dict__.get("_in_step"):
            return step(self, *args, **kwargs)
        pre = self.__dict__.get("_optimizer_step_pre_hooks") or {}
        post = self.__dict__.get("_optimizer_step_post_hooks") or {}
        self._in_step = True
        try:
            for hook in (*_GLOBAL_PRE_HOOKS.values(), *pre.values()):
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            f"optimizer step pre-hook {hook!r} must return None or a tuple "
                            f"(new_args, new_kwargs), got {result!r}"
                        )
                    args, kwargs = result
            out = step(self, *args, **kwargs)
            for hook in (*post.values(), *_GLOBAL_POST_HOOKS.values()):
                hook(self, args, kwargs)
            return out
        finally:
            self._in_step = False

    hooked._step_hooks = True  # type: ignore[attr-defined]
    return hooked


class Optimizer:
    """Base class of the optimizers: param groups and per-parameter state (torch.optim API)."""

    # Options each built-in checks (see optim/_checks.py); a user's subclass checks nothing.
    _checked: tuple[str, ...] = ()
    # Whether every state array has its parameter's shape (LBFGS keeps flat vectors).
    _state_like_params = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_step_hooks", False):
            cls.step = _with_step_hooks(step)

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        for name in ("step_pre", "step_post", "state_dict_pre", "state_dict_post",
                     "load_state_dict_pre", "load_state_dict_post"):  # fmt: skip
            setattr(self, f"_optimizer_{name}_hooks", OrderedDict())
        self._validate_group(self.defaults)
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, got a "
                f"single Tensor of shape {params.shape}; wrap it in a list"
            )
        if isinstance(params, set):
            raise TypeError(_SET_MESSAGE)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # --- groups -------------------------------------------------------------------------
    def _validate_group(self, group: dict[str, Any]) -> None:
        """Raise ValueError for an out-of-range option (the built-ins' checks, torch's messages)."""
        if self._checked:
            check_group(type(self).__name__, group, self._checked)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (missing options take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"param_group has no 'params' entry (keys: {list(param_group)})")
        group = param_group  # filled in place, as torch does
        params = _param_list(group)
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(
                    f"{type(self).__name__}: parameter group didn't specify a value of required "
                    f"optimization parameter {key}"
                )
            group.setdefault(key, default)
        self._validate_group(group)
        seen: dict[int, int] = {}
        for i, p in enumerate(params):
            if id(p) in seen:
                raise ValueError(
                    f"parameter {i} (shape {p.shape}) appears twice in the same parameter group "
                    f"(first as parameter {seen[id(p)]})"
                )
            seen[id(p)] = i
        for g, other in enumerate(self.param_groups):
            for p in other["params"]:
                if id(p) in seen:
                    raise ValueError(
                        f"parameter {seen[id(p)]} (shape {p.shape}) of the new group is already "
                        f"in parameter group {g}: a parameter may belong to one group only"
                    )
        self.param_groups.append(group)

    # --- gradients and steps ------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every optimized parameter (to None, or to fresh zeros)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:  # a new array: the old one may be shared, so it is not zeroed in place
                    p.grad._data = np.zeros_like(p._data)

    @_with_step_hooks
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update each parameter that has a gradient; ``closure`` recomputes and returns a loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._update_group(group)
        return loss

    def _update_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError(
            f"{type(self).__name__} must define step() (or the built-ins' _update_group())"
        )

    # --- hooks --------------------------------------------------------------------------
    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` before each step; it may return new
        ``(args, kwargs)``."""
        return _register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` after each step."""
        return _register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> Any:
        """Call ``hook(optimizer)`` before :meth:`state_dict` builds its result."""
        return _register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> Any:
        """Call ``hook(optimizer, state_dict)`` on the result; a returned dict replaces it."""
        return _register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> Any:
        """Call ``hook(optimizer, state_dict)`` before loading; a returned dict is loaded."""
        return _register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> Any:
        """Call ``hook(optimizer)`` after :meth:`load_state_dict`."""
        return _register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # --- state --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """State and options with parameters replaced by their index (layout: module docstring)."""
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {
            index[id(p)]: {k: _snapshot(v) for k, v in s.items()}
            for p, s in self.state.items()
            if id(p) in index
        }
        result = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, result) or result
        return result

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore state and options saved by :meth:`state_dict` (arrays are copied in)."""
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            state_dict = hook(self, state_dict) or state_dict
        saved_groups = state_dict["param_groups"]
        by_index = self._match_groups(saved_groups)
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, entries in state_dict["state"].items():
            if int(key) not in by_index:
                raise ValueError(
                    f"load_state_dict: state for parameter {key}, but the parameter groups only "
                    f"list indices {sorted(by_index)}"
                )
            p = by_index[int(key)]
            state[p] = {
                name: _restore(value, p, name, self._state_like_params)
                for name, value in entries.items()
            }
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {k: _untuple(v, self.defaults.get(k)) for k, v in saved.items() if k != "params"}
            for key, default in self.defaults.items():  # options added since it was saved
                new.setdefault(key, default)
            new["params"] = group["params"]
            new_groups.append(new)
        self.state = state
        self.param_groups = new_groups
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    def _match_groups(self, saved_groups: list[dict[str, Any]]) -> dict[int, Tensor]:
        """Saved parameter index -> this optimizer's parameter, checking the groups line up."""
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"load_state_dict: the state dict has {len(saved_groups)} parameter group(s) but "
                f"the optimizer has {len(self.param_groups)}"
            )
        by_index: dict[int, Tensor] = {}
        for g, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"load_state_dict: parameter group {g} has {len(saved['params'])} parameters "
                    f"in the state dict but {len(group['params'])} in the optimizer"
                )
            for i, p in zip(saved["params"], group["params"]):
                by_index[int(i)] = p
        return by_index

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


def _param_list(group: dict[str, Any]) -> list[Tensor]:
    """The group's parameters as a checked list (names split off into ``param_names``)."""
    params = group["params"]
    if isinstance(params, Tensor):
        params = [params]
    elif isinstance(params, set):
        raise TypeError(_SET_MESSAGE)
    params = list(params)
    named = [isinstance(p, tuple) for p in params]
    if any(named):  # named_parameters()
        if not all(named):
            raise ValueError(
                "all optimizer params should be with/without names: some parameter names are "
                "missing"
            )
        group["param_names"] = [name for name, _ in params]
        params = [p for _, p in params]
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(
                f"optimizer can only optimize Tensors, but parameter {i} of the group is a "
                f"{type(p).__name__}"
            )
        if not p.is_leaf:
            raise ValueError(f"can't optimize a non-leaf Tensor (parameter {i}, shape {p.shape})")
    group["params"] = params
    return params


def _snapshot(value: Any) -> Any:
    """A copy of a state entry, so a saved state dict does not change with later steps."""
    if isinstance(value, list):
        return [_snapshot(v) for v in value]
    return constant(value._data.copy()) if isinstance(value, Tensor) else value


def _restore(value: Any, param: Tensor, name: str, like_param: bool) -> Any:
    """A loaded state entry: arrays copied as Tensors in the parameter's dtype, ``step`` an int
    (a Tensor ``step``, as a hand-written optimizer may keep, stays a Tensor)."""
    if isinstance(value, list | tuple):
        return [_restore(v, param, name, like_param) for v in value]
    if name == "step" and not isinstance(value, Tensor):
        return int(float(value))
    if not isinstance(value, Tensor | np.ndarray):
        return value
    arr = np.asarray(value._data if isinstance(value, Tensor) else value)
    if like_param and arr.ndim and arr.shape != param.shape:
        raise ValueError(
            f"load_state_dict: state '{name}' has shape {arr.shape} but its parameter has shape "
            f"{param.shape}"
        )
    cast = name != "step" and param.dtype.kind == "f" and arr.dtype.kind == "f"
    return constant(np.array(arr, dtype=param.dtype if cast else arr.dtype, copy=True))


def _untuple(value: Any, default: Any) -> Any:
    """Turn a list back into a tuple where the default is one (``betas`` after JSON)."""
    return tuple(value) if isinstance(default, tuple) and isinstance(value, list) else value
