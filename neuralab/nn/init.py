"""Parameter initialization schemes, in place, with torch.nn.init's formulas and names.

Every function fills its tensor under ``no_grad`` from ``neuralab.random.generator()`` (so
``nl.manual_seed`` makes initialization reproducible), keeps the tensor's dtype and returns it.
The fan of a weight follows torch: for shape (out, in, *kernel), fan_in = in·∏kernel and
fan_out = out·∏kernel. The random ones take torch's ``generator=`` too: None (the global
generator) or a ``numpy.random.Generator``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from neuralab.random import generator as global_generator
from neuralab.tensor import Tensor, no_grad

__all__ = [
    "calculate_gain",
    "constant",
    "constant_",
    "dirac",
    "dirac_",
    "eye",
    "eye_",
    "kaiming_normal",
    "kaiming_normal_",
    "kaiming_uniform",
    "kaiming_uniform_",
    "normal",
    "normal_",
    "ones_",
    "orthogonal",
    "orthogonal_",
    "sparse",
    "sparse_",
    "trunc_normal_",
    "uniform",
    "uniform_",
    "xavier_normal",
    "xavier_normal_",
    "xavier_uniform",
    "xavier_uniform_",
    "zeros_",
]

_UNIT_GAIN = (
    "linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
)  # fmt: skip


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity: keeps the activations' variance across layers."""
    if nonlinearity in _UNIT_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, int | float) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _rng(generator: Any) -> np.random.Generator:
    """The generator to draw from: the global one, or the given NumPy Generator."""
    if generator is None:
        return global_generator()
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(
        f"init: generator must be None or a numpy.random.Generator, got {type(generator).__name__}"
    )


def _fill(tensor: Tensor, values: np.ndarray | float) -> Tensor:
    """Write ``values`` into ``tensor`` (cast to its dtype) outside the graph."""
    with no_grad():
        tensor._data[...] = values
    return tensor


def _fans(tensor: Tensor, op: str) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight with at least two dimensions."""
    if tensor.ndim < 2:
        raise ValueError(
            f"{op}: fan in and fan out need a tensor with at least 2 dimensions, got shape "
            f"{tensor.shape}"
        )
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor: Tensor, mode: str, op: str) -> int:
    """The fan ``mode`` names ('fan_in' or 'fan_out') of a weight."""
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{op}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor, op)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with samples from U(a, b)."""
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with samples from N(mean, std²)."""
    return _fill(tensor, _rng(generator).normal(mean, std, tensor.shape))


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Any = None,
) -> Tensor:
    """Fill from N(mean, std²) truncated to [a, b] (resampling outliers), as in ViT/BERT inits.

    ``a`` and ``b`` are absolute bounds, not multiples of ``std`` (as in torch).
    """
    rng = _rng(generator)
    values = rng.normal(mean, std, tensor.shape)
    outside = (values < a) | (values > b)
    while outside.any():
        values[outside] = rng.normal(mean, std, int(outside.sum()))
        outside = (values < a) | (values > b)
    return _fill(tensor, values)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with the value ``val``."""
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros."""
    return _fill(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones."""
    return _fill(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix (ones on the main diagonal), keeping the
    identity of the inputs in linear layers."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got {tensor.shape}")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-D convolution weight with the Dirac delta: the convolution then
    passes (per group) as many input channels through unchanged as it can."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(
            f"dirac_: only tensors with 3, 4, or 5 dimensions are supported, got {tensor.shape}"
        )
    out_channels = tensor.shape[0]
    if groups <= 0 or out_channels % groups:
        raise ValueError(f"dirac_: dim 0 ({out_channels}) must be divisible by groups={groups}")
    per_group = out_channels // groups
    values = np.zeros(tensor.shape)
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(per_group, tensor.shape[1])):
            values[(g * per_group + d, d, *centre)] = 1
    return _fill(tensor, values)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Glorot uniform: U(-a, a), a = gain·sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor, "xavier_uniform_")
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Glorot normal: N(0, std²), std = gain·sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor, "xavier_normal_")
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _warn_zero_element(tensor: Tensor) -> bool:
    """Whether ``tensor`` has no elements, warning like torch that initializing it is a no-op."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def _kaiming_scale(tensor: Tensor, a: float, mode: str, nonlinearity: str, op: str) -> float:
    """gain / sqrt(fan): the standard deviation of He initialization."""
    return calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode, op))


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Any = None,
) -> Tensor:
    """He uniform: U(-bound, bound), bound = gain·sqrt(3 / fan) with gain from ``nonlinearity``."""
    if _warn_zero_element(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_scale(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Any = None,
) -> Tensor:
    """He normal: N(0, std²), std = gain / sqrt(fan) with gain from ``nonlinearity``."""
    if _warn_zero_element(tensor):
        return tensor
    std = _kaiming_scale(tensor, a, mode, nonlinearity, "kaiming_normal_")
    return normal_(tensor, 0.0, std, generator)


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator: Any = None) -> Tensor:
    """Fill a 2-D tensor from N(0, std²), then zero ceil(sparsity·rows) random rows in each
    column (Martens' sparse initialization)."""
    if tensor.ndim != 2:
        raise ValueError(
            f"sparse_: only tensors with 2 dimensions are supported, got {tensor.shape}"
        )
    rng = _rng(generator)
    rows, cols = tensor.shape
    values = rng.normal(0.0, std, tensor.shape)
    zeros = math.ceil(sparsity * rows)
    for col in range(cols):
        values[rng.permutation(rows)[:zeros], col] = 0
    return _fill(tensor, values)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """A (semi-)orthogonal matrix from the QR of a Gaussian one, over shape (rows, rest), × gain."""
    if tensor.ndim < 2:
        raise ValueError(
            f"orthogonal_: only tensors with 2 or more dimensions are supported, got shape "
            f"{tensor.shape}"
        )
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))  # make the decomposition unique (uniform over orthogonal matrices)
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


def _deprecated(fill: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """torch's old name of ``fill`` (without the trailing underscore): the same fill, with
    torch's FutureWarning."""
    name = fill.__name__.removesuffix("_")

    def old(*args: Any, **kwargs: Any) -> Tensor:
        warnings.warn(
            f"`nn.init.{name}` is deprecated; use `nn.init.{fill.__name__}`",
            FutureWarning,
            stacklevel=2,
        )
        return fill(*args, **kwargs)

    old.__name__ = old.__qualname__ = name
    old.__doc__ = f"Deprecated: :func:`{fill.__name__}`."
    return old


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
