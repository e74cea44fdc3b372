"""Smooth activations: the exponential linear units (ELU, CELU, SELU), the self-gated ones (SiLU,
Mish), softplus and its relatives (log-sigmoid), softsign and tanhshrink.
"""

from __future__ import annotations

import numpy as np

from neuralab.ops._pointwise import float32_kernels, settle, unary
from neuralab.ops._stable import sigmoid as _sigmoid
from neuralab.ops._stable import softplus as _softplus
from neuralab.ops._util import float_tensor
from neuralab.ops._where import where
from neuralab.parallel import map_flat
from neuralab.tensor import Tensor

__all__ = [
    "celu", "celu_", "elu", "elu_", "logsigmoid", "mish", "selu", "selu_", "silu", "softplus",
    "softsign", "tanhshrink",
]  # fmt: skip

# SELU's constants (Klambauer et al., 2017): the fixed point of mean 0 and variance 1.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _exponential_unit(
    op: str, input: Tensor, alpha: float, scale: float, input_scale: float, inplace: bool
) -> Tensor:
    """scale·x for x > 0, else scale·alpha·(exp(input_scale·x) - 1): ELU, CELU and SELU."""
    a = float_tensor(input, op)
    x = a._data
    pos = x > 0
    e = np.exp(np.minimum(x, 0) * input_scale)  # never overflows
    out = scale * where(pos, x, alpha * (e - 1))

    def slope() -> np.ndarray:
        return where(pos, np.asarray(scale, x.dtype), (scale * alpha * input_scale) * e)

    return settle(op, a, lambda t: unary(t, out, slope), inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """Exponential linear unit: x for x > 0, else alpha·(eˣ - 1)."""
    return _exponential_unit("elu", input, alpha, 1.0, 1.0, inplace)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place :func:`elu`."""
    return elu(input, alpha, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """Continuously differentiable ELU: x for x > 0, else alpha·(e^(x/alpha) - 1)."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    return _exponential_unit("celu", input, alpha, 1.0, 1.0 / alpha, inplace)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place :func:`celu`."""
    return celu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """Scaled ELU with the self-normalizing constants (keeps activations near mean 0, var 1)."""
    return _exponential_unit("selu", input, SELU_ALPHA, SELU_SCALE, 1.0, inplace)


def selu_(input: Tensor) -> Tensor:
    """In-place :func:`selu`."""
    return selu(input, inplace=True)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x·σ(x) (also called swish); output and slope in one compiled pass for float32."""
    a = float_tensor(input, "silu")
    x = a._data
    kernels = float32_kernels(x)
    if kernels is None:
        s = _sigmoid(x)
        return settle("silu", a, lambda u: unary(u, x * s, lambda: s * (1 + x * (1 - s))), inplace)
    x = x if x.flags.c_contiguous else x.copy()  # (ascontiguousarray makes 0-d 1-d)
    out, slope = np.empty_like(x), np.empty_like(x)
    map_flat(
        kernels.silu, slope.reshape(-1), x.reshape(-1), out.reshape(-1), cost=8,
        split=kernels.silu_split,
    )  # fmt: skip
    return settle("silu", a, lambda u: unary(u, out, lambda: slope), inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·tanh(softplus(x))."""
    a = float_tensor(input, "mish")
    x = a._data
    t = np.tanh(_softplus(x))
    out = x * t
    return settle(
        "mish", a, lambda u: unary(u, out, lambda: t + x * _sigmoid(x) * (1 - t * t)), inplace
    )


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta·x)) / beta, a smooth ReLU; linear (= x) where beta·x > threshold."""
    a = float_tensor(input, "softplus")
    x = a._data
    bx = x * beta
    linear = bx > threshold
    out = where(linear, x, _softplus(bx) / beta)
    return unary(a, out, lambda: where(linear, np.ones((), x.dtype), _sigmoid(bx)))


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|): a tanh-like squashing with polynomial tails."""
    a = float_tensor(input, "softsign")
    x = a._data
    d = 1 + np.abs(x)
    return unary(a, x / d, lambda: 1 / (d * d))


def logsigmoid(input: Tensor) -> Tensor:
    """log σ(x) = -softplus(-x), finite for any x."""
    a = float_tensor(input, "logsigmoid")
    x = a._data
    return unary(a, -_softplus(-x), lambda: _sigmoid(-x))


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    a = float_tensor(input, "tanhshrink")
    x = a._data
    t = np.tanh(x)
    return unary(a, x - t, lambda: t * t)
