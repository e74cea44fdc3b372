"""SparseAdam: Adam's lazy variant for embeddings, which moves only the rows a step's gradient
touches and leaves the moments of every other row as they were.

torch takes the rows from a sparse gradient (``nn.Embedding(sparse=True)``: the rows the batch
looked up). neuralab's gradients are always dense, so the rows are those whose gradient is not
all zero (a row looked up whose gradient is exactly zero stays still here, moves in torch; see
docs/porting.md). On those rows the update is torch's, in its order of operations::

    g ← -g                                    if maximize
    m ← m + (1 - β1)·(g - m)                  first moment
    v ← v + (1 - β2)·(g² - v)                 second moment
    θ ← θ - lr·√(1 - β2ᵗ)/(1 - β1ᵗ) · m / (√v + eps)

The step count ``t`` advances on every step that finds a gradient, touched rows or not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from neuralab.optim._checks import check_betas, scalar
from neuralab.optim._update import updatable
from neuralab.optim.optimizer import Optimizer
from neuralab.tensor import Tensor

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """Adam on only the rows with a non-zero gradient (torch.optim.SparseAdam's masked update),
    for embedding tables where a batch reads few rows."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        maximize: bool = False,
    ) -> None:
        _check_options(lr, eps, betas)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = scalar(group["lr"])
        beta1, beta2 = (scalar(b, "betas") for b in group["betas"])
        for theta, grad, state in updatable(self.state, group, "exp_avg", "exp_avg_sq"):
            step = state["step"] = state["step"] + 1
            rows = _touched_rows(grad)
            if rows.size == 0:
                continue
            at = rows if theta.ndim else ()
            g = -grad[at] if group["maximize"] else grad[at]
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            step_size = lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
            coefficients = (beta1, beta2, float(group["eps"]), step_size)
            _lazy_update(theta, m, v, at, g, coefficients)


def _touched_rows(grad: np.ndarray) -> np.ndarray:
    """The rows (along dim 0; a 0-d gradient is one row) where the gradient is not all zero."""
    rows = grad.reshape(grad.shape[0] if grad.ndim else 1, -1)
    return np.flatnonzero((rows != 0).any(axis=1))


def _lazy_update(
    theta: np.ndarray, m: np.ndarray, v: np.ndarray, at: Any, g: np.ndarray,
    coefficients: tuple[float, float, float, float],
) -> None:  # fmt: skip
    """One Adam step on the rows ``at`` of θ, m and v (their gradient ``g``), in torch's order
    of float operations."""
    beta1, beta2, eps, step_size = coefficients
    t = theta.dtype.type
    old_m, old_v = m[at], v[at]
    update_m = (g - old_m) * t(1 - beta1)
    update_v = (g * g - old_v) * t(1 - beta2)
    m[at] = old_m + update_m
    v[at] = old_v + update_v
    denom = np.sqrt(update_v + old_v) + t(eps)
    theta[at] = theta[at] + t(-step_size) * ((update_m + old_m) / denom)


def _check_options(lr: Any, eps: float, betas: Any) -> None:
    """Raise torch's ValueError for SparseAdam's out-of-range options (lr and eps must be > 0)."""
    if not 0.0 < scalar(lr):
        raise ValueError(f"Invalid learning rate: {lr} (SparseAdam: lr must be > 0)")
    if not 0.0 < eps:
        raise ValueError(f"Invalid epsilon value: {eps} (SparseAdam: eps must be > 0)")
    check_betas("SparseAdam", betas)
