"""Piecewise-linear activations: clipping (hardtanh, ReLU6), thresholding, shrinking, and the
hard sigmoid and hard swish of mobile networks. Gradients at the kinks follow torch's choices.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from neuralab.ops._pointwise import settle, unary
from neuralab.ops._util import to_tensor
from neuralab.ops._where import where
from neuralab.tensor import Tensor

__all__ = [
    "hardshrink", "hardsigmoid", "hardswish", "hardtanh", "hardtanh_", "relu6", "softshrink",
    "threshold", "threshold_",
]  # fmt: skip


def _passes(out: np.ndarray, keep: np.ndarray) -> Callable[[Tensor], Tensor]:
    """The recorder of a piece that passes x (slope 1) where ``keep`` and is flat elsewhere."""
    return lambda a: unary(a, out, lambda: keep.astype(a.dtype))


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """x clipped to [min_val, max_val]; the gradient is 1 strictly inside, 0 at and beyond."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} must not exceed max_val {max_val}")
    a = to_tensor(input)
    x = a._data
    out = np.clip(x, min_val, max_val).astype(x.dtype, copy=False)
    record = _passes(out, (x > min_val) & (x < max_val))
    return settle("hardtanh", a, record, inplace)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place :func:`hardtanh`."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(0, x), 6): a ReLU capped at 6."""
    return hardtanh(input, 0.0, 6.0, inplace)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else ``value``."""
    return _threshold(input, threshold, value, inplace)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place :func:`threshold`."""
    return _threshold(input, threshold, value, True)


def _threshold(input: Tensor, level: float, value: float, inplace: bool) -> Tensor:
    a = to_tensor(input)
    x = a._data
    keep = x > level
    record = _passes(where(keep, x, np.asarray(value, x.dtype)), keep)
    return settle("threshold", a, record, inplace)


def _check_lambd(op: str, lambd: float) -> None:
    if lambd < 0:
        raise ValueError(f"{op}: lambd must be non-negative, got {lambd}")


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0."""
    _check_lambd("hardshrink", lambd)
    a = to_tensor(input)
    x = a._data
    keep = np.abs(x) > lambd
    return _passes(where(keep, x, 0).astype(x.dtype, copy=False), keep)(a)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd·sign(x) where |x| > lambd, else 0: shrinks every value toward 0 by lambd."""
    _check_lambd("softshrink", lambd)
    a = to_tensor(input)
    x = a._data
    keep = np.abs(x) > lambd
    out = where(keep, x - np.copysign(np.asarray(lambd, x.dtype), x), 0).astype(x.dtype)
    return _passes(out, keep)(a)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6: a piecewise-linear sigmoid (gradient 1/6 strictly inside (-3, 3))."""
    a = to_tensor(input)
    x = a._data
    out = np.clip(x / 6 + 0.5, 0, 1).astype(x.dtype, copy=False)
    inside = (x > -3) & (x < 3)
    sixth = x.dtype.type(np.float32(1 / 6))  # torch's backward uses the float32 1/6 in any dtype
    return settle("hardsigmoid", a, lambda t: unary(t, out, lambda: inside * sixth), inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · relu6(x + 3) / 6: a piecewise-quadratic swish (MobileNetV3)."""
    a = to_tensor(input)
    x = a._data
    out = x * np.clip(x / 6 + 0.5, 0, 1).astype(x.dtype, copy=False)

    def slope() -> np.ndarray:
        mid = where(x >= 3, np.ones((), x.dtype), x / 3 + 0.5)
        return where(x <= -3, np.zeros((), x.dtype), mid)

    return settle("hardswish", a, lambda t: unary(t, out, slope), inplace)
