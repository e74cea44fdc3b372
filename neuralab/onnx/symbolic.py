"""Converters for helpers that compute with NumPy on their input (so the engine's ops never see
them), recorded whole: the zoo's token-id coercion, last-real-token pick and prefix reversal,
and attention's boolean-mask-to-scores conversion (so a padding mask computed from the input
exports)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from neuralab.data.sequences import PAD
from neuralab.models import rnn, seq2seq
from neuralab.nn.layers import attention
from neuralab.onnx.graph import Emitter
from neuralab.onnx.registry import arg, converts
from neuralab.onnx.trace import Call
from neuralab.tensor import as_tensor, from_numpy, tensor

SYMBOLIC_FUNCTIONS: dict[Callable, str] = {
    tensor: "to_tensor",
    as_tensor: "to_tensor",
    from_numpy: "to_tensor",
    rnn.as_ids: "as_ids",
    rnn.last_step: "last_step",
    seq2seq.reverse_prefixes: "reverse_prefixes",
    attention._additive: "additive_mask",
}
"""Functions outside ``neuralab.ops`` that the tracer records whole, with the name of their
converter."""


@converts("to_tensor")
def _to_tensor(e: Emitter, c: Call, o: Call | None) -> str:
    """``nl.tensor(a)`` of a traced array: the same value, in the tensor's dtype."""
    source, out = arg(c, 0), c.out._data.dtype
    name = e.value(source)
    return name if np.asarray(source).dtype == out else e.cast(name, out)


@converts("as_ids")
def _as_ids(e: Emitter, c: Call, o: Call | None) -> str:
    return e.cast(e.value(arg(c, 0)), np.int64)


@converts("last_step")
def _last_step(e: Emitter, c: Call, o: Call | None) -> str:
    """outputs (B, T, H) at each row's last non-PAD id: a one-hot row times the outputs."""
    outputs, ids = arg(c, 0), arg(c, 1)
    steps = ids.shape[1]
    real = e.cast(
        e.node("Not", [e.node("Equal", [e.value(ids), e.scalar(PAD, np.int64)])]), np.int64
    )
    lengths = e.axes_node("ReduceSum", real, [1], keepdims=1)
    last = e.node("Sub", [e.node("Max", [lengths, e.scalar(1, np.int64)]), e.scalar(1, np.int64)])
    positions = e.ints(np.arange(steps))
    pick = e.cast(e.node("Equal", [positions, last]), outputs._data.dtype)  # (B, T)
    picked = e.node("MatMul", [e.axes_node("Unsqueeze", pick, [1]), e.value(outputs)])
    return e.axes_node("Squeeze", picked, [1])


@converts("reverse_prefixes")
def _reverse_prefixes(e: Emitter, c: Call, o: Call | None) -> str:
    """Each row's non-PAD prefix reversed along the time axis: ONNX's ReverseSequence."""
    x, ids = arg(c, 0), arg(c, 1)
    real = e.cast(
        e.node("Not", [e.node("Equal", [e.value(ids), e.scalar(PAD, np.int64)])]), np.int64
    )
    lengths = e.axes_node("ReduceSum", real, [1], keepdims=0)
    return e.node("ReverseSequence", [e.value(x), lengths], batch_axis=0, time_axis=1)


@converts("additive_mask")
def _additive_mask(e: Emitter, c: Call, o: Call | None) -> str:
    """A boolean mask (True = masked) as -inf / 0 scores; a float mask in the scores' dtype."""
    mask, dtype = arg(c, 0), np.dtype(arg(c, 2))
    name, kind = e.value(mask), np.asarray(mask).dtype
    if kind == np.bool_:
        return e.node("Where", [name, e.scalar(-np.inf, dtype), e.scalar(0.0, dtype)])
    return name if kind == dtype else e.cast(name, dtype)


_UFUNCS = {"equal": "Equal", "less": "Less", "less_equal": "LessOrEqual", "greater": "Greater",
           "greater_equal": "GreaterOrEqual", "logical_and": "And", "logical_or": "Or",
           "logical_xor": "Xor", "add": "Add", "subtract": "Sub", "multiply": "Mul"}  # fmt: skip


@converts(
    *(
        f"np.{name}"
        for name in [
            *_UFUNCS,
            "not_equal",
            "logical_not",
            "invert",
            "bitwise_and",
            "bitwise_or",
            "bitwise_xor",
        ]
    )
)
def _numpy_ufunc(e: Emitter, c: Call, o: Call | None) -> str:
    """Elementwise NumPy functions of a traced array (``ids.numpy() == PAD``)."""
    name = c.name.removeprefix("np.")
    arrays = [np.asarray(x) for x in c.args]
    dtype = next(a.dtype for x, a in zip(c.args, arrays) if e.tracer.live.get(id(x)) is not None)
    ins = [e.value(x, None if e.tracer.live.get(id(x)) is not None else dtype) for x in c.args]
    if name.startswith("bitwise_") or name == "invert":
        if dtype != np.bool_:
            raise e.fail("bitwise NumPy functions of integer arrays have no mapping here")
        name = {"bitwise_and": "logical_and", "bitwise_or": "logical_or",
                "bitwise_xor": "logical_xor"}.get(name, name)  # fmt: skip
    if name in ("logical_not", "invert"):
        return e.node("Not", ins)
    if name == "not_equal":
        return e.node("Not", [e.node("Equal", ins)])
    return e.node(_UFUNCS[name], ins)
