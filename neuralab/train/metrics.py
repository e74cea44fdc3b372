"""Evaluation metrics on NumPy arrays, with scikit-learn's names for the arguments and results.

Every metric is a plain function ``metric(y_true, y_pred)`` of array-likes (lists, ndarrays,
Tensors) returning a Python float (``confusion_matrix`` an int64 array), so it works on the
output of :func:`neuralab.train.predict` or anywhere else:

==================  =================================================  =========================
function            value                                              sklearn.metrics
==================  =================================================  =========================
accuracy            fraction of exact label matches                    accuracy_score
top_k_accuracy      fraction whose true class is among the k top       top_k_accuracy_score
                    scores (``y_pred`` is an (N, C) score array)
precision           TP / (TP + FP)                                     precision_score
recall              TP / (TP + FN)                                     recall_score
f1                  2·P·R / (P + R)                                    f1_score
confusion_matrix    C[i, j] = #samples of class i predicted as j       confusion_matrix
mse / mae           mean squared / absolute error                      mean_squared_error, ...
r2                  1 - SS_res / SS_tot (averaged over outputs)        r2_score
==================  =================================================  =========================

``average`` for precision, recall and f1: ``'binary'`` reports the class ``pos_label`` only,
``'micro'`` counts TP/FP/FN over all classes (equal to accuracy for single-label data),
``'macro'`` averages the per-class scores, ``'weighted'`` weighs them by class support. A score
whose denominator is 0 is ``zero_division`` (0.0, sklearn's value, without its warning).

:func:`from_outputs` turns these label metrics into metrics of a model's raw outputs: it decodes
outputs and targets into class labels by the rules in :func:`decode_labels` and is what
``fit(metrics=...)`` uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from neuralab.tensor import Tensor

__all__ = [
    "MetricNotApplicable",
    "accuracy",
    "confusion_matrix",
    "decode_labels",
    "f1",
    "from_outputs",
    "mae",
    "mse",
    "precision",
    "r2",
    "recall",
    "top_k_accuracy",
]

OutputMetric = Callable[[np.ndarray, np.ndarray], float]


class MetricNotApplicable(ValueError):
    """A metric that does not fit the data, e.g. accuracy of real-valued regression targets."""


def _array(x: Any) -> np.ndarray:
    """``x`` as an ndarray (Tensors and array-likes; pandas objects via ``to_numpy``)."""
    if isinstance(x, Tensor):
        return x.numpy()
    return np.asarray(x.to_numpy() if hasattr(x, "to_numpy") else x)


def _pair(name: str, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two equally long arrays; an (N, 1) column and an (N,) vector both count as one output."""
    t, p = _array(y_true), _array(y_pred)
    if t.ndim == 2 and t.shape[1] == 1 and p.ndim == 1:
        t = t[:, 0]
    if p.ndim == 2 and p.shape[1] == 1 and t.ndim == 1:
        p = p[:, 0]
    if t.shape != p.shape:
        raise ValueError(f"{name}: y_true of shape {t.shape} and y_pred of shape {p.shape} differ")
    if t.size == 0:
        raise ValueError(f"{name}: got empty arrays")
    return t, p


