"""``neuralab.onnx.load``: an ONNX file as a Module that runs its graph with neuralab's ops.

Float initializers become Parameters (so the imported model fine-tunes), the others buffers;
ONNX's LSTM/GRU/RNN nodes become ``nn.LSTM``/``nn.GRU``/``nn.RNN`` layers holding the weights
in torch's gate order. An operator without an implementation is named when the file is loaded.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from neuralab import nn
from neuralab.nn.module import Module
from neuralab.nn.parameter import Parameter
from neuralab.onnx.interpret import OPS, Node
from neuralab.onnx.recurrent import TORCH_TO_ONNX_GATES
from neuralab.tensor import Tensor, constant


class ONNXModule(Module):
    """An imported ONNX graph; ``forward(*inputs)`` returns its output(s) as Tensors."""

    def __init__(self, proto: onnx.ModelProto) -> None:
        super().__init__()
        graph = proto.graph
        self.input_names = [
            i.name for i in graph.input if i.name not in {t.name for t in graph.initializer}
        ]
        self.output_names = [o.name for o in graph.output]
        self._keys: dict[str, str] = {}
        for t in graph.initializer:
            self._add_initializer(t.name, numpy_helper.to_array(t))
        self.nodes = [Node(n, helper) for n in graph.node]
        unknown = sorted({n.op for n in self.nodes if n.op not in OPS})
        if unknown:
            raise NotImplementedError(
                f"onnx.load: operator(s) {', '.join(unknown)} of graph {graph.name!r} are not "
                f"supported (see docs/onnx.md for the operator table)"
            )
        for i, n in enumerate(self.nodes):
            if n.op in ("LSTM", "GRU", "RNN"):
                self.add_module(f"recurrent_{i}", self._recurrent(n))
                n.module = getattr(self, f"recurrent_{i}")

    def _add_initializer(self, name: str, arr: np.ndarray) -> None:
        key = re.sub(r"\W", "_", name)
        while key in self._keys.values() or not key or key[0].isdigit():
            key = "_" + key
        self._keys[name] = key
        if arr.dtype.kind == "f":
            self.register_parameter(key, Parameter(arr.copy()))
        else:
            self.register_buffer(key, constant(arr.copy()))

    def initializer(self, name: str) -> Tensor | None:
        """The Parameter or buffer holding initializer ``name`` (None if there is none)."""
        key = self._keys.get(name)
        return None if key is None else getattr(self, key)

    def _recurrent(self, n: Node) -> nn.Module:
        """An nn.LSTM/GRU/RNN holding the node's weights, back in torch's gate order."""
        w, r = (self.initializer(name) for name in n.inputs[1:3])
        b = self.initializer(n.inputs[3]) if len(n.inputs) > 3 and n.inputs[3] else None
        if w is None or r is None or n.inputs[4:5] not in ([], [""]):
            raise NotImplementedError(
                f"onnx.load: {n.op} node {n.name!r} needs its weights as initializers and no "
                f"sequence_lens"
            )
        mode = _recurrent_mode(n)
        direction = n.attrs.get("direction", "forward")
        if direction == "reverse":
            raise NotImplementedError("onnx.load: a reverse-only recurrent node is not supported")
        both = direction == "bidirectional"
        hidden = int(n.attrs["hidden_size"])
        if mode == "LSTM":
            layer = nn.LSTM(w.shape[2], hidden, bidirectional=both)
        elif mode == "GRU":
            layer = nn.GRU(w.shape[2], hidden, bidirectional=both)
        else:
            kind = "relu" if mode == "RNN_RELU" else "tanh"
            layer = nn.RNN(w.shape[2], hidden, nonlinearity=kind, bidirectional=both)
        for d in range(w.shape[0]):
            zeros = np.zeros(2 * w.shape[1], w._data.dtype)
            biases = np.split(zeros if b is None else b._data[d], 2)
            suffix = "_l0" + ("_reverse" if d else "")
            weights = {"weight_ih": w._data[d], "weight_hh": r._data[d]}
            weights |= {"bias_ih": biases[0], "bias_hh": biases[1]}
            for kind, arr in weights.items():
                getattr(layer, kind + suffix)._data[...] = _torch_gates(arr, mode)
        return layer

    def forward(self, *inputs: Any) -> Any:
        """Run the graph's nodes in order on the inputs (Tensors or arrays)."""
        if len(inputs) != len(self.input_names):
            raise TypeError(
                f"ONNXModule: the graph takes {len(self.input_names)} input(s) "
                f"({', '.join(self.input_names)}), got {len(inputs)}"
            )
        env: dict[str, Tensor] = {"": None}
        for name, x in zip(self.input_names, inputs):
            env[name] = x if isinstance(x, Tensor) else constant(np.asarray(x))
        for name, key in self._keys.items():
            env[name] = getattr(self, key)
        for n in self.nodes:
            outs = OPS[n.op](n, [env.get(i) if i else None for i in n.inputs])
            outs = outs if isinstance(outs, tuple | list) else [outs]
            env.update(zip(n.outputs, outs))
        results = [env[name] for name in self.output_names]
        return results[0] if len(results) == 1 else tuple(results)


def _recurrent_mode(n: Node) -> str:
    """torch's mode name for a recurrent node (GRU only with torch's linear_before_reset)."""
    if n.op == "GRU" and not n.attrs.get("linear_before_reset", 0):
        raise NotImplementedError("onnx.load: GRU with linear_before_reset=0 differs from torch's")
    if n.op in ("LSTM", "GRU"):
        return n.op
    return "RNN_RELU" if n.attrs.get("activations", ["Tanh"])[0] == "Relu" else "RNN_TANH"


def _torch_gates(arr: np.ndarray, mode: str) -> np.ndarray:
    """ONNX's stacked gate blocks back in torch's order."""
    order = TORCH_TO_ONNX_GATES[mode]
    blocks = np.split(arr, len(order))
    back = np.argsort(order)
    return np.concatenate([blocks[g] for g in back])


def load(path: str | os.PathLike | onnx.ModelProto) -> ONNXModule:
    """The ONNX model at ``path`` (or a ModelProto) as a Module with its weights."""
    proto = path if isinstance(path, onnx.ModelProto) else onnx.load(path)
    return ONNXModule(proto)
