"""Recurrent layers with torch's arguments, parameter names, shapes and return values.

``RNN`` (tanh or relu), ``LSTM`` and ``GRU`` stack ``num_layers`` layers, each optionally
bidirectional, with dropout between layers in training mode. Every layer and direction computes
its input projection for all time steps in one GEMM and runs the recurrence as one fused op
(:mod:`neuralab.ops.recurrent`): per step only the hidden GEMM and the gate math. The cells
(``RNNCell``, ``LSTMCell``, ``GRUCell``) are the same op over a single step.

Parameters are named like torch's (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``,
``bias_hh_l0``, ``weight_hr_l0`` for an LSTM with ``proj_size``, ``..._reverse``), so
``load_state_dict`` takes a torch checkpoint's arrays, and are initialized like torch's: every
one uniform in ±1/√hidden_size.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from neuralab.nn import init
from neuralab.nn.layers._params import check_factory, empty_parameter
from neuralab.nn.module import Module, Parameter
from neuralab.nn.utils.rnn import (
    PackedSequence,
    lengths_of,
    pack_time_major,
    unpack_time_major,
)
from neuralab.ops.dropout import dropout as _dropout
from neuralab.ops.elementwise import where
from neuralab.ops.matmul import linear, project_embedded
from neuralab.ops.recurrent import gru_recurrence, lstm_recurrence, rnn_recurrence
from neuralab.ops.shape import cat, stack, unsqueeze
from neuralab.tensor import Tensor, constant

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_REPR_DEFAULTS = dict(num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False)


def _recur(
    mode: str, gates_x: Tensor, h0: Tensor, c0: Tensor | None, w_hh: Tensor,
    b_hh: Tensor | None, reverse: bool, w_hr: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor | None]:  # fmt: skip
    """The fused recurrence of ``mode`` over precomputed input gates: (output, h_n, c_n).
    ``w_hr`` is an LSTM's projection (``proj_size`` > 0), None otherwise."""
    if mode == "LSTM":
        return lstm_recurrence(gates_x, h0, c0, w_hh, b_hh, reverse, w_hr)
    if mode == "GRU":
        out, h_n = gru_recurrence(gates_x, h0, w_hh, b_hh, reverse)
    else:
        nonlinearity = "tanh" if mode == "RNN_TANH" else "relu"
        out, h_n = rnn_recurrence(gates_x, h0, w_hh, b_hh, nonlinearity, reverse)
    return out, h_n, None


