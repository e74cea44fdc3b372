"""Differentiable functions, one family per module; each op's forward and backward side by side.

``attach_methods`` gives :class:`~neuralab.tensor.Tensor` its operators and methods, all of
which call the functions defined here.
"""

from __future__ import annotations

from typing import Any

from neuralab.ops import activation, elementwise, matmul, reduce, shape
from neuralab.ops.activation import gelu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from neuralab.ops.elementwise import (
    abs,
    add,
    clamp,
    cos,
    div,
    eq,
    exp,
    ge,
    gt,
    isfinite,
    isnan,
    le,
    log,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    sign,
    sin,
    sqrt,
    sub,
    where,
)
from neuralab.ops.matmul import linear
from neuralab.ops.matmul import matmul as mm
from neuralab.ops.reduce import (
    amax,
    argmax,
    argmin,
    cumsum,
    logsumexp,
    max,
    mean,
    min,
    prod,
    std,
    sum,
    var,
)
from neuralab.ops.shape import (
    cat,
    chunk,
    expand,
    flatten,
    flip,
    getitem,
    pad,
    permute,
    repeat,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)
from neuralab.tensor import Tensor

__all__ = [
    "abs", "add", "amax", "argmax", "argmin", "cat", "chunk", "clamp", "cos", "cumsum", "div",
    "eq", "exp", "expand", "flatten", "flip", "ge", "gelu", "getitem", "gt", "isfinite", "isnan",
    "le", "leaky_relu", "linear", "log", "log_softmax", "logsumexp", "lt", "max", "maximum",
    "mean", "min", "minimum", "mm", "mul", "ne", "neg", "pad", "permute", "pow", "prod", "relu",
    "repeat", "reshape", "sigmoid", "sign", "sin", "softmax", "split", "sqrt", "squeeze",
    "stack", "std", "sub", "sum", "tanh", "transpose", "unsqueeze", "var", "where",
]  # fmt: skip


def _swap(fn):
    return lambda self, other: fn(other, self)


def attach_methods(cls: type) -> None:
    """Install operators and methods on the Tensor class."""
    e, r, s, a = elementwise, reduce, shape, activation
    operators: dict[str, Any] = {
        "__add__": e.add, "__radd__": _swap(e.add), "__sub__": e.sub, "__rsub__": _swap(e.sub),
        "__mul__": e.mul, "__rmul__": _swap(e.mul), "__truediv__": e.div,
        "__rtruediv__": _swap(e.div), "__pow__": e.pow, "__rpow__": _swap(e.pow),
        "__matmul__": matmul.matmul, "__rmatmul__": _swap(matmul.matmul), "__neg__": e.neg,
        "__abs__": e.abs, "__eq__": e.eq, "__ne__": e.ne, "__lt__": e.lt, "__le__": e.le,
        "__gt__": e.gt, "__ge__": e.ge, "__invert__": e.logical_not, "__and__": e.logical_and,
        "__or__": e.logical_or, "__getitem__": s.getitem,
    }  # fmt: skip
    methods: dict[str, Any] = {
        "add": e.add, "sub": e.sub, "mul": e.mul, "div": e.div, "pow": e.pow,
        "matmul": matmul.matmul, "neg": e.neg, "exp": e.exp, "log": e.log, "sqrt": e.sqrt,
        "abs": e.abs, "sin": e.sin, "cos": e.cos, "sign": e.sign, "clamp": e.clamp,
        "clip": e.clamp, "maximum": e.maximum, "minimum": e.minimum, "isnan": e.isnan,
        "isfinite": e.isfinite,
        "sum": r.sum, "mean": r.mean, "var": r.var, "std": r.std, "max": r.max, "min": r.min,
        "amax": r.amax, "argmax": r.argmax, "argmin": r.argmin, "prod": r.prod,
        "cumsum": r.cumsum, "logsumexp": r.logsumexp,
        "reshape": s.reshape, "view": s.view, "flatten": s.flatten, "permute": s.permute,
        "transpose": s.transpose, "unsqueeze": s.unsqueeze, "squeeze": s.squeeze,
        "expand": s.expand, "repeat": s.repeat, "flip": s.flip, "split": s.split,
        "chunk": s.chunk,
        "relu": a.relu, "sigmoid": a.sigmoid, "tanh": a.tanh, "leaky_relu": a.leaky_relu,
        "gelu": a.gelu, "softmax": a.softmax, "log_softmax": a.log_softmax,
    }  # fmt: skip
    for name, fn in {**operators, **methods}.items():
        setattr(cls, name, fn)
    cls.contiguous = e.contiguous
    cls.t = s.t
    cls.expand_as = lambda self, other: s.expand(self, other.shape)
    cls.view_as = lambda self, other: s.reshape(self, other.shape)
    cls.type_as = lambda self, other: self.astype(other.dtype)
    from neuralab.ops.methods import OPERATORS, tensor_methods

    for name, fn in OPERATORS.items():
        setattr(cls, name, fn)
    for name, fn in tensor_methods().items():  # what tensor.py defines itself stays
        if not hasattr(cls, name):
            setattr(cls, name, fn)


attach_methods(Tensor)
