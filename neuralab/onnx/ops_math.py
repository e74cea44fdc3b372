"""ONNX converters for arithmetic, comparisons, activations, softmax and reductions."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neuralab.onnx.graph import Emitter
from neuralab.onnx.registry import arg, axis, converts, out_dtype, rank
from neuralab.onnx.trace import Call
from neuralab.tensor import Tensor

_BINARY = {
    "add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow", "matmul": "MatMul",
    "maximum": "Max", "minimum": "Min", "eq": "Equal", "lt": "Less", "le": "LessOrEqual",
    "gt": "Greater", "ge": "GreaterOrEqual", "logical_and": "And", "logical_or": "Or",
    "logical_xor": "Xor", "remainder": "Mod", "fmod": "Mod",
}  # fmt: skip
_SWAPPED = {"__radd__": "add", "__rsub__": "sub", "__rmul__": "mul", "__rtruediv__": "div",
            "__rpow__": "pow", "__rmatmul__": "matmul"}  # fmt: skip
_COMPARE = {"Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor"}
_UNARY = {
    "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "abs": "Abs", "neg": "Neg", "sin": "Sin",
    "cos": "Cos", "tan": "Tan", "tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu",
    "sign": "Sign", "floor": "Floor", "ceil": "Ceil", "round": "Round", "erf": "Erf",
    "reciprocal": "Reciprocal", "softsign": "Softsign", "selu": "Selu", "logical_not": "Not",
    "isnan": "IsNaN", "asin": "Asin", "acos": "Acos", "atan": "Atan", "sinh": "Sinh",
    "cosh": "Cosh", "asinh": "Asinh", "acosh": "Acosh", "atanh": "Atanh", "relu_": "Relu",
}  # fmt: skip


def _pair(e: Emitter, a: Any, b: Any, dtype: Any) -> list[str]:
    """Names of two operands in ``dtype`` (numbers become constants, tensors are cast)."""
    names = []
    for x in (a, b):
        name = e.value(x, None if isinstance(x, Tensor) else dtype)
        if isinstance(x, Tensor) and x._data.dtype != dtype:
            name = e.cast(name, dtype)
        names.append(name)
    return names


def _operand_dtype(a: Any, b: Any) -> Any:
    """The dtype comparisons are made in: the tensors' promoted dtype."""
    dtypes = [x._data.dtype for x in (a, b) if isinstance(x, Tensor)]
    return np.result_type(*dtypes) if len(dtypes) > 1 else dtypes[0]


@converts(*_BINARY, *_SWAPPED, "__add__", "__sub__", "__mul__", "__truediv__", "__pow__",
          "__matmul__", "__eq__", "__lt__", "__le__", "__gt__", "__ge__", "__and__", "__or__",
          "true_divide", "divide", "multiply", "subtract", "greater", "less", "greater_equal",
          "less_equal", "ne", "__ne__", "not_equal", "fmax", "fmin")  # fmt: skip
def _binary(e: Emitter, c: Call, o: Call | None) -> str:
    """Elementwise two-input ops (broadcasting), with torch's ``alpha`` and reflected forms."""
    aliases = {"true_divide": "div", "divide": "div", "multiply": "mul", "subtract": "sub",
               "greater": "gt", "less": "lt", "greater_equal": "ge", "less_equal": "le",
               "__truediv__": "div", "__and__": "logical_and", "__or__": "logical_or",
               "not_equal": "ne", "__ne__": "ne", "fmax": "maximum", "fmin": "minimum"}  # fmt: skip
    name = aliases.get(c.name, c.name.strip("_"))
    a, b = arg(c, 0), arg(c, 1)
    if c.name in _SWAPPED:
        name, a, b = _SWAPPED[c.name], b, a
    negate = name == "ne"
    op = _BINARY["eq" if negate else name]
    if c.params.get("rounding_mode") not in (None,):
        raise e.fail(f"rounding_mode={c.params['rounding_mode']!r} has no ONNX mapping")
    dtype = _operand_dtype(a, b) if op in _COMPARE else out_dtype(c)
    x, y = _pair(e, a, b, dtype)
    alpha = c.params.get("alpha", 1)
    if alpha != 1:
        y = e.node("Mul", [y, e.scalar(alpha, dtype)])
    attrs = {"fmod": 1} if name == "fmod" else {}
    if name == "remainder" and np.dtype(dtype).kind == "f":
        raise e.fail("remainder of floating-point tensors has no exact ONNX mapping")
    out = e.node(op, [x, y], **attrs)
    return e.node("Not", [out]) if negate else out


