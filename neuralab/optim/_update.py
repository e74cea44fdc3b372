"""Update arithmetic the built-in optimizers share: the gradient to follow, fresh state, and
torch's ``lerp_`` and scalar rounding, on NumPy arrays in place."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from neuralab.memory import persistent_zeros
from neuralab.tensor import constant, get_default_dtype


def options(arguments: dict[str, Any]) -> dict[str, Any]:
    """An optimizer's defaults from its constructor's ``locals()``: every argument but ``self``
    and ``params``, pairs such as ``betas`` stored as tuples (torch's signatures name them all)."""
    skip = ("self", "params", "__class__")
    return {
        k: tuple(v) if k in ("betas", "etas", "step_sizes") else v
        for k, v in arguments.items()
        if k not in skip
    }


def updatable(
    states: dict[Any, dict[str, Any]], group: dict[str, Any], *names: str
) -> Iterator[tuple[np.ndarray, np.ndarray, dict[str, Any]]]:
    """``(θ, gradient, state)`` for each parameter of ``group`` that has a gradient, its state
    started (:func:`_fresh_state` with ``names``) the first time the parameter is updated."""
    for p in group["params"]:
        if p.grad is None:
            continue
        state = states[p]
        if not state and names:
            _fresh_state(state, p._data, *names)
        yield p._data, p.grad._data, state


def _gradient(grad: np.ndarray, param: np.ndarray, weight_decay: float, maximize: bool) -> Any:
    """The gradient an update follows: negated to maximize, plus ``weight_decay * param``.

    Returns ``grad`` itself when neither applies; callers must not write into the result.
    """
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    return grad


def _decayed_gradient(
    grad: np.ndarray,
    theta: np.ndarray,
    lr: float,
    weight_decay: float,
    decoupled: bool,
    maximize: bool,
) -> Any:
    """The gradient to follow (as :func:`_gradient`); with ``decoupled`` the decay is applied to
    θ instead, θ ← θ·(1 - lr·weight_decay) (AdamW's), before the gradient is read."""
    if decoupled and weight_decay != 0:
        theta *= 1.0 - lr * weight_decay
        weight_decay = 0.0
    return _gradient(grad, theta, weight_decay, maximize)


def _fresh_state(state: dict[str, Any], theta: np.ndarray, *names: str) -> None:
    """Start a parameter's state: ``step`` 0 and a zero array (as a Tensor) for each name."""
    state["step"] = 0
    for name in names:
        state[name] = constant(persistent_zeros(theta))


def _lerp_(m: np.ndarray, g: np.ndarray, weight: float, tmp: np.ndarray) -> None:
    """``m ← m + weight·(g - m)`` in place, by torch's formula on each half of the weight range
    (torch's ``lerp_``, which the moment estimates use); ``tmp`` is scratch space."""
    w = m.dtype.type(weight)
    np.subtract(g, m, out=tmp)
    if w < 0.5:
        tmp *= w
        m += tmp
    else:
        tmp *= m.dtype.type(1) - w
        np.subtract(g, tmp, out=m)


def _round_scalar(value: float) -> float:
    """``value`` rounded as torch stores an optimizer's scalar state (a 0-d tensor of the default
    float dtype), so schedules built from such scalars follow torch's floats."""
    return float(np.asarray(value, dtype=get_default_dtype()))
