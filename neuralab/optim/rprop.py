"""Rprop: per-coordinate steps that grow while the gradient keeps its sign and shrink when it flips.

The update (PyTorch's), with gradient ``g`` of parameter ``θ`` and the previous gradient ``g'``
(each coordinate's step size starts at lr)::

    g ← -g                                          if maximize
    f = etaplus if g·g' > 0, etaminus if g·g' < 0, else 1
    step ← clamp(step·f, step_size_min, step_size_max)
    g ← 0 where g·g' < 0                            (no move, and no flip next time)
    θ ← θ - sign(g)·step,  g' ← g
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from neuralab.optim._checks import scalar
from neuralab.optim._update import options, updatable
from neuralab.optim.optimizer import Optimizer
from neuralab.tensor import Tensor, constant


class Rprop(Optimizer):
    """Resilient backpropagation (Riedmiller & Braun), for full batches (torch.optim.Rprop)."""

    _checked = ("lr", "etas")

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        super().__init__(params, options(locals()))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = scalar(group["lr"])
        etaminus, etaplus = (float(e) for e in group["etas"])
        low, high = (float(s) for s in group["step_sizes"])
        for theta, grad, state in updatable(self.state, group):
            if not state:
                state["step"] = 0
                state["prev"] = constant(np.zeros_like(theta))
                state["step_size"] = constant(np.full_like(theta, lr))
            state["step"] += 1
            prev, step_size = state["prev"]._data, state["step_size"]._data
            g = np.array(grad, dtype=theta.dtype)  # a copy: it is zeroed in places
            if group["maximize"]:
                np.negative(g, out=g)
            factor = np.multiply(g, prev, out=np.empty_like(theta))
            np.sign(factor, out=factor)
            flipped = factor < 0
            factor[factor > 0] = etaplus
            factor[flipped] = etaminus
            factor[factor == 0] = 1
            step_size *= factor
            np.clip(step_size, low, high, out=step_size)
            g[flipped] = 0
            theta -= np.sign(g) * step_size
            prev[...] = g
