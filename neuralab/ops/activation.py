"""Activation functions: rectifiers, sigmoid, tanh, GELU, the softmax family, and the learned
(PReLU) and randomized (RReLU) leaky slopes; each fused so that it is stable with a short backward.

The smooth exponential units (ELU, SiLU, softplus, ...) are in ``smooth_activation``, the clipped
and shrinking ones (hardtanh, ReLU6, hardswish, ...) in ``piecewise``. ``inplace=`` follows torch
as torch: see :func:`neuralab.ops._pointwise.settle`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from neuralab.compiled import load
from neuralab.ops._pointwise import erf32, float32_kernels, settle, times_slope, unary
from neuralab.ops._stable import sigmoid as _sigmoid
from neuralab.ops._util import LazyFunctions, float_tensor, one_dim
from neuralab.ops._where import where
from neuralab.ops.elementwise import _to_float, cast
from neuralab.parallel import map_flat
from neuralab.random import generator
from neuralab.tensor import Tensor, constant, make

_special = LazyFunctions("scipy.special")

__all__ = [
    "gelu", "glu", "gumbel_softmax", "leaky_relu", "leaky_relu_", "log_softmax", "prelu", "relu",
    "relu_", "rrelu", "rrelu_", "sigmoid", "softmax", "softmin", "tanh",
]  # fmt: skip


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(0, x); the gradient at 0 is 0. Compiled passes with numba (the same bits)."""
    x = input._data
    kernels = None if x.size < _SMALL else _relu_kernels(x)
    if kernels is None:
        # a typed zero: NumPy converts a Python 0 on every call (0.3 µs of a batch-1 ReLU's 0.8)
        zero = _ZERO32 if x.dtype == np.float32 else 0
        out = np.maximum(x, zero) if x.size < _SMALL else _relu_numpy(x)
    else:
        out = np.empty_like(x)
        map_flat(kernels.relu, out.reshape(-1), x.reshape(-1), cost=_RELU_COST)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        if kernels is None or not g.flags.c_contiguous or g.dtype != x.dtype:
            return (np.multiply(g, x > 0) if x.size < _SMALL else _relu_backward_numpy(g, x),)
        gx = np.empty_like(g)
        map_flat(
            kernels.relu_backward, gx.reshape(-1), g.reshape(-1), x.reshape(-1), cost=_RELU_COST
        )
        return (gx,)

    if inplace:
        return settle("relu", input, lambda t: make(out, (t,), backward), inplace)
    return make(out, (input,), backward)


# Below this many elements a NumPy call (~1 µs) beats a compiled kernel's dispatch and a look at
# the threads: batch-1 inference runs ReLUs of a few hundred values.
_SMALL = 4096
_ZERO32 = np.zeros((), np.float32)
# The compiled passes split over threads from a million elements (map_flat's cost 2): ReLU and
# its slope forward and backward over 524,288 float32 took 0.33 ms on one thread and 0.67 on
# two (the second thread's wake-up outweighs half a memory-bound pass); from 2^20, 1.1-1.4x.
_RELU_COST = 2


def _relu_numpy(x: np.ndarray) -> np.ndarray:
    """max(x, 0) by NumPy, split over threads when large."""
    out = np.empty_like(x)
    map_flat(lambda xs, o: np.maximum(xs, 0, out=o), out, x)
    return out


