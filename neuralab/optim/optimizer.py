"""The Optimizer base class: parameter groups, per-parameter state, zero_grad, state_dict.

Subclasses implement :meth:`Optimizer._update_group`, which updates every parameter of one group
in place (``p._data``) from its ``p.grad``. Gradient arrays are never written to (the autograd
engine may share them between parameters): updates compute into new arrays or into the
optimizer's own state arrays.

State layout
------------
``optimizer.state`` maps each parameter (the Tensor itself) to a dict of its state, e.g. for
Adam ``{"step": 3, "exp_avg": Tensor, "exp_avg_sq": Tensor}``. ``step`` is a Python int; every
array is a neuralab Tensor with the parameter's dtype and shape.

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

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from neuralab.tensor import Tensor, constant, enable_grad

# Hyperparameters that must be >= 0 whenever an optimizer has them.
_NONNEGATIVE = (
    "lr",
    "eps",
    "weight_decay",
    "momentum",
    "alpha",
    "lr_decay",
    "initial_accumulator_value",
)
_SET_MESSAGE = (
    "optimizer parameters must be an ordered collection (a list), not a set: the order of a set "
    "changes between runs"
)


class Optimizer:
    """Base class of the optimizers: param groups and per-parameter state (torch.optim API)."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
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
        """Raise ValueError for an out-of-range hyperparameter (subclasses add their own checks)."""
        for key in _NONNEGATIVE:
            if key in group and not group[key] >= 0:
                self._invalid(key, group[key], "must be >= 0")

    def _invalid(self, name: str, value: Any, rule: str) -> None:
        raise ValueError(f"{type(self).__name__}: invalid {name}={value!r} ({rule})")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (missing options take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"param_group has no 'params' entry (keys: {list(param_group)})")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(_SET_MESSAGE)
        params = list(params)
        if params and all(isinstance(p, tuple) for p in params):  # named_parameters()
            group["param_names"] = [name for name, _ in params]
            params = [p for _, p in params]
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but parameter {i} of the group is a "
                    f"{type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"can't optimize a non-leaf Tensor (parameter {i}, shape {p.shape})"
                )
        group["params"] = params
        for key, default in self.defaults.items():
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
        raise NotImplementedError(f"{type(self).__name__} must define _update_group()")

    # --- state --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """State and options with parameters replaced by their index (layout: module docstring)."""
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
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore state and options saved by :meth:`state_dict` (arrays are copied in)."""
        saved_groups = state_dict["param_groups"]
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
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, entries in state_dict["state"].items():
            if int(key) not in by_index:
                raise ValueError(
                    f"load_state_dict: state for parameter {key}, but the parameter groups only "
                    f"list indices {sorted(by_index)}"
                )
            p = by_index[int(key)]
            state[p] = {name: _restore(value, p, name) for name, value in entries.items()}
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {k: _untuple(v, self.defaults.get(k)) for k, v in saved.items() if k != "params"}
            new["params"] = group["params"]
            new_groups.append(new)
        self.state = state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


def _snapshot(value: Any) -> Any:
    """A copy of a state entry, so a saved state dict does not change with later steps."""
    return constant(value._data.copy()) if isinstance(value, Tensor) else value


def _restore(value: Any, param: Tensor, name: str) -> Any:
    """A loaded state entry: arrays copied as Tensors in the parameter's dtype, ``step`` an int."""
    if name == "step":
        return int(float(value))
    if not isinstance(value, Tensor | np.ndarray):
        return value
    arr = np.asarray(value._data if isinstance(value, Tensor) else value)
    if arr.shape != param.shape:
        raise ValueError(
            f"load_state_dict: state '{name}' has shape {arr.shape} but its parameter has shape "
            f"{param.shape}"
        )
    dtype = param.dtype if param.dtype.kind == "f" else arr.dtype
    return constant(np.array(arr, dtype=dtype, copy=True))


def _untuple(value: Any, default: Any) -> Any:
    """Turn a list back into a tuple where the default is one (``betas`` after JSON)."""
    return tuple(value) if isinstance(default, tuple) and isinstance(value, list) else value


def _gradient(grad: np.ndarray, param: np.ndarray, weight_decay: float, maximize: bool) -> Any:
    """The gradient an update follows: negated to maximize, plus ``weight_decay * param``.

    Returns ``grad`` itself when neither applies; callers must not write into the result.
    """
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    return grad
