"""Adafactor (Shazeer & Stern, 2018): Adam-like steps without a first moment and with the
second moment of each matrix kept as a row and a column factor, so its memory is
rows + columns instead of rows × columns.

The update (torch.optim.Adafactor's), at step ``t`` with gradient ``G`` of parameter ``θ``::

    G ← -G                                     if maximize
    1 - β₂ ← t^beta2_decay;  ρ ← min(lr, 1/√t);  α ← max(eps2, RMS(θ)) · ρ
    θ ← θ · (1 - lr · weight_decay)
    matrices (over their last two dims):
        R ← β₂ R + (1 - β₂) · mean of G² over each row      C likewise over each column
        V ← R Cᵀ / max(mean(R), eps1)
    vectors: V ← β₂ V + (1 - β₂) G²
    U ← G / √max(V, eps1²);  θ ← θ - α · U / max(1, RMS(U) / d)

``eps1`` None is the dtype's machine epsilon.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from neuralab.optim._checks import scalar
from neuralab.optim._update import options
from neuralab.optim.optimizer import Optimizer
from neuralab.tensor import Tensor, constant


class Adafactor(Optimizer):
    """Adafactor: factored second moments and a relative step size (torch.optim.Adafactor)."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        _check("Adafactor", scalar(lr), beta2_decay, eps, d, weight_decay)
        super().__init__(params, options(locals()))

    _checked = ("lr", "weight_decay")
    _state_like_params = False  # the row and column factors have their own shapes

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, decay = scalar(group["lr"]), float(group["beta2_decay"])
        eps1, eps2 = group["eps"]
        for p in group["params"]:
            if p.grad is None:
                continue
            theta = p._data
            g = -p.grad._data if group["maximize"] else p.grad._data
            state = self.state[p]
            if not state:
                state["step"] = 0
                self._fresh_moments(state, theta)
            state["step"] += 1
            t = float(state["step"])
            rho = min(lr, 1.0 / t**0.5)
            alpha = max(eps2, _rms(theta)) * rho
            if group["weight_decay"]:
                theta *= 1.0 - lr * float(group["weight_decay"])
            small = np.finfo(theta.dtype).eps if eps1 is None else eps1
            estimate = _second_moment(state, g, t**decay, small)
            update = g / np.sqrt(np.maximum(estimate, small * small))
            theta -= (alpha / max(1.0, _rms(update) / float(group["d"]))) * update

    @staticmethod
    def _fresh_moments(state: dict[str, Any], theta: np.ndarray) -> None:
        """Row and column factors for a matrix (or a stack of them), a full one for a vector."""
        if theta.ndim > 1:
            state["row_var"] = constant(np.zeros((*theta.shape[:-1], 1), theta.dtype))
            state["col_var"] = constant(
                np.zeros((*theta.shape[:-2], 1, theta.shape[-1]), theta.dtype)
            )
        else:
            state["variance"] = constant(np.zeros_like(theta))


def _rms(x: np.ndarray) -> float:
    return float(np.linalg.norm(x.reshape(-1)) / max(x.size, 1) ** 0.5)


def _second_moment(state: dict[str, Any], g: np.ndarray, weight: float, eps1: float) -> np.ndarray:
    """The running estimate of E[G²], ``weight`` = 1 - β₂ given to the new gradient."""
    square = g * g
    if "variance" in state:
        v = state["variance"]._data
        v += weight * (square - v)
        return v.copy()
    rows, cols = state["row_var"]._data, state["col_var"]._data
    rows += weight * (square.mean(axis=-1, keepdims=True) - rows)
    cols += weight * (square.mean(axis=-2, keepdims=True) - cols)
    return (rows @ cols) / np.maximum(rows.mean(axis=-2, keepdims=True), eps1)


def _check(
    name: str, lr: float, beta2_decay: float, eps: Any, d: float, weight_decay: float
) -> None:
    """torch's argument checks, with what was given."""
    if not lr >= 0:
        raise ValueError(f"Learning rate should be >= 0 but is: {lr} ({name})")
    if not beta2_decay <= 0:
        raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay} ({name})")
    if eps[0] is not None and not eps[0] >= 0:
        raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]} ({name})")
    if not eps[1] >= 0:
        raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]} ({name})")
    if not d >= 1:
        raise ValueError(f"Clipping threshold d should be >= 1 but is: {d} ({name})")
    if not weight_decay >= 0:
        raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay} ({name})")
