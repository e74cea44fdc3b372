"""The table from recorded op names to the converters that write their ONNX nodes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from neuralab.onnx.graph import Emitter
from neuralab.onnx.trace import Call
from neuralab.tensor import Tensor

Converter = Callable[[Emitter, Call, "Call | None"], Any]
"""``(emitter, call, same call in the resized trace or None)`` → output name(s)."""

CONVERTERS: dict[str, Converter] = {}


def converts(*names: str) -> Callable[[Converter], Converter]:
    """Decorator: register a converter for the op (or method) ``names``."""

    def register(fn: Converter) -> Converter:
        for name in names:
            CONVERTERS[name] = fn
        return fn

    return register


def arg(c: Call, i: int, default: Any = None) -> Any:
    """The ``i``-th bound argument of ``c`` (defaults applied)."""
    values = list(c.params.values())
    return values[i] if i < len(values) else default


def out_dtype(c: Call) -> Any:
    """The dtype of the call's first output tensor."""
    out = c.out[0] if isinstance(c.out, tuple | list) else c.out
    return out._data.dtype if isinstance(out, Tensor) else None


def rank(x: Any) -> int:
    """The number of dimensions of a tensor argument (0 for numbers)."""
    return x.ndim if isinstance(x, Tensor) else 0


def axis(dim: int, ndim: int) -> int:
    """``dim`` as a non-negative axis of an ``ndim``-dimensional tensor."""
    return int(dim) % max(ndim, 1)


def sizes(args: Any) -> tuple[int, ...]:
    """Sizes passed as f(2, 3) or f((2, 3)), as the engine accepts them."""
    args = tuple(args)
    if len(args) == 1 and not isinstance(args[0], int):
        return tuple(int(s) for s in args[0])
    return tuple(int(s) for s in args)