def _labels(name: str, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two 1-D label arrays of equal length."""
    t, p = _pair(name, y_true, y_pred)
    if t.ndim != 1:
        raise ValueError(
            f"{name}: expects 1-D label arrays, got shape {t.shape}; decode scores or one-hot "
            "rows to labels first (argmax)"
        )
    return t, p


# ----------------------------------------------------------------------------- classification


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples whose predicted label equals the true one."""
    t, p = _labels("accuracy", y_true, y_pred)
    return float(np.mean(t == p))


def top_k_accuracy(y_true: Any, y_score: Any, k: int = 5) -> float:
    """Fraction of samples whose true class index is among the ``k`` highest of its (C,) scores."""
    t, s = _array(y_true).reshape(-1), _array(y_score)
    if s.ndim != 2 or s.shape[0] != t.shape[0]:
        raise ValueError(
            f"top_k_accuracy: y_score must be (N, C) scores for N = {t.shape[0]} labels, got "
            f"shape {s.shape}"
        )
    if t.size and (t.min() < 0 or t.max() >= s.shape[1] or np.any(t != np.round(t))):
        raise ValueError(
            f"top_k_accuracy: labels must be class indices in [0, {s.shape[1]}), got values in "
            f"[{t.min()}, {t.max()}]"
        )
    # sklearn's order: a stable ascending sort reversed, so among equal scores the later class wins
    top = np.argsort(s, axis=1, kind="stable")[:, ::-1][:, :k]
    return float(np.mean(np.any(top == t.astype(np.int64)[:, None], axis=1)))


def confusion_matrix(y_true: Any, y_pred: Any, labels: Any = None) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of class ``labels[i]`` predicted as ``labels[j]`` (int64)."""
    t, p = _labels("confusion_matrix", y_true, y_pred)
    classes = np.union1d(t, p) if labels is None else np.asarray(labels)
    n = classes.size
    index = {v: i for i, v in enumerate(classes.tolist())}
    rows = np.array([index.get(v, -1) for v in t.tolist()], dtype=np.int64)
    cols = np.array([index.get(v, -1) for v in p.tolist()], dtype=np.int64)
    keep = (rows >= 0) & (cols >= 0)  # samples outside ``labels`` are not counted (as sklearn)
    return np.bincount(rows[keep] * n + cols[keep], minlength=n * n).reshape(n, n)


def _ratio(num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    """num / den elementwise, ``zero_division`` where den is 0."""
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    out = np.full(num.shape, float(zero_division))
    np.divide(num, den, out=out, where=den > 0)
    return out


def _prf(
    name: str, y_true: Any, y_pred: Any, average: str, pos_label: Any, zero_division: float
) -> tuple[float, float, float]:
    """Precision, recall and F1 under one averaging rule."""
    t, p = _labels(name, y_true, y_pred)
    classes = np.union1d(t, p)
    if average == "binary":
        if classes.size > 2:
            raise ValueError(
                f"{name}: average='binary' needs two classes, got {classes.size} "
                f"({classes.tolist()[:10]}); use average='macro', 'micro' or 'weighted'"
            )
        if classes.size == 2 and pos_label not in classes.tolist():
            raise ValueError(
                f"{name}: pos_label={pos_label!r} is not one of the labels {classes.tolist()}"
            )
        classes = np.asarray([pos_label])
    elif average not in ("micro", "macro", "weighted"):
        raise ValueError(
            f"{name}: average must be 'binary', 'micro', 'macro' or 'weighted', got {average!r}"
        )
    tp = np.array([np.sum((p == c) & (t == c)) for c in classes.tolist()])
    predicted = np.array([np.sum(p == c) for c in classes.tolist()])
    actual = np.array([np.sum(t == c) for c in classes.tolist()])
    if average == "micro":
        tp, predicted, actual = (np.sum(v, keepdims=True) for v in (tp, predicted, actual))
    scores = (
        _ratio(tp, predicted, zero_division),
        _ratio(tp, actual, zero_division),
        _ratio(2 * tp, predicted + actual, zero_division),
    )
    weights = actual if average == "weighted" else None
    prec, rec, f = (float(np.average(v, weights=weights)) for v in scores)
    return prec, rec, f


def precision(
    y_true: Any, y_pred: Any, average: str = "binary", pos_label: Any = 1,
    zero_division: float = 0.0,
) -> float:  # fmt: skip
    """Of the samples predicted positive, the fraction that are: TP / (TP + FP)."""
    return _prf("precision", y_true, y_pred, average, pos_label, zero_division)[0]


def recall(
    y_true: Any, y_pred: Any, average: str = "binary", pos_label: Any = 1,
    zero_division: float = 0.0,
) -> float:  # fmt: skip
    """Of the positive samples, the fraction predicted positive: TP / (TP + FN)."""
    return _prf("recall", y_true, y_pred, average, pos_label, zero_division)[1]


def f1(
    y_true: Any, y_pred: Any, average: str = "binary", pos_label: Any = 1,
    zero_division: float = 0.0,
) -> float:  # fmt: skip
    """Harmonic mean of precision and recall: 2·TP / (2·TP + FP + FN)."""
    return _prf("f1", y_true, y_pred, average, pos_label, zero_division)[2]


# ----------------------------------------------------------------------------- regression


def _regression(name: str, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t, p = _pair(name, y_true, y_pred)
    return t.astype(np.float64), p.astype(np.float64)


def mse(y_true: Any, y_pred: Any) -> float:
    """Mean squared error over all elements."""
    t, p = _regression("mse", y_true, y_pred)
    return float(np.mean((t - p) ** 2))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error over all elements."""
    t, p = _regression("mae", y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def r2(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination 1 - SS_res/SS_tot, averaged over output columns.

    A constant target gives 1.0 when predicted exactly and 0.0 otherwise (sklearn's
    ``force_finite``).
    """
    t, p = _regression("r2", y_true, y_pred)
    t, p = t.reshape(len(t), -1), p.reshape(len(p), -1)
    ss_res = np.sum((t - p) ** 2, axis=0)
    ss_tot = np.sum((t - t.mean(axis=0)) ** 2, axis=0)
    scores = np.where(ss_res == 0, 1.0, 0.0)
    np.subtract(1.0, ss_res / np.where(ss_tot > 0, ss_tot, 1.0), out=scores, where=ss_tot > 0)
    return float(scores.mean())


# ----------------------------------------------------------------------------- model outputs


def decode_labels(
    output: Any, target: Any, from_logits: bool = False
) -> tuple[np.ndarray, np.ndarray, str]:
    """Class labels of a model's raw ``output`` and of its ``target``, and the task's kind.

    Returns ``(true_labels, predicted_labels, kind)`` with ``kind`` ``'multiclass'`` or
    ``'binary'``. The rules:

    * **Several output columns** (N, C), C ≥ 2: the prediction is the argmax over classes. The
      target is class indices (N,) or one row per sample of C values summing to 1 (one-hot or
      probabilities), decoded by argmax.
    * **One output** (N,) or (N, 1), targets in {-1, +1} (some -1 present): the prediction is
      +1 where the output is > 0, else -1 (tanh outputs, perceptron/hinge scores).
    * **One output, targets in {0, 1}**: the prediction is 1 where the output is > 0.5 (a
      probability from a sigmoid, or a regression output for 0/1), or > 0 with
      ``from_logits`` (a logit, as for ``BCEWithLogitsLoss``).

    Anything else (real-valued targets, several classes with one output) raises
    :class:`MetricNotApplicable`.
    """
    out, t = _array(output), _array(target)
    n = out.shape[0] if out.ndim else 0
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if out.ndim == 2 and out.shape[1] >= 2:
        if t.shape == out.shape:
            rows_ok = t.min() >= 0 and np.allclose(t.sum(axis=1), 1.0, atol=1e-3)
            if not rows_ok:
                raise MetricNotApplicable(
                    f"targets of shape {t.shape} are neither one-hot nor probability rows"
                )
            return t.argmax(axis=1), out.argmax(axis=1), "multiclass"
        if t.shape == (n,) and np.all(t == np.round(t)):
            return t.astype(np.int64), out.argmax(axis=1), "multiclass"
        raise MetricNotApplicable(
            f"targets of shape {t.shape} are not class indices for outputs of shape {out.shape}"
        )
    if out.ndim > 2 or (out.ndim == 2 and out.shape[1] != 1) or t.size != n:
        raise MetricNotApplicable(
            f"cannot read class labels from outputs of shape {out.shape} and targets of shape "
            f"{t.shape}"
        )
    scores, t = out.reshape(-1), t.reshape(-1)
    negative, positive = t == -1, t == 1
    if negative.any() and np.all(negative | positive):
        return t, np.where(scores > 0, 1, -1).astype(t.dtype), "binary"
    if np.all((t == 0) | positive):
        threshold = 0.0 if from_logits else 0.5
        return t, (scores > threshold).astype(t.dtype), "binary"
    values = np.unique(t)
    shown = values[:6].tolist()
    raise MetricNotApplicable(
        f"targets with values {shown}{' ...' if values.size > 6 else ''} are not class labels "
        "({-1, +1}, {0, 1} or class indices with one output column per class)"
    )


def _label_metric(fn: Callable[..., float], from_logits: bool) -> OutputMetric:
    """``fn`` applied to decoded labels; precision/recall/f1 average 'binary' or 'macro'."""

    def metric(target: np.ndarray, output: np.ndarray) -> float:
        t, p, kind = decode_labels(output, target, from_logits)
        if fn is accuracy:
            return accuracy(t, p)
        return fn(t, p, average="binary" if kind == "binary" else "macro")

    return metric


def _top_k(k: int) -> OutputMetric:
    def metric(target: np.ndarray, output: np.ndarray) -> float:
        out, t = _array(output), _array(target)
        if out.ndim != 2 or out.shape[1] < 2:
            raise MetricNotApplicable(
                f"top-{k} accuracy needs (N, C) class scores, got outputs of shape {out.shape}"
            )
        if t.shape == out.shape:
            t = t.argmax(axis=1)
        return top_k_accuracy(t, out, k)

    return metric


_LABEL_METRICS = {
    "accuracy": accuracy, "acc": accuracy, "precision": precision, "recall": recall, "f1": f1,
}  # fmt: skip
_VALUE_METRICS = {"mse": mse, "mae": mae, "r2": r2}
HIGHER_IS_BETTER = ("acc", "precision", "recall", "f1", "r2")


def from_outputs(name: str, from_logits: bool = False) -> OutputMetric:
    """The metric called ``name`` as a function of (targets, raw model outputs).

    Names: ``accuracy`` (or ``acc``), ``precision``, ``recall``, ``f1`` (labels decoded by
    :func:`decode_labels`; binary tasks report the positive class, multiclass ones the macro
    average), ``top_k_accuracy`` (k = 5) or ``top_<k>_accuracy``, ``mse``, ``mae``, ``r2``
    (on the raw outputs).
    """
    if name in _LABEL_METRICS:
        return _label_metric(_LABEL_METRICS[name], from_logits)
    if name in _VALUE_METRICS:
        return _VALUE_METRICS[name]
    match = re.fullmatch(r"top_(k|\d+)_accuracy", name)
    if match:
        return _top_k(5 if match.group(1) == "k" else int(match.group(1)))
    known = [*_LABEL_METRICS, *_VALUE_METRICS, "top_k_accuracy", "top_<k>_accuracy"]
    raise ValueError(f"unknown metric {name!r}; known: {', '.join(known)}, or pass a function")
