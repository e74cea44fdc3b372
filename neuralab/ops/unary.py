"""One-input elementwise math (log1p, erf, tan, floor, ...), each beside its derivative.

Smooth functions are built by :func:`_smooth` from a forward ufunc and a derivative written in
terms of the input ``x`` and the output ``y``; integer inputs are computed in float32, as torch
does. Step functions (floor, round, ...) keep the dtype and pass a zero gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from neuralab.ops._util import LazyFunctions
from neuralab.ops.elementwise import _to_float, clamp, pow
from neuralab.tensor import Tensor, constant, make

sp = LazyFunctions("scipy.special")

_LN2, _LN10 = float(np.log(2)), float(np.log(10))
_TWO_BY_SQRT_PI = float(2 / np.sqrt(np.pi))

Derivative = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _smooth(name: str, forward: Callable, derivative: Derivative, doc: str) -> Callable:
    """A differentiable elementwise op: ``forward(x)`` with gradient ``g * derivative(x, y)``."""

    def op(input: Tensor) -> Tensor:
        a = _to_float(input)
        x = a._data
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            y = np.asarray(forward(x), x.dtype)

        def backward(g: np.ndarray) -> tuple:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                return (g * derivative(x, y).astype(g.dtype, copy=False),)

        return make(y, (a,), backward)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


log1p = _smooth("log1p", np.log1p, lambda x, y: 1 / (1 + x), "log(1 + x), exact for small x.")
expm1 = _smooth("expm1", np.expm1, lambda x, y: y + 1, "exp(x) - 1, exact for small x.")
log2 = _smooth("log2", np.log2, lambda x, y: 1 / (x * _LN2), "Base-2 logarithm.")
log10 = _smooth("log10", np.log10, lambda x, y: 1 / (x * _LN10), "Base-10 logarithm.")
exp2 = _smooth("exp2", np.exp2, lambda x, y: y * _LN2, "2 ** x.")
rsqrt = _smooth("rsqrt", lambda x: 1 / np.sqrt(x), lambda x, y: -0.5 * y**3, "1 / sqrt(x).")
reciprocal = _smooth("reciprocal", lambda x: 1 / x, lambda x, y: -(y * y), "1 / x.")
sinh = _smooth("sinh", np.sinh, lambda x, y: np.cosh(x), "Hyperbolic sine.")
cosh = _smooth("cosh", np.cosh, lambda x, y: np.sinh(x), "Hyperbolic cosine.")
tan = _smooth("tan", np.tan, lambda x, y: 1 + y * y, "Tangent.")
asin = _smooth("asin", np.arcsin, lambda x, y: 1 / np.sqrt(1 - x * x), "Inverse sine.")
acos = _smooth("acos", np.arccos, lambda x, y: -1 / np.sqrt(1 - x * x), "Inverse cosine.")
atan = _smooth("atan", np.arctan, lambda x, y: 1 / (1 + x * x), "Inverse tangent.")
asinh = _smooth("asinh", np.arcsinh, lambda x, y: 1 / np.sqrt(x * x + 1), "Inverse sinh.")
acosh = _smooth("acosh", np.arccosh, lambda x, y: 1 / np.sqrt(x * x - 1), "Inverse cosh.")
atanh = _smooth("atanh", np.arctanh, lambda x, y: 1 / (1 - x * x), "Inverse tanh.")
erf = _smooth("erf", sp.erf, lambda x, y: _TWO_BY_SQRT_PI * np.exp(-x * x), "Error function.")
erfc = _smooth("erfc", sp.erfc, lambda x, y: -_TWO_BY_SQRT_PI * np.exp(-x * x), "1 - erf(x).")
erfinv = _smooth(
    "erfinv", sp.erfinv, lambda x, y: np.exp(y * y) / _TWO_BY_SQRT_PI, "Inverse error function."
)
lgamma = _smooth(
    "lgamma",
    lambda x: np.where(x == -np.inf, np.inf, sp.gammaln(x)),  # +inf at -inf, as C's lgamma
    lambda x, y: sp.digamma(x),
    "log|Gamma(x)|.",
)
digamma = _smooth("digamma", sp.digamma, lambda x, y: sp.polygamma(1, x), "d/dx lgamma(x).")
sinc = _smooth(
    "sinc",
    np.sinc,
    lambda x, y: np.where(x == 0, 0, (np.cos(np.pi * x) - y) / np.where(x == 0, 1, x)),
    "sin(pi x) / (pi x), 1 at 0.",
)
deg2rad = _smooth(
    "deg2rad", np.deg2rad, lambda x, y: np.full_like(x, np.pi / 180), "Degrees to radians."
)
rad2deg = _smooth(
    "rad2deg", np.rad2deg, lambda x, y: np.full_like(x, 180 / np.pi), "Radians to degrees."
)
frac = _smooth("frac", lambda x: x - np.trunc(x), lambda x, y: np.ones_like(x), "x - trunc(x).")
sgn = _smooth("sgn", np.sign, lambda x, y: np.zeros_like(x), "The sign of x (a float).")
i0 = _smooth("i0", sp.i0, lambda x, y: sp.i1(x), "Modified Bessel function of order 0.")


def square(input: Tensor) -> Tensor:
    """x * x, keeping integer dtypes (torch.square)."""
    return pow(input, 2)


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)); with ``eps`` the input is first clamped to [eps, 1 - eps]."""
    a = _to_float(input)
    x = a._data if eps is None else np.clip(a._data, eps, 1 - eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(x / (1 - x))

    def backward(g: np.ndarray) -> tuple:
        with np.errstate(divide="ignore", invalid="ignore"):
            d = g / (x * (1 - x))
        if eps is not None:
            d = np.where((a._data < eps) | (a._data > 1 - eps), 0, d).astype(g.dtype)
        return (d,)

    return make(y, (a,), backward)


def _step(name: str, forward: Callable, doc: str) -> Callable:
    """A piecewise-constant op: integer inputs pass through, the gradient is zero."""

    def op(input: Tensor) -> Tensor:
        x = input._data
        if x.dtype.kind != "f":
            return constant(x.copy())
        return make(np.asarray(forward(x), x.dtype), (input,), lambda g: (np.zeros_like(g),))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


floor = _step("floor", np.floor, "The largest integer <= x (as a float for float input).")
ceil = _step("ceil", np.ceil, "The smallest integer >= x.")
trunc = _step("trunc", np.trunc, "x rounded toward zero.")
fix = trunc
_round = _step("round", np.round, "x rounded half to even.")


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001
    """x rounded half to even, to ``decimals`` places."""
    if decimals == 0:
        return _round(input)
    x = input._data
    return make(np.round(x, decimals), (input,), lambda g: (np.zeros_like(g),))


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    """max(x, min) elementwise."""
    return clamp(input, min=min)


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    """min(x, max) elementwise."""
    return clamp(input, max=max)


def nan_to_num(
    input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Tensor:
    """Replace NaN and infinities (by default with 0 and the dtype's largest finite values)."""
    x = input._data
    out = np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)
    if x.dtype.kind != "f":
        return constant(out)
    finite = np.isfinite(x)
    return make(out, (input,), lambda g: (g * finite,))