@converts(*_UNARY, "__neg__", "__abs__", "__invert__", "absolute", "negative")
def _unary(e: Emitter, c: Call, o: Call | None) -> str:
    """One-input elementwise ops with a direct ONNX operator."""
    aliases = {"__neg__": "neg", "__abs__": "abs", "__invert__": "logical_not",
               "absolute": "abs", "negative": "neg"}  # fmt: skip
    return e.node(_UNARY[aliases.get(c.name, c.name)], [e.value(arg(c, 0))])


def _x(e: Emitter, c: Call) -> tuple[str, Any]:
    x = arg(c, 0)
    return e.value(x), x._data.dtype


@converts("leaky_relu", "rrelu")
def _leaky_relu(e: Emitter, c: Call, o: Call | None) -> str:
    x, _ = _x(e, c)
    if c.name == "rrelu":
        if c.params["training"]:
            raise e.fail("rrelu in training mode is random; export in eval mode")
        return e.node("LeakyRelu", [x], alpha=(c.params["lower"] + c.params["upper"]) / 2)
    return e.node("LeakyRelu", [x], alpha=float(c.params["negative_slope"]))


@converts("elu", "celu")
def _elu(e: Emitter, c: Call, o: Call | None) -> str:
    return e.node(c.name.capitalize(), [_x(e, c)[0]], alpha=float(c.params["alpha"]))


@converts("hardtanh", "relu6", "clamp", "clip", "clamp_min", "clamp_max")
def _clip(e: Emitter, c: Call, o: Call | None) -> str:
    """Clip between bounds (numbers or tensors)."""
    x, dtype = _x(e, c)
    lo, hi = {
        "hardtanh": (c.params.get("min_val"), c.params.get("max_val")),
        "relu6": (0.0, 6.0),
        "clamp_min": (arg(c, 1), None),
        "clamp_max": (None, arg(c, 1)),
    }.get(c.name, (arg(c, 1), arg(c, 2)))
    for bound, op in ((lo, "Max"), (hi, "Min")):
        if bound is not None:
            x = e.node(op, [x, e.value(bound, dtype)])
    return x


@converts("threshold")
def _threshold(e: Emitter, c: Call, o: Call | None) -> str:
    x, dtype = _x(e, c)
    keep = e.node("Greater", [x, e.scalar(c.params["threshold"], dtype)])
    return e.node("Where", [keep, x, e.scalar(c.params["value"], dtype)])


@converts("hardshrink", "softshrink")
def _shrink(e: Emitter, c: Call, o: Call | None) -> str:
    lambd = float(c.params["lambd"])
    bias = lambd if c.name == "softshrink" else 0.0
    return e.node("Shrink", [_x(e, c)[0]], lambd=lambd, bias=bias)


@converts("hardsigmoid", "hardswish")
def _hard(e: Emitter, c: Call, o: Call | None) -> str:
    x = _x(e, c)[0]
    if c.name == "hardswish":
        return e.node("HardSwish", [x])
    return e.node("HardSigmoid", [x], alpha=1 / 6, beta=0.5)


@converts("gelu")
def _gelu(e: Emitter, c: Call, o: Call | None) -> str:
    """Exact GELU 0.5·x·(1 + erf(x/√2)) or the tanh approximation."""
    x, dtype = _x(e, c)
    if c.params["approximate"] == "tanh":
        cube = e.node("Mul", [e.node("Mul", [x, x]), x])
        inner = e.node("Add", [x, e.node("Mul", [cube, e.scalar(0.044715, dtype)])])
        t = e.node("Tanh", [e.node("Mul", [inner, e.scalar(math.sqrt(2 / math.pi), dtype)])])
    else:
        t = e.node("Erf", [e.node("Mul", [x, e.scalar(1 / math.sqrt(2), dtype)])])
    half = e.node("Mul", [x, e.scalar(0.5, dtype)])
    return e.node("Mul", [half, e.node("Add", [t, e.scalar(1.0, dtype)])])


