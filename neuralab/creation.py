"""Tensor creation functions (zeros, ones, arange, rand, ...), float32 unless told otherwise."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.random import generator
from neuralab.tensor import Tensor, float32, int64


def _shape(size: tuple) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], tuple | list):
        return tuple(int(s) for s in size[0])
    return tuple(int(s) for s in size)


def _new(arr: np.ndarray, dtype: Any, requires_grad: bool) -> Tensor:
    dtype = dtype or float32
    return Tensor(arr.astype(dtype, copy=False), dtype=dtype, requires_grad=requires_grad)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros."""
    return _new(np.zeros(_shape(size), dtype or float32), dtype, requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _new(np.ones(_shape(size), dtype or float32), dtype, requires_grad)


def full(size: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``."""
    size = (size,) if isinstance(size, int) else tuple(size)
    return _new(np.full(size, fill_value, dtype or float32), dtype, requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """An uninitialized tensor."""
    return _new(np.empty(_shape(size), dtype or float32), dtype, requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``t``'s shape and dtype."""
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with ``t``'s shape and dtype."""
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def arange(
    start: float, end: float | None = None, step: float = 1, dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """Evenly spaced values in [start, end); int64 for integer arguments, else float32."""
    if end is None:
        start, end = 0, start
    integral = all(isinstance(v, int) for v in (start, end, step))
    dtype = dtype or (int64 if integral else float32)
    return Tensor(np.arange(start, end, step), dtype=dtype, requires_grad=requires_grad)


def linspace(
    start: float, end: float, steps: int, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """``steps`` evenly spaced values from start to end inclusive."""
    return _new(np.linspace(start, end, steps), dtype, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The identity matrix."""
    return _new(np.eye(n, m), dtype, requires_grad)


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from the global generator."""
    return _new(generator().random(_shape(size)), dtype, requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the global generator."""
    return _new(generator().standard_normal(_shape(size)), dtype, requires_grad)


def randint(low: int, high: int | None = None, size: Any = (), dtype: Any = None) -> Tensor:
    """Integers in [low, high) from the global generator (int64)."""
    if high is None:
        low, high = 0, low
    size = (size,) if isinstance(size, int) else tuple(size)
    return Tensor(generator().integers(low, high, size), dtype=dtype or int64)


def rand_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples with ``t``'s shape."""
    return rand(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def randn_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples with ``t``'s shape."""
    return randn(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)
