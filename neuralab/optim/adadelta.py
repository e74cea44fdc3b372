"""Adadelta: steps scaled by the ratio of running RMS of past steps to running RMS of gradients.

The update (PyTorch's), with gradient ``g`` of parameter ``θ``::

    g ← -g                                  if maximize
    g ← g + weight_decay·θ
    v ← ρ·v + (1 - ρ)·g²                    running mean of squared gradients
    Δ ← √(u + eps) / √(v + eps) · g         the step, in the units of θ
    u ← ρ·u + (1 - ρ)·Δ²                    running mean of squared steps
    θ ← θ - lr·Δ
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from neuralab.optim._checks import scalar
from neuralab.optim._update import _gradient, options, updatable
from neuralab.optim.optimizer import Optimizer
from neuralab.tensor import Tensor


class Adadelta(Optimizer):
    """Adadelta (Zeiler): an adaptive rate needing no hand-tuned lr (torch.optim.Adadelta)."""

    _checked = ("lr", "rho", "eps", "weight_decay")

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        super().__init__(params, options(locals()))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = scalar(group["lr"])
        rho, eps = float(group["rho"]), float(group["eps"])
        weight_decay = float(group["weight_decay"])
        for theta, grad, state in updatable(self.state, group, "square_avg", "acc_delta"):
            state["step"] += 1
            g = _gradient(grad, theta, weight_decay, group["maximize"])
            v, u = state["square_avg"]._data, state["acc_delta"]._data
            tmp = np.multiply(g, 1.0 - rho, out=np.empty_like(theta))
            tmp *= g
            v *= rho
            v += tmp
            std = np.add(v, eps, out=tmp)
            np.sqrt(std, out=std)
            delta = np.add(u, eps, out=np.empty_like(theta))
            np.sqrt(delta, out=delta)
            delta /= std
            delta *= g
            np.multiply(delta, 1.0 - rho, out=tmp)
            tmp *= delta
            u *= rho
            u += tmp
            delta *= -lr
            theta += delta
