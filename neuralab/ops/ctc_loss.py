"""Connectionist temporal classification (CTC) loss: the negative log-probability of a label
sequence summed over every alignment of it to the input frames (blanks between and around the
labels, repeats merged), by the forward-backward recursions in log space.

As torch's ``F.ctc_loss``: log-probabilities (T, N, C) (or (T, C)), targets padded (N, S) or
concatenated (Σ target_lengths), reductions 'mean' (each loss divided by its target length,
then the batch mean), 'sum' and 'none', and ``zero_infinity``. The gradient is torch's:
exp(log_probs) minus each frame's alignment posterior, which is the gradient with respect to
the scores before the ``log_softmax`` that makes the log-probabilities (the usual pairing).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.ops._loss_util import check_reduction, reduction_name
from neuralab.ops._util import to_tensor
from neuralab.tensor import Tensor, make

NEG = -np.inf


def _lengths(value: Any, n: int, name: str) -> np.ndarray:
    """Lengths as an int64 vector of the batch size."""
    arr = np.asarray(value._data if isinstance(value, Tensor) else value, dtype=np.int64).reshape(
        -1
    )
    if arr.shape != (n,):
        raise ValueError(
            f"ctc_loss: {name} must hold {n} lengths (one per sample), got {arr.shape}"
        )
    return arr


def _padded_targets(targets: np.ndarray, lengths: np.ndarray, n: int) -> np.ndarray:
    """(N, S) targets from padded (N, ≥S) or concatenated (Σ lengths) form."""
    if targets.ndim == 2:
        if targets.shape[0] != n or (lengths > targets.shape[1]).any():
            raise ValueError(
                f"ctc_loss: padded targets of shape {targets.shape} do not hold {n} rows of "
                f"target_lengths {lengths.tolist()}"
            )
        return targets
    if targets.ndim != 1 or targets.size != lengths.sum():
        raise ValueError(
            f"ctc_loss: targets must be (N, S) or 1-D of sum(target_lengths) = {lengths.sum()} "
            f"labels, got shape {targets.shape}"
        )
    out = np.zeros((n, max(int(lengths.max(initial=0)), 1)), np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    for i, (s, k) in enumerate(zip(starts, lengths)):
        out[i, :k] = targets[s : s + k]
    return out


def _extended(targets: np.ndarray, lengths: np.ndarray, blank: int) -> tuple:
    """Labels with blanks around each (N, 2S+1), their valid length 2·len+1, and where the
    two-step skip (over a blank, between different labels) is allowed."""
    n, s = targets.shape
    ext = np.full((n, 2 * s + 1), blank, np.int64)
    ext[:, 1::2] = targets
    skip = np.zeros(ext.shape, bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    return ext, 2 * lengths + 1, skip


def _logaddexp3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    return np.logaddexp(np.logaddexp(a, b), c)


def _alpha(lp: np.ndarray, ext: np.ndarray, skip: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """log α (T, N, L): the log-probability of the prefixes ending at each extended label."""
    t_max, n, _ = lp.shape
    emit = np.take_along_axis(lp, np.broadcast_to(ext, (t_max, *ext.shape)), 2)  # (T, N, L)
    alpha = np.full(emit.shape, NEG, lp.dtype)
    alpha[0, :, :2] = emit[0, :, :2]
    for t in range(1, t_max):
        prev = alpha[t - 1]
        one = np.concatenate([np.full((n, 1), NEG, lp.dtype), prev[:, :-1]], 1)
        two = np.where(skip, np.concatenate([np.full((n, 2), NEG, lp.dtype), prev[:, :-2]], 1), NEG)
        alpha[t] = np.where((t < steps)[:, None], _logaddexp3(prev, one, two) + emit[t], NEG)
    return alpha, emit


def _beta(emit: np.ndarray, skip: np.ndarray, steps: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """log β (T, N, L): the log-probability of the suffixes starting at each extended label."""
    t_max, n, width = emit.shape
    beta = np.full(emit.shape, NEG, emit.dtype)
    cols = np.arange(width)
    last = (cols == (ends - 1)[:, None]) | (cols == (ends - 2)[:, None])  # the two end states
    allowed_two = np.concatenate([skip[:, 2:], np.zeros((n, 2), bool)], 1)  # skip into s + 2
    for t in range(t_max - 1, -1, -1):
        if t + 1 < t_max:
            nxt = beta[t + 1]
            one = np.concatenate([nxt[:, 1:], np.full((n, 1), NEG, emit.dtype)], 1)
            two = np.where(
                allowed_two, np.concatenate([nxt[:, 2:], np.full((n, 2), NEG, emit.dtype)], 1), NEG
            )
            inner = _logaddexp3(nxt, one, two) + emit[t]
        else:
            inner = np.full((n, width), NEG, emit.dtype)
        start = np.where(last, emit[t], NEG)
        beta[t] = np.where(
            (t == steps - 1)[:, None], start, np.where((t < steps - 1)[:, None], inner, NEG)
        )
    return beta


def ctc_loss(
    log_probs: Tensor,
    targets: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    """The CTC loss of (T, N, C) log-probabilities against ``targets`` (see the module)."""
    check_reduction(reduction, "ctc_loss")
    x = to_tensor(log_probs)
    lp = x._data if x.ndim == 3 else x._data[:, None]
    if lp.ndim != 3 or lp.dtype.kind != "f":
        raise ValueError(f"ctc_loss: log_probs must be float (T, N, C) or (T, C), got {x.shape}")
    t_max, n, classes = lp.shape
    steps = _lengths(input_lengths, n, "input_lengths")
    lengths = _lengths(target_lengths, n, "target_lengths")
    if (steps > t_max).any() or (steps < 1).any():
        raise ValueError(f"ctc_loss: input_lengths {steps.tolist()} must be in 1..{t_max}")
    tgt = np.asarray(to_tensor(targets)._data, np.int64)
    if x.ndim == 2:
        tgt = (
            tgt.reshape(1, -1)
            if tgt.ndim == 1 and lengths.size == 1 and tgt.size == lengths[0]
            else tgt
        )
    padded = _padded_targets(tgt, lengths, n)
    if (
        not 0 <= blank < classes
        or ((padded == blank) & (np.arange(padded.shape[1]) < lengths[:, None])).any()
    ):
        raise ValueError(f"ctc_loss: blank={blank} must be a class index not used in the targets")
    ext, ends, skip = _extended(padded, lengths, blank)
    alpha, emit = _alpha(lp, ext, skip, steps)
    final = alpha[steps - 1, np.arange(n)]  # (N, L)
    ends_idx = np.stack([ends - 1, np.maximum(ends - 2, 0)], 1)
    tail = np.take_along_axis(final, ends_idx, 1)
    tail[:, 1] = np.where(ends > 1, tail[:, 1], NEG)
    nll = -np.logaddexp(tail[:, 0], tail[:, 1])  # (N,)
    infinite = np.isinf(nll)
    losses = np.where(infinite, 0.0, nll) if zero_infinity else nll
    scale = _reduction_scale(reduction, lengths, n, lp.dtype)
    out = losses.astype(lp.dtype)
    out = out if reduction == "none" else np.asarray((out * scale).sum(), lp.dtype)

    def backward(g: np.ndarray) -> tuple:
        beta = _beta(emit, skip, steps, ends)
        grad = _posterior_grad(lp, ext, alpha, beta, nll, steps)
        if zero_infinity:
            grad[:, infinite] = 0
        weight = (g if reduction == "none" else g * scale).astype(lp.dtype)
        grad *= weight.reshape(1, -1, 1) if weight.ndim else weight
        return (grad if x.ndim == 3 else grad[:, 0], None)

    return make(
        out if x.ndim == 3 or reduction != "none" else out.reshape(()),
        (x, to_tensor(targets)),
        backward,
    )


def aten_ctc_loss(
    log_probs: Tensor,
    targets: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int = 0,
    reduction: int = 1,
    zero_infinity: bool = False,
) -> Tensor:
    """torch.ctc_loss: F.ctc_loss with the reduction as ATen's enum (1: the mean over the batch of
    each loss divided by its target length)."""
    name = reduction_name(reduction, "ctc_loss")
    return ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, name, zero_infinity)


def _reduction_scale(reduction: str, lengths: np.ndarray, n: int, dtype: np.dtype) -> np.ndarray:
    """Each sample's factor in the reduced loss: 1/(target length · N) for 'mean', 1 for 'sum'."""
    if reduction == "mean":
        return (1.0 / (np.maximum(lengths, 1) * n)).astype(dtype)
    return np.ones(n, dtype)


def _posterior_grad(lp, ext, alpha, beta, nll, steps) -> np.ndarray:  # noqa: ANN001
    """torch's gradient: exp(lp) − Σ over the extended labels of class c of
    exp(log α + log β + nll − lp), zero past each input length; NaN, as torch's, for a sample
    whose loss is infinite (its target cannot fit its input length) unless ``zero_infinity``."""
    t_max, n, classes = lp.shape
    both = alpha + beta  # (T, N, L)
    total = np.full((t_max, n, classes), NEG, lp.dtype)
    for s in range(ext.shape[1]):
        idx = ext[:, s][None, :, None]
        cur = np.take_along_axis(total, np.broadcast_to(idx, (t_max, n, 1)), 2)
        np.put_along_axis(
            total, np.broadcast_to(idx, (t_max, n, 1)), np.logaddexp(cur, both[:, :, s : s + 1]), 2
        )
    with np.errstate(over="ignore", invalid="ignore"):
        grad = np.exp(lp) - np.exp(total + nll[None, :, None] - lp)
    grad[np.arange(t_max)[:, None] >= steps[None, :]] = 0  # (NaN where a loss is infinite)
    return grad.astype(lp.dtype)
