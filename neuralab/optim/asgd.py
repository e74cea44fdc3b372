"""ASGD: stochastic gradient descent with a decaying step and a running (Polyak) average.

The update (PyTorch's), at step ``t`` with gradient ``g`` of parameter ``θ``; η starts at lr and
μ at 1, both rounded to float32 as torch keeps them::

    g ← -g                                  if maximize
    g ← g + weight_decay·θ
    θ ← θ·(1 - λ·η) - η·g
    ax ← ax + μ·(θ - ax)                    (ax ← θ while μ = 1): the averaged parameters
    η ← lr / (1 + λ·lr·t)^α,  μ ← 1 / max(1, t - t0)

The averaged parameters are ``optimizer.state[p]["ax"]``; the parameters themselves are not
replaced by them (as in torch).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from neuralab.optim._checks import scalar
from neuralab.optim._update import _gradient, _round_scalar, options, updatable
from neuralab.optim.optimizer import Optimizer
from neuralab.tensor import Tensor


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky) (torch.optim.ASGD)."""

    _checked = ("lr", "weight_decay")

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        super().__init__(params, options(locals()))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = scalar(group["lr"])
        lambd, alpha, t0 = float(group["lambd"]), float(group["alpha"]), float(group["t0"])
        weight_decay = float(group["weight_decay"])
        for theta, grad, state in updatable(self.state, group, "ax"):
            if state["step"] == 0:
                state.update(eta=_round_scalar(lr), mu=1.0)
            step = state["step"] = state["step"] + 1
            g = _gradient(grad, theta, weight_decay, group["maximize"])
            eta, mu = state["eta"], state["mu"]
            theta *= 1 - lambd * eta
            theta -= np.multiply(g, eta, out=np.empty_like(theta))
            ax = state["ax"]._data
            if mu != 1:
                tmp = np.subtract(theta, ax, out=np.empty_like(theta))
                tmp *= mu
                ax += tmp
            else:
                ax[...] = theta
            state["eta"] = _round_scalar(lr / ((1 + lambd * lr * step) ** alpha))
            state["mu"] = _round_scalar(1 / max(1, step - t0))
