"""RAdam: Adam whose adaptive step is switched on, and rectified, once its variance is tractable.

The update (PyTorch's), at step ``t`` with gradient ``g`` of parameter ``θ``::

    g ← -g                                  if maximize
    θ ← θ·(1 - lr·weight_decay)             if decoupled_weight_decay, else g ← g + weight_decay·θ
    m ← m + (1 - β1)·(g - m),  v ← β2·v + (1 - β2)·g²
    ρ∞ = 2/(1 - β2) - 1,  ρₜ = ρ∞ - 2t·β2ᵗ/(1 - β2ᵗ)
    m̂ = m / (1 - β1ᵗ)
    θ ← θ - lr·m̂·√(1 - β2ᵗ)/(√v + eps)·rₜ   if ρₜ > 5
    θ ← θ - lr·m̂                            otherwise (plain momentum SGD while ρₜ ≤ 5)
    with the rectification rₜ = √((ρₜ-4)(ρₜ-2)ρ∞ / ((ρ∞-4)(ρ∞-2)ρₜ))
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from neuralab.optim._checks import adam_hyperparameters
from neuralab.optim._update import _decayed_gradient, _lerp_, options, updatable
from neuralab.optim.optimizer import Optimizer
from neuralab.tensor import Tensor


class RAdam(Optimizer):
    """RAdam (Liu et al.): rectified Adam (torch.optim.RAdam)."""

    _checked = ("lr", "eps", "betas", "weight_decay")

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
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
        decoupled = group["decoupled_weight_decay"]
        rho_inf = 2 / (1 - beta2) - 1
        for theta, grad, state in updatable(self.state, group, "exp_avg", "exp_avg_sq"):
            step = state["step"] = state["step"] + 1
            g = _decayed_gradient(grad, theta, lr, weight_decay, decoupled, group["maximize"])
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            tmp = np.empty_like(theta)
            _lerp_(m, g, 1.0 - beta1, tmp)
            np.multiply(g, 1.0 - beta2, out=tmp)
            tmp *= g
            v *= beta2
            v += tmp
            bias2 = 1 - beta2**step
            rho_t = rho_inf - 2 * step * beta2**step / bias2
            update = np.divide(m, 1 - beta1**step, out=np.empty_like(theta))
            update *= lr
            if rho_t > 5.0:
                np.sqrt(v, out=tmp)
                tmp += eps
                np.divide(bias2**0.5, tmp, out=tmp)
                update *= tmp
                rect = (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                update *= rect**0.5
            theta -= update
