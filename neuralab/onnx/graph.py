"""The ONNX graph under construction: names for traced values, initializers and nodes.

Converters (``neuralab.onnx.convert``) call :class:`Emitter` to turn a recorded op into nodes.
Sizes that change with a dynamic axis are read from the inputs' shapes at run time
(:meth:`Emitter.sizes`), every other number is a constant.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from neuralab.onnx.trace import Call, Tracer
from neuralab.tensor import Tensor


class ExportError(ValueError):
    """The model cannot be written as ONNX; the message names the op and the layer."""


class Emitter:
    """Collects nodes and initializers; maps traced values to their ONNX names."""

    def __init__(self, tracer: Tracer, params: dict[int, tuple[Tensor, str]], opset: int) -> None:
        self.tracer, self.params, self.opset = tracer, params, opset
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, onnx.TensorProto] = {}
        self.names: dict[int, str] = {}  # traced value number -> ONNX name
        self.sources: dict[tuple[int, int], tuple[str, int]] = {}  # (size, size in trace 2)
        self._consts: dict[Any, str] = {}
        self._count = 0
        self.call: Call | None = None  # the op being converted, for error messages

    # --- names ------------------------------------------------------------------------------
    def fresh(self, hint: str) -> str:
        """A new unique value name starting with ``hint``."""
        self._count += 1
        return f"{hint}_{self._count}"

    def bind(self, t: Tensor | np.ndarray, name: str) -> None:
        """``t`` (a traced output tensor or array) is the ONNX value ``name``."""
        key = self.tracer.live[id(t)] if isinstance(t, np.ndarray) else self.tracer.value_of(t)
        self.names[key] = name

    def fail(self, message: str) -> ExportError:
        """An ExportError about the op being converted, naming it and its layer."""
        call = self.call
        where = f"op '{call.name}' in layer {call.where}: " if call else ""
        return ExportError(f"onnx.export: {where}{message}")

    # --- values -----------------------------------------------------------------------------
    def value(self, x: Any, dtype: Any = None) -> str:
        """The ONNX name of a tensor argument: a traced value, a parameter or a constant.

        Numbers and arrays become constants, in ``dtype`` when given.
        """
        if isinstance(x, Tensor):
            key = self.tracer.value_of(x)
            if key in self.names:
                return self.names[key]
            if key is not None and key in self.params:
                self.names[key] = self.param(*self.params[key])
                return self.names[key]
            x = x._data
        elif self.tracer.live.get(id(x)) in self.names:  # a traced array (TracedArray)
            return self.names[self.tracer.live[id(x)]]
        arr = np.asarray(x)
        if dtype is not None:
            arr = arr.astype(dtype)
        elif arr.dtype == np.float64 and not isinstance(x, np.ndarray):
            arr = arr.astype(np.float32)  # a Python number: float32, as the engine computes
        return self.const(arr)

    def param(self, t: Tensor, name: str) -> str:
        """The initializer holding parameter or buffer ``t`` under its name in the model."""
        if name not in self.initializers:
            self.initializers[name] = numpy_helper.from_array(np.asarray(t._data, order="C"), name)
        return name

    def const(self, arr: np.ndarray, hint: str = "const") -> str:
        """An initializer holding ``arr`` (identical small constants are shared)."""
        arr = np.asarray(arr, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
        key = (arr.dtype.str, arr.shape, arr.tobytes()) if arr.size <= 64 else id(arr)
        if key not in self._consts:
            name = self.fresh(hint)
            self.initializers[name] = numpy_helper.from_array(arr, name)
            self._consts[key] = name
            if arr.size > 64:
                self.tracer.keep.append(arr)
        return self._consts[key]

    def ints(self, values: Any) -> str:
        """A 1-D int64 constant."""
        return self.const(np.asarray(values, dtype=np.int64).reshape(-1), "ints")

    def scalar(self, value: Any, dtype: Any) -> str:
        """A 0-d constant of ``dtype``."""
        return self.const(np.asarray(value, dtype=dtype), "scalar")

    def sizes(self, sizes: Any, other: Any = None) -> str:
        """A 1-D int64 shape: the numbers of trace 1, with those that differ in trace 2 read
        from the dynamic input dimension they equal."""
        sizes = [int(s) for s in sizes]
        if other is None or list(other) == sizes:
            return self.ints(sizes)
        parts = [
            self.ints([a]) if a == int(b) else self._dynamic(a, int(b))
            for a, b in zip(sizes, other, strict=True)
        ]
        return self.node("Concat", parts, axis=0)

    def _dynamic(self, a: int, b: int) -> str:
        """A size that differs between the traces: k times a dynamic input dimension."""
        for (sa, sb), (name, axis) in self.sources.items():
            if a * sb == b * sa and a % sa == 0:
                size = self.node("Shape", [name], start=axis, end=axis + 1)
                return size if a == sa else self.node("Mul", [size, self.ints([a // sa])])
        raise self.fail(
            f"the size {a} changes with a dynamic axis but is no multiple of a dynamic input "
            f"dimension; compute it from the input's shape inside the model"
        )

    # --- nodes ------------------------------------------------------------------------------
    def node(self, op: str, inputs: list[str], outputs: int = 1, **attrs: Any) -> Any:
        """Add a node; returns its output name (a list when ``outputs`` > 1)."""
        names = [self.fresh(op.lower()) for _ in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op, inputs, names, **attrs))
        return names[0] if outputs == 1 else names

    def axes_node(self, op: str, x: str, axes: Any, **attrs: Any) -> str:
        """A Reduce*/Squeeze/Unsqueeze node, with ``axes`` as input or attribute by opset."""
        axes = None if axes is None else [int(a) for a in axes]
        as_input = op in ("Squeeze", "Unsqueeze", "ReduceSum") or self.opset >= 18
        if as_input:
            return self.node(op, [x] + ([self.ints(axes)] if axes is not None else []), **attrs)
        return self.node(op, [x], axes=axes, **attrs)

    def cast(self, x: str, dtype: Any) -> str:
        """A Cast node to the NumPy ``dtype``."""
        return self.node("Cast", [x], to=helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))
