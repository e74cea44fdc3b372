"""Loss functions as fused kernels: each forward and its hand-derived backward side by side.

Semantics follow ``torch.nn.functional`` (same arguments, values, gradients and reductions), with
two deliberate differences: elementwise losses raise on a target whose shape differs from the
input's (torch only warns, then broadcasts), and the gradient of ``binary_cross_entropy`` with
respect to the target is that of the clamped forward (finite at probabilities 0 and 1, where torch
gives ±inf). Class weights and ``pos_weight`` are constants: they receive no gradient.

The margin losses (``perceptron_loss``, ``hinge_loss``, ``logistic_loss``) take a real-valued
score ŷ and labels y in {-1, +1} and are functions of the margin y·ŷ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from neuralab.ops._fused import float_tensor, log_softmax, sigmoid, softplus, to_tensor
from neuralab.tensor import Tensor, make

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "hinge_loss",
    "l1_loss",
    "logistic_loss",
    "mse_loss",
    "nll_loss",
    "perceptron_loss",
]

_REDUCTIONS = ("mean", "sum", "none")
_BCE_EPSILON = 1e-12  # torch's floor on p(1-p) in the BCE input gradient

PerBackward = Callable[[np.ndarray], tuple[np.ndarray | None, ...]]


# ----------------------------------------------------------------------------- shared helpers


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(
    per: np.ndarray,
    parents: tuple[Tensor, ...],
    backward: PerBackward,
    reduction: str,
    denominator: Any = None,
    broadcasts: bool = False,
) -> Tensor:
    """Reduce the per-element loss ``per`` and record the op.

    ``backward`` maps the gradient of ``per`` (same shape) to one gradient per parent;
    ``denominator`` replaces the element count for 'mean' (weighted class losses).
    ``broadcasts`` says that ``backward`` also takes a 0-d gradient and still returns
    full-shape gradients, which spares a reduced loss the array of equal upstream gradients.
    """
    per = np.asarray(per)  # a reduction over a 1-D array yields a NumPy scalar
    if reduction == "none":
        return make(per, parents, backward)
    shape, dtype = per.shape, per.dtype

    def spread(g: np.ndarray) -> np.ndarray:
        return np.asarray(g, dtype) if broadcasts else np.full(shape, g, dtype)

    if reduction == "sum":
        total = np.asarray(per.sum(), dtype=dtype)
        return make(total, parents, lambda g: backward(spread(g)))
    n = per.size if denominator is None else denominator
    if not n:  # empty or all-ignored: NaN, like torch
        return make(
            np.asarray(np.nan, dtype), parents, lambda g: backward(np.full(shape, np.nan, dtype))
        )
    mean = np.asarray(per.sum() / n, dtype=dtype)
    return make(mean, parents, lambda g: backward(spread(g / n)))


def _target_grad(t: Tensor, grad: Callable[[], np.ndarray]) -> np.ndarray | None:
    """The target's gradient in its own dtype, computed only when the target requires it."""
    return grad().astype(t._data.dtype, copy=False) if t.requires_grad else None


def _pair(op: str, input: Any, target: Any, reduction: str) -> tuple[Tensor, Tensor, np.ndarray]:
    """Check an elementwise loss's arguments; also return the target's data in the input dtype."""
    _check_reduction(reduction, op)
    x = float_tensor(input, op)
    t = to_tensor(target)
    if t.shape != x.shape:
        raise ValueError(f"{op}: target shape {t.shape} does not match input shape {x.shape}")
    return x, t, t._data.astype(x._data.dtype, copy=False)


def _weight_array(
    op: str, name: str, weight: Any, shape: tuple[int, ...], dtype: np.dtype
) -> np.ndarray | int:
    """An elementwise weight as an array of ``dtype`` broadcastable to ``shape`` (1 if None)."""
    if weight is None:
        return 1
    w = to_tensor(weight)._data.astype(dtype, copy=False)
    try:
        ok = np.broadcast_shapes(w.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{op}: {name} of shape {w.shape} does not broadcast to input shape {shape}"
        )
    return w


