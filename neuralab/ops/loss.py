"""Loss functions as fused kernels: each forward and its hand-derived backward side by side.

Semantics follow ``torch.nn.functional`` (same arguments, values, gradients and reductions), with
two deliberate differences: elementwise losses raise on a target whose shape differs from the
input's (torch only warns, then broadcasts), and the gradient of ``binary_cross_entropy`` with
respect to the target is that of the clamped forward (finite at probabilities 0 and 1, where torch
gives ±inf). Weights (class, elementwise and ``pos_weight``) are constants: they receive no
gradient. torch's deprecated ``size_average``/``reduce`` are accepted where torch has them.

The margin losses (``perceptron_loss``, ``hinge_loss``, ``logistic_loss``) take a real-valued
score ŷ and labels y in {-1, +1} and are functions of the margin y·ŷ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from neuralab.ops._loss_util import (
    check_reduction,
    legacy_reduction,
    pair,
    reduce_loss,
    reduction_name,
    target_grad,
    values,
    weight_array,
)
from neuralab.ops._stable import log_softmax, sigmoid, softplus
from neuralab.ops._util import float_tensor, to_tensor
from neuralab.ops._where import where
from neuralab.tensor import Tensor

_BCE_EPSILON = 1e-12  # torch's floor on p(1-p) in the BCE input gradient

__all__ = [
    "aten_binary_cross_entropy_with_logits",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "hinge_loss",
    "huber_loss",
    "l1_loss",
    "logistic_loss",
    "mse_loss",
    "nll_loss",
    "perceptron_loss",
    "smooth_l1_loss",
]

# ----------------------------------------------------------------------------- regression


def _regression(
    op: str,
    input: Any,
    target: Any,
    reduction: str,
    weight: Any,
    loss: Callable[[np.ndarray], tuple[np.ndarray, Callable[[], np.ndarray]]],
    mean_over_weight: bool = True,
) -> Tensor:
    """Reduce ``loss(x - t)`` = (per-element loss, its derivative's thunk), times an optional
    elementwise ``weight`` of the input's shape ('mean' then divides by Σweight, as torch does
    for mse and l1, unless ``mean_over_weight`` is False)."""
    x, t, tv = pair(op, input, target)
    w = weight_array(op, "weight", weight, x.shape, x.dtype, exact=True)
    per, slope = loss(x._data - tv)
    denominator = None
    if weight is not None:
        per = per * w
        denominator = w.sum() if mean_over_weight else None

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        gx = g * w * slope() if weight is not None else g * slope()
        return gx, target_grad(t, lambda: -gx)

    return reduce_loss(per, (x, t), backward, reduction, denominator, broadcasts=True)


def mse_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Any = None,
) -> Tensor:
    """Mean squared error (x - t)²: the Gaussian negative log-likelihood up to constants."""
    reduction = legacy_reduction("mse_loss", size_average, reduce, reduction)
    return _regression(
        "mse_loss", input, target, reduction, weight, lambda d: (d * d, lambda: 2 * d)
    )


def l1_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Any = None,
) -> Tensor:
    """Mean absolute error |x - t|: robust to outliers; subgradient 0 where x == t."""
    reduction = legacy_reduction("l1_loss", size_average, reduce, reduction)
    return _regression(
        "l1_loss", input, target, reduction, weight, lambda d: (np.abs(d), lambda: np.sign(d))
    )


def _huber(d: np.ndarray, delta: float) -> tuple[np.ndarray, Callable[[], np.ndarray]]:
    """Huber's loss of the residual: ½d² within ±delta, delta·(|d| - ½delta) beyond."""
    a = np.abs(d)
    per = where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return per, lambda: np.clip(d, -delta, delta)


def huber_loss(
    input: Any, target: Any, reduction: str = "mean", delta: float = 1.0, weight: Any = None
) -> Tensor:
    """Huber loss: quadratic for residuals within ±delta, linear beyond (robust regression).

    A ``weight`` scales each element; 'mean' then is the plain mean of the weighted losses.
    """
    check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    return _regression(
        "huber_loss", input, target, reduction, weight, lambda d: _huber(d, delta), False
    )