def _relu_backward_numpy(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """g·(x > 0) by NumPy, split over threads when large."""
    gx = np.empty_like(g)
    map_flat(lambda gs, xs, o: np.multiply(gs, xs > 0, out=o), gx, g, x)
    return gx


def relu_(input: Tensor) -> Tensor:
    """In-place :func:`relu` (torch.relu_)."""
    return relu(input, inplace=True)


def _relu_kernels(x: np.ndarray) -> Any:
    """The compiled ReLU passes for a large contiguous float32/float64 array, else None."""
    if x.dtype not in (np.float32, np.float64) or not x.flags.c_contiguous:
        return None
    return load("neuralab.compiled.activation")


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else negative_slope·x (the gradient at 0 is negative_slope, as torch's)."""
    x = input._data
    pos = x > 0
    out = where(pos, x, x * negative_slope)

    def backward(g: np.ndarray) -> tuple:
        return (where(pos, g, g * negative_slope),)

    return settle("leaky_relu", input, lambda t: make(out, (t,), backward), inplace)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place :func:`leaky_relu`."""
    return leaky_relu(input, negative_slope, inplace=True)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + e^-x), computed without overflow for large |x| (one compiled pass for float32)."""
    input = _to_float(input)  # integers: the default float dtype, as torch
    x = input._data
    kernels = float32_kernels(x)
    if kernels is None:
        out = _sigmoid(x)
    else:
        x = x if x.flags.c_contiguous else x.copy()  # (ascontiguousarray makes 0-d 1-d)
        out = np.empty_like(x)
        map_flat(
            kernels.sigmoid, out.reshape(-1), x.reshape(-1), cost=8, split=kernels.sigmoid_split
        )
    return make(out, (input,), lambda g: (g * out * (1 - out),))


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent: NumPy's, split over threads when large; the slope (1 - tanh²)·g in
    one compiled pass (NumPy's three otherwise), with the same bits. Two threads gained from
    about half a million elements for the tanh (600,000: 216 → 174 µs; 300,000 lost 109 → 121)
    and a million for the slope (1.2 million: 204 → 147 µs; 600,000 lost 79 → 107)."""
    input = _to_float(input)  # integers: the default float dtype, as torch
    x = input._data
    if x.size >= _TANH_SPLIT:
        out = np.empty_like(x)
        map_flat(_tanh_into, out, x)
    else:
        out = np.tanh(x)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        kernels = float32_kernels(out) if out.size >= _SMALL else None
        if kernels is None or g.dtype != out.dtype or not _both_c_contiguous(g, out):
            d = np.multiply(out, out)
            np.subtract(1, d, out=d)
            d *= g
            return (d,)
        gx = np.empty_like(out)
        map_flat(
            kernels.tanh_backward, gx.reshape(-1), g.reshape(-1), out.reshape(-1), cost=2,
            split=kernels.tanh_backward_split,
        )  # fmt: skip
        return (gx,)

    return make(out, (input,), backward)


_TANH_SPLIT = 1 << 19  # where map_flat (cost 4) starts to split


def _tanh_into(x: np.ndarray, out: np.ndarray) -> None:
    np.tanh(x, out=out)


def _both_c_contiguous(a: np.ndarray, b: np.ndarray) -> bool:
    return a.flags.c_contiguous and b.flags.c_contiguous


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit x·Φ(x): exact (erf) or the tanh approximation.

    Output and slope come from one compiled pass for float32 with numba (see
    :mod:`neuralab.compiled.activation`), else from NumPy; the backward is one product.
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    x = input._data
    kernels = float32_kernels(x)
    if kernels is None:
        out, slope = _gelu_numpy(x, approximate == "tanh")
    else:
        x = x if x.flags.c_contiguous else x.copy()  # (ascontiguousarray makes 0-d 1-d)
        out, slope = np.empty_like(x), np.empty_like(x)
        if approximate == "tanh":
            kernel, split = kernels.gelu_tanh, kernels.gelu_tanh_split
        else:
            kernel, split = kernels.gelu_erf, kernels.gelu_erf_split
        map_flat(kernel, slope.reshape(-1), x.reshape(-1), out.reshape(-1), cost=16, split=split)
    return make(out, (input,), lambda g: (times_slope(g, slope),))


def _gelu_numpy(x: np.ndarray, approximate: bool) -> tuple[np.ndarray, np.ndarray]:
    """GELU's output and slope by NumPy: float32's erf by :func:`erf32`, others' by SciPy."""
    if approximate:
        k = math.sqrt(2 / math.pi)
        t = np.tanh(k * (x + 0.044715 * x**3))
        half = 0.5 * (1 + t)
        with np.errstate(invalid="ignore"):  # ±inf·0: a NaN slope, as torch's
            return x * half, half + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
    z = x * (1 / math.sqrt(2))
    cdf = 0.5 * (1 + (erf32(z) if x.dtype == np.float32 else _special.erf(z)))
    pdf = np.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
    with np.errstate(invalid="ignore"):  # ±inf·0: a NaN slope, as torch's
        return x * cdf, cdf + x * pdf


# ----------------------------------------------------------------------------- softmax family


def _implicit_dim(ndim: int, op: str, stacklevel: int) -> int:
    """torch's legacy dimension for a softmax called without ``dim`` (0 for 0/1/3-d input, else
    1), with torch's deprecation warning."""
    warnings.warn(
        f"Implicit dimension choice for {op} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_input(
    op: str, input: Any, dim: int | None, dtype: Any, stacklevel: int
) -> tuple[Tensor, int]:
    """The input cast to ``dtype`` (if given) and the normalized softmax axis (torch's implicit
    one, with its warning, when ``dim`` is None)."""
    if dim is None:
        dim = _implicit_dim(input.ndim, op, stacklevel + 1)
    x = float_tensor(input, op) if dtype is None else cast(input, np.dtype(dtype))
    return x, one_dim(dim, x.ndim, op)


def _softmax(x: Tensor, ax: int, sign: int) -> Tensor:
    """softmax(sign·x) along ``ax``, shifted by the maximum for stability."""
    z = x._data if sign > 0 else -x._data
    e = np.exp(z - z.max(axis=ax, keepdims=True))
    out = e / e.sum(axis=ax, keepdims=True)

    def backward(g: np.ndarray) -> tuple:
        gz = out * (g - (g * out).sum(axis=ax, keepdims=True))
        return (gz if sign > 0 else -gz,)

    return make(out, (x,), backward)


def softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None
) -> Tensor:
    """exp(x) / Σ exp(x) along ``dim`` (cast to ``dtype`` first, if given)."""
    x, ax = _softmax_input("softmax", input, dim, dtype, _stacklevel)
    return _softmax(x, ax, 1)


def softmin(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None
) -> Tensor:
    """softmax(-x) along ``dim``: most weight on the smallest entries."""
    x, ax = _softmax_input("softmin", input, dim, dtype, _stacklevel)
    return _softmax(x, ax, -1)


def log_softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None
) -> Tensor:
    """log(softmax(x)) computed as x - logsumexp(x), finite for logits of any size."""
    x, ax = _softmax_input("log_softmax", input, dim, dtype, _stacklevel)
    z = x._data
    shifted = z - z.max(axis=ax, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=ax, keepdims=True))

    def backward(g: np.ndarray) -> tuple:
        return (g - np.exp(out) * g.sum(axis=ax, keepdims=True),)

    return make(out, (x,), backward)


