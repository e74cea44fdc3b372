"""Matrix products: batched, broadcasting matmul and the fused linear layer (x @ W.T + b).

A linear map of an embedding's output, ``embedding(i, E) @ Wᵀ + b``, equals ``(E Wᵀ + b)[i]``:
when the lookups outnumber the table's rows (a character model reads a 65-row table 1,024
times a batch), :func:`project_embedded` computes it from the projected table, and its backward
scatters the output gradient onto the table rows before two small products, instead of two
products over every lookup. ``linear`` and the recurrent layers' input projection use it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext

import numpy as np

from neuralab.compiled import load
from neuralab.ops._util import scatter_add_rows, unbroadcast
from neuralab.ops.embedding import EmbeddingBackward
from neuralab.parallel import (
    BLAS_THREADING_WORK,
    MIN_CHUNK_WORK,
    blas_may_thread,
    get_num_threads,
    parallel_for,
    single_threaded_blas,
    team_parts,
)
from neuralab.tensor import Tensor, make

# A product, single or a stack, is split only into chunks of at least GEMM_SPLIT_FACTOR times
# the usual chunk work (about 8 million multiply-adds): a hand-off to the pool costs 70-140 µs
# here (neuralab.parallel), so smaller products ran slower split (an MLP step on 784-256-128-10
# with its 4-million products split was 30% slower; a stack of 128 attention products of 2.1
# million multiply-adds in all took 94 µs split against 52 on one thread, 4.2 million 167
# against 101, 8.4 million 190 against 197), larger ones gain (16.8 million: 298 against 336;
# the MLP's 26-million first layer: 0.95 → 0.81 ms per step on two threads).
GEMM_SPLIT_FACTOR = 8
# BLAS's own threads only for products of at least 4 million multiply-adds. Measured while
# OpenBLAS's workers still busy-waited ~0.1 s after a threaded call (now ~90 µs, see
# neuralab.parallel): a char-LSTM's 2-million table product, threaded after a pause, slowed the
# recurrence's two row ranges that followed by 14%; an MLP's 4-million products still gain from
# BLAS's threads (8 million here cost that step 17%).
NATIVE_THREADING_WORK = 4 * MIN_CHUNK_WORK


def pmatmul(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``np.matmul(x, y)`` in neuralab's threading: BLAS's own threads for a 2-D product of at
    least :data:`NATIVE_THREADING_WORK` when :func:`~neuralab.parallel.blas_may_thread` says so;
    otherwise split over the result's first axis when big (when ``x``, and for a stacked product
    ``y``, runs along that axis; into chunks of :data:`GEMM_SPLIT_FACTOR` times the usual work),
    with BLAS single-threaded in the chunks (see :mod:`neuralab.parallel`).
    """
    work = x.size * y.shape[-1]  # multiply-adds (an upper bound for vectors) ...
    if y.ndim > 2:  # ... unless y's leading axes outnumber x's
        work = max(work, y.size * (x.shape[-2] if x.ndim > 1 else 1))
    # a stack of small products (attention's heads) splits over the stack, where BLAS would
    # thread each small product, or not at all
    batched = x.ndim > 2 and x.shape[0] > 1
    native = not batched and work >= NATIVE_THREADING_WORK and blas_may_thread()
    if work < BLAS_THREADING_WORK or get_num_threads() == 1:
        return _product(x, y)
    if batched or y.ndim > 2:  # a stack of products: on numba's team when it can
        stacked = _on_team(x, y, work)
        if stacked is not None:
            return stacked
    if native:
        return _product(x, y)
    if work < 2 * GEMM_SPLIT_FACTOR * MIN_CHUNK_WORK:  # one chunk: here, BLAS at one thread
        # (without the chunking's bookkeeping: at two threads it cost a 32×64 @ 64×512 product
        # 7 µs of 28, a 32×128 @ 128×65 one 7 of 5); inside a chunk BLAS is at one thread
        with single_threaded_blas() if blas_may_thread() else nullcontext():
            return _product(x, y)
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


def _on_team(x: np.ndarray, y: np.ndarray, work: int) -> np.ndarray | None:
    """A float32 stack of products (attention's heads) on numba's thread team, one sgemm per
    product as NumPy's matmul (:func:`neuralab.compiled.blas.stacked_product`); None when the
    team or the shapes do not suit (up to two leading axes, matrices at least 2 × 2)."""
    if x.dtype != np.float32 or y.dtype != np.float32 or x.ndim < 2 or y.ndim < 2:
        return None
    lead = np.broadcast_shapes(x.shape[:-2], y.shape[:-2])
    (rows, inner), cols = x.shape[-2:], y.shape[-1]
    count = int(np.prod(lead))
    if len(lead) > 2 or count < 2 or min(rows, inner, cols) < 2:
        return None
    kernels = load("neuralab.compiled.blas")  # (loading numba registers its team)
    parts = min(team_parts(work), count) if kernels is not None else 1
    if parts == 1:
        return None
    a, b = (_stack_of_matrices(z, lead) for z in (x, y))
    out = np.empty((*lead, rows, cols), np.float32)
    out4 = out.reshape(1, -1, rows, cols) if len(lead) == 1 else out
    with single_threaded_blas() if rows * inner * cols >= BLAS_THREADING_WORK else nullcontext():
        kernels.stacked_product(a, b, out4, parts)
    return out


