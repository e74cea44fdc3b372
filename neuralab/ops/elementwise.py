"""Elementwise ops with NumPy broadcasting: arithmetic, math functions, comparisons, where."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from neuralab.dtypes import category, promote_types
from neuralab.ops import _where
from neuralab.ops._util import unbroadcast
from neuralab.tensor import Tensor, constant, float32, get_default_dtype, make

_SCALARS = (int, float, bool, np.number, np.bool_)


def operand(x: Any, like: Tensor) -> Tensor:
    """Turn a non-tensor operand into a constant tensor; Python scalars never promote ``like``."""
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    kind, like_kind = arr.dtype.kind, like._data.dtype.kind
    if kind == "f" or kind in "iub" and like_kind == "f":
        dtype = like._data.dtype if like_kind == "f" else float32
    elif kind in "iu":
        dtype = np.int64 if like_kind == "b" else like._data.dtype
    elif kind == "b":
        dtype = np.bool_
    else:
        raise TypeError(f"cannot combine a tensor with an operand of dtype {arr.dtype}")
    return constant(arr.astype(dtype, copy=False))


def coerce(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands as tensors of torch's result dtype: a float tensor beside an integer one sets
    it, and of two of one category (float, or integer) a 0-d tensor takes the other's dtype (a
    float32 batch times a 0-d float64 tensor stays float32, as in torch)."""
    if not isinstance(a, Tensor):
        a = operand(a, b)
    elif not isinstance(b, Tensor):
        b = operand(b, a)
    da, db = a._data.dtype, b._data.dtype
    if da != db:
        if da.kind == "f" and db.kind != "f":
            b = cast(b, da)
        elif db.kind == "f" and da.kind != "f":
            a = cast(a, db)
        elif category(da) == category(db) > 0 and (a._data.ndim == 0) != (b._data.ndim == 0):
            a, b = (cast(a, db), b) if a._data.ndim == 0 else (a, cast(b, da))
    return a, b


def result_type(tensor1: Any, tensor2: Any) -> np.dtype:
    """torch.result_type: the dtype an arithmetic op on these two operands (tensors or Python
    numbers) gives."""
    a, b = coerce(tensor1, tensor2)
    return promote_types(a._data.dtype, b._data.dtype)


def cast(a: Tensor, dtype: np.dtype) -> Tensor:
    """Convert to ``dtype``; the gradient flows back converted to the source dtype."""
    if a._data.dtype == dtype:
        return a
    src = a._data.dtype
    out = a._data.astype(dtype)
    if dtype.kind != "f":
        return constant(out)
    return make(out, (a,), lambda g: (g.astype(src),))


def clone(a: Tensor) -> Tensor:
    """A copy of the data that stays in the graph."""
    return make(a._data.copy(), (a,), lambda g: (g,))


def contiguous(a: Tensor, memory_format: Any = None) -> Tensor:
    """``a`` itself when its data is C-contiguous, else a C-contiguous copy that stays in the
    graph (torch's ``Tensor.contiguous``; every memory format is the row-major one here)."""
    if a._data.flags.c_contiguous:
        return a
    return make(np.ascontiguousarray(a._data), (a,), lambda g: (g,))


def _to_float(a: Tensor) -> Tensor:
    """``a`` itself if it holds floats, else cast to the default float dtype (torch's rule)."""
    return a if a._data.dtype.kind == "f" else cast(a, get_default_dtype())


# ----------------------------------------------------------------------------- arithmetic


def add(a: Any, b: Any, *, alpha: float = 1) -> Tensor:
    """a + alpha * b."""
    if alpha != 1:
        b = mul(b, alpha) if isinstance(b, Tensor) else b * alpha
    a, b = coerce(a, b)
    sa, sb = a._data.shape, b._data.shape
    return make(a._data + b._data, (a, b), lambda g: (unbroadcast(g, sa), unbroadcast(g, sb)))


def sub(a: Any, b: Any, *, alpha: float = 1) -> Tensor:
    """a - alpha * b."""
    if alpha != 1:
        b = mul(b, alpha) if isinstance(b, Tensor) else b * alpha
    a, b = coerce(a, b)
    sa, sb = a._data.shape, b._data.shape
    return make(a._data - b._data, (a, b), lambda g: (unbroadcast(g, sa), unbroadcast(-g, sb)))


