"""RNN / LSTM / GRU layers as ONNX's recurrent operators, one node per layer.

torch orders an LSTM's gates (i, f, g, o) and a GRU's (r, z, n); ONNX wants (i, o, f, c) and
(z, r, h), with ``linear_before_reset=1`` for torch's GRU. Weights are reordered here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.nn.layers.rnn import RNNBase
from neuralab.onnx.graph import Emitter
from neuralab.onnx.registry import converts
from neuralab.onnx.trace import Call
from neuralab.tensor import Tensor

TORCH_TO_ONNX_GATES = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN_TANH": [0], "RNN_RELU": [0]}
"""ONNX's gate blocks, as indices of torch's."""


def reorder(w: np.ndarray, mode: str, hidden: int) -> np.ndarray:
    """torch's stacked gate blocks (gates·H, ...) in ONNX's order."""
    blocks = [w[g * hidden : (g + 1) * hidden] for g in range(len(TORCH_TO_ONNX_GATES[mode]))]
    return np.concatenate([blocks[g] for g in TORCH_TO_ONNX_GATES[mode]])


def _layer_weights(m: RNNBase, layer: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """W (D, G·H, in), R (D, G·H, H) and B (D, 2·G·H) of one layer, in ONNX's gate order."""
    ws, rs, bs = [], [], []
    for direction in range(2 if m.bidirectional else 1):
        w_ih, w_hh, b_ih, b_hh, w_hr = (
            None if t is None else t._data for t in m._weights(layer, direction)
        )
        if w_hr is not None:  # ONNX's LSTM operator has no output projection
            raise NotImplementedError(
                f"ONNX export: LSTM(proj_size={m.proj_size}) has no ONNX LSTM equivalent"
            )
        ws.append(reorder(w_ih, m.mode, m.hidden_size))
        rs.append(reorder(w_hh, m.mode, m.hidden_size))
        if b_ih is None:
            b_ih = b_hh = np.zeros(w_ih.shape[0], w_ih.dtype)
        bs.append(np.concatenate([reorder(b, m.mode, m.hidden_size) for b in (b_ih, b_hh)]))
    return np.stack(ws), np.stack(rs), np.stack(bs)


def _states(e: Emitter, hx: Any, lstm: bool, batched: bool) -> tuple[str | None, str | None]:
    """The initial h and c as (layers·D, N, H) ONNX values, or None for zeros."""
    if hx is None:
        return None, None
    states = list(hx) if lstm else [hx]
    names = [e.value(s) for s in states]
    if not batched:
        names = [e.axes_node("Unsqueeze", n, [1]) for n in names]
    return names[0], (names[1] if lstm else None)


def _slice0(e: Emitter, x: str | None, start: int, stop: int) -> str:
    if x is None:
        return ""
    return e.node("Slice", [x, e.ints([start]), e.ints([stop]), e.ints([0])])


@converts("RNN", "LSTM", "GRU")
def _recurrent(e: Emitter, c: Call, o: Call | None) -> Any:
    """A stack of ONNX RNN/LSTM/GRU nodes (one per layer), in torch's layouts."""
    m: RNNBase = c.module
    x = c.args[0]
    if not isinstance(x, Tensor):
        raise e.fail("packed sequences are not exported; pass a padded tensor")
    hx = c.args[1] if len(c.args) > 1 else c.kwargs.get("hx")
    lstm, batched = m.mode == "LSTM", x.ndim == 3
    name = e.value(x)
    if not batched:
        name = e.axes_node("Unsqueeze", name, [1])
    elif m.batch_first:
        name = e.node("Transpose", [name], perm=[1, 0, 2])
    h0, c0 = _states(e, hx, lstm, batched)
    d = 2 if m.bidirectional else 1
    op = {"LSTM": "LSTM", "GRU": "GRU"}.get(m.mode, "RNN")
    attrs: dict[str, Any] = {"hidden_size": m.hidden_size}
    attrs["direction"] = "bidirectional" if m.bidirectional else "forward"
    if op == "GRU":
        attrs["linear_before_reset"] = 1
    if op == "RNN":
        attrs["activations"] = ["Relu" if m.mode == "RNN_RELU" else "Tanh"] * d
    finals_h, finals_c = [], []
    for layer in range(m.num_layers):
        w, r, b = (e.const(a, "rnn_weight") for a in _layer_weights(m, layer))
        ins = [name, w, r, b, "", _slice0(e, h0, layer * d, layer * d + d)]
        if lstm:
            ins.append(_slice0(e, c0, layer * d, layer * d + d))
        outs = e.node(op, ins, outputs=3 if lstm else 2, **attrs)
        y = e.node("Transpose", [outs[0]], perm=[0, 2, 1, 3])  # (T, N, D, H)
        name = e.node("Reshape", [y, e.ints([0, 0, -1])])
        finals_h.append(outs[1])
        if lstm:
            finals_c.append(outs[2])
    return _outputs(e, m, name, finals_h, finals_c, batched)


def _outputs(
    e: Emitter, m: RNNBase, y: str, hs: list[str], cs: list[str], batched: bool
) -> list[str]:
    """The output and final states back in torch's layouts, flattened as the layer returns."""
    h = hs[0] if len(hs) == 1 else e.node("Concat", hs, axis=0)
    finals = [h] + ([cs[0] if len(cs) == 1 else e.node("Concat", cs, axis=0)] if cs else [])
    if not batched:
        y = e.axes_node("Squeeze", y, [1])
        finals = [e.axes_node("Squeeze", f, [1]) for f in finals]
    elif m.batch_first:
        y = e.node("Transpose", [y], perm=[1, 0, 2])
    return [y] + finals
