"""Whole LSTM and GRU recurrences compiled by numba: every time step of a layer, forward or
backward, for a range of batch rows, in one call that does not hold the GIL.

Imported only through :func:`neuralab.compiled.load`; raises ImportError (so the per-step path
of :mod:`neuralab.ops.recurrent` runs) when NumPy's BLAS is not an OpenBLAS whose
``cblas_sgemm`` compiled code can call. Float32, C-contiguous arrays only.

Each step's hidden product is that same OpenBLAS sgemm (the bits of NumPy's matmul), called on
:data:`ROWS` batch rows at a time, followed by the cell's gate kernel on those rows while they
are in cache. OpenBLAS's small-matrix kernels run an 8×128 @ 128×512 product at ~190 GFLOP/s
here, the whole 32-row one at ~150. Batch rows never mix in a recurrence, so neuralab's thread
pool hands each thread a range of rows for the whole sequence: no per-step hand-off, and no GIL
(Python threads stepping in lockstep were bound by it).
"""

import numba

from neuralab.compiled.blas import product as _product
from neuralab.compiled.blas import product_nt as _product_nt
from neuralab.compiled.rnn_cell import (
    backward_step,
    forward_step,
    gru_backward_step,
    gru_forward_step,
)

ROWS = 8  # rows per product: OpenBLAS's small-matrix kernels (measured 4-32: 8 was fastest)


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _hidden(h_prev, w, stored, out):  # noqa: ANN001, ANN201
    """out = h_prev @ W_hhᵀ, ``w`` being W_hh as stored (G·H, H) when ``stored``, else its
    C-contiguous transpose (H, G·H): each suits a different number of rows (see
    :data:`neuralab.ops.recurrent.STORED_ROWS`)."""
    if stored:
        _product_nt(h_prev, w, out, 0.0)
    else:
        _product(h_prev, w, out, 0.0)


@numba.njit(nogil=True, cache=True, error_model="numpy")
def lstm_forward(
    order, keep, xg, h0, c0, w, stored, bias, scale, shift, act, c, tanh_c, out, hh, lo, hi
):  # noqa: ANN001, ANN201
    """LSTM steps ``order`` for batch rows [lo, hi): hh = h_prev @ W_hhᵀ (``w`` and ``stored``
    as in :func:`_hidden`), then the gate kernel.
    Saved arrays (act, c, tanh_c) are indexed by step when ``keep``, else by two alternating
    slots; ``hh`` (B, 4H) is scratch."""
    for k in range(order.shape[0]):
        t = order[k]
        s = t if keep else k % 2
        for r0 in range(lo, hi, ROWS):
            r1 = min(r0 + ROWS, hi)
            if k == 0:
                h_prev, c_prev = h0[r0:r1], c0[r0:r1]
            else:
                p = order[k - 1]
                h_prev, c_prev = out[p][r0:r1], c[p if keep else (k - 1) % 2][r0:r1]
            rows = hh[r0:r1]
            _hidden(h_prev, w, stored, rows)
            forward_step(
                xg[t][r0:r1], rows, bias, scale, shift, c_prev,
                act[s][r0:r1], c[s][r0:r1], tanh_c[s][r0:r1], out[t][r0:r1],
            )  # fmt: skip


@numba.njit(nogil=True, cache=True, error_model="numpy")
def lstm_backward(order, g_out, act, tanh_c, c, c0, w, gx, dh, dc, spare, lo, hi):  # noqa: ANN001, ANN201
    """Back through the LSTM steps ``order`` for rows [lo, hi). ``dh``, ``dc`` (B, H) hold the
    final states' gradients on entry and dL/dh0, dL/dc0 on return; ``gx`` receives every
    step's pre-activation gradients; ``g_out`` is (T, B, H), or (1, B, H) zeros for all steps;
    ``spare`` (B, H) is scratch."""
    for k in range(order.shape[0] - 1, -1, -1):
        t = order[k]
        g_t = g_out[t] if g_out.shape[0] > 1 else g_out[0]
        for r0 in range(lo, hi, ROWS):
            r1 = min(r0 + ROWS, hi)
            c_prev = c0[r0:r1] if k == 0 else c[order[k - 1]][r0:r1]
            gates = gx[t][r0:r1]
            backward_step(
                dh[r0:r1], g_t[r0:r1], dc[r0:r1], act[t][r0:r1], tanh_c[t][r0:r1], c_prev,
                gates, spare[r0:r1],
            )  # fmt: skip
            _product(gates, w, dh[r0:r1], 0.0)
            dc[r0:r1] = spare[r0:r1]


@numba.njit(nogil=True, cache=True, error_model="numpy")
def gru_forward(order, keep, xg, h0, w, stored, bias, act, hn, out, hh, lo, hi):  # noqa: ANN001, ANN201
    """GRU steps ``order`` for batch rows [lo, hi), as :func:`lstm_forward` (saved: act, hn)."""
    for k in range(order.shape[0]):
        t = order[k]
        s = t if keep else k % 2
        for r0 in range(lo, hi, ROWS):
            r1 = min(r0 + ROWS, hi)
            h_prev = h0[r0:r1] if k == 0 else out[order[k - 1]][r0:r1]
            rows = hh[r0:r1]
            _hidden(h_prev, w, stored, rows)
            gru_forward_step(
                xg[t][r0:r1], rows, bias, h_prev, act[s][r0:r1], hn[s][r0:r1], out[t][r0:r1]
            )


@numba.njit(nogil=True, cache=True, error_model="numpy")
def gru_backward(order, g_out, act, hn, out, h0, w, gx, gh, dh, direct, lo, hi):  # noqa: ANN001, ANN201
    """Back through the GRU steps ``order`` for rows [lo, hi): dh_prev = direct + gh @ w, where
    the kernel writes the direct part e·z; ``gx`` and ``gh`` receive the input- and hidden-side
    pre-activation gradients. ``dh`` as in :func:`lstm_backward`; ``direct`` is scratch."""
    for k in range(order.shape[0] - 1, -1, -1):
        t = order[k]
        g_t = g_out[t] if g_out.shape[0] > 1 else g_out[0]
        for r0 in range(lo, hi, ROWS):
            r1 = min(r0 + ROWS, hi)
            h_prev = h0[r0:r1] if k == 0 else out[order[k - 1]][r0:r1]
            hidden_side = gh[t][r0:r1]
            gru_backward_step(
                dh[r0:r1], g_t[r0:r1], act[t][r0:r1], hn[t][r0:r1], h_prev,
                gx[t][r0:r1], hidden_side, direct[r0:r1],
            )  # fmt: skip
            dh[r0:r1] = direct[r0:r1]
            _product(hidden_side, w, dh[r0:r1], 1.0)
