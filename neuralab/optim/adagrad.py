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

from neuralab.optim.optimizer import Optimizer, _gradient
from neuralab.tensor import constant


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.): steps divided by the root of summed squared gradients."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        lr_decay = float(group["lr_decay"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        initial = float(group["initial_accumulator_value"])
        maximize = group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            theta = p._data
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["sum"] = constant(np.full_like(theta, initial))
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
