"""Adamax: Adam with the second moment replaced by an exponentially weighted infinity norm.

The update (PyTorch's), at step ``t`` with gradient ``g`` of parameter ``θ``::

    g ← -g                                  if maximize
    g ← g + weight_decay·θ
    m ← m + (1 - β1)·(g - m)                first moment
    u ← max(β2·u, |g| + eps)                infinity norm
    θ ← θ - lr/(1 - β1ᵗ) · m / u
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from neuralab.optim._checks import adam_hyperparameters
from neuralab.optim._update import _gradient, _lerp_, options, updatable
from neuralab.optim.optimizer import Optimizer
from neuralab.tensor import Tensor


class Adamax(Optimizer):
    """Adamax (Kingma & Ba): Adam's infinity-norm variant (torch.optim.Adamax)."""

    _checked = ("lr", "eps", "betas", "weight_decay")

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        super().__init__(params, options(locals()))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, beta1, beta2, eps, weight_decay = adam_hyperparameters(group)
        for theta, grad, state in updatable(self.state, group, "exp_avg", "exp_inf"):
            step = state["step"] = state["step"] + 1
            g = _gradient(grad, theta, weight_decay, group["maximize"])
            m, u = state["exp_avg"]._data, state["exp_inf"]._data
            tmp = np.empty_like(theta)
            _lerp_(m, g, 1.0 - beta1, tmp)
            u *= beta2
            np.abs(g, out=tmp)
            tmp += eps
            np.maximum(u, tmp, out=u)
            np.multiply(m, -lr / (1.0 - beta1**step), out=tmp)
            tmp /= u
            theta += tmp