@converts("silu", "mish", "logsigmoid", "tanhshrink", "softplus")
def _smooth(e: Emitter, c: Call, o: Call | None) -> str:
    """SiLU, Mish, LogSigmoid, Tanhshrink and Softplus (with beta) from ONNX primitives."""
    x, dtype = _x(e, c)
    if c.name == "silu":
        return e.node("Mul", [x, e.node("Sigmoid", [x])])
    if c.name == "mish":
        return e.node("Mul", [x, e.node("Tanh", [e.node("Softplus", [x])])])
    if c.name == "logsigmoid":
        return e.node("Neg", [e.node("Softplus", [e.node("Neg", [x])])])
    if c.name == "tanhshrink":
        return e.node("Sub", [x, e.node("Tanh", [x])])
    beta = e.scalar(c.params["beta"], dtype)
    soft = e.node("Div", [e.node("Softplus", [e.node("Mul", [x, beta])]), beta])
    linear = e.node("Greater", [e.node("Mul", [x, beta]), e.scalar(c.params["threshold"], dtype)])
    return e.node("Where", [linear, x, soft])


@converts("glu")
def _glu(e: Emitter, c: Call, o: Call | None) -> str:
    x = arg(c, 0)
    ax = axis(c.params["dim"], x.ndim)
    half = x.shape[ax] // 2
    a, b = e.node("Split", [e.value(x), e.ints([half, half])], outputs=2, axis=ax)
    return e.node("Mul", [a, e.node("Sigmoid", [b])])


@converts("prelu")
def _prelu(e: Emitter, c: Call, o: Call | None) -> str:
    x, w = arg(c, 0), arg(c, 1)
    slope = w._data.reshape((-1,) + (1,) * max(x.ndim - 2, 0))
    slope_name = e.value(w)
    if slope.shape != w.shape:
        slope_name = e.node("Reshape", [slope_name, e.ints(slope.shape)])
    return e.node("PRelu", [e.value(x), slope_name])


def _softmax_axis(c: Call) -> int:
    x, dim = arg(c, 0), c.params.get("dim")
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return axis(dim, x.ndim)


@converts("softmax", "log_softmax", "softmin")
def _softmax(e: Emitter, c: Call, o: Call | None) -> str:
    x = e.value(arg(c, 0))
    if c.params.get("dtype") is not None:
        x = e.cast(x, out_dtype(c))
    ax = _softmax_axis(c)
    if c.name == "softmin":
        return e.node("Softmax", [e.node("Neg", [x])], axis=ax)
    return e.node("Softmax" if c.name == "softmax" else "LogSoftmax", [x], axis=ax)


def _dims(c: Call, key: str = "dim") -> list[int] | None:
    x, dim = arg(c, 0), c.params.get(key)
    if dim is None:
        return None
    dims = [dim] if isinstance(dim, int) else list(dim)
    return [axis(d, x.ndim) for d in dims]


def _reduced(e: Emitter, op: str, x: str, axes: list[int] | None, keep: bool, ndim: int) -> str:
    axes = list(range(ndim)) if axes is None else axes
    return e.axes_node(op, x, axes, keepdims=int(keep))


@converts("sum", "mean", "amax", "amin", "prod", "logsumexp", "nansum")
def _reduce(e: Emitter, c: Call, o: Call | None) -> str:
    """Reductions over ``dim`` (all dimensions when None)."""
    ops = {"sum": "ReduceSum", "nansum": "ReduceSum", "mean": "ReduceMean",
           "amax": "ReduceMax", "amin": "ReduceMin", "prod": "ReduceProd",
           "logsumexp": "ReduceLogSumExp"}  # fmt: skip
    x = arg(c, 0)
    name = e.value(x)
    if out_dtype(c) != x._data.dtype:
        name = e.cast(name, out_dtype(c))
    return _reduced(e, ops[c.name], name, _dims(c), bool(c.params.get("keepdim")), x.ndim)