def smooth_l1_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """Smooth L1: ½d²/beta within ±beta, |d| - ½beta beyond (Huber / beta; L1 when beta = 0)."""
    op = "smooth_l1_loss"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    if beta < 0:
        raise ValueError(f"{op}: beta must be non-negative, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)

    def loss(d: np.ndarray) -> tuple[np.ndarray, Callable[[], np.ndarray]]:
        per, slope = _huber(d, beta)
        return per / beta, lambda: slope() / beta

    return _regression(op, input, target, reduction, None, loss)


# ----------------------------------------------------------------------------- binary


def binary_cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """BCE of probabilities -w[t log p + (1-t) log(1-p)], logs clamped at -100 (finite at 0, 1)."""
    op = "binary_cross_entropy"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    x, t, tv = pair(op, input, target)
    p = x._data
    if p.size and not (p.min() >= 0 and p.max() <= 1):
        raise ValueError(
            f"{op}: input must hold probabilities in [0, 1], got values in "
            f"[{p.min():.4g}, {p.max():.4g}]; use binary_cross_entropy_with_logits for scores"
        )
    w = weight_array(op, "weight", weight, p.shape, p.dtype)
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), -100)
        log_q = np.maximum(np.log1p(-p), -100)
    per = -w * (tv * log_p + (1 - tv) * log_q)

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        gw = g * w
        gx = gw * (p - tv) / np.maximum((1 - p) * p, _BCE_EPSILON)
        return gx, target_grad(t, lambda: gw * (log_q - log_p))

    return reduce_loss(per, (x, t), backward, reduction)


