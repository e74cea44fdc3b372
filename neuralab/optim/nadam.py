"""NAdam: Adam with Nesterov momentum and a warming-up momentum schedule.

The update (PyTorch's), at step ``t`` with gradient ``g`` of parameter ``θ``::

    g ← -g                                  if maximize
    θ ← θ·(1 - lr·weight_decay)             if decoupled_weight_decay, else g ← g + weight_decay·θ
    μₜ ← β1·(1 - ½·0.96^(t·ψ))              ψ = momentum_decay; Πₜ = μ₁···μₜ
    m ← m + (1 - β1)·(g - m),  v ← β2·v + (1 - β2)·g²
    d ← √(v / (1 - β2ᵗ)) + eps
    θ ← θ - lr·(1 - μₜ)/(1 - Πₜ) · g/d - lr·μₜ₊₁/(1 - Πₜ·μₜ₊₁) · m/d

Πₜ (``state["mu_product"]``) is rounded to float32 after each product, as torch keeps it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from neuralab.optim._checks import adam_hyperparameters
from neuralab.optim._update import (
    _decayed_gradient,
    _lerp_,
    _round_scalar,
    options,
    updatable,
)
from neuralab.optim.optimizer import Optimizer
from neuralab.tensor import Tensor


class NAdam(Optimizer):
    """NAdam (Dozat): Nesterov-accelerated Adam (torch.optim.NAdam)."""

    _checked = ("lr", "eps", "betas", "weight_decay", "momentum_decay")

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        super().__init__(params, options(locals()))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, beta1, beta2, eps, weight_decay = adam_hyperparameters(group)
        psi = float(group["momentum_decay"])
        decoupled = group["decoupled_weight_decay"]
        for theta, grad, state in updatable(self.state, group, "exp_avg", "exp_avg_sq"):
            if state["step"] == 0:
                state["mu_product"] = 1.0
            step = state["step"] = state["step"] + 1
            g = _decayed_gradient(grad, theta, lr, weight_decay, decoupled, group["maximize"])
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
            mu_product = state["mu_product"] = _round_scalar(
                state["mu_product"] * _round_scalar(mu)
            )
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            tmp, denom = np.empty_like(theta), np.empty_like(theta)
            _lerp_(m, g, 1.0 - beta1, tmp)
            np.multiply(g, 1.0 - beta2, out=tmp)
            tmp *= g
            v *= beta2
            v += tmp
            np.divide(v, 1.0 - beta2**step, out=denom)
            np.sqrt(denom, out=denom)
            denom += eps
            np.multiply(g, -lr * (1.0 - mu) / (1.0 - mu_product), out=tmp)
            tmp /= denom
            theta += tmp
            np.multiply(m, -lr * mu_next / (1.0 - mu_product * mu_next), out=tmp)
            tmp /= denom
            theta += tmp
