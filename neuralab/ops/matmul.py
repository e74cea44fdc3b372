"""Matrix products: batched, broadcasting matmul and the fused linear layer (x @ W.T + b)."""

from __future__ import annotations

import numpy as np

from neuralab.ops._util import unbroadcast
from neuralab.ops.embedding import project_embedded
from neuralab.parallel import BLAS_THREADING_WORK, blas_may_thread, parallel_for
from neuralab.tensor import Tensor, make

# A GEMM is split only into chunks of at least GEMM_SPLIT_FACTOR times the usual chunk work
# (about 8 million multiply-adds): smaller products ran slower split (an MLP step on
# 784-256-128-10 with its 4-million products split was 30% slower), larger ones gain (its
# 26-million first layer: 0.95 → 0.81 ms per step on two threads).
GEMM_SPLIT_FACTOR = 8


def pmatmul(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``np.matmul(x, y)`` in neuralab's threading: BLAS's own threads when
    :func:`~neuralab.parallel.blas_may_thread` says so; otherwise split over the result's first
    axis when big (when ``x``, and for a stacked product ``y``, runs along that axis), with BLAS
    single-threaded in the chunks (see :mod:`neuralab.parallel`).
    """
    work = x.size * y.shape[-1]  # multiply-adds (an upper bound for vectors) ...
    if y.ndim > 2:  # ... unless y's leading axes outnumber x's
        work = max(work, y.size * (x.shape[-2] if x.ndim > 1 else 1))
    if work < BLAS_THREADING_WORK or blas_may_thread():  # small, or BLAS's threads split it
        return x.dot(y) if x.ndim == 2 and y.ndim == 2 else np.matmul(x, y)  # dot: less dispatch
    rows = x.shape[-2] if x.ndim > 1 else 1
    lead = np.broadcast_shapes(x.shape[:-2], y.shape[:-2])
    cols = y.shape[-1] if y.ndim > 1 else 1
    shape = (*lead, rows, cols)
    if x.ndim < 2 or y.ndim < 2 or x.ndim != len(shape) or x.shape[0] != shape[0]:
        whole: list[np.ndarray] = []
        parallel_for(1, lambda lo, hi: whole.append(np.matmul(x, y)), work)
        return whole[0]
    stacked = len(shape) > 2 and y.ndim == len(shape) and y.shape[0] == shape[0]
    out = np.empty(shape, np.result_type(x, y))

    def chunk(lo: int, hi: int) -> None:
        np.matmul(x[lo:hi], y[lo:hi] if stacked else y, out=out[lo:hi])

    parallel_for(shape[0], chunk, work, grain=GEMM_SPLIT_FACTOR)
    return out


def _shape_error(op: str, a: np.ndarray, b: np.ndarray) -> ValueError:
    return ValueError(
        f"{op}: shapes {a.shape} @ {b.shape} do not align: the first's last dimension "
        f"({a.shape[-1] if a.ndim else '-'}) must equal the second's "
        f"{'first' if b.ndim == 1 else 'second-to-last'} dimension "
        f"({b.shape[0 if b.ndim == 1 else -2] if b.ndim else '-'})"
    )


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """a @ b with NumPy's rules: 1-D operands are vectors, leading dimensions broadcast."""
    from neuralab.ops.elementwise import coerce

    a, b = coerce(a, b)
    x, y = a.data, b.data
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(
            f"matmul: both operands need at least 1 dimension, got {x.shape} @ {y.shape}"
        )
    if x.shape[-1] != y.shape[0 if y.ndim == 1 else -2]:
        raise _shape_error("matmul", x, y)
    out = pmatmul(x, y)

    def backward(g: np.ndarray) -> tuple:
        # Promote vectors to matrices so one rule covers every case, then undo.
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        g2 = g
        if y.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        if x.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        ga = gb = None
        if a.requires_grad:
            ga = pmatmul(g2, np.swapaxes(y2, -1, -2))
            ga = unbroadcast(ga, x2.shape).reshape(x.shape)
        if b.requires_grad:
            gb = pmatmul(np.swapaxes(x2, -1, -2), g2)
            gb = unbroadcast(gb, y2.shape).reshape(y.shape)
        return ga, gb

    return make(out, (a, b), backward)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b over the last dimension of x (W is (out_features, in_features))."""
    x, w = input.data, weight.data
    if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not fit weight of shape {w.shape} "
            f"(the input's last dimension must be in_features={w.shape[-1]})"
        )
    fused = project_embedded(input, weight, bias)  # an embedding's output: from its table
    if fused is not None:
        return fused
    lead = x.shape[:-1]
    x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x  # one 2-D GEMM, not one per batch
    # every product of a linear layer has rows·in·out multiply-adds: small ones skip pmatmul and
    # take ndarray.dot, the same BLAS call as np.matmul for 2-D operands (the same bits) without
    # its ~0.5 µs of ufunc dispatch, a tenth of a small layer's step
    mm = np.ndarray.dot if x2.shape[0] * w.size < BLAS_THREADING_WORK else pmatmul
    out = mm(x2, w.T)
    if bias is not None:
        out += bias.data
    if x.ndim != 2:
        out = out.reshape(*lead, w.shape[0])
    parents = (input, weight) if bias is None else (input, weight, bias)

    def backward(g: np.ndarray) -> tuple:
        g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
        gx = mm(g2, w).reshape(x.shape) if input.requires_grad else None
        gw = mm(g2.T, x2) if weight.requires_grad else None
        if bias is None:
            return gx, gw
        return gx, gw, (np.add.reduce(g2, 0) if bias.requires_grad else None)

    return make(out, parents, backward)
