"""Numerically stable array functions the op families share: no overflow, no NaN, no promotion.

They work on raw arrays and keep the input's floating dtype: no function here ever promotes float32
to float64 (Python scalars only, which NumPy treats as weak under NEP 50).
"""

from __future__ import annotations

import numpy as np

from neuralab.ops._where import where


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function without overflow: exp is only ever taken of a non-positive number."""
    e = np.exp(-np.abs(x))
    return where(x >= 0, 1 / (1 + e), e / (1 + e))


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
