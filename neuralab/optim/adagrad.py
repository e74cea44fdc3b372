"""Adagrad: per-coordinate learning rates shrinking with the accumulated squared gradient.

The update (PyTorch's exactly), at step ``t`` with gradient ``g`` of parameter ``θ``::

    g ← -g                                   if maximize
    g ← g + weight_decay·θ
    lr_t ← lr / (1 + (t - 1)·lr_decay)
    S ← S + g²                               (S starts at initial_accumulator_value)
    θ ← θ - lr_t · g / (√S + eps)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from neuralab.optim._checks import scalar
from neuralab.optim._update import _gradient, options
from neuralab.optim.optimizer import Optimizer
from neuralab.tensor import Tensor, constant


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.): steps divided by the root of summed squared gradients."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, options(locals()))
        for group in self.param_groups:  # torch fills the state at once, from this argument
            for p in group["params"]:
                self._init_state(p, initial_accumulator_value)

    _checked = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def _init_state(self, p: Tensor, initial: float) -> None:
        self.state[p].update(step=0, sum=constant(np.full_like(p._data, initial)))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = scalar(group["lr"])
        lr_decay = float(group["lr_decay"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        maximize = group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            theta = p._data
            state = self.state[p]
            if not state:  # a parameter added by add_param_group
                self._init_state(p, float(group["initial_accumulator_value"]))
            step = state["step"] = state["step"] + 1
            g = _gradient(p.grad._data, theta, weight_decay, maximize)
            total = state["sum"]._data
            tmp = np.multiply(g, g, out=np.empty_like(total))
            total += tmp
            denom = np.sqrt(total, out=tmp)
            denom += eps
            np.divide(g, denom, out=denom)
            denom *= -lr / (1.0 + (step - 1) * lr_decay)
            theta += denom