@converts("max", "min")
def _max_min(e: Emitter, c: Call, o: Call | None) -> Any:
    """max/min: of everything, (values, indices) along ``dim``, or elementwise with a tensor."""
    x, dim = arg(c, 0), c.params.get("dim")
    if isinstance(dim, Tensor):
        return e.node("Max" if c.name == "max" else "Min", _pair(e, x, dim, out_dtype(c)))
    op = "ReduceMax" if c.name == "max" else "ReduceMin"
    keep = bool(c.params.get("keepdim"))
    if dim is None:
        return _reduced(e, op, e.value(x), None, False, x.ndim)
    ax = axis(dim, x.ndim)
    values = _reduced(e, op, e.value(x), [ax], keep, x.ndim)
    arg_op = "ArgMax" if c.name == "max" else "ArgMin"
    return [values, e.node(arg_op, [e.value(x)], axis=ax, keepdims=int(keep))]


@converts("argmax", "argmin")
def _argmax(e: Emitter, c: Call, o: Call | None) -> str:
    x, dim = arg(c, 0), c.params.get("dim")
    name = e.value(x)
    if dim is None:
        name, dim = e.node("Reshape", [name, e.ints([-1])]), 0
    op = "ArgMax" if c.name == "argmax" else "ArgMin"
    return e.node(op, [name], axis=axis(dim, x.ndim), keepdims=int(c.params.get("keepdim")))


@converts("var", "std")
def _var(e: Emitter, c: Call, o: Call | None) -> str:
    """Variance / standard deviation with torch's correction (Bessel's by default)."""
    x = arg(c, 0)
    correction = c.params.get("correction")
    if correction is None:
        correction = 0 if c.params.get("unbiased") is False else 1
    axes = _dims(c) or list(range(x.ndim))
    n = int(np.prod([x.shape[a] for a in axes]))
    name, dtype = e.value(x), x._data.dtype
    centred = e.node("Sub", [name, _reduced(e, "ReduceMean", name, axes, True, x.ndim)])
    square = e.node("Mul", [centred, centred])
    total = _reduced(e, "ReduceSum", square, axes, bool(c.params.get("keepdim")), x.ndim)
    out = e.node("Div", [total, e.scalar(max(n - correction, 0), dtype)])
    return e.node("Sqrt", [out]) if c.name == "std" else out


@converts("cumsum")
def _cumsum(e: Emitter, c: Call, o: Call | None) -> str:
    x = arg(c, 0)
    return e.node("CumSum", [e.value(x), e.scalar(axis(c.params["dim"], x.ndim), np.int64)])


@converts("where")
def _where(e: Emitter, c: Call, o: Call | None) -> str:
    cond, a, b = arg(c, 0), arg(c, 1), arg(c, 2)
    if a is None:
        raise e.fail("where(condition) with one argument (nonzero) has no static ONNX shape")
    x, y = _pair(e, a, b, out_dtype(c))
    return e.node("Where", [e.value(cond, bool), x, y])


@converts("masked_fill")
def _masked_fill(e: Emitter, c: Call, o: Call | None) -> str:
    x = arg(c, 0)
    dtype = x._data.dtype
    mask = e.value(arg(c, 1), bool)
    if rank(arg(c, 1)) and arg(c, 1)._data.dtype != np.bool_:
        mask = e.cast(mask, bool)
    return e.node("Where", [mask, e.value(c.params["value"], dtype), e.value(x)])


@converts("astype", "float", "double", "to", "type_as", "cast")
def _cast(e: Emitter, c: Call, o: Call | None) -> str:
    x = e.value(arg(c, 0))
    if arg(c, 0)._data.dtype == out_dtype(c):
        return e.node("Identity", [x])
    return e.cast(x, out_dtype(c))


@converts("clone", "detach", "contiguous", "positive")
def _identity(e: Emitter, c: Call, o: Call | None) -> str:
    return e.node("Identity", [e.value(arg(c, 0))])
