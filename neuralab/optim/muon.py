"""Muon (Jordan et al., 2024): momentum whose update matrix is orthogonalized by a few
Newton–Schulz iterations before the step, for the 2-D weights of hidden layers.

The update (torch.optim.Muon's), for a matrix parameter θ with gradient G::

    B ← μ B + (1 - μ) G                        (the momentum buffer, an average)
    M ← (1 - μ) G + μ B    if nesterov, else B
    X ← M / max(‖M‖_F, eps), transposed to be wide;  k times: A ← X Xᵀ, X ← a X + (b A + c A²) X
    θ ← θ · (1 - lr · weight_decay);  θ ← θ - lr · s · X
    s = √max(1, rows/cols) ("original"), 0.2 √max(rows, cols) ("match_rms_adamw")

torch runs the Newton–Schulz iteration in bfloat16; here it runs in the parameter's dtype, so
the two agree to bfloat16's precision (about 1e-2 of an update).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from neuralab.optim._checks import scalar
from neuralab.optim._update import options
from neuralab.optim.optimizer import Optimizer
from neuralab.tensor import constant


class Muon(Optimizer):
    """Muon: orthogonalized momentum for 2-D parameters (torch.optim.Muon)."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = (3.4445, -4.775, 2.0315),
        eps: float = 1e-7,
        ns_steps: int = 5,
        adjust_lr_fn: str | None = None,
    ) -> None:
        for name, value in (
            ("Learning rate", lr),
            ("momentum", momentum),
            ("weight decay", weight_decay),
        ):
            if not scalar(value) >= 0:
                raise ValueError(f"{name} should be >= 0 but is: {value} (Muon)")
        if adjust_lr_fn not in (None, "original", "match_rms_adamw"):
            raise ValueError(
                f"Adjust learning rate function {adjust_lr_fn} is not supported (Muon)"
            )
        super().__init__(params, options(locals()))
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(
                        "Muon only supports 2D parameters whereas we found a parameter with size: "
                        f"{p.shape} (use another optimizer for biases, norms and embeddings)"
                    )

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, mu = scalar(group["lr"]), float(group["momentum"])
        for p in group["params"]:
            if p.grad is None:
                continue
            theta, g = p._data, p.grad._data
            state = self.state[p]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = constant(np.zeros_like(g))
            buf = state["momentum_buffer"]._data
            buf += (1.0 - mu) * (g - buf)
            update = g + mu * (buf - g) if group["nesterov"] else buf
            ortho = _newton_schulz(
                update, group["ns_coefficients"], int(group["ns_steps"]), float(group["eps"])
            )
            theta *= 1.0 - lr * float(group["weight_decay"])
            theta -= (lr * _lr_scale(group["adjust_lr_fn"], theta.shape)) * ortho.astype(
                theta.dtype, copy=False
            )


def _newton_schulz(m: np.ndarray, coefficients: Any, steps: int, eps: float) -> np.ndarray:
    """``m`` orthogonalized approximately: k quintic Newton–Schulz steps on m / ‖m‖_F."""
    if steps >= 100:
        raise ValueError("Muon: ns_steps must be less than 100")
    a, b, c = coefficients
    tall = m.shape[0] > m.shape[1]
    x = m.T if tall else m
    x = x / max(float(np.linalg.norm(x)), eps)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x.T if tall else x


def _lr_scale(adjust_lr_fn: str | None, shape: tuple[int, ...]) -> float:
    rows, cols = shape[:2]
    if adjust_lr_fn == "match_rms_adamw":
        return 0.2 * math.sqrt(max(rows, cols))
    return math.sqrt(max(1.0, rows / cols))
