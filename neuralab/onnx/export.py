"""``neuralab.onnx.export``: torch.onnx.export's call, writing an ONNX file from a traced run.

The model runs once in evaluation mode while :class:`~neuralab.onnx.trace.Tracer` records the
op calls; each is converted by its registered converter. It runs a second time on inputs resized
along the ``dynamic_axes`` (or, without them, with the batch's rows rotated): sizes that differ
between the runs are read from the input shapes at run time, and a value computed outside the
engine's ops (with NumPy) that differs is refused, since the graph would freeze it.
"""

from __future__ import annotations

import io
import os
from typing import Any

import numpy as np
import onnx
from onnx import helper

from neuralab.nn.layers.rnn import RNNBase
from neuralab.nn.module import Module
from neuralab.nn.utils import eval_mode
from neuralab.onnx import ops_math, ops_nn, ops_shape, recurrent, symbolic  # noqa: F401
from neuralab.onnx.graph import Emitter, ExportError
from neuralab.onnx.registry import CONVERTERS
from neuralab.onnx.trace import Call, Tracer, leaves_in, resized, tensors_in
from neuralab.tensor import Tensor, no_grad

DEFAULT_OPSET = 17
"""The opset written unless ``opset_version`` asks for another (17 to 21 are supported)."""


def export(
    model: Module,
    args: Any = (),
    f: str | os.PathLike | io.IOBase | None = None,
    *,
    kwargs: dict | None = None,
    export_params: bool = True,
    verbose: bool | None = None,
    input_names: list[str] | None = None,
    output_names: list[str] | None = None,
    opset_version: int | None = None,
    dynamic_axes: dict[str, Any] | None = None,
    keep_initializers_as_inputs: bool = False,
    do_constant_folding: bool = True,
    training: Any = None,
    dynamo: bool = False,
) -> onnx.ModelProto:
    """Write ``model`` applied to ``args`` as an ONNX model to ``f`` (a path or binary file).

    As ``torch.onnx.export``: ``args`` is one input or a tuple of them (a trailing dict holds
    keyword arguments), ``input_names``/``output_names`` name the graph's values, and
    ``dynamic_axes`` maps a name to the axes left free ({"x": {0: "batch"}} or {"x": [0]}).
    The model is exported in evaluation mode. Returns the ModelProto as well.
    """
    if not export_params:
        raise ValueError(
            "onnx.export: export_params=False (a graph without weights) is not supported"
        )
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not 17 <= opset <= 21:
        raise ValueError(f"onnx.export: opset_version must be in 17..21, got {opset}")
    args, kwargs = _split_args(args, kwargs)
    inputs = [t for t in tensors_in((args, kwargs))]
    names = _names(input_names, len(inputs), "input")
    axes = _axes(dynamic_axes or {}, names, inputs)
    with eval_mode(model, no_grad=False):
        first, out = _trace(model, args, kwargs, inputs)
        second = None
        grown = {i: {a: k + 1 for k, a in enumerate(sorted(ax))} for i, ax in axes.items()}
        if not grown:  # same sizes, rows rotated: still shows values computed off the graph
            grown = {i: {0: 0} for i, t in enumerate(inputs) if t.ndim and t.shape[0] > 1}
        if grown:
            args2, kwargs2 = _resize_inputs((args, kwargs), inputs, grown)
            second, _ = _trace(model, args2, kwargs2, list(tensors_in((args2, kwargs2))))
            _check_same(first, second)
        proto = _build(model, first, second, out, names, axes, output_names, dynamic_axes, opset)
    if verbose:
        print(helper.printable_graph(proto.graph))
    if f is not None:
        onnx.save(proto, f)
    return proto


def _split_args(args: Any, kwargs: dict | None) -> tuple[tuple, dict]:
    if not isinstance(args, tuple):
        args = (args,)
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict):
        kwargs.update(args[-1])
        args = args[:-1]
    as_tensor = lambda a: Tensor(a, dtype=a.dtype) if isinstance(a, np.ndarray) else a  # noqa: E731
    return tuple(as_tensor(a) for a in args), {k: as_tensor(v) for k, v in kwargs.items()}


def _names(given: list[str] | None, count: int, prefix: str) -> list[str]:
    given = list(given or [])
    if len(given) > count:
        raise ValueError(f"onnx.export: {len(given)} {prefix} names for {count} {prefix}s")
    return given + [f"{prefix}_{i}" for i in range(len(given), count)]


def _axes(dynamic: dict, names: list[str], inputs: list[Tensor]) -> dict[int, dict[int, str]]:
    """Input position → {axis: label} from torch's dynamic_axes."""
    out = {}
    for i, name in enumerate(names):
        if name in dynamic:
            spec = dynamic[name]
            labels = (
                spec
                if isinstance(spec, dict)
                else {a: f"{name}_dynamic_axes_{a + 1}" for a in spec}
            )
            out[i] = {int(a) % inputs[i].ndim: str(v) for a, v in labels.items()}
    return out


def _trace(model: Module, args: tuple, kwargs: dict, inputs: list[Tensor]) -> tuple[Tracer, Any]:
    tracer = Tracer(model, (RNNBase,))
    for t in inputs:
        tracer.mark(t, next(tracer.counter))
    tracer.params = {}
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        if t is not None and tracer.value_of(t) is None:
            key = next(tracer.counter)
            tracer.mark(t, key)
            tracer.params[key] = (t, name)
    with no_grad(), tracer:
        out = model(*args, **kwargs)
    for call in tracer.calls:
        call.bind()
    tracer.inputs, tracer.out = inputs, out
    return tracer, out


