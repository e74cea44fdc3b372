"""Two- and three-input elementwise arithmetic beyond + - * /: remainder, atan2, hypot, lerp,
logaddexp, xlogy, addcmul/addcdiv, ... with broadcasting and gradients for every float input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from neuralab.ops._util import unbroadcast
from neuralab.ops.elementwise import _to_float, add, cast, coerce, div, mul, pow, sub
from neuralab.tensor import Tensor, constant, float64, make

Partials = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _binary(a: Any, b: Any, forward: Callable, partials: Partials, floats: bool) -> Tensor:
    """``forward(x, y)`` broadcast; the gradients are g times the two ``partials(x, y, out)``."""
    a, b = coerce(a, b)
    if floats:
        a, b = _to_float(a), _to_float(b)
    x, y = a._data, b._data
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.asarray(forward(x, y))

    def backward(g: np.ndarray) -> tuple:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            dx, dy = partials(x, y, out)
        return (
            unbroadcast(g * dx, x.shape).astype(g.dtype, copy=False) if a.requires_grad else None,
            unbroadcast(g * dy, y.shape).astype(g.dtype, copy=False) if b.requires_grad else None,
        )

    return make(out, (a, b), backward)


def remainder(input: Any, other: Any) -> Tensor:
    """input mod other with the sign of ``other`` (Python's %)."""
    return _binary(input, other, np.mod, lambda x, y, o: (1, -np.floor(x / y)), False)


def fmod(input: Any, other: Any) -> Tensor:
    """input mod other with the sign of ``input`` (C's fmod)."""
    return _binary(input, other, np.fmod, lambda x, y, o: (1, -np.trunc(x / y)), False)


def floor_divide(input: Any, other: Any) -> Tensor:
    """floor(input / other), keeping integer dtypes; not differentiable (as in torch)."""
    a, b = coerce(input, other)
    with np.errstate(divide="ignore", invalid="ignore"):
        return constant(np.asarray(np.floor_divide(a._data, b._data)))


def atan2(input: Any, other: Any) -> Tensor:
    """The angle of the point (other, input): atan(input / other) in the right quadrant."""
    return _binary(
        input,
        other,
        np.arctan2,
        lambda y, x, o: (x / (x * x + y * y), -y / (x * x + y * y)),
        True,
    )


def hypot(input: Any, other: Any) -> Tensor:
    """sqrt(input² + other²) without overflow."""
    return _binary(input, other, np.hypot, lambda x, y, o: (x / o, y / o), True)


def logaddexp(input: Any, other: Any) -> Tensor:
    """log(exp(input) + exp(other)), computed stably."""
    return _binary(input, other, np.logaddexp, lambda x, y, o: (np.exp(x - o), np.exp(y - o)), True)


def logaddexp2(input: Any, other: Any) -> Tensor:
    """log2(2**input + 2**other), computed stably."""
    return _binary(
        input, other, np.logaddexp2, lambda x, y, o: (np.exp2(x - o), np.exp2(y - o)), True
    )


def xlogy(input: Any, other: Any) -> Tensor:
    """input * log(other), and 0 where input is 0 (unless other is NaN)."""

    def forward(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.where((x == 0) & ~np.isnan(y), 0, x * np.log(y)).astype(np.result_type(x, y))

    def partials(x: np.ndarray, y: np.ndarray, o: np.ndarray) -> tuple:
        return np.where((x == 0) & (y <= 0), 0, np.log(y)), x / y

    return _binary(input, other, forward, partials, True)


def copysign(input: Any, other: Any) -> Tensor:
    """|input| with the sign of ``other``."""
    return _binary(
        input,
        other,
        np.copysign,
        lambda x, y, o: (np.where(x == 0, 0, np.sign(x) * np.sign(o)), np.zeros_like(y)),
        True,
    )


def float_power(input: Any, exponent: Any) -> Tensor:
    """input ** exponent computed in float64 (torch.float_power)."""
    if isinstance(input, Tensor):
        input = cast(input, float64)
    if isinstance(exponent, Tensor):
        exponent = cast(exponent, float64)
    elif not isinstance(input, Tensor):
        raise TypeError("float_power: expected at least one tensor operand")
    return pow(input, exponent)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """input + weight * (end - input): linear interpolation (weight a number or a tensor)."""
    return add(input, mul(weight, sub(end, input)))


def addcmul(input: Tensor, tensor1: Any, tensor2: Any, *, value: float = 1) -> Tensor:
    """input + value * tensor1 * tensor2 (as optimizers write it)."""
    prod = mul(tensor1, tensor2)
    return add(input, prod if value == 1 else mul(prod, value))


def addcdiv(input: Tensor, tensor1: Any, tensor2: Any, *, value: float = 1) -> Tensor:
    """input + value * tensor1 / tensor2 (as optimizers write it)."""
    quot = div(tensor1, tensor2)
    return add(input, quot if value == 1 else mul(quot, value))


def rsub(input: Any, other: Any, *, alpha: float = 1) -> Tensor:
    """other - alpha * input."""
    return sub(other, input if alpha == 1 else mul(input, alpha))


def _first_wins(x: np.ndarray, y: np.ndarray, o: np.ndarray, ge: bool) -> tuple:
    mine = ((x >= y) if ge else (x <= y)) | np.isnan(y)  # ties and a NaN other go to input
    return mine, ~mine


def fmax(input: Any, other: Any) -> Tensor:
    """The elementwise maximum where a NaN loses to a number (torch.fmax)."""
    return _binary(input, other, np.fmax, lambda x, y, o: _first_wins(x, y, o, True), False)


def fmin(input: Any, other: Any) -> Tensor:
    """The elementwise minimum where a NaN loses to a number (torch.fmin)."""
    return _binary(input, other, np.fmin, lambda x, y, o: _first_wins(x, y, o, False), False)


def heaviside(input: Tensor, values: Any) -> Tensor:
    """0 where input < 0, 1 where input > 0, ``values`` where it is 0; not differentiable."""
    a, b = coerce(input, values)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            f"heaviside: input ({a._data.dtype}) and values ({b._data.dtype}) must share a dtype"
        )
    return constant(np.asarray(np.heaviside(a._data, b._data), a._data.dtype))


def _integers(op: str, input: Any, other: Any) -> tuple[np.ndarray, np.ndarray]:
    a, b = coerce(input, other)
    if a._data.dtype.kind not in "iub" or b._data.dtype.kind not in "iub":
        raise TypeError(f"{op}: expected integer tensors, got {a._data.dtype} and {b._data.dtype}")
    return a._data, b._data


def gcd(input: Any, other: Any) -> Tensor:
    """The elementwise greatest common divisor of integers (non-negative; gcd(0, 0) = 0)."""
    return constant(np.asarray(np.gcd(*_integers("gcd", input, other))))


def lcm(input: Any, other: Any) -> Tensor:
    """The elementwise least common multiple of integers (non-negative)."""
    return constant(np.asarray(np.lcm(*_integers("lcm", input, other))))


def ldexp(input: Any, other: Any) -> Tensor:
    """input · 2^other, as a float tensor (torch.ldexp); differentiable in both."""
    a, b = coerce(input, other)
    return mul(_to_float(a), pow(2.0, _to_float(b)))


class frexp_result(NamedTuple):  # noqa: N801  (torch.return_types.frexp)
    mantissa: Tensor
    exponent: Tensor


def frexp(input: Tensor) -> frexp_result:
    """(mantissa, exponent) with input = mantissa · 2^exponent, |mantissa| in [0.5, 1) (or 0);
    the exponent as int32; not differentiable (as in torch)."""
    x = input._data
    if x.dtype.kind != "f":
        raise TypeError(f"frexp: expected a floating-point tensor, got {x.dtype}")
    mantissa, exponent = np.frexp(x)
    return frexp_result(constant(mantissa), constant(exponent.astype(np.int32)))


def nextafter(input: Any, other: Any) -> Tensor:
    """The next floating-point value after ``input`` towards ``other``; not differentiable."""
    a, b = coerce(input, other)
    return constant(np.asarray(np.nextafter(a._data, b._data)))
