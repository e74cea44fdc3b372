"""Inverted dropout: zero each element (or whole channel) with probability p, scale the rest.

Survivors are scaled by 1/(1-p) during training so the expected activation is unchanged and
evaluation is the identity. The mask comes from ``neuralab.random.generator()``, so
``manual_seed`` makes it reproducible; the backward multiplies by the same mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.ops._fused import check_dropout_p, dropout_mask, float_tensor
from neuralab.tensor import Tensor, make

__all__ = ["dropout", "dropout2d"]


def _dropout(op: str, input: Any, p: float, training: bool, channelwise: bool) -> Tensor:
    """Multiply by an inverted-dropout mask drawn per element or per (sample, channel)."""
    check_dropout_p(p, op)
    x = float_tensor(input, op)
    if channelwise and x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected input of shape (N, C, L) or (N, C, H, W), got {x.shape}")
    if not training or p == 0:
        return x
    shape = x.shape[:2] + (1,) * (x.ndim - 2) if channelwise else x.shape
    mask = dropout_mask(shape, p, x._data.dtype)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (g * mask,)

    return make(x._data * mask, (x,), backward)


def dropout(input: Any, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p); identity in eval."""
    return _dropout("dropout", input, p, training, channelwise=False)


def dropout2d(input: Any, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero whole channels (dim 1 of (N, C, H, W), or of (N, C, L) as torch does) with prob. p."""
    return _dropout("dropout2d", input, p, training, channelwise=True)
