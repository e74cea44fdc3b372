"""Losses of probabilistic models: the KL divergence between distributions and the negative
log-likelihoods of Poisson counts and of Gaussians with a predicted variance. Forward and backward
fused; semantics (and the gradient with respect to target and variance) follow torch.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from neuralab.ops._loss_util import (
    check_reduction,
    legacy_reduction,
    pair,
    reduce_loss,
    reduction_name,
    target_grad,
)
from neuralab.ops._util import float_tensor, to_tensor, unbroadcast
from neuralab.tensor import Tensor, constant

__all__ = [
    "aten_kl_div", "aten_poisson_nll_loss", "gaussian_nll_loss", "kl_div", "poisson_nll_loss",
]  # fmt: skip


def _kl_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """kl_div's reduction: the legacy pair, or 'batchmean' / 'mean' (warned about) / ...."""
    if size_average is not None or reduce is not None:
        return legacy_reduction("kl_div", size_average, reduce, reduction, stacklevel=4)
    check_reduction(reduction, "kl_div", ("mean", "batchmean", "sum", "none"))
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction='mean' divides the total loss by the number of elements (batch "
            "size times support size); 'batchmean' divides by the batch size only, which is the "
            "KL divergence's definition. torch will make 'mean' behave as 'batchmean'.",
            stacklevel=3,
        )
    return reduction


def kl_div(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """KL(target ‖ ·) pointwise: target·(log target - input), with ``input`` log-probabilities
    (and ``target`` too when ``log_target``); 0 where target is 0."""
    reduction = _kl_reduction(size_average, reduce, reduction)
    return _kl_div(input, target, reduction, log_target)


def aten_kl_div(input: Any, target: Any, reduction: int = 1, *, log_target: bool = False) -> Tensor:
    """torch.kl_div: the reduction as ATen's enum (1, the default, is the mean of every element:
    ``batchmean`` is F.kl_div's alone), without F's warning about it."""
    return _kl_div(input, target, reduction_name(reduction, "kl_div"), log_target)


def _kl_div(input: Any, target: Any, reduction: str, log_target: bool) -> Tensor:
    """KL(target ‖ ·) with a checked ``reduction``: 'mean', 'batchmean', 'sum' or 'none'."""
    x, t, tv = pair("kl_div", input, target)
    z = x._data
    if log_target:
        p = np.exp(tv)
        per = p * (tv - z)
    else:
        p = tv
        with np.errstate(divide="ignore", invalid="ignore"):
            log_t = np.where(tv > 0, np.log(tv), 0)
        per = np.where(tv > 0, tv * log_t, 0) - tv * z

    def backward(g: np.ndarray) -> tuple:
        dt = p * (tv - z + 1) if log_target else np.where(tv > 0, log_t + 1, 0) - z
        return -g * p, target_grad(t, lambda: g * dt)

    denominator = None
    if reduction == "batchmean":
        reduction = "mean" if z.ndim else "sum"
        denominator = z.shape[0] if z.ndim else None
    return reduce_loss(per, (x, t), backward, reduction, denominator)


def poisson_nll_loss(
    input: Any,
    target: Any,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Poisson negative log-likelihood of counts ``target`` given the rate: exp(input) - t·input
    for a log-rate (``log_input``), else input - t·log(input + eps). ``full`` adds Stirling's
    term t·log t - t + ½log(2πt) for t > 1."""
    op = "poisson_nll_loss"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    x, t, tv = pair(op, input, target)
    z = x._data
    if log_input:
        log_rate = z
        per = np.exp(z) - tv * z
    else:
        log_rate = np.log(z + eps)
        per = z - tv * log_rate
    stirling_slope = 0
    if full:
        big = tv > 1
        safe_t = np.where(big, tv, 1)
        log_t = np.log(safe_t)
        per = per + np.where(big, tv * log_t - tv + 0.5 * np.log(2 * math.pi * safe_t), 0)
        stirling_slope = np.where(big, log_t + 0.5 / safe_t, 0)

    def backward(g: np.ndarray) -> tuple:
        dx = np.exp(z) - tv if log_input else 1 - tv / (z + eps)
        return g * dx, target_grad(t, lambda: g * (stirling_slope - log_rate))

    return reduce_loss(per, (x, t), backward, reduction)


def aten_poisson_nll_loss(
    input: Any, target: Any, log_input: bool, full: bool, eps: float, reduction: int
) -> Tensor:
    """torch.poisson_nll_loss: every argument required, the reduction as ATen's enum."""
    name = reduction_name(reduction, "poisson_nll_loss")
    return poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=name)


def _gaussian_var(var: Any, x: Tensor) -> Tensor:
    """The variance as a tensor that broadcasts to the input: a float, the input's shape, its
    shape without the last dim, or the input's shape with one dim of size 1."""
    op = "gaussian_nll_loss"
    if isinstance(var, int | float):
        v = constant(np.full(x.shape, var, x.dtype))
    else:
        v = float_tensor(to_tensor(var), op, "var")
    if (v._data < 0).any():
        raise ValueError(f"{op}: var must be non-negative, got a negative entry")
    if v.shape == x.shape or v.shape == x.shape[:-1] + (1,):
        return v
    if v.shape == x.shape[:-1]:
        return v.reshape(*v.shape, 1)
    differing = [(a, b) for a, b in zip(x.shape, v.shape) if a != b] if v.ndim == x.ndim else []
    if len(differing) == 1 and differing[0][1] == 1:
        return v
    raise ValueError(
        f"{op}: var of shape {v.shape} does not fit input shape {x.shape} (give the input's "
        "shape, one of its dims as 1, or its shape without the last dim)"
    )


def gaussian_nll_loss(
    input: Any,
    target: Any,
    var: Any,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """Gaussian negative log-likelihood ½(log v + (input - target)²/v) with a predicted variance
    v = max(var, eps) (the clamp passes var's gradient through, as torch's); ``full`` adds ½log 2π.
    """
    op = "gaussian_nll_loss"
    check_reduction(reduction, op)
    x, t, tv = pair(op, input, target)
    v_t = _gaussian_var(var, x)
    v = np.maximum(v_t._data.astype(x.dtype, copy=False), eps)
    d = x._data - tv
    per = 0.5 * (np.log(v) + d * d / v)
    if full:
        per = per + 0.5 * math.log(2 * math.pi)

    def backward(g: np.ndarray) -> tuple:
        gx = g * d / v
        gv = unbroadcast(0.5 * g * (1 / v - d * d / (v * v)), v_t.shape)
        return gx, target_grad(t, lambda: -gx), gv.astype(v_t.dtype, copy=False)

    return reduce_loss(per, (x, t, v_t), backward, reduction)
