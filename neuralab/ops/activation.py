"""Activation functions, fused so that each is stable and has a one-line backward."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import erf

from neuralab.compiled import load
from neuralab.ops._util import one_dim
from neuralab.parallel import map_flat
from neuralab.tensor import Tensor, make


def relu(a: Tensor) -> Tensor:
    """max(0, a); the gradient at 0 is 0. Compiled passes with numba (the same bits)."""
    x = a._data
    out = np.empty_like(x)
    kernels = _relu_kernels(x)
    if kernels is None:
        map_flat(lambda xs, o: np.maximum(xs, 0, out=o), out, x)
    else:
        map_flat(kernels.relu, out.reshape(-1), x.reshape(-1))

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        gx = np.empty_like(g)
        if kernels is None or not g.flags.c_contiguous or g.dtype != x.dtype:
            map_flat(lambda gs, xs, o: np.multiply(gs, xs > 0, out=o), gx, g, x)
        else:
            map_flat(kernels.relu_backward, gx.reshape(-1), g.reshape(-1), x.reshape(-1))
        return (gx,)

    return make(out, (a,), backward)


def _relu_kernels(x: np.ndarray) -> Any:
    """The compiled ReLU passes for a contiguous float32/float64 array, else None."""
    if x.dtype not in (np.float32, np.float64) or not x.flags.c_contiguous:
        return None
    return load("neuralab.ops._activation_kernel")


def leaky_relu(a: Tensor, negative_slope: float = 0.01) -> Tensor:
    """a where a > 0, else negative_slope * a."""
    x = a._data
    pos = x > 0
    out = np.where(pos, x, x * negative_slope)
    return make(out, (a,), lambda g: (np.where(pos, g, g * negative_slope),))


def sigmoid(a: Tensor) -> Tensor:
    """1 / (1 + e^-a), computed without overflow for large |a|."""
    x = a._data
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return make(out, (a,), lambda g: (g * out * (1 - out),))


def tanh(a: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    out = np.tanh(a._data)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        d = np.multiply(out, out)
        np.subtract(1, d, out=d)
        d *= g
        return (d,)

    return make(out, (a,), backward)


def gelu(a: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit: exact (erf) or the tanh approximation."""
    x = a._data
    if approximate == "none":
        cdf = 0.5 * (1 + erf(x * (1 / math.sqrt(2))))
        out = x * cdf

        def backward(g: np.ndarray) -> tuple:
            pdf = np.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
            return (g * (cdf + x * pdf),)

    elif approximate == "tanh":
        k = math.sqrt(2 / math.pi)
        t = np.tanh(k * (x + 0.044715 * x**3))
        out = 0.5 * x * (1 + t)

        def backward(g: np.ndarray) -> tuple:
            dt = (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
            return (g * (0.5 * (1 + t) + 0.5 * x * dt),)

    else:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return make(out, (a,), backward)


def softmax(a: Tensor, dim: int = -1) -> Tensor:
    """exp(a) / sum(exp(a)) along ``dim``, shifted by the maximum for stability."""
    ax = one_dim(dim, a.ndim, "softmax")
    x = a._data
    e = np.exp(x - x.max(axis=ax, keepdims=True))
    out = e / e.sum(axis=ax, keepdims=True)

    def backward(g: np.ndarray) -> tuple:
        return (out * (g - (g * out).sum(axis=ax, keepdims=True)),)

    return make(out, (a,), backward)


def log_softmax(a: Tensor, dim: int = -1) -> Tensor:
    """log(softmax(a)) computed as a - logsumexp(a), finite for logits of any size."""
    ax = one_dim(dim, a.ndim, "log_softmax")
    x = a._data
    shifted = x - x.max(axis=ax, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=ax, keepdims=True))

    def backward(g: np.ndarray) -> tuple:
        return (g - np.exp(out) * g.sum(axis=ax, keepdims=True),)

    return make(out, (a,), backward)