# ----------------------------------------------------------------------------- regression


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error (x - t)²: the Gaussian negative log-likelihood up to constants."""
    x, t, tv = _pair("mse_loss", input, target, reduction)
    diff = x._data - tv

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        gx = 2 * g * diff
        return gx, _target_grad(t, lambda: -gx)

    return _reduce(diff * diff, (x, t), backward, reduction, broadcasts=True)


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error |x - t|: robust to outliers; subgradient 0 where x == t."""
    x, t, tv = _pair("l1_loss", input, target, reduction)
    diff = x._data - tv

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        gx = g * np.sign(diff)
        return gx, _target_grad(t, lambda: -gx)

    return _reduce(np.abs(diff), (x, t), backward, reduction, broadcasts=True)


# ----------------------------------------------------------------------------- binary


def binary_cross_entropy(
    input: Any, target: Any, weight: Any = None, reduction: str = "mean"
) -> Tensor:
    """BCE of probabilities -w[t log p + (1-t) log(1-p)], logs clamped at -100 (finite at 0, 1)."""
    op = "binary_cross_entropy"
    x, t, tv = _pair(op, input, target, reduction)
    p = x._data
    if p.size and not (p.min() >= 0 and p.max() <= 1):
        raise ValueError(
            f"{op}: input must hold probabilities in [0, 1], got values in "
            f"[{p.min():.4g}, {p.max():.4g}]; use binary_cross_entropy_with_logits for scores"
        )
    w = _weight_array(op, "weight", weight, p.shape, p.dtype)
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), -100)
        log_q = np.maximum(np.log1p(-p), -100)
    per = -w * (tv * log_p + (1 - tv) * log_q)

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        gw = g * w
        gx = gw * (p - tv) / np.maximum((1 - p) * p, _BCE_EPSILON)
        return gx, _target_grad(t, lambda: gw * (log_q - log_p))

    return _reduce(per, (x, t), backward, reduction)


def binary_cross_entropy_with_logits(
    input: Any,
    target: Any,
    weight: Any = None,
    pos_weight: Any = None,
    reduction: str = "mean",
) -> Tensor:
    """BCE of logits x, sigmoid fused in: w[(1-t)x + (1+(pw-1)t)·softplus(-x)], stable for any x."""
    op = "binary_cross_entropy_with_logits"
    x, t, tv = _pair(op, input, target, reduction)
    z = x._data
    w = _weight_array(op, "weight", weight, z.shape, z.dtype)
    sp = softplus(-z)  # -log sigmoid(x)
    if pos_weight is None:
        log_weight = 1
    else:
        pw = _weight_array(op, "pos_weight", pos_weight, z.shape, z.dtype)
        log_weight = 1 + (pw - 1) * tv
    per = w * ((1 - tv) * z + log_weight * sp)

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        gw = g * w
        gx = gw * ((1 - tv) - log_weight * sigmoid(-z))
        dt = -z if pos_weight is None else (pw - 1) * sp - z
        return gx, _target_grad(t, lambda: gw * dt)

    return _reduce(per, (x, t), backward, reduction)


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
    w = to_tensor(weight)._data
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
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy of logits (log-softmax fused in) vs class indices or probabilities.

    Shapes: input (C), (N, C) or (N, C, d1, ...); target of class indices (integer dtype) without
    the class axis, or of class probabilities (float dtype) with the input's shape.
    """
    op = "cross_entropy"
    _check_reduction(reduction, op)
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
        return gx, _target_grad(t, lambda: -(1 - eps) * ge * w_b * logp)

    parents = (x, t) if kind == "f" else (x,)
    return _reduce(per, parents, backward, reduction, denominator)


def nll_loss(
    input: Any,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood -w[y]·log p[y] of log-probabilities (e.g. log_softmax output)."""
    op = "nll_loss"
    _check_reduction(reduction, op)
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

    return _reduce(per, (x,), backward, reduction, wy.sum())


# ----------------------------------------------------------------------------- margin losses

# Each maps the margin m = y·ŷ to (loss, d loss / d m).
Margin = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def _margin_loss(op: str, input: Any, target: Any, reduction: str, fn: Margin) -> Tensor:
    """A loss of the margin y·ŷ for labels y in {-1, +1}; the labels receive no gradient."""
    x, t, y = _pair(op, input, target, reduction)
    if not np.all((y == 1) | (y == -1)):
        values = [int(v) if float(v).is_integer() else float(v) for v in np.unique(t._data)[:10]]
        raise ValueError(f"{op} expects labels in {{-1, +1}}, got values {values}")
    per, slope = fn(y * x._data)
    return _reduce(per, (x,), lambda g: (g * slope * y,), reduction)


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