def gumbel_softmax(
    logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1
) -> Tensor:
    """A differentiable sample of a categorical: softmax((logits + Gumbel noise) / tau).

    ``hard`` returns the one-hot of the sample with the soft sample's gradient (straight-through).
    ``eps`` is unused, as in torch.
    """
    x = float_tensor(logits, "gumbel_softmax")
    noise = -np.log(generator().standard_exponential(x.shape)).astype(x.dtype)
    ax = one_dim(dim, x.ndim, "gumbel_softmax")
    soft = _softmax((x + constant(noise)) / tau, ax, 1)
    if not hard:
        return soft
    one_hot = np.zeros_like(soft._data)
    np.put_along_axis(one_hot, np.expand_dims(soft._data.argmax(axis=ax), ax), 1, ax)
    return make(one_hot, (soft,), lambda g: (g,))


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit a·σ(b), where a and b are the two halves of the input along ``dim``."""
    x = float_tensor(input, "glu")
    if x.ndim == 0:
        raise ValueError("glu: a 0-d input has no dimension to halve")
    ax = one_dim(dim, x.ndim, "glu")
    if x.shape[ax] % 2:
        raise ValueError(
            f"glu: dimension {ax} of input shape {x.shape} must have an even size to halve"
        )
    a, b = np.split(x._data, 2, axis=ax)
    s = _sigmoid(b)

    def backward(g: np.ndarray) -> tuple:
        return (np.concatenate((g * s, g * a * s * (1 - s)), axis=ax),)

    return make(a * s, (x,), backward)


# ----------------------------------------------------------------------------- leaky slopes


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x where x > 0, else weight·x, with one learned slope or one per channel (dim 1)."""
    x = float_tensor(input, "prelu")
    w = float_tensor(weight, "prelu", "weight")
    if x.ndim == 0:
        raise ValueError("prelu: input must have at least one dimension, got a 0-d tensor")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if w._data.size not in (1, channels):
        raise ValueError(
            f"prelu: weight has {w._data.size} parameters but input of shape {x.shape} has "
            f"{channels} channels (dim 1); give 1 or {channels}"
        )
    per_channel = w._data.size > 1
    view = (-1,) + (1,) * (x.ndim - 2) if per_channel else ()
    slope = w._data.astype(x.dtype, copy=False).reshape(view)
    pos = x._data > 0
    out = where(pos, x._data, slope * x._data)
    axes = tuple(i for i in range(x.ndim) if not (per_channel and i == 1))

    def backward(g: np.ndarray) -> tuple:
        gw = where(pos, 0, g * x._data).sum(axis=axes).reshape(w.shape)
        return where(pos, g, g * slope), gw.astype(w.dtype, copy=False)

    return make(out, (x, w), backward)


def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Randomized leaky ReLU: slope ~ U(lower, upper) per element where x <= 0 when training,
    the mean slope (lower + upper)/2 in evaluation."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    x = float_tensor(input, "rrelu")
    z = x._data
    drawn = generator().uniform(lower, upper, z.shape).astype(z.dtype)
    noise = np.where(z <= 0, drawn, np.ones_like(z))
    return settle("rrelu", x, lambda t: unary(t, z * noise, lambda: noise), inplace)


def rrelu_(
    input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False
) -> Tensor:
    """In-place :func:`rrelu`."""
    return rrelu(input, lower, upper, training, inplace=True)