def _stack_of_matrices(z: np.ndarray, lead: tuple[int, ...]) -> np.ndarray:
    """``z`` broadcast to ``lead`` and made 4-D, each matrix readable by BLAS as it is stored
    or transposed (a unit stride on one axis, the other covering a whole row); else a copy."""
    z = np.broadcast_to(z, (*lead, *z.shape[-2:]))
    z = z[None] if len(lead) == 1 else z
    (r, c), (sr, sc) = z.shape[-2:], z.strides[-2:]
    size = z.itemsize
    if not ((sc == size and sr >= c * size) or (sr == size and sc >= r * size)):
        z = np.ascontiguousarray(z)
    return z


def _product(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """One BLAS call: ``ndarray.dot`` for 2-D operands (less dispatch than np.matmul)."""
    return x.dot(y) if x.ndim == 2 and y.ndim == 2 else np.matmul(x, y)


def _shape_error(op: str, a: np.ndarray, b: np.ndarray) -> ValueError:
    return ValueError(
        f"{op}: shapes {a.shape} @ {b.shape} do not align: the first's last dimension "
        f"({a.shape[-1] if a.ndim else '-'}) must equal the second's "
        f"{'first' if b.ndim == 1 else 'second-to-last'} dimension "
        f"({b.shape[0 if b.ndim == 1 else -2] if b.ndim else '-'})"
    )


def check_no_promotion(op: str, x: np.ndarray, w: np.ndarray, names: str) -> None:
    """Raise, as torch does, where NumPy would quietly compute a layer in a wider dtype than its
    weight's: a float64 (or integer) input to a float32 layer, a float64 model output at twice
    the memory and time. A float32 input to a float64 (``.double()``) layer is computed in
    float64: ``torch.tensor`` of a NumPy array gives float64 in torch, float32 here."""
    if x.dtype != w.dtype and (x.dtype.kind != "f" or x.dtype.itemsize > w.dtype.itemsize):
        raise TypeError(
            f"{op}: the {names} must have the same dtype, got {x.dtype} and {w.dtype}; convert "
            f"the {names.split()[0]}, e.g. x.float() for float32 (torch.from_numpy and "
            f"torch.as_tensor keep NumPy's float64)"
        )


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """a @ b with NumPy's rules: 1-D operands are vectors, leading dimensions broadcast."""
    from neuralab.ops.elementwise import coerce

    a, b = coerce(a, b)
    x, y = a._data, b._data
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(
            f"matmul: both operands need at least 1 dimension, got {x.shape} @ {y.shape}"
        )
    if x.shape[-1] != y.shape[0 if y.ndim == 1 else -2]:
        raise _shape_error("matmul", x, y)
    if x.ndim > 2 and y.ndim == 2:
        return _folded_matmul(a, b)
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


def _folded_matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` for a stack ``a`` (..., n, k) and a matrix ``b`` (k, m) as one 2-D product over
    all of a's rows, as torch folds it: NumPy's matmul would call BLAS once per matrix of the
    stack and pack b again each time (batch 32 of 8 rows @ 256 × 1,024: 2.2× slower). The
    gradient of b is one product too, summing over every row at once."""
    x, y = a._data, b._data
    x2 = x.reshape(-1, x.shape[-1])
    out = pmatmul(x2, y).reshape(*x.shape[:-1], y.shape[1])

    def backward(g: np.ndarray) -> tuple:
        g2 = g.reshape(-1, y.shape[1])
        ga = pmatmul(g2, y.T).reshape(x.shape) if a.requires_grad else None
        gb = pmatmul(x2.T, g2) if b.requires_grad else None
        return ga, gb

    return make(out, (a, b), backward)


def _weight_first(rows: int, cols: int, dtype: np.dtype) -> bool:
    """Whether ``x @ Wᵀ`` of ``rows`` × ``cols`` is quicker as ``(W @ xᵀ)ᵀ`` copied into rows.

    OpenBLAS (NumPy's, on this machine's AMD CPU) is slow at a product of a few rows with an
    operand read transposed. Through ``nn.Linear`` at one thread, W @ xᵀ plus the transposing
    copy (fused with the bias) was 1.04–1.76× as fast for 16–48 rows (128→512, 784→256,
    128→128, 256→96), and for 2–6 rows with 384–1,024 outputs up to 2.9× (a bare product);
    with 64 rows it was even, with outputs of 1,024 elements or fewer it lost (0.8–0.9×).
    """
    return dtype == np.float32 and rows * cols > 1024 and cols >= 96 and rows <= 48


def _one_row(x: np.ndarray, w: np.ndarray, bias: Tensor | None) -> np.ndarray | None:
    """``x @ wᵀ + bias`` for one row (batch-1 inference) as ``w @ x`` (BLAS's matrix-vector
    product on the weight as stored) plus the bias: 0.4–0.6 µs less than the 1-row product and
    an in-place addition, a fifth of a small layer's call; None for more rows."""
    if x.shape[0] != 1:
        return None
    out = w.dot(x[0])
    return (out if bias is None else out + bias._data)[None]


def _affine(x: np.ndarray, w: np.ndarray, bias: Tensor | None, mm: Callable) -> np.ndarray:
    """``x @ wᵀ + bias`` (x 2-D) by whichever BLAS call suits its shape best here."""
    out = _one_row(x, w, bias)
    if out is not None:
        return out
    if _weight_first(x.shape[0], w.shape[0], x.dtype):
        out = np.empty((x.shape[0], w.shape[0]), x.dtype)
        swapped = mm(w, x.T).T
        if bias is None:
            np.copyto(out, swapped)
        else:
            np.add(swapped, bias._data, out=out)
        return out
    out = mm(x, w.T)
    if bias is not None:
        out += bias._data
    return out


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b over the last dimension of x (W is (out_features, in_features))."""
    x, w = input._data, weight._data
    if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not fit weight of shape {w.shape} "
            f"(the input's last dimension must be in_features={w.shape[-1]})"
        )
    if x.dtype != w.dtype or (bias is not None and bias._data.dtype != w.dtype):  # rare
        check_no_promotion("linear", x, w, "input and weight")
        if bias is not None:
            check_no_promotion("linear", bias._data, w, "bias and weight")
    if input._backward is not None:  # an embedding's output (recorded): from its table
        fused = project_embedded(input, weight, bias)
        if fused is not None:
            return fused
    parents = (input, weight) if bias is None else (input, weight, bias)
    if x.ndim == 2 and x.shape[0] == 1:  # batch-1 inference: no GEMM and no threads to weigh
        out = _one_row(x, w, bias)
        if out is not None:
            return make(out, parents, _linear_backward(parents, x, w, np.ndarray.dot))
    lead = x.shape[:-1]
    x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x  # one 2-D GEMM, not one per batch
    # every product of a linear layer has rows·in·out multiply-adds: small ones skip pmatmul and
    # take ndarray.dot, the same BLAS call as np.matmul for 2-D operands (the same bits) without
    # its ~0.5 µs of ufunc dispatch, a tenth of a small layer's step
    mm = np.ndarray.dot if x2.shape[0] * w.size < BLAS_THREADING_WORK else pmatmul
    out = _affine(x2, w, bias, mm)
    if x.ndim != 2:
        out = out.reshape(*lead, w.shape[0])
    return make(out, parents, _linear_backward(parents, x, w, mm))


def _linear_backward(parents: tuple, x: np.ndarray, w: np.ndarray, mm: Callable) -> Callable:
    """The backward of ``linear`` (parents: input, weight and maybe bias) with ``mm``."""
    input, weight, bias = (*parents, None)[:3]
    x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x

    def backward(g: np.ndarray) -> tuple:
        g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
        gx = mm(g2, w).reshape(x.shape) if input.requires_grad else None
        gw = mm(g2.T, x2) if weight.requires_grad else None
        if bias is None:
            return gx, gw
        return gx, gw, (np.add.reduce(g2, 0) if bias.requires_grad else None)

    return backward


def project_embedded(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, swap_leading: bool = False
) -> Tensor | None:
    """``linear(x, weight, bias)`` computed from the projected table when ``x`` is an
    embedding's output recorded in the graph and that is cheaper; None otherwise. With
    ``swap_leading`` the result has x's first two axes swapped (a batch-first sequence read
    time-major), contiguous.
    """
    src = x.grad_fn
    if not isinstance(src, EmbeddingBackward) or x._data is not src.out or x.retains_grad:
        return None
    table = src.weight
    idx = src.indices.swapaxes(0, 1) if swap_leading else src.indices
    # the forward's product shrinks by lookups / rows; the backward trades two products over
    # every lookup for a scatter of the output gradient, a compiled pass (NumPy's is slower
    # than the products it replaces)
    if 2 * table.shape[0] > idx.size or load("neuralab.compiled.scatter") is None:
        return None
    e, w = table._data, weight._data
    projected = pmatmul(e, w.T)  # through pmatmul: BLAS's threads would spin against the pool
    if bias is not None:
        projected += bias._data
    out = projected[idx]
    parents = (table, weight) if bias is None else (table, weight, bias)

    def backward(g: np.ndarray) -> tuple:
        # the gradient of the projected table, then the chain rule through E Wᵀ + b
        gp = scatter_add_rows(len(e), idx.ravel(), g.reshape(idx.size, -1))
        ge = None
        if table.requires_grad:
            ge = pmatmul(gp, w)
            if src.padding_idx is not None:
                ge[src.padding_idx] = 0
        gw = pmatmul(gp.T, e) if weight.requires_grad else None
        if bias is None:
            return ge, gw
        return ge, gw, (np.add.reduce(gp, 0) if bias.requires_grad else None)

    return make(out, parents, backward)