def _resize_inputs(structure: Any, inputs: list[Tensor], grown: dict) -> tuple[tuple, dict]:
    position = {id(t): i for i, t in enumerate(inputs)}

    def rebuild(obj: Any) -> Any:
        if isinstance(obj, Tensor):
            i = position[id(obj)]
            return resized(obj, grown[i]) if i in grown else obj
        if isinstance(obj, tuple | list):
            return type(obj)(rebuild(o) for o in obj)
        if isinstance(obj, dict):
            return {k: rebuild(v) for k, v in obj.items()}
        return obj

    return rebuild(structure)


def _check_same(first: Tracer, second: Tracer) -> None:
    """Both runs made the same calls, on the same constants."""
    a, b = first.calls, second.calls
    if [c.name for c in a] != [c.name for c in b]:
        raise ExportError(
            "onnx.export: the model runs different ops for another size of a dynamic axis "
            "(control flow depends on the size), so it cannot be exported with dynamic_axes"
        )
    for ca, cb in zip(a, b):
        for x, y in zip(leaves_in((ca.args, ca.kwargs)), leaves_in((cb.args, cb.kwargs))):
            if _changed_constant(first, second, x, y):
                raise ExportError(
                    f"onnx.export: op '{ca.name}' in layer {ca.where}: an input computed outside "
                    f"the engine's ops (e.g. with NumPy) changes with the input, so the exported "
                    f"graph would freeze it; compute it with tensor ops"
                )


def _changed_constant(first: Tracer, second: Tracer, x: Any, y: Any) -> bool:
    if id(x) in first.live or id(y) in second.live:  # traced arrays (TracedArray)
        return False
    if isinstance(x, Tensor) and isinstance(y, Tensor):
        if first.value_of(x) is not None or second.value_of(y) is not None:
            return False
        x, y = x._data, y._data
    if isinstance(x, np.ndarray) and isinstance(y, np.ndarray):
        return x.shape != y.shape or not np.array_equal(x, y)
    return False


def _convert(e: Emitter, call: Call, other: Call | None) -> None:
    e.call = call
    converter = CONVERTERS.get(call.name)
    if converter is None:
        raise e.fail("has no ONNX mapping")
    names = converter(e, call, other)
    names = [names] if isinstance(names, str) else list(names)
    outs = [call.out] if isinstance(call.out, np.ndarray) else list(tensors_in(call.out))
    if len(names) < len(outs):
        raise e.fail(f"the converter gave {len(names)} outputs for {len(outs)}")
    for t, name in zip(outs, names):
        e.bind(t, name)


def _build(
    model: Module, first: Tracer, second: Tracer | None, out: Any, names: list[str],
    axes: dict, output_names: list[str] | None, dynamic: dict | None, opset: int,
) -> onnx.ModelProto:  # fmt: skip
    """Convert the recorded calls and assemble the checked ModelProto."""
    e = Emitter(first, first.params, opset)
    for i, (t, name) in enumerate(zip(first.inputs, names)):
        e.names[first.value_of(t)] = name
        if second is not None:
            for ax in axes.get(i, {}):
                e.sources.setdefault((t.shape[ax], second.inputs[i].shape[ax]), (name, ax))
    for k, call in enumerate(first.calls):
        _convert(e, call, None if second is None else second.calls[k])
    e.call = None
    outs = list(tensors_in(out))
    outs2 = list(tensors_in(second.out)) if second is not None else [None] * len(outs)
    out_names = _names(output_names, len(outs), "output")
    for t, name in zip(outs, out_names):
        e.nodes.append(helper.make_node("Identity", [e.value(t)], [name]))
    graph_inputs = [
        _info(n, t, None, axes.get(i, {})) for i, (n, t) in enumerate(zip(names, first.inputs))
    ]
    dynamic = dynamic or {}
    graph_outputs = [
        _info(n, t, t2, _labels(dynamic.get(n))) for n, t, t2 in zip(out_names, outs, outs2)
    ]
    nodes, inits = _prune(e, out_names)
    graph = helper.make_graph(nodes, type(model).__name__, graph_inputs, graph_outputs, inits)
    proto = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="neuralab"
    )
    proto.ir_version = min(proto.ir_version, 10)
    onnx.checker.check_model(proto)
    return proto


def _labels(spec: Any) -> dict[int, str]:
    if spec is None:
        return {}
    return {int(a): str(v) for a, v in (spec.items() if isinstance(spec, dict) else
                                        ((a, f"dim_{a}") for a in spec))}  # fmt: skip


def _info(name: str, t: Tensor, t2: Tensor | None, labels: dict[int, str]) -> onnx.ValueInfoProto:
    """The value's type: its dtype and shape, with dynamic dimensions named."""
    dims: list[Any] = list(t.shape)
    for ax in range(len(dims)):
        if ax in labels:
            dims[ax] = labels[ax]
        elif t2 is not None and t2.shape[ax] != t.shape[ax]:
            dims[ax] = f"{name}_dim_{ax}"
    elem = helper.np_dtype_to_tensor_dtype(t._data.dtype)
    return helper.make_tensor_value_info(name, elem, dims)


def _prune(e: Emitter, outputs: list[str]) -> tuple[list, list]:
    """The nodes and initializers the outputs depend on, in order."""
    needed, kept = set(outputs), []
    for node in reversed(e.nodes):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(i for i in node.input if i)
    inits = [t for name, t in e.initializers.items() if name in needed]
    return kept[::-1], inits
