"""Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.

The update (PyTorch's exactly), with ``g`` the gradient of parameter ``θ``::

    g ← -g                          if maximize
    g ← g + weight_decay·θ          (the gradient of (weight_decay/2)·‖θ‖²)
    b ← g                           on the first step, else  b ← momentum·b + (1 - dampening)·g
    g ← g + momentum·b              if nesterov, else  g ← b      (only when momentum ≠ 0)
    θ ← θ - lr·g
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from neuralab.optim._checks import scalar
from neuralab.optim._update import _gradient
from neuralab.optim.optimizer import Optimizer
from neuralab.tensor import Tensor, constant


class SGD(Optimizer):
    """Gradient descent θ ← θ - lr·g, with heavy-ball or Nesterov momentum (torch.optim.SGD)."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float | Tensor = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

    _checked = ("lr", "momentum", "weight_decay")

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"Nesterov momentum requires a momentum and zero dampening (SGD: got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r})"
            )

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = scalar(group["lr"])
        momentum = float(group["momentum"])
        damp = 1.0 - float(group["dampening"])
        weight_decay = scalar(group["weight_decay"], "weight_decay")
        nesterov, maximize = group["nesterov"], group["maximize"]
        rates: dict[np.dtype, np.ndarray] = {}
        for p in group["params"]:
            if p.grad is None:
                continue
            theta = p._data
            g = _gradient(p.grad._data, theta, weight_decay, maximize)
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    b = np.array(g, copy=True)
                    state["momentum_buffer"] = constant(b)
                else:
                    b = buf._data
                    b *= momentum
                    b += g if damp == 1.0 else damp * g
                g = g + momentum * b if nesterov else b
            rate = rates.get(theta.dtype)
            if rate is None:  # a 0-d array: numpy ops take it faster than a Python float
                rate = rates[theta.dtype] = np.asarray(lr, theta.dtype)
            theta -= rate * g
