"""Bool-valued and bitwise elementwise ops: logical_*, bitwise_*, isinf, isclose, allclose,
equal, isin. None of them has a gradient."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.ops.elementwise import coerce
from neuralab.tensor import Tensor, constant


def _pair(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    a, b = coerce(a, b)
    return a._data, b._data


def logical_and(input: Any, other: Any) -> Tensor:
    """True where both are nonzero."""
    return constant(np.logical_and(*_pair(input, other)))


def logical_or(input: Any, other: Any) -> Tensor:
    """True where either is nonzero."""
    return constant(np.logical_or(*_pair(input, other)))


def logical_xor(input: Any, other: Any) -> Tensor:
    """True where exactly one is nonzero."""
    return constant(np.logical_xor(*_pair(input, other)))


def logical_not(input: Tensor) -> Tensor:
    """True where the input is zero."""
    return constant(np.logical_not(input._data))


def _integral(op: str, *arrays: np.ndarray) -> None:
    for x in arrays:
        if x.dtype.kind not in "iub":
            raise TypeError(f"{op}: expected integer or bool tensors, got dtype {x.dtype}")


def _bitwise(op: str, fn: np.ufunc, input: Any, other: Any) -> Tensor:
    x, y = _pair(input, other)
    _integral(op, x, y)
    return constant(fn(x, y))


def bitwise_and(input: Any, other: Any) -> Tensor:
    """Bitwise AND of integer or bool tensors."""
    return _bitwise("bitwise_and", np.bitwise_and, input, other)


def bitwise_or(input: Any, other: Any) -> Tensor:
    """Bitwise OR of integer or bool tensors."""
    return _bitwise("bitwise_or", np.bitwise_or, input, other)


def bitwise_xor(input: Any, other: Any) -> Tensor:
    """Bitwise XOR of integer or bool tensors."""
    return _bitwise("bitwise_xor", np.bitwise_xor, input, other)


def bitwise_left_shift(input: Any, other: Any) -> Tensor:
    """input << other for integer tensors."""
    return _bitwise("bitwise_left_shift", np.left_shift, input, other)


def bitwise_right_shift(input: Any, other: Any) -> Tensor:
    """input >> other for integer tensors (arithmetic shift)."""
    return _bitwise("bitwise_right_shift", np.right_shift, input, other)


def bitwise_not(input: Tensor) -> Tensor:
    """Bitwise NOT (logical NOT for bool tensors)."""
    _integral("bitwise_not", input._data)
    return constant(np.invert(input._data))


def isinf(input: Tensor) -> Tensor:
    """True where the value is +inf or -inf."""
    return constant(np.isinf(input._data))


def isposinf(input: Tensor) -> Tensor:
    """True where the value is +inf."""
    return constant(np.isposinf(input._data))


def isneginf(input: Tensor) -> Tensor:
    """True where the value is -inf."""
    return constant(np.isneginf(input._data))


def isreal(input: Tensor) -> Tensor:
    """True everywhere for real tensors (neuralab has no complex dtype)."""
    return constant(np.isreal(input._data))


def signbit(input: Tensor) -> Tensor:
    """True where the sign bit is set (negative values and -0.0)."""
    return constant(np.signbit(input._data))


def isclose(
    input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    """|input - other| <= atol + rtol * |other| elementwise."""
    x, y = _pair(input, other)
    return constant(np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(
    input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """True when :func:`isclose` holds everywhere."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both have the same shape and the same values."""
    x, y = _pair(input, other)
    return x.shape == y.shape and bool((x == y).all())


def isin(
    elements: Any, test_elements: Any, *, assume_unique: bool = False, invert: bool = False
) -> Tensor:
    """True where an element of ``elements`` is among ``test_elements`` (False with ``invert``);
    either may be a scalar."""
    x, y = _pair(elements, test_elements)
    return constant(np.isin(x, y, assume_unique=assume_unique, invert=invert))
