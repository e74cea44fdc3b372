"""ReLU, GELU, SiLU and sigmoid compiled by numba (and tanh's slope): one vectorised pass each.
Each has a ``*_split`` twin that runs it on ``parts`` slices at once on numba's thread team
(:func:`neuralab.parallel.team_parts` says how many).

Imported only through :func:`neuralab.compiled.load`, so neuralab never needs numba. NumPy's
``maximum`` keeps NaN with a scalar loop, about one element per cycle (0.65 ms for 2 million
float32 here, where a copy takes 0.14 ms), and its backward ``g * (x > 0)`` is two passes. The
same selections written as branch-free element loops vectorise. Results equal NumPy's bit for
bit: NaN passes through, -0.0 becomes +0.0, and the gradient is ``g × 0`` (-0.0, or NaN for an
infinite ``g``) where the input is not positive.
"""

import numba
import numpy as np

from neuralab.compiled.fastmath import erf32, exp32
from neuralab.compiled.rnn_cell import _FAST, tanh
from neuralab.compiled.team import TEAM, bounds


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def relu(x, out):  # noqa: ANN001, ANN201
    """out = maximum(x, 0) over flat arrays, as NumPy computes it."""
    zero = x.dtype.type(0)
    for i in range(x.size):
        v = x[i]
        out[i] = v if v > zero or v != v else zero


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def relu_backward(g, x, out):  # noqa: ANN001, ANN201
    """out = g · (x > 0) over flat arrays, as NumPy computes it."""
    zero = x.dtype.type(0)
    for i in range(x.size):
        out[i] = g[i] * (x.dtype.type(1) if x[i] > zero else zero)


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def tanh_backward(g, y, out):  # noqa: ANN001, ANN201
    """out = (1 - y²)·g over flat arrays (y = tanh(x)): NumPy's three passes in one, same bits."""
    one = y.dtype.type(1)
    for i in range(y.size):
        out[i] = (one - y[i] * y[i]) * g[i]


# --------------------------------------------------------------------------- GELU
# x·Φ(x) and its slope Φ(x) + x·φ(x) in one pass that the compiler vectorises, with the float32
# exp and erf of :mod:`neuralab.compiled.fastmath` (numba's own call libm's scalar functions);
# the tanh form evaluates tanh in float64 by the recurrent cells' rational function.
_F = np.float32
_INV_SQRT2 = _F(0.7071067811865476)
_INV_SQRT_2PI = _F(0.3989422804014327)
_TANH_K = 0.7978845608028654  # sqrt(2/π)
_TANH_C = 0.044715


@numba.njit(nogil=True, cache=True, fastmath=_FAST, error_model="numpy", boundscheck=False)
def gelu_erf(x, out, slope):  # noqa: ANN001, ANN201
    """out = x·Φ(x) and slope = Φ(x) + x·φ(x) over flat float32 arrays (Φ by erf)."""
    for i in range(x.size):
        v = x[i]
        cdf = _F(0.5) + _F(0.5) * erf32(v * _INV_SQRT2)
        out[i] = v * cdf
        slope[i] = cdf + v * _INV_SQRT_2PI * exp32(_F(-0.5) * v * v)


@numba.njit(nogil=True, cache=True, fastmath=_FAST, error_model="numpy", boundscheck=False)
def gelu_tanh(x, out, slope):  # noqa: ANN001, ANN201
    """out = ½x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³), and its slope over flat arrays."""
    for i in range(x.size):
        v = np.float64(x[i])
        u = _TANH_K * (v + _TANH_C * v * v * v)
        # beyond ±9 float32's tanh is ±1; exactly ±1 there keeps x·(1 - t²) from growing with x
        t = 1.0 if u >= 9.0 else (-1.0 if u <= -9.0 else tanh(u))
        half = 0.5 * (1.0 + t)
        out[i] = v * half
        slope[i] = half + 0.5 * v * (1.0 - t * t) * _TANH_K * (1.0 + 3.0 * _TANH_C * v * v)


# --------------------------------------------------------------------------- sigmoid, SiLU
@numba.njit(inline="always", fastmath=_FAST, error_model="numpy")
def _sigmoid(v: float) -> float:
    """σ(v) with exp taken of -|v| only (no overflow), as ``neuralab.ops._stable.sigmoid``."""
    e = exp32(-abs(v))
    return _F(1.0) / (_F(1.0) + e) if v >= _F(0.0) else e / (_F(1.0) + e)


@numba.njit(nogil=True, cache=True, fastmath=_FAST, error_model="numpy", boundscheck=False)
def sigmoid(x, out):  # noqa: ANN001, ANN201
    """out = σ(x) over flat float32 arrays."""
    for i in range(x.size):
        out[i] = _sigmoid(x[i])


@numba.njit(nogil=True, cache=True, fastmath=_FAST, error_model="numpy", boundscheck=False)
def silu(x, out, slope):  # noqa: ANN001, ANN201
    """out = x·σ(x) and slope = σ(x)·(1 + x·(1 - σ(x))) over flat float32 arrays."""
    for i in range(x.size):
        v = x[i]
        s = _sigmoid(v)
        out[i] = v * s
        slope[i] = s * (_F(1.0) + v * (_F(1.0) - s))


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def multiply(a, b, out):  # noqa: ANN001, ANN201
    """out = a·b over flat arrays (a gradient times a saved slope), NumPy's bits."""
    for i in range(out.size):
        out[i] = a[i] * b[i]


# --------------------------------------------------------------------------- on the team
# Each twin runs its kernel on ``parts`` contiguous slices of the flat arrays at once. They are
# written out one by one: numba caches on disk neither a closure made by a factory nor a
# function that takes the kernel as an argument (every process would compile them again).


@numba.njit(**TEAM)
def tanh_backward_split(g, y, out, parts):  # noqa: ANN001, ANN201
    for k in numba.prange(parts):
        lo, hi = bounds(out.size, k, parts)
        tanh_backward(g[lo:hi], y[lo:hi], out[lo:hi])


@numba.njit(**TEAM)
def multiply_split(a, b, out, parts):  # noqa: ANN001, ANN201
    for k in numba.prange(parts):
        lo, hi = bounds(out.size, k, parts)
        multiply(a[lo:hi], b[lo:hi], out[lo:hi])


@numba.njit(**TEAM)
def sigmoid_split(x, out, parts):  # noqa: ANN001, ANN201
    for k in numba.prange(parts):
        lo, hi = bounds(out.size, k, parts)
        sigmoid(x[lo:hi], out[lo:hi])


@numba.njit(**TEAM)
def gelu_erf_split(x, out, slope, parts):  # noqa: ANN001, ANN201
    for k in numba.prange(parts):
        lo, hi = bounds(out.size, k, parts)
        gelu_erf(x[lo:hi], out[lo:hi], slope[lo:hi])


@numba.njit(**TEAM)
def gelu_tanh_split(x, out, slope, parts):  # noqa: ANN001, ANN201
    for k in numba.prange(parts):
        lo, hi = bounds(out.size, k, parts)
        gelu_tanh(x[lo:hi], out[lo:hi], slope[lo:hi])


@numba.njit(**TEAM)
def silu_split(x, out, slope, parts):  # noqa: ANN001, ANN201
    for k in numba.prange(parts):
        lo, hi = bounds(out.size, k, parts)
        silu(x[lo:hi], out[lo:hi], slope[lo:hi])