def binary_cross_entropy_with_logits(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """BCE of logits x, sigmoid fused in: w[(1-t)x + (1+(pw-1)t)·softplus(-x)], stable for any x."""
    op = "binary_cross_entropy_with_logits"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    x, t, tv = pair(op, input, target)
    z = x._data
    w = weight_array(op, "weight", weight, z.shape, z.dtype)
    sp = softplus(-z)  # -log sigmoid(x)
    if pos_weight is None:
        log_weight = 1
    else:
        pw = weight_array(op, "pos_weight", pos_weight, z.shape, z.dtype)
        log_weight = 1 + (pw - 1) * tv
    per = w * ((1 - tv) * z + log_weight * sp)

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        gw = g * w
        gx = gw * ((1 - tv) - log_weight * sigmoid(-z))
        dt = -z if pos_weight is None else (pw - 1) * sp - z
        return gx, target_grad(t, lambda: gw * dt)

    return reduce_loss(per, (x, t), backward, reduction)


def aten_binary_cross_entropy_with_logits(
    input: Any, target: Any, weight: Any = None, pos_weight: Any = None, reduction: int = 1
) -> Tensor:
    """torch.binary_cross_entropy_with_logits: ``pos_weight`` before the reduction, an int."""
    name = reduction_name(reduction, "binary_cross_entropy_with_logits")
    return binary_cross_entropy_with_logits(
        input, target, weight, reduction=name, pos_weight=pos_weight
    )


# ----------------------------------------------------------------------------- multi-class


def _class_dim(op: str, x: Tensor) -> int:
    """The class axis: 0 for an unbatched (C,) input, else 1 for (N, C, d1, ...)."""
    if x.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    return 0 if x.ndim == 1 else 1


def _class_weight(op: str, weight: Any, n_classes: int, dtype: np.dtype) -> np.ndarray:
    """Per-class weights as an array of shape (C,) and ``dtype`` (all ones when None)."""
    if weight is None:
        return np.ones(n_classes, dtype)
    w = values(weight)
    if w.shape != (n_classes,):
        raise ValueError(
            f"{op}: weight must have shape ({n_classes},), one per class, got {w.shape}"
        )
    return w.astype(dtype, copy=False)


def _index_targets(
    op: str, x: Tensor, target: Tensor, cdim: int, w: np.ndarray, ignore_index: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check class-index targets; return (indices expanded at ``cdim``, w[y] or 0, valid mask)."""
    y = target._data
    expected = x.shape[:cdim] + x.shape[cdim + 1 :]
    if y.shape != expected:
        raise ValueError(
            f"{op}: target shape {y.shape} does not match input shape {x.shape}; class-index "
            f"targets must have shape {expected}"
        )
    n_classes = x.shape[cdim]
    valid = y != ignore_index
    bad = y[valid & ((y < 0) | (y >= n_classes))]
    if bad.size:
        raise IndexError(
            f"{op}: target class index {bad.flat[0]} is out of range for {n_classes} classes "
            f"(valid: 0..{n_classes - 1}, or ignore_index={ignore_index})"
        )
    idx = np.expand_dims(np.where(valid, y, 0), cdim)
    wy = np.where(valid, w[np.where(valid, y, 0)], 0).astype(w.dtype, copy=False)
    return idx, wy, valid


def _scatter(shape: tuple[int, ...], idx: np.ndarray, values: np.ndarray, cdim: int) -> np.ndarray:
    """Zeros of ``shape`` holding ``values`` at the class positions ``idx`` along ``cdim``."""
    out = np.zeros(shape, values.dtype)
    np.put_along_axis(out, idx, np.expand_dims(values, cdim), axis=cdim)
    return out


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy of logits (log-softmax fused in) vs class indices or probabilities.

    Shapes: input (C), (N, C) or (N, C, d1, ...); target of class indices (integer dtype) without
    the class axis, or of class probabilities (float dtype) with the input's shape.
    """
    op = "cross_entropy"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    x = float_tensor(input, op)
    t = to_tensor(target)
    cdim = _class_dim(op, x)
    n_classes = x.shape[cdim]
    w = _class_weight(op, weight, n_classes, x._data.dtype)
    w_b = w.reshape((n_classes,) + (1,) * (x.ndim - cdim - 1))  # broadcasts along the class axis
    logp = log_softmax(x._data, cdim)
    eps = label_smoothing
    kind = t._data.dtype.kind
    if kind in "iu":
        # q: each sample's weighted target distribution, (1-eps)·one-hot + eps/C·uniform, times w
        idx, wy, valid = _index_targets(op, x, t, cdim, w, ignore_index)
        q = _scatter(x.shape, idx, (1 - eps) * wy, cdim)
        if eps:
            q += (eps / n_classes) * w_b * np.expand_dims(valid, cdim)
        denominator = wy.sum()
    elif kind == "f":
        if t.shape != x.shape:
            raise ValueError(
                f"{op}: target shape {t.shape} does not match input shape {x.shape}; "
                "probability targets must have the input's shape"
            )
        q = w_b * ((1 - eps) * t._data.astype(x._data.dtype, copy=False) + eps / n_classes)
        denominator = x._data.size // n_classes
    else:
        raise TypeError(
            f"{op}: target must hold class indices (integer dtype) or class probabilities "
            f"(float dtype), got dtype {t._data.dtype}"
        )
    per = -(q * logp).sum(axis=cdim)

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        ge = np.expand_dims(g, cdim)
        gx = ge * (q.sum(axis=cdim, keepdims=True) * np.exp(logp) - q)
        if kind != "f":
            return (gx,)
        return gx, target_grad(t, lambda: -(1 - eps) * ge * w_b * logp)

    parents = (x, t) if kind == "f" else (x,)
    return reduce_loss(per, parents, backward, reduction, denominator)


def nll_loss(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood -w[y]·log p[y] of log-probabilities (e.g. log_softmax output)."""
    op = "nll_loss"
    reduction = legacy_reduction(op, size_average, reduce, reduction)
    x = float_tensor(input, op)
    t = to_tensor(target)
    if t._data.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: target must hold class indices (integer dtype), got {t._data.dtype}"
        )
    cdim = _class_dim(op, x)
    w = _class_weight(op, weight, x.shape[cdim], x._data.dtype)
    idx, wy, _ = _index_targets(op, x, t, cdim, w, ignore_index)
    per = -wy * np.take_along_axis(x._data, idx, axis=cdim).squeeze(cdim)

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return (_scatter(x.shape, idx, -wy * g, cdim),)

    return reduce_loss(per, (x,), backward, reduction, wy.sum())


# ----------------------------------------------------------------------------- margin losses

# Each maps the margin m = y·ŷ to (loss, d loss / d m).
Margin = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def _margin_loss(op: str, input: Any, target: Any, reduction: str, fn: Margin) -> Tensor:
    """A loss of the margin y·ŷ for labels y in {-1, +1}; the labels receive no gradient."""
    check_reduction(reduction, op)
    x, t, y = pair(op, input, target)
    if not np.all((y == 1) | (y == -1)):
        values = [int(v) if float(v).is_integer() else float(v) for v in np.unique(t._data)[:10]]
        raise ValueError(f"{op} expects labels in {{-1, +1}}, got values {values}")
    per, slope = fn(y * x._data)
    return reduce_loss(per, (x,), lambda g: (g * slope * y,), reduction)


def perceptron_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Soft perceptron loss max(0, -y·ŷ): positive only for misclassified points."""

    def fn(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.maximum(-m, 0), -(m < 0).astype(m.dtype)

    return _margin_loss("perceptron_loss", input, target, reduction, fn)


def hinge_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Hinge loss max(0, 1 - y·ŷ) of the SVM: also penalizes correct points inside the margin."""

    def fn(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.maximum(1 - m, 0), -(m < 1).astype(m.dtype)

    return _margin_loss("hinge_loss", input, target, reduction, fn)


def logistic_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Logistic loss log(1 + exp(-y·ŷ)) of logistic regression, computed stably as softplus(-m)."""

    def fn(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return softplus(-m), -sigmoid(-m)

    return _margin_loss("logistic_loss", input, target, reduction, fn)
