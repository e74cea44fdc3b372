"""RMSprop: divide the gradient by a running root-mean-square of recent gradients.

The update (PyTorch's exactly), with gradient ``g`` of parameter ``θ``::

    g ← -g                                   if maximize
    g ← g + weight_decay·θ
    s ← α·s + (1 - α)·g²                     running mean of squares
    a ← a + (1 - α)·(g - a)                  running mean (centered only)
    d ← √(s - a²) + eps   if centered,  else  d ← √s + eps
    b ← momentum·b + g/d,  θ ← θ - lr·b      if momentum > 0
    θ ← θ - lr·g/d                           otherwise
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from neuralab.optim._checks import scalar
from neuralab.optim._update import _gradient, options, updatable
from neuralab.optim.optimizer import Optimizer
from neuralab.tensor import Tensor


class RMSprop(Optimizer):
    """RMSprop (Hinton): steps normalised by a running RMS of the gradient (torch.optim.RMSprop)."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        super().__init__(params, options(locals()))

    _checked = ("lr", "eps", "momentum", "weight_decay", "alpha")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = scalar(group["lr"])
        alpha = float(group["alpha"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        momentum = float(group["momentum"])
        centered, maximize = group["centered"], group["maximize"]
        names = ("square_avg",) + (("momentum_buffer",) if momentum > 0 else ())
        names += ("grad_avg",) if centered else ()
        for theta, grad, state in updatable(self.state, group, *names):
            state["step"] += 1
            g = _gradient(grad, theta, weight_decay, maximize)
            sq = state["square_avg"]._data
            sq *= alpha
            tmp = np.multiply(g, g, out=np.empty_like(sq))
            tmp *= 1.0 - alpha
            sq += tmp
            if centered:
                avg = state["grad_avg"]._data
                np.subtract(g, avg, out=tmp)
                tmp *= 1.0 - alpha
                avg += tmp
                np.multiply(avg, avg, out=tmp)
                np.subtract(sq, tmp, out=tmp)
                denom = np.sqrt(tmp, out=tmp)
            else:
                denom = np.sqrt(sq, out=tmp)
            denom += eps
            np.divide(g, denom, out=denom)
            if momentum > 0:
                buf = state["momentum_buffer"]._data
                buf *= momentum
                buf += denom
                np.multiply(buf, lr, out=denom)
                theta -= denom
            else:
                denom *= -lr
                theta += denom
