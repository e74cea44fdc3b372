"""Adam and AdamW: adaptive moment estimation, with coupled (L2) or decoupled weight decay.

The update (PyTorch's exactly), at step ``t`` with gradient ``g`` of parameter ``θ``::

    g ← -g                                  if maximize
    θ ← θ·(1 - lr·weight_decay)             if decoupled (AdamW)
    g ← g + weight_decay·θ                  otherwise (Adam: weight decay enters the moments)
    m ← m + (1 - β1)·(g - m)                first moment  (= β1·m + (1 - β1)·g)
    v ← β2·v + (1 - β2)·g²                  second moment
    v̂ ← max(v̂, v) and use v̂ for v           if amsgrad
    θ ← θ - lr/(1 - β1ᵗ) · m / (√v / √(1 - β2ᵗ) + eps)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from neuralab.compiled import load
from neuralab.optim._checks import adam_hyperparameters
from neuralab.optim._update import _decayed_gradient, updatable
from neuralab.optim.optimizer import Optimizer
from neuralab.parallel import parallel_for
from neuralab.tensor import Tensor


class Adam(Optimizer):
    """Adam (Kingma & Ba): per-coordinate steps scaled by running gradient moments."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    _checked = ("lr", "eps", "betas", "weight_decay")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, beta1, beta2, eps, weight_decay = adam_hyperparameters(group)
        amsgrad, maximize = group["amsgrad"], group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        names = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if amsgrad else ())
        for theta, grad, state in updatable(self.state, group, *names):
            step = state["step"] = state["step"] + 1
            g = _decayed_gradient(grad, theta, lr, weight_decay, decoupled, maximize)
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            v_max = state["max_exp_avg_sq"]._data if amsgrad else None
            coefficients = (beta1, beta2, eps, lr / (1.0 - beta1**step), (1.0 - beta2**step) ** 0.5)
            arrays = (theta, g, m, v) + (() if v_max is None else (v_max,))
            kernels = load("neuralab.compiled.adam") if v_max is None else None
            _update(arrays, coefficients, kernels and kernels.adam_update)


def _update(arrays: tuple[np.ndarray, ...], coefficients: tuple[float, ...], kernel: Any) -> None:
    """One Adam step on θ, g, m, v (, v_max): the compiled kernel when given, else NumPy's
    passes; contiguous parameters are updated a flat slice per thread."""
    if kernel is not None:
        scalars = [arrays[0].dtype.type(c) for c in _kernel_scalars(coefficients)]

        def run(*a: np.ndarray) -> None:
            kernel(*a, *scalars)

        cost = 2
    else:

        def run(*a: np.ndarray) -> None:
            _adam_math(*a, coefficients=coefficients)

        cost = 8
    if not all(a.flags.c_contiguous for a in arrays):
        run(*arrays)
        return
    flat = [a.reshape(-1) for a in arrays]
    parallel_for(
        flat[0].size, lambda lo, hi: run(*(f[lo:hi] for f in flat)), cost * flat[0].size, blas=False
    )


def _kernel_scalars(coefficients: tuple[float, ...]) -> tuple[float, ...]:
    """The compiled kernel's scalars as the NumPy path uses them: 1-β1, 1-β2, β2, √bc2, ε, -lr'."""
    beta1, beta2, eps, step_size, root_bias = coefficients
    return 1.0 - beta1, 1.0 - beta2, beta2, root_bias, eps, -step_size


def _adam_math(
    theta: np.ndarray,
    g: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    v_max: np.ndarray | None = None,
    *,
    coefficients: tuple[float, ...],
) -> None:
    """One Adam step in place: the moments m, v (and AMSGrad's running max), then θ."""
    beta1, beta2, eps, step_size, root_bias = coefficients
    tmp = np.subtract(g, m)
    tmp *= 1.0 - beta1
    m += tmp
    np.multiply(g, g, out=tmp)
    tmp *= 1.0 - beta2
    v *= beta2
    v += tmp
    if v_max is not None:
        v = np.maximum(v_max, v, out=v_max)
    denom = np.sqrt(v, out=tmp)
    denom /= root_bias
    denom += eps
    np.divide(m, denom, out=denom)
    denom *= -step_size
    theta += denom


class AdamW(Adam):
    """Adam with decoupled weight decay θ ← θ·(1 - lr·wd) (Loshchilov & Hutter)."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )
