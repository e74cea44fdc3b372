"""Fused recurrences: the whole time loop of one RNN / LSTM / GRU layer as one differentiable op.

The caller computes the input projection ``x_t W_ihᵀ + b_ih`` of every time step at once (one
GEMM: :func:`neuralab.ops.matmul.linear` on the whole sequence) and passes it as ``gates_x`` of
shape (T, B, G·H), G being the number of gates. The op runs only the recurrence: per step one
hidden GEMM ``h W_hhᵀ + b_hh`` and the gate math fused in NumPy, saving each step's gate
activations. The backward is backpropagation through time: it walks the steps in reverse,
computing the gradient of every step's pre-activations, then forms dW_hh as a single GEMM over
all steps. ``reverse=True`` runs the sequence from its last step to its first (the backward
direction of a bidirectional layer) without flipping any array.

Gate orders follow torch: LSTM (i, f, g, o); GRU (r, z, n) with n = tanh(x_n + r ⊙ (W_hn h + b_hn)).
An LSTM with projections (torch's ``proj_size``) feeds back h_t = (o_t ⊙ tanh(c_t)) W_hrᵀ.
Each op returns the hidden state of every step, (T, B, H), and the final state(s), (B, H); the
final states are outputs of their own with their own gradients.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from neuralab.compiled import load
from neuralab.ops.matmul import linear, pmatmul
from neuralab.ops.shape import unsqueeze
from neuralab.parallel import parallel_for, serial_section
from neuralab.tensor import Tensor, is_grad_enabled, make_several

__all__ = [
    "gru_cell", "gru_recurrence", "lstm_cell", "lstm_recurrence", "rnn_recurrence", "rnn_relu_cell",
    "rnn_tanh_cell",
]  # fmt: skip

Saved = dict[str, np.ndarray]

# Up to this many batch rows, each step's hidden product reads W_hh as stored (h @ W_hhᵀ by
# BLAS's transposed operand); above, from a contiguous copy of W_hhᵀ made once per sequence.
# OpenBLAS, one thread, 128 → 512: 1 row 2.3 µs a step stored against 4.3 from the copy, 2 rows
# 2.9 against 3.7, 4 rows 36 against 4.6 (its small-matrix kernels cover only the copy's
# layout); and the copy itself costs ~40 µs, a tenth of a character model's batch-1 forward.
STORED_ROWS = 2


def _sigmoid_(x: np.ndarray) -> None:
    """σ(x) = ½ + ½·tanh(x/2) in place: NumPy's vectorised tanh beats scipy's expit several-fold."""
    x *= 0.5
    np.tanh(x, out=x)
    x *= 0.5
    x += 0.5


class _Simple:
    """Elman cell: h = act(x_t + h W_hhᵀ + b_hh), act tanh or relu."""

    gates = 1
    has_cell = False
    separate_hidden_grad = False
    sequence = None  # no compiled whole-sequence loop (see _LSTM)

    def __init__(self, nonlinearity: str) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"rnn_recurrence: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}"
            )
        self.relu = nonlinearity == "relu"

    def allocate(self, slots: int, batch: int, hidden: int, dtype: np.dtype) -> Saved:
        return {}

    def step(self, s: Saved, t: int, xg, hh, b, h_prev, c_prev, h_out) -> None:
        np.add(xg, hh, out=h_out)
        if b is not None:
            h_out += b
        if self.relu:
            np.maximum(h_out, 0, out=h_out)
        else:
            np.tanh(h_out, out=h_out)

    def step_back(self, s: Saved, t: int, dh, g_t, dc, h_prev, c_prev, h, gx, gh) -> tuple:
        np.multiply(dh + g_t, (h > 0) if self.relu else 1 - h * h, out=gx)
        return None, None


class _LSTM:
    """LSTM cell: gates (i, f, g, o); c = f⊙c + i⊙g, h = o⊙tanh(c).

    For float32 with numba installed, each step's gate math is one compiled pass
    (:mod:`neuralab.compiled.rnn_cell`), and with NumPy's OpenBLAS reachable from compiled code
    the whole sequence is one compiled loop per range of batch rows (``run``, ``run_back``;
    :mod:`neuralab.compiled.rnn_sequence`). Otherwise NumPy runs it, all four gates through one tanh
    call: σ(x) = ½ + ½·tanh(x/2), so the sigmoid gates are scaled by ½ before and after (NumPy's
    float32 tanh is vectorised; a separate sigmoid costs several times more). That path also
    saves every gate's derivative (σ' = ¼(1 - t²), tanh' = 1 - t²), so its backward is one
    multiply per gate.
    """

    gates = 4
    has_cell = True
    separate_hidden_grad = False

    def allocate(self, slots: int, batch: int, hidden: int, dtype: np.dtype) -> Saved:
        def per_gate(sigmoid: float, tanh: float) -> np.ndarray:
            return np.repeat(np.array([sigmoid, sigmoid, tanh, sigmoid], dtype), hidden)

        self.scale, self.shift, self.slope = per_gate(0.5, 1), per_gate(0.5, 0), per_gate(0.25, 1)
        self.kernels = load("neuralab.compiled.rnn_cell") if dtype == np.float32 else None
        self.sequence = load("neuralab.compiled.rnn_sequence") if self.kernels else None
        saved = {
            "act": np.empty((slots, batch, 4 * hidden), dtype),
            "c": np.empty((slots, batch, hidden), dtype),
            "tanh_c": np.empty((slots, batch, hidden), dtype),
        }
        if self.kernels is None:
            saved["d_act"] = np.empty((slots, batch, 4 * hidden), dtype)
        else:
            self.no_bias = np.zeros(4 * hidden, dtype)
        return saved

    def run(self, s: Saved, order, keep, xg, h0, c0, w, stored, b, out, hh, lo, hi) -> None:
        bias = self.no_bias if b is None else b
        saved = (s["act"], s["c"], s["tanh_c"])
        self.sequence.lstm_forward(
            order, keep, xg, h0, c0, w, stored, bias, self.scale, self.shift, *saved, out, hh,
            lo, hi,
        )  # fmt: skip

    def run_back(self, s: Saved, order, g_out, h0, c0, out, w, gx, gh, dh, dc, spare, lo, hi):
        act, tanh_c, c = s["act"], s["tanh_c"], s["c"]
        self.sequence.lstm_backward(order, g_out, act, tanh_c, c, c0, w, gx, dh, dc, spare, lo, hi)

    def step(self, s: Saved, t: int, xg, hh, b, h_prev, c_prev, h_out) -> np.ndarray:
        a, c, tanh_c = s["act"][t], s["c"][t], s["tanh_c"][t]
        if self.kernels is not None:
            bias = self.no_bias if b is None else b
            self.kernels.forward_step(
                xg, hh, bias, self.scale, self.shift, c_prev, a, c, tanh_c, h_out
            )
            return c
        n = h_out.shape[-1]
        d = s["d_act"][t]
        np.add(xg, hh, out=a)
        if b is not None:
            a += b
        a *= self.scale
        np.tanh(a, out=a)
        np.multiply(a, a, out=d)
        np.subtract(1, d, out=d)
        d *= self.slope
        a *= self.scale
        a += self.shift
        i, f, g, o = a[:, :n], a[:, n : 2 * n], a[:, 2 * n : 3 * n], a[:, 3 * n :]
        np.multiply(f, c_prev, out=c)
        c += i * g
        np.tanh(c, out=tanh_c)
        np.multiply(o, tanh_c, out=h_out)
        return c

    def step_back(self, s: Saved, t: int, dh, g_t, dc, h_prev, c_prev, h, gx, gh) -> tuple:
        a, tc = s["act"][t], s["tanh_c"][t]
        if self.kernels is not None:
            dc_prev = np.empty_like(tc)
            self.kernels.backward_step(dh, g_t, dc, a, tc, c_prev, gx, dc_prev)
            return None, dc_prev
        n = h.shape[-1]
        dh = dh + g_t
        i, f, g, o = a[:, :n], a[:, n : 2 * n], a[:, 2 * n : 3 * n], a[:, 3 * n :]
        dc_h = tc * tc
        np.subtract(1, dc_h, out=dc_h)
        dc_h *= o
        dc_h *= dh
        dc = np.add(dc, dc_h, out=dc_h)
        np.multiply(dc, g, out=gx[:, :n])
        np.multiply(dc, c_prev, out=gx[:, n : 2 * n])
        np.multiply(dc, i, out=gx[:, 2 * n : 3 * n])
        np.multiply(dh, tc, out=gx[:, 3 * n :])
        gx *= s["d_act"][t]
        return None, dc * f


class _ProjectedLSTM(_LSTM):
    """LSTM with projections (torch's ``proj_size``): the cell's m = o⊙tanh(c), (B, H), becomes
    the hidden state h = m W_hrᵀ, (B, P), which the next step's hidden product reads.

    Runs step by step (the compiled per-step gate math when there, never the whole-sequence
    kernel, which knows no projection). Saves every step's m, and in the backward every step's
    dL/dh, so dW_hr is one GEMM over all steps (:meth:`projection_grad`).
    """

    def __init__(self, w_hr: np.ndarray) -> None:
        self.w_hr = w_hr

    def allocate(self, slots: int, batch: int, hidden: int, dtype: np.dtype) -> Saved:
        saved = super().allocate(slots, batch, hidden, dtype)
        self.sequence = None
        # m is no output of the op: the gate math gets zeros as its own output gradient
        self.zero_grad_m = np.zeros((batch, hidden), dtype)
        saved["m"] = np.empty((slots, batch, hidden), dtype)
        saved["dh"] = np.empty((slots, batch, self.w_hr.shape[0]), dtype)
        return saved

    def step(self, s: Saved, t: int, xg, hh, b, h_prev, c_prev, h_out) -> np.ndarray:
        m = s["m"][t]
        c = super().step(s, t, xg, hh, b, h_prev, c_prev, m)
        np.matmul(m, self.w_hr.T, out=h_out)
        return c

    def step_back(self, s: Saved, t: int, dh, g_t, dc, h_prev, c_prev, h, gx, gh) -> tuple:
        e = np.add(dh, g_t, out=s["dh"][t])  # dL/dh_t, (B, P)
        dm = e @ self.w_hr  # dL/dm, also standing in for m (only its width is read)
        return super().step_back(s, t, dm, self.zero_grad_m, dc, h_prev, c_prev, dm, gx, gh)

    def projection_grad(self, s: Saved) -> np.ndarray:
        """dL/dW_hr: every step's dL/dh times the m it projected."""
        dh, m = s["dh"], s["m"]
        return pmatmul(dh.reshape(-1, dh.shape[-1]).T, m.reshape(-1, m.shape[-1]))


class _GRU:
    """GRU cell: r, z = σ(x + W_h h + b_h); n = tanh(x_n + r⊙(W_hn h + b_hn)); h = (1-z)⊙n + z⊙h.

    For float32 with numba installed, each step's gate math, or the whole sequence, is compiled
    as for LSTM.
    """

    gates = 3
    has_cell = False
    separate_hidden_grad = True  # the n gate's hidden part is scaled by r, its input part is not

    def allocate(self, slots: int, batch: int, hidden: int, dtype: np.dtype) -> Saved:
        self.kernels = load("neuralab.compiled.rnn_cell") if dtype == np.float32 else None
        self.sequence = load("neuralab.compiled.rnn_sequence") if self.kernels else None
        self.no_bias = np.zeros(3 * hidden, dtype)
        return {
            "act": np.empty((slots, batch, 3 * hidden), dtype),
            "hn": np.empty((slots, batch, hidden), dtype),
        }

    def run(self, s: Saved, order, keep, xg, h0, c0, w, stored, b, out, hh, lo, hi) -> None:
        bias = self.no_bias if b is None else b
        self.sequence.gru_forward(
            order, keep, xg, h0, w, stored, bias, s["act"], s["hn"], out, hh, lo, hi
        )

    def run_back(self, s: Saved, order, g_out, h0, c0, out, w, gx, gh, dh, dc, spare, lo, hi):
        act, hn = s["act"], s["hn"]
        self.sequence.gru_backward(order, g_out, act, hn, out, h0, w, gx, gh, dh, spare, lo, hi)

    def step(self, s: Saved, t: int, xg, hh, b, h_prev, c_prev, h_out) -> None:
        n2 = 2 * h_out.shape[-1]
        a = s["act"][t]
        if self.kernels is not None:
            bias = self.no_bias if b is None else b
            self.kernels.gru_forward_step(xg, hh, bias, h_prev, a, s["hn"][t], h_out)
            return
        if b is not None:
            hh += b
        np.add(xg[:, :n2], hh[:, :n2], out=a[:, :n2])
        _sigmoid_(a[:, :n2])
        r, z, new = a[:, : n2 // 2], a[:, n2 // 2 : n2], a[:, n2:]
        s["hn"][t] = hh[:, n2:]
        np.multiply(r, hh[:, n2:], out=new)
        new += xg[:, n2:]
        np.tanh(new, out=new)
        np.subtract(h_prev, new, out=h_out)
        h_out *= z
        h_out += new

    def step_back(self, s: Saved, t: int, dh, g_t, dc, h_prev, c_prev, h, gx, gh) -> tuple:
        n = h.shape[-1]
        a, hn = s["act"][t], s["hn"][t]
        if self.kernels is not None:
            direct = np.empty_like(h)
            self.kernels.gru_backward_step(dh, g_t, a, hn, h_prev, gx, gh, direct)
            return direct, None
        dh = dh + g_t
        r, z, new = a[:, :n], a[:, n : 2 * n], a[:, 2 * n :]
        np.multiply(dh * (1 - z), 1 - new * new, out=gx[:, 2 * n :])
        np.multiply(gx[:, 2 * n :], r, out=gh[:, 2 * n :])
        np.multiply(gx[:, 2 * n :] * hn, r * (1 - r), out=gx[:, :n])
        np.multiply(dh * (h_prev - new), z * (1 - z), out=gx[:, n : 2 * n])
        gh[:, : 2 * n] = gx[:, : 2 * n]
        return dh * z, None


Cell = _Simple | _LSTM | _ProjectedLSTM | _GRU


def _check(
    op: str, cell: Cell, xg: Tensor, h0: Tensor, c0: Tensor | None, w: Tensor, b: Tensor | None,
    w_hr: Tensor | None = None,
) -> None:  # fmt: skip
    """Raise a ValueError/TypeError naming the shapes or dtypes that do not fit together."""
    projected = w_hr is not None and c0 is not None  # an LSTM with projections: H from c0
    ranked = [("gates_x", xg, 3), ("h0", h0, 2), ("weight_hh", w, 2)]
    ranked += [("c0", c0, 2), ("weight_hr", w_hr, 2)] if projected else []
    if any(t.ndim != rank for _, t, rank in ranked):
        layout = f"gates_x (T, B, {cell.gates}·H), h0 (B, H), weight_hh ({cell.gates}·H, H)"
        if projected:
            layout = (
                "gates_x (T, B, 4·H), h0 (B, P), c0 (B, H), weight_hh (4·H, P), weight_hr (P, H)"
            )
        got = ", ".join(f"{name} {t.shape}" for name, t, _ in ranked)
        raise ValueError(f"{op}: expected {layout}, got {got}")
    steps, batch = xg.shape[:2]
    size = h0.shape[1]  # the hidden state's width: H, or P with a projection
    hidden = c0.shape[1] if projected else size
    expected = {"gates_x": (batch, cell.gates * hidden), "weight_hh": (cell.gates * hidden, size)}
    got = {"gates_x": xg.shape[1:], "weight_hh": w.shape}
    if w_hr is not None:
        expected["weight_hr"], got["weight_hr"] = (size, hidden), w_hr.shape
    if b is not None:
        expected["bias_hh"], got["bias_hh"] = (cell.gates * hidden,), b.shape
    if c0 is not None:
        expected["c0"], got["c0"] = (batch, hidden), c0.shape
    bad = [f"{k} {got[k]} (expected {v})" for k, v in expected.items() if got[k] != v]
    if bad or steps == 0:
        sizes = f"B={batch}, H={hidden}" + ("" if w_hr is None else f", P={size}")
        raise ValueError(
            f"{op}: with h0 of shape {h0.shape} ({sizes}) and {steps} time steps: "
            + ("; ".join(bad) if bad else "the sequence must have at least one time step")
        )
    tensors = [t for t in (xg, h0, c0, w, b, w_hr) if t is not None]
    dtypes = {t._data.dtype for t in tensors}
    if len(dtypes) != 1 or xg._data.dtype.kind != "f":
        raise TypeError(
            f"{op}: all inputs must share one floating dtype, got {[str(t.dtype) for t in tensors]}"
        )


class _Pass:
    """One recurrence's arrays and loops: the forward over every step, then (when the graph is
    recorded) backpropagation through time over the same saved values."""

    def __init__(
        self, cell: Cell, xg: np.ndarray, h0: np.ndarray, c0: np.ndarray | None, w: np.ndarray,
        b: np.ndarray | None, reverse: bool, keep: bool,
    ) -> None:  # fmt: skip
        steps, batch, width = xg.shape
        hidden = h0.shape[1]  # the hidden state's width (the cell's, H, unless projected)
        self.cell, self.w, self.b, self.reverse, self.keep = cell, w, b, reverse, keep
        self.order = range(steps - 1, -1, -1) if reverse else range(steps)
        self.out = np.empty((steps, batch, hidden), xg.dtype)
        # Without a backward to feed, two slots alternate: a step never writes the cell state it
        # reads (the compiled kernel vectorises only when they are different arrays).
        self.saved = cell.allocate(steps if keep else 2, batch, width // cell.gates, xg.dtype)
        self.work = steps * batch * hidden * width  # multiply-adds of the hidden products
        if cell.sequence is not None:  # compiled: contiguous arrays, the steps as an array
            self.steps_run = np.arange(steps - 1, -1, -1) if reverse else np.arange(steps)
            xg, h0 = np.ascontiguousarray(xg), np.ascontiguousarray(h0)
            c0 = None if c0 is None else np.ascontiguousarray(c0)
        self.xg, self.h0, self.c0 = xg, h0, c0

    def forward(self) -> list[np.ndarray]:
        """Run every step into ``out``; returns copies of the final h (and c)."""
        cell, saved, out, order, keep = self.cell, self.saved, self.out, self.order, self.keep
        batch = self.xg.shape[1]
        stored = batch <= STORED_ROWS
        w = np.ascontiguousarray(self.w if stored else self.w.T)
        hh = np.empty((batch, self.xg.shape[2]), self.xg.dtype)
        h, c = self.h0, self.c0
        if cell.sequence is not None:  # all steps per range of rows, rows over threads

            def rows(lo: int, hi: int) -> None:
                cell.run(saved, self.steps_run, keep, self.xg, h, c, w, stored, self.b, out, hh,
                         lo, hi)  # fmt: skip

            parallel_for(batch, rows, self.work)
            last = order[-1]
            h = out[last]
            c = None if c is None else saved["c"][last if keep else (len(order) - 1) % 2]
        else:
            with serial_section():  # per step GEMMs too small to split over threads
                for t in order:
                    np.matmul(h, w.T if stored else w, out=hh)
                    c = cell.step(saved, t if keep else t % 2, self.xg[t], hh, self.b, h, c, out[t])
                    h = out[t]
        return [h.copy()] if c is None else [h.copy(), c.copy()]

    def backward(self, g_out: np.ndarray, dh: np.ndarray, dc: np.ndarray | None) -> tuple:
        """(gx, gh, dL/dh0, dL/dc0) from the outputs' gradient and the final states' (dh, dc):
        gx the input-side, gh the hidden-side pre-activation gradients of every step."""
        xg = self.xg
        gx = np.empty_like(xg)
        gh = np.empty_like(xg) if self.cell.separate_hidden_grad else gx
        carried = np.empty(dh.shape, xg.dtype)  # dL/dh from the next step, each step anew
        if self.cell.sequence is not None:
            dh, dc = self._backward_compiled(g_out, dh, dc, gx, gh, carried)
        else:
            dh, dc = self._backward_steps(g_out, dh, dc, gx, gh, carried)
        return gx, gh, dh, dc

    def _backward_compiled(self, g_out, dh, dc, gx, gh, carried) -> tuple:  # noqa: ANN001
        """All steps backward per range of rows in compiled code, rows over threads."""
        batch, hidden = dh.shape
        g_steps = g_out if 0 not in g_out.strides else np.zeros((1, batch, hidden), g_out.dtype)
        dh = np.array(dh)  # updated in place to dL/dh0 (and dc to dL/dc0)
        dc = None if dc is None else np.array(dc)
        w_c = np.ascontiguousarray(self.w)
        saved, cell, order, out, h0, c0 = (
            self.saved, self.cell, self.steps_run, self.out, self.h0, self.c0
        )  # fmt: skip

        def rows(lo: int, hi: int) -> None:
            cell.run_back(saved, order, g_steps, h0, c0, out, w_c, gx, gh, dh, dc, carried, lo, hi)

        parallel_for(batch, rows, self.work)
        return dh, dc

    def _backward_steps(self, g_out, dh, dc, gx, gh, carried) -> tuple:  # noqa: ANN001
        """Backward one step at a time in NumPy (and the compiled cell when there)."""
        steps = len(self.order)
        with serial_section():
            for t in reversed(self.order):
                p = t + 1 if self.reverse else t - 1  # the step processed just before t
                first = not 0 <= p < steps
                h_prev = self.h0 if first else self.out[p]
                c_prev = None if self.c0 is None else (self.c0 if first else self.saved["c"][p])
                direct, dc = self.cell.step_back(
                    self.saved, t, dh, g_out[t], dc, h_prev, c_prev, self.out[t], gx[t], gh[t]
                )
                dh = np.matmul(gh[t], self.w, out=carried)  # the cell is done reading old dh
                if direct is not None:
                    dh += direct
        return dh, dc

    def weight_grad(self, gh: np.ndarray) -> np.ndarray:
        """dL/dW_hh: every step's hidden-side gradient times the hidden state it read."""
        first, out = self.h0[None], self.out
        h_prev = np.concatenate([out[1:], first] if self.reverse else [first, out[:-1]])
        return pmatmul(gh.reshape(-1, gh.shape[-1]).T, h_prev.reshape(-1, h_prev.shape[-1]))


def _recurrence(
    op: str,
    cell: Cell,
    gates_x: Tensor,
    h0: Tensor,
    c0: Tensor | None,
    weight_hh: Tensor,
    bias_hh: Tensor | None,
    reverse: bool,
    weight_hr: Tensor | None = None,
) -> tuple[Tensor, ...]:
    """Run ``cell`` over the sequence; returns (output, h_n) or (output, h_n, c_n).
    ``weight_hr`` is the projection of a ``_ProjectedLSTM`` cell (None for every other)."""
    _check(op, cell, gates_x, h0, c0, weight_hh, bias_hh, weight_hr)
    parents = tuple(t for t in (gates_x, h0, c0, weight_hh, bias_hh, weight_hr) if t is not None)
    keep = is_grad_enabled() and any(p.requires_grad for p in parents)
    run = _Pass(
        cell, gates_x._data, h0._data, None if c0 is None else c0._data, weight_hh._data,
        None if bias_hh is None else bias_hh._data, reverse, keep,
    )  # fmt: skip
    finals = run.forward()

    def backward(grads: list) -> tuple:
        g_out, *g_finals = grads
        # batch_first hands the gradient over transposed: read step by step, contiguous is
        # faster (the compiled cell vectorises only over contiguous rows). A broadcast zero
        # (only the final states used) stays as it is: it would cost a whole sequence of memory.
        if g_out is None:
            g_out = np.broadcast_to(np.zeros((), run.out.dtype), run.out.shape)
        elif 0 not in g_out.strides and not g_out.flags.c_contiguous:
            g_out = np.ascontiguousarray(g_out)
        # a final state the loss never used: zeros of its own shape (h is P wide if projected)
        dh, *dc = [np.zeros_like(f) if g is None else g for f, g in zip(finals, g_finals)]
        dc = dc[0] if dc else None
        gx, gh, dh, dc = run.backward(g_out, dh, dc)
        grads = [gx, dh] + ([] if c0 is None else [dc])
        grads.append(run.weight_grad(gh) if weight_hh.requires_grad else None)
        if bias_hh is not None:
            grads.append(gh.reshape(-1, gh.shape[-1]).sum(axis=0))
        if weight_hr is not None:
            grads.append(cell.projection_grad(run.saved) if weight_hr.requires_grad else None)
        return tuple(grads)

    return make_several([run.out, *finals], parents, backward)


def rnn_recurrence(
    gates_x: Tensor,
    h0: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """Elman RNN layer h_t = act(gates_x[t] + h_{t-1} W_hhᵀ + b_hh): returns (output, h_n)."""
    cell = _Simple(nonlinearity)
    return _recurrence("rnn_recurrence", cell, gates_x, h0, None, weight_hh, bias_hh, reverse)


def lstm_recurrence(
    gates_x: Tensor,
    h0: Tensor,
    c0: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None = None,
    reverse: bool = False,
    weight_hr: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """LSTM layer over precomputed input gates (i, f, g, o): returns (output, h_n, c_n).

    With ``weight_hr`` (P, H) the LSTM has projections (torch's ``proj_size``): h_t =
    (o⊙tanh(c_t)) W_hrᵀ, so h0, h_n and the output have width P and ``weight_hh`` is (4H, P).
    """
    cell = _LSTM() if weight_hr is None else _ProjectedLSTM(weight_hr._data)
    args = (gates_x, h0, c0, weight_hh, bias_hh, reverse, weight_hr)
    return _recurrence("lstm_recurrence", cell, *args)


def gru_recurrence(
    gates_x: Tensor,
    h0: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """GRU layer over precomputed input gates (r, z, n): returns (output, h_n)."""
    return _recurrence("gru_recurrence", _GRU(), gates_x, h0, None, weight_hh, bias_hh, reverse)


# ----------------------------------------------------------------------------- one step
# torch's top-level cell functions: one step of (B, I) input from (B, H) states, the weights
# given (nn.RNNCell and its kin hold them)


def _step(
    op: str, recurrence: Callable, input: Tensor, states: list[Tensor], w_ih: Tensor,
    w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None, **options: Any,
) -> list[Tensor]:  # fmt: skip
    """The final states after one step of ``recurrence`` (input projected by w_ih and b_ih)."""
    if input.ndim != 2 or any(s.ndim != 2 for s in states):
        got = ", ".join(str(t.shape) for t in (input, *states))
        raise ValueError(f"{op}: expected input (B, I) and states (B, H), got shapes {got}")
    gates_x = unsqueeze(linear(input, w_ih, b_ih), 0)
    return recurrence(gates_x, *states, w_hh, b_hh, **options)[1:]


def rnn_tanh_cell(
    input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:  # fmt: skip
    """torch.rnn_tanh_cell: h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)."""
    return _step("rnn_tanh_cell", rnn_recurrence, input, [hx], w_ih, w_hh, b_ih, b_hh)[0]


def rnn_relu_cell(
    input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:  # fmt: skip
    """torch.rnn_relu_cell: h' = relu(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)."""
    args = (input, [hx], w_ih, w_hh, b_ih, b_hh)
    return _step("rnn_relu_cell", rnn_recurrence, *args, nonlinearity="relu")[0]


def gru_cell(
    input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:  # fmt: skip
    """torch.gru_cell: one GRU step, gates (r, z, n) as in :func:`gru_recurrence`."""
    return _step("gru_cell", gru_recurrence, input, [hx], w_ih, w_hh, b_ih, b_hh)[0]


def lstm_cell(
    input: Tensor, hx: Sequence[Tensor], w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:  # fmt: skip
    """torch.lstm_cell: one LSTM step from ``hx`` = (h, c) to (h', c'), gates (i, f, g, o)."""
    if len(hx) != 2:
        raise ValueError(f"lstm_cell: expects two hidden states (h, c), got {len(hx)}")
    h, c = _step("lstm_cell", lstm_recurrence, input, list(hx), w_ih, w_hh, b_ih, b_hh)
    return h, c
