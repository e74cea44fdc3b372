"""Private NumPy helpers shared by the fused network kernels (losses, norms, attention, dropout).

They work on raw arrays and keep the input's floating dtype: no helper ever promotes float32 to
float64 (Python scalars only, which NumPy treats as weak under NEP 50).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.random import generator
from neuralab.tensor import Tensor, as_array, constant


def to_tensor(x: Any) -> Tensor:
    """``x`` itself if it is a Tensor, else a graph-free tensor wrapping it."""
    return x if isinstance(x, Tensor) else constant(as_array(x))


def float_tensor(x: Any, op: str, what: str = "input") -> Tensor:
    """``x`` as a Tensor, raising a TypeError naming ``op`` unless it holds floating-point data."""
    t = to_tensor(x)
    if t._data.dtype.kind != "f":
        raise TypeError(f"{op}: {what} must be a floating-point tensor, got dtype {t._data.dtype}")
    return t


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function without overflow: exp is only ever taken of a non-positive number."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) without overflow or loss of precision for large |x|."""
    return np.logaddexp(0, x)


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """x - logsumexp(x) along ``axis``, shifted by the maximum so logits of ±1e4 stay finite."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def safe_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis`` that gives all-zero rows (not NaN) where every entry is -inf."""
    m = x.max(axis=axis, keepdims=True)
    e = np.exp(x - np.where(np.isfinite(m), m, 0))
    s = e.sum(axis=axis, keepdims=True)
    return e / np.where(s == 0, 1, s)


def check_dropout_p(p: float, op: str) -> None:
    """Raise unless the drop probability ``p`` lies in [0, 1]."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


def dropout_mask(shape: tuple[int, ...], p: float, dtype: np.dtype) -> np.ndarray:
    """Inverted-dropout multiplier: 1/(1-p) where kept (probability 1-p), 0 where dropped."""
    if p == 1.0:
        return np.zeros(shape, dtype)
    keep = generator().random(shape) >= p
    return keep.astype(dtype) * (1 / (1 - p))
