"""Helpers the layer families share to create and initialize their parameters."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from neuralab.device import require_cpu
from neuralab.nn import init
from neuralab.nn.module import Module, Parameter
from neuralab.tensor import float32


def check_float_dtype(dtype: Any, layer: str) -> None:
    """Raise unless ``dtype`` is None (float32) or a floating-point type."""
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise TypeError(f"{layer}: dtype must be a floating-point type, got {np.dtype(dtype)}")


def check_factory(device: Any, dtype: Any, layer: str) -> None:
    """Check a layer's ``device=`` (the CPU only) and ``dtype=`` (floating point) arguments."""
    require_cpu(device, layer)
    check_float_dtype(dtype, layer)


def parameter(data: np.ndarray, requires_grad: bool = True) -> Parameter:
    """A parameter holding ``data`` itself, in its own dtype (Parameter(array) makes float32)."""
    p = Parameter(requires_grad=requires_grad)
    p._data = data
    return p


def empty_parameter(shape: tuple[int, ...], dtype: Any) -> Parameter:
    """An uninitialized parameter of ``dtype`` (float32 by default)."""
    return parameter(np.empty(shape, np.dtype(dtype or float32)))


def create_weight_and_bias(
    module: Module, weight_shape: tuple[int, ...], bias: bool, out_features: int, dtype: Any
) -> None:
    """Give ``module`` a ``weight`` of ``weight_shape`` and, when ``bias``, a bias of
    ``out_features`` values (else a registered None, as torch), then ``reset_parameters()``."""
    module.weight = empty_parameter(weight_shape, dtype)
    if bias:
        module.bias = empty_parameter((out_features,), dtype)
    else:
        module.register_parameter("bias", None)
    module.reset_parameters()


def reset_weight_and_bias(weight: Parameter, bias: Parameter | None) -> None:
    """torch's default for Linear and Conv: kaiming_uniform_(a=√5) weight, U(±1/√fan_in) bias.

    For a weight (out, in, *kernel) with fan_in = in·∏kernel both amount to U(±1/√fan_in).
    """
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = math.prod(weight.shape[1:])
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


def _ntuple(n: int, name: str = "parse") -> Callable[[Any], tuple]:
    """A parser that keeps an iterable as a tuple and repeats anything else ``n`` times."""

    def parse(x: Any) -> tuple:
        return tuple(x) if isinstance(x, Iterable) else (x,) * n

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")