def mul(a: Any, b: Any) -> Tensor:
    """a * b."""
    a, b = coerce(a, b)
    x, y = a._data, b._data

    def backward(g: np.ndarray) -> tuple:
        return (
            unbroadcast(g * y, x.shape) if a.requires_grad else None,
            unbroadcast(g * x, y.shape) if b.requires_grad else None,
        )

    return make(x * y, (a, b), backward)


def div(a: Any, b: Any, *, rounding_mode: str | None = None) -> Tensor:
    """a / b (true division: integer tensors give float32); ``rounding_mode`` "floor" or
    "trunc" rounds the quotient and keeps integer dtypes (no gradient flows then)."""
    if rounding_mode is not None:
        return _rounded_div(a, b, rounding_mode)
    a, b = coerce(a, b)
    a, b = _to_float(a), _to_float(b)
    x, y = a._data, b._data
    out = x / y

    def backward(g: np.ndarray) -> tuple:
        gx = g / y
        return (
            unbroadcast(gx, x.shape) if a.requires_grad else None,
            unbroadcast(-gx * out, y.shape) if b.requires_grad else None,
        )

    return make(out, (a, b), backward)


def _rounded_div(a: Any, b: Any, mode: str) -> Tensor:
    if mode not in ("floor", "trunc"):
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {mode!r}")
    a, b = coerce(a, b)
    x, y = a._data, b._data
    with np.errstate(divide="ignore", invalid="ignore"):
        if x.dtype.kind == "f":
            out = np.floor(x / y) if mode == "floor" else np.trunc(x / y)
        else:
            out = x // y if mode == "floor" else np.trunc(x / y).astype(np.result_type(x, y))
    return make(out, (a, b), lambda g: (np.zeros_like(x), np.zeros_like(y)))


def neg(a: Tensor) -> Tensor:
    """-a."""
    return make(-a._data, (a,), lambda g: (-g,))


def pow(a: Any, b: Any) -> Tensor:
    """a ** b for tensors or scalars on either side."""
    if isinstance(a, Tensor) and isinstance(b, _SCALARS):
        x = a._data
        p = b
        if x.dtype.kind != "f" and (isinstance(b, float) or b < 0):
            return pow(cast(a, float32), b)
        out = x**p
        if p == 2:
            return make(out, (a,), lambda g: (g * 2 * x,))
        return make(out, (a,), lambda g: (g * p * x ** (p - 1),))
    a, b = coerce(a, b)
    x, y = a._data, b._data
    out = x**y

    def backward(g: np.ndarray) -> tuple:
        ga = gb = None
        if a.requires_grad:
            ga = unbroadcast(g * y * x ** (y - 1), x.shape)
        if b.requires_grad:
            with np.errstate(divide="ignore", invalid="ignore"):
                logx = np.where(x > 0, np.log(np.where(x > 0, x, 1)), np.where(x == 0, 0, np.nan))
            gb = unbroadcast(g * out * logx.astype(out.dtype), y.shape)
        return ga, gb

    return make(out, (a, b), backward)


# ----------------------------------------------------------------------------- math


def exp(a: Tensor) -> Tensor:
    """e ** a."""
    a = _to_float(a)
    out = np.exp(a._data)
    return make(out, (a,), lambda g: (g * out,))


def log(a: Tensor) -> Tensor:
    """Natural logarithm."""
    a = _to_float(a)
    x = a._data
    return make(np.log(x), (a,), lambda g: (g / x,))


def sqrt(a: Tensor) -> Tensor:
    """Square root."""
    a = _to_float(a)
    out = np.sqrt(a._data)
    return make(out, (a,), lambda g: (g / (2 * out),))


def abs(a: Tensor) -> Tensor:
    """|a|; the gradient at 0 is 0, as in PyTorch."""
    x = a._data
    return make(np.abs(x), (a,), lambda g: (g * np.sign(x),))


def sin(a: Tensor) -> Tensor:
    """Sine."""
    a = _to_float(a)
    x = a._data
    return make(np.sin(x), (a,), lambda g: (g * np.cos(x),))