def _run_layer(
    mode: str,
    x: Tensor,
    weights: list[Tensor | None],
    h0: Tensor,
    c0: Tensor | None,
    reverse: bool = False,
    given: Tensor | None = None,
    batch_first: bool = False,
    lengths: np.ndarray | None = None,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """One layer in one direction over (T, B, I): returns (output, h_n, c_n or None).

    ``weights`` are (w_ih, w_hh, b_ih, b_hh, w_hr), the biases and w_hr None when absent.
    ``given`` is the batched input as the caller passed it (``batch_first`` or not), before it
    was made time-major: when it is an embedding's output, the input projection may come from
    the embedding table (:func:`project_embedded`). With ``lengths`` (one per batch column)
    each sequence ends at its own length (:func:`_run_padded`).
    """
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    steps, batch, features = x.shape
    if mode != "GRU" and b_ih is not None and b_hh is not None:
        # Both biases simply add to the pre-activations: add them once, not at every step
        # (GRU's b_hn is scaled by the reset gate, so GRU keeps its two).
        b_ih, b_hh = b_ih + b_hh, None
    gates_x = None
    if given is not None:
        gates_x = project_embedded(given, w_ih, b_ih, swap_leading=batch_first)
    if gates_x is None:  # every time step's input projection in one 2-D GEMM
        gates_x = linear(x.reshape(steps * batch, features), w_ih, b_ih)
        gates_x = gates_x.reshape(steps, batch, -1)
    if lengths is not None:
        return _run_padded(mode, gates_x, h0, c0, w_hh, b_hh, reverse, lengths, w_hr)
    return _recur(mode, gates_x, h0, c0, w_hh, b_hh, reverse, w_hr)


# A pre-activation that saturates σ to exactly 0 or 1 in every floating dtype.
_SATURATED = 1e4


def _rows(t: Tensor, index: np.ndarray) -> Tensor:
    """Gather rows of (T, B, F) ``t`` by flat (t·B + b) ``index``; the result is (len, F)."""
    steps, batch, features = t.shape
    return t.reshape(steps * batch, features)[index]


def _run_padded(
    mode: str, gates_x: Tensor, h0: Tensor, c0: Tensor | None, w_hh: Tensor,
    b_hh: Tensor | None, reverse: bool, lengths: np.ndarray, w_hr: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor | None]:  # fmt: skip
    """One layer over padded sequences (padding after each column's length), skipping padding.

    The fused recurrence runs over all T steps; what a padded step computes is never used:
    the outputs of the valid steps do not depend on later steps; h_n is gathered at each
    sequence's last valid step; an LSTM's cell state is frozen through the padding by
    saturating its input gate to 0 and its forget gate to 1, so c_n comes out exact. The
    reverse direction runs forward over each sequence reversed within its own length.
    """
    steps, batch, width = gates_x.shape
    columns = np.arange(batch)
    time = np.arange(steps)[:, None]
    padded = time >= lengths[None, :]
    flip = None
    if reverse:  # position t of column b <-> position len_b - 1 - t (padding stays in place)
        flip = (np.where(padded, time, lengths[None, :] - 1 - time) * batch + columns).ravel()
        gates_x = _rows(gates_x, flip).reshape(steps, batch, width)
    if mode == "LSTM":
        hidden = width // 4
        freeze = np.zeros((steps, batch, width), bool)
        freeze[..., : 2 * hidden] = padded[..., None]
        fill = np.zeros(width, gates_x.dtype)
        fill[:hidden], fill[hidden : 2 * hidden] = -_SATURATED, _SATURATED
        gates_x = where(constant(freeze), constant(fill), gates_x)
    out, _, c_n = _recur(mode, gates_x, h0, c0, w_hh, b_hh, False, w_hr)
    h_n = _rows(out, (lengths - 1) * batch + columns)
    if flip is not None:
        out = _rows(out, flip).reshape(steps, batch, -1)
    return out, h_n, c_n


def _uniform_init(module: Module, hidden_size: int) -> None:
    """torch's recurrent initialization: every parameter uniform in ±1/√hidden_size."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def _check_dtype(name: str, what: str, t: Tensor, dtype: np.dtype) -> None:
    if t.dtype != dtype:
        raise TypeError(
            f"{name}: {what} has dtype {t.dtype} but the parameters are {dtype}; convert one "
            "of them (e.g. model.double() or input.float())"
        )


def _check_sizes(
    name: str, hidden_size: int, num_layers: int, dropout: float, proj_size: int
) -> None:
    """Raise torch's errors for bad sizes, projection or dropout; warn, as torch, of dropout with
    one layer."""
    if not isinstance(dropout, int | float) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
        raise ValueError(
            f"{name}: dropout should be a number in range [0, 1] representing the probability "
            f"of an element being zeroed, got {dropout!r}"
        )
    for what, value in (("hidden_size", hidden_size), ("num_layers", num_layers)):
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name}: {what} must be a positive integer, got {value!r}")
    if not isinstance(proj_size, int) or isinstance(proj_size, bool) or proj_size < 0:
        raise ValueError(
            f"{name}: proj_size should be a positive integer or zero to disable projections, "
            f"got {proj_size!r}"
        )
    if proj_size >= hidden_size:
        raise ValueError(
            f"{name}: proj_size has to be smaller than hidden_size, got proj_size={proj_size} "
            f"and hidden_size={hidden_size}"
        )
    if proj_size and name != "LSTM":
        raise ValueError(f"{name}: proj_size argument is only supported for LSTM, not RNN or GRU")
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            f"{name}: dropout option adds dropout after all but last recurrent layer, so "
            f"non-zero dropout expects num_layers greater than 1, but got dropout={dropout} "
            f"and num_layers={num_layers}",
            stacklevel=3,
        )


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU: parameters, state handling, layers and directions."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        if mode not in _GATES:
            raise ValueError(f"RNNBase: unknown mode {mode!r}; choose one of {sorted(_GATES)}")
        check_factory(device, dtype, name)
        _check_sizes(name, hidden_size, num_layers, dropout, proj_size)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        self._name = name
        gate_size = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        state_size = proj_size or hidden_size  # the width of h: what the next step and layer read
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else state_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = {
                    "weight_ih": (gate_size, layer_input),
                    "weight_hh": (gate_size, state_size),
                }
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size:  # torch registers it last, after the biases
                    shapes.update(weight_hr=(proj_size, hidden_size))
                for kind, shape in shapes.items():
                    setattr(self, kind + suffix, empty_parameter(shape, dtype))
                    self._flat_weights_names.append(kind + suffix)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw every parameter uniformly in ±1/√hidden_size (torch's default)."""
        _uniform_init(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """No-op, for torch compatibility (there is no cuDNN weight buffer to compact)."""

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters grouped per layer and direction, in torch's order."""
        per = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        flat = [getattr(self, n) for n in self._flat_weights_names]
        return [flat[i : i + per] for i in range(0, len(flat), per)]

    def _weights(self, layer: int, direction: int) -> list[Tensor | None]:
        """(w_ih, w_hh, b_ih, b_hh, w_hr) of one layer and direction (None where absent)."""
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        return [
            self._parameters.get(kind + suffix)
            for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        ]

    def _initial_states(
        self, hx: Any, batch: int, batched: bool, dtype: np.dtype
    ) -> tuple[list[Tensor], list[Tensor | None]]:
        """Per (layer, direction) initial h (and c for LSTM): zeros, or slices of ``hx``."""
        count = self.num_layers * (2 if self.bidirectional else 1)
        is_lstm = self.mode == "LSTM"
        cell_width = ("hidden_size", self.hidden_size)  # h is proj_size wide with a projection
        widths = {"h_0": ("proj_size", self.proj_size) if self.proj_size else cell_width}
        widths["c_0"] = cell_width
        if hx is None:
            zero = constant(np.zeros((batch, self.hidden_size), dtype))
            zero_h = constant(np.zeros((batch, self.proj_size), dtype)) if self.proj_size else zero
            return [zero_h] * count, [zero if is_lstm else None] * count
        if is_lstm != isinstance(hx, tuple | list):
            expected = "a tuple (h_0, c_0)" if is_lstm else "a single tensor h_0"
            raise TypeError(f"{self._name}: hx must be {expected}, got {type(hx).__name__}")
        states = list(hx) if is_lstm else [hx]
        if len(states) != (2 if is_lstm else 1):
            raise ValueError(f"{self._name}: hx must be (h_0, c_0), got {len(states)} tensors")
        split = []
        for what, s in zip(("h_0", "c_0"), states):
            size_name, size = widths[what]
            expected = (count, batch, size) if batched else (count, size)
            if not isinstance(s, Tensor) or s.shape != expected:
                shape = s.shape if isinstance(s, Tensor) else type(s).__name__
                raise ValueError(
                    f"{self._name}: expected {what} of shape {expected} (num_layers * "
                    f"num_directions, {'batch, ' if batched else ''}{size_name}), got {shape}"
                )
            _check_dtype(self._name, what, s, dtype)
            s = s if batched else s.unsqueeze(1)
            split.append([s[k] for k in range(count)])
        return split[0], (split[1] if is_lstm else [None] * count)

    def _check_input(self, input: Any, dims: tuple[int, ...], layout: str) -> np.dtype:
        """The parameters' dtype, after checking ``input``'s rank, width and dtype."""
        if not isinstance(input, Tensor) or input.ndim not in dims:
            shape = input.shape if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(f"{self._name}: expected input of shape {layout}, got {shape}")
        if input.shape[-1] != self.input_size:
            raise ValueError(
                f"{self._name}: input of shape {input.shape} does not fit "
                f"input_size={self.input_size} (its last dimension)"
            )
        dtype = self.weight_ih_l0.dtype
        _check_dtype(self._name, "input", input, dtype)
        return dtype

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple[Any, Any]:
        """Run the stack over a sequence: returns (output, h_n), or (output, (h_n, c_n)) for LSTM.

        ``input`` is (T, B, input_size), (B, T, input_size) with ``batch_first``, unbatched
        (T, input_size) or a PackedSequence; ``output`` has the same layout with D·hidden_size
        features (D = 2 when bidirectional) and h_n, c_n are (num_layers·D, B, hidden_size);
        an LSTM with ``proj_size`` P has D·P output features and h_n of width P.
        """
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        layout = "(seq_len, batch, input_size) or unbatched (seq_len, input_size)"
        dtype = self._check_input(input, (2, 3), layout)
        batched = input.ndim == 3
        if not batched:
            x = input.unsqueeze(1)
        else:
            x = input.transpose(0, 1) if self.batch_first else input
        h0, c0 = self._initial_states(hx, x.shape[1], batched, dtype)
        output, states = self._stack(x, h0, c0, input if batched else None, None)
        output = output if batched else output.squeeze(1)
        if batched and self.batch_first:
            output = output.transpose(0, 1)
        if not batched:
            states = [s.squeeze(1) for s in states]
        return output, (tuple(states) if self.mode == "LSTM" else states[0])

    def _forward_packed(self, input: PackedSequence, hx: Any) -> tuple[PackedSequence, Any]:
        """forward over a PackedSequence: each sequence stops at its own length; h_n (and c_n)
        hold every sequence's last valid step, in the caller's batch order."""
        dtype = self._check_input(input.data, (2,), "PackedSequence data (steps, input_size)")
        batch_sizes = np.asarray(input.batch_sizes._data, np.int64)
        x = unpack_time_major(input.data, batch_sizes, 0.0)
        if hx is not None and input.sorted_indices is not None:
            order = input.sorted_indices._data
            hx = tuple(h[:, order] for h in hx) if isinstance(hx, tuple | list) else hx[:, order]
        h0, c0 = self._initial_states(hx, x.shape[1], True, dtype)
        out, states = self._stack(x, h0, c0, None, lengths_of(batch_sizes))
        if input.unsorted_indices is not None:
            states = [s[:, input.unsorted_indices._data] for s in states]
        output = input._replace(data=pack_time_major(out, batch_sizes))
        return output, (tuple(states) if self.mode == "LSTM" else states[0])

    def _stack(
        self, x: Tensor, h0: list, c0: list, given: Tensor | None, lengths: np.ndarray | None
    ) -> tuple[Tensor, list[Tensor]]:
        """Every layer and direction over time-major ``x``: (output, [h_n] or [h_n, c_n])."""
        directions = 2 if self.bidirectional else 1
        h_n: list[Tensor] = []
        c_n: list[Tensor | None] = []
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = _dropout(x, self.dropout, True)
            outs = []
            for d in range(directions):
                k = layer * directions + d
                out, h, c = _run_layer(
                    self.mode, x, self._weights(layer, d), h0[k], c0[k], d == 1,
                    given if layer == 0 else None, self.batch_first, lengths,
                )  # fmt: skip
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if directions == 1 else cat(outs, dim=-1)
        states = [h_n, c_n] if self.mode == "LSTM" else [h_n]
        # one layer and direction: a view with a new first axis, not a copy (batch-1 inference)
        return x, [unsqueeze(s[0], 0) if len(s) == 1 else stack(s) for s in states]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"  # torch shows no nonlinearity here
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        for key, default in _REPR_DEFAULTS.items():
            if getattr(self, key) != default:
                s += f", {key}={getattr(self, key)}"
        return s


class RNN(RNNBase):
    """Elman RNN h_t = act(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh), act 'tanh' or 'relu'."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            device=device, dtype=dtype,
        )  # fmt: skip
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory: gates (i, f, g, o), c_t = f⊙c + i⊙g, h_t = o⊙tanh(c_t).

    With ``proj_size`` P > 0, h_t = W_hr (o⊙tanh(c_t)) is P wide (torch's LSTM with projections).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, proj_size, device, dtype,
        )  # fmt: skip


class GRU(RNNBase):
    """Gated recurrent unit: gates (r, z, n), n = tanh(x_n + r⊙(W_hn h + b_hn)), h = (1-z)n + zh."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, device=device, dtype=dtype,
        )  # fmt: skip


class RNNCellBase(Module):
    """Shared machinery of the single-step cells: parameters and input/state checks."""

    def __init__(
        self, mode: str, input_size: int, hidden_size: int, bias: bool, device: Any, dtype: Any
    ) -> None:
        super().__init__()
        check_factory(device, dtype, type(self).__name__)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gate_size = _GATES[mode] * hidden_size
        self.weight_ih = empty_parameter((gate_size, input_size), dtype)
        self.weight_hh = empty_parameter((gate_size, hidden_size), dtype)
        if bias:
            self.bias_ih = empty_parameter((gate_size,), dtype)
            self.bias_hh = empty_parameter((gate_size,), dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw every parameter uniformly in ±1/√hidden_size (torch's default)."""
        _uniform_init(self, self.hidden_size)

    def _step(self, input: Tensor, states: list[Tensor | None]) -> list[Tensor]:
        """One step from ``input`` (B, I) or (I,) and ``states`` (each (B, H), (H,) or None)."""
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.ndim not in (1, 2):
            shape = input.shape if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(
                f"{name}: expected input of shape (batch, input_size) or (input_size,), got {shape}"
            )
        if input.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: input of shape {input.shape} does not fit input_size={self.input_size}"
            )
        dtype = self.weight_ih.dtype
        _check_dtype(name, "input", input, dtype)
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        expected = x.shape[:1] + (self.hidden_size,) if batched else (self.hidden_size,)
        full = []
        for k, s in enumerate(states):
            if s is None:
                s = constant(np.zeros((x.shape[0], self.hidden_size), dtype))
            elif not isinstance(s, Tensor) or s.shape != expected:
                shape = s.shape if isinstance(s, Tensor) else type(s).__name__
                raise ValueError(f"{name}: expected state {k} of shape {expected}, got {shape}")
            else:
                _check_dtype(name, f"state {k}", s, dtype)
                s = s if batched else s.unsqueeze(0)
            full.append(s)
        weights = [self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, None]
        c0 = full[1] if len(full) == 2 else None
        _, h, c = _run_layer(self.mode, x.unsqueeze(0), weights, full[0], c0)
        result = [h] if c is None else [h, c]
        return result if batched else [r.squeeze(0) for r in result]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity=relu"
        return s


class RNNCell(RNNCellBase):
    """One Elman step h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), act 'tanh' or 'relu'."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"RNNCell: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'"
            )
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """The next hidden state h' (zeros stand in for a missing ``hx``)."""
        return self._step(input, [hx])[0]


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c') from x and (h, c), gates (i, f, g, o)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Tensor]:
        """(h', c'); ``hx`` is a tuple (h, c) or None for zeros."""
        if hx is not None and (not isinstance(hx, tuple | list) or len(hx) != 2):
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c) or None, got {type(hx).__name__}")
        h, c = self._step(input, [None, None] if hx is None else list(hx))
        return h, c


class GRUCell(RNNCellBase):
    """One GRU step: gates (r, z, n), n = tanh(x_n + r⊙(W_hn h + b_hn)), h' = (1-z)n + zh."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """The next hidden state h' (zeros stand in for a missing ``hx``)."""
        return self._step(input, [hx])[0]
