"""Inverted dropout: zero each element (or whole channel) with probability p, scale the rest;
and alpha dropout, which keeps SELU activations at mean 0 and variance 1.

Survivors are scaled by 1/(1-p) during training so the expected activation is unchanged and
evaluation is the identity. The mask comes from ``neuralab.random.generator()``, so
``manual_seed`` makes it reproducible; the backward multiplies by the same mask. The channel
("feature") variants draw one mask value per (sample, channel) and follow torch's reading of each
input rank, warnings included.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from neuralab.ops._pointwise import settle
from neuralab.ops._util import float_tensor
from neuralab.ops.smooth_activation import SELU_ALPHA, SELU_SCALE
from neuralab.random import generator
from neuralab.tensor import Tensor, make

__all__ = [
    "alpha_dropout", "alpha_dropout_", "dropout", "dropout1d", "dropout2d", "dropout3d", "dropout_",
    "feature_alpha_dropout", "feature_alpha_dropout_", "feature_dropout", "feature_dropout_",
]  # fmt: skip

# SELU's negative saturation value -scale·alpha, where alpha dropout sets the dropped units.
_ALPHA_PRIME = SELU_ALPHA * SELU_SCALE


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


def _apply(op: str, x: Tensor, mask: np.ndarray, shift: Any, inplace: bool) -> Tensor:
    """x·mask + shift, recorded with the backward g·mask (``inplace`` as torch's)."""
    out = x._data * mask + shift
    return settle(op, x, lambda t: make(out, (t,), lambda g: (g * mask,)), inplace)


def _feature_shape(shape: tuple[int, ...], batched: bool) -> tuple[int, ...]:
    """One mask value per (sample, channel) of a batched input, per channel of an unbatched one."""
    lead = 2 if batched else 1
    return shape[:lead] + (1,) * (len(shape) - lead)


def _dropout(
    op: str, input: Any, p: float, training: bool, inplace: bool, mask_shape: Any = None
) -> Tensor:
    """Multiply by an inverted-dropout mask of ``mask_shape`` (default: elementwise)."""
    check_dropout_p(p, op)
    x = float_tensor(input, op)
    if not training or p == 0:
        return x
    mask = dropout_mask(x.shape if mask_shape is None else mask_shape, p, x.dtype)
    return _apply(op, x, mask, 0, inplace)


def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p); identity in eval."""
    return _dropout("dropout", input, p, training, inplace)


def dropout1d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) input with probability p (scale 1/(1-p))."""
    x = float_tensor(input, "dropout1d")
    if x.ndim not in (2, 3):
        raise ValueError(
            f"dropout1d: expected input (N, C, L) or (C, L), got {x.ndim}-D input of shape "
            f"{x.shape}"
        )
    return _dropout("dropout1d", x, p, training, inplace, _feature_shape(x.shape, x.ndim == 3))


def dropout2d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels (dim 1) with probability p. Like torch, any input of 2+ dims counts as
    batched (N, C, ...): a 3-D input is (N, C, L), not (C, H, W); ranks other than 4 warn."""
    x = float_tensor(input, "dropout2d")
    if x.ndim < 2:
        raise ValueError(f"dropout2d: channel dropout needs at least 2 dims, got shape {x.shape}")
    if x.ndim == 3:
        warnings.warn(
            "dropout2d: a 3-D input is read as (N, C, L) and gets channel-wise 1-D dropout; "
            "torch will later read it as unbatched (C, H, W). Use dropout1d for (N, C, L).",
            stacklevel=2,
        )
    elif x.ndim != 4:
        _warn_rank("dropout2d", x.ndim, "3-D or 4-D")
    return _dropout("dropout2d", x, p, training, inplace, _feature_shape(x.shape, True))


def dropout3d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability p; other
    ranks warn and count as unbatched (one mask value per entry of dim 0), as in torch."""
    x = float_tensor(input, "dropout3d")
    if x.ndim not in (4, 5):
        _warn_rank("dropout3d", x.ndim, "4-D or 5-D")
    return _dropout("dropout3d", x, p, training, inplace, _feature_shape(x.shape, x.ndim == 5))


def _warn_rank(op: str, ndim: int, expected: str) -> None:
    """torch's deprecation warning for a channel dropout of an unexpected rank."""
    warnings.warn(
        f"{op}: a {ndim}-D input is deprecated (torch will raise): it expects {expected} "
        "input; use dropout for elementwise dropout.",
        stacklevel=3,
    )


def _alpha_dropout(
    op: str, input: Any, p: float, training: bool, inplace: bool, feature: bool
) -> Tensor:
    """Alpha dropout: dropped units become SELU's saturation value, then an affine map a·x + b
    restores mean 0 and variance 1."""
    check_dropout_p(p, op)
    x = float_tensor(input, op)
    if not training or p == 0:
        return x
    if feature and x.ndim < 2:
        raise ValueError(f"{op}: channel dropout needs at least 2 dims, got shape {x.shape}")
    if p == 1:
        return _apply(op, x, np.zeros_like(x._data), 0, inplace)
    shape = _feature_shape(x.shape, True) if feature else x.shape
    keep = (generator().random(shape) >= p).astype(x.dtype)
    a = 1 / math.sqrt((_ALPHA_PRIME**2 * p + 1) * (1 - p))
    shift = (keep - 1 + p) * (_ALPHA_PRIME * a)
    return _apply(op, x, keep * a, shift.astype(x.dtype, copy=False), inplace)


def alpha_dropout(
    input: Any, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Dropout for self-normalizing (SELU) networks; note ``training`` defaults to False."""
    return _alpha_dropout("alpha_dropout", input, p, training, inplace, feature=False)


def feature_alpha_dropout(
    input: Any, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Alpha dropout of whole channels (dim 1); ``training`` defaults to False."""
    return _alpha_dropout("feature_alpha_dropout", input, p, training, inplace, feature=True)


# ----------------------------------------------------------------------------- torch.* forms
# torch's top-level dropouts take ATen's (input, p, train), every argument required; the _ forms
# update the input in place


def aten_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.dropout: :func:`dropout` with ATen's argument names (``train=``)."""
    return dropout(input, p, train)


def aten_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.alpha_dropout: :func:`alpha_dropout` with ATen's argument names."""
    return alpha_dropout(input, p, train)


def aten_feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.feature_alpha_dropout: :func:`feature_alpha_dropout` with ATen's argument names."""
    return feature_alpha_dropout(input, p, train)


def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.dropout_: :func:`dropout` in place."""
    return dropout(input, p, train, inplace=True)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.alpha_dropout_: :func:`alpha_dropout` in place."""
    return alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.feature_alpha_dropout_: :func:`feature_alpha_dropout` in place."""
    return feature_alpha_dropout(input, p, train, inplace=True)


def feature_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.feature_dropout: zero whole channels (dim 1) of an input of 2+ dims, any rank read
    as batched (N, C, ...) and without dropout2d's warnings."""
    return _feature_dropout(input, p, train, inplace=False)


def feature_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.feature_dropout_: :func:`feature_dropout` in place."""
    return _feature_dropout(input, p, train, inplace=True)


def _feature_dropout(input: Any, p: float, train: bool, inplace: bool) -> Tensor:
    """One mask value per (sample, channel) of an input of at least 2 dims (when it draws one)."""
    op = "feature_dropout"
    x = float_tensor(input, op)
    if train and p > 0 and x.ndim < 2:
        raise ValueError(f"{op}: channel dropout needs at least 2 dims, got shape {x.shape}")
    return _dropout(op, x, p, train, inplace, _feature_shape(x.shape, True))