def cos(a: Tensor) -> Tensor:
    """Cosine."""
    a = _to_float(a)
    x = a._data
    return make(np.cos(x), (a,), lambda g: (-g * np.sin(x),))


def sign(a: Tensor) -> Tensor:
    """-1, 0 or +1 per element; a step function, so no gradient flows."""
    return constant(np.sign(a._data))


def clamp(a: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """Limit values to [min, max] (numbers or tensors); the gradient passes where
    min <= a <= max, and to a tensor bound where it is the value taken."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is not None:
            a = where(ge(a, min)._data, a, min)
        return a if max is None else where(le(a, max)._data, a, max)
    if a._data.dtype.kind != "f" and any(isinstance(v, float) for v in (min, max)):
        a = cast(a, float32)
    x = a._data
    out = np.clip(x, min, max)

    def backward(g: np.ndarray) -> tuple:
        mask = np.ones(x.shape, dtype=bool)
        if min is not None:
            mask &= x >= min
        if max is not None:
            mask &= x <= max
        return (g * mask,)

    return make(out, (a,), backward)


def _extremum(a: Any, b: Any, pick: np.ufunc) -> Tensor:
    a, b = coerce(a, b)
    x, y = a._data, b._data
    out = pick(x, y)

    def backward(g: np.ndarray) -> tuple:
        tie = (x == y) * 0.5
        wx = ((x == out) & (x != y)) + tie
        wy = ((y == out) & (x != y)) + tie
        return (
            unbroadcast(g * wx.astype(g.dtype), x.shape) if a.requires_grad else None,
            unbroadcast(g * wy.astype(g.dtype), y.shape) if b.requires_grad else None,
        )

    return make(out, (a, b), backward)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; ties share the gradient equally (as in PyTorch)."""
    return _extremum(a, b, np.maximum)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum; ties share the gradient equally (as in PyTorch)."""
    return _extremum(a, b, np.minimum)


def where(condition: Any, a: Any = None, b: Any = None) -> Any:
    """Pick from ``a`` where ``condition`` holds, else from ``b`` (broadcasting all three);
    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``."""
    if a is None and b is None:
        from neuralab.ops.select import nonzero

        return nonzero(condition, as_tuple=True)
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = constant(np.asarray(a, dtype=float32) if isinstance(a, float) else np.asarray(a))
    a, b = coerce(a, b)
    x, y = a._data, b._data
    out = _where.where(cond, x, y)

    def backward(g: np.ndarray) -> tuple:
        return (
            unbroadcast(_where.where(cond, g, 0), x.shape) if a.requires_grad else None,
            unbroadcast(_where.where(cond, 0, g), y.shape) if b.requires_grad else None,
        )

    return make(out, (a, b), backward)


# ----------------------------------------------------------------------------- comparisons


def _compare(a: Any, b: Any, fn: np.ufunc) -> Tensor:
    a, b = coerce(a, b)
    return constant(fn(a._data, b._data))


def _comparison(name: str, fn: np.ufunc, symbol: str) -> Callable[[Any, Any], Tensor]:
    """The public comparison ``name``: ``a <symbol> b`` elementwise, as a bool tensor."""

    def compare(a: Any, b: Any) -> Tensor:
        return _compare(a, b, fn)

    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"a {symbol} b as a bool tensor."
    return compare


eq = _comparison("eq", np.equal, "==")
ne = _comparison("ne", np.not_equal, "!=")
lt = _comparison("lt", np.less, "<")
le = _comparison("le", np.less_equal, "<=")
gt = _comparison("gt", np.greater, ">")
ge = _comparison("ge", np.greater_equal, ">=")


def logical_not(a: Tensor) -> Tensor:
    """~a for bool tensors, bitwise not for integers."""
    return constant(~a._data)


def logical_and(a: Any, b: Any) -> Tensor:
    """a & b."""
    return _compare(a, b, np.bitwise_and)


def logical_or(a: Any, b: Any) -> Tensor:
    """a | b."""
    return _compare(a, b, np.bitwise_or)


def isnan(a: Tensor) -> Tensor:
    """True where a is NaN."""
    return constant(np.isnan(a._data))


def isfinite(a: Tensor) -> Tensor:
    """True where a is neither infinite nor NaN."""
    return constant(np.isfinite(a._data))
