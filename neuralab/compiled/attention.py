"""Attention's softmax compiled by numba: scale, shift, exp and normalize each score row in one
call (in place), and its backward in one more; a causal row touches only its first i + 1 keys.

Imported only through :func:`neuralab.compiled.load`, so neuralab never needs numba. NumPy's
path masks the scores with ``where``, then takes the row maxima, the shifted exponentials, their
sums and the quotient: six passes and as many (batch, heads, L, S) temporaries, half of them
spent on the masked-out triangle of a causal model. Here exp is
:func:`~neuralab.compiled.fastmath.exp32`, which vectorises where numba's ``math.exp`` does not;
float32 only (the callers keep NumPy's path for other dtypes). Every kernel
works on rows ``lo..hi`` of a C-contiguous (R, S) array whose row r belongs to query r % L, so
callers split the rows over threads (:func:`neuralab.parallel.parallel_for`).
"""

import numba
import numpy as np

from neuralab.compiled.fastmath import exp32
from neuralab.compiled.team import TEAM, bounds

# sums and maxima may be reordered (vectorised); NaN and inf still propagate
_FAST = {"contract", "arcp", "nsz", "reassoc"}


@numba.njit(nogil=True, cache=True, fastmath=_FAST, error_model="numpy", boundscheck=False)
def softmax_forward(scores, lo, hi, length, scale, causal):  # noqa: ANN001, ANN201
    """Rows lo..hi of float32 ``scores`` become softmax(scale·row) in place (``scale`` a
    float32); with ``causal`` row r keeps keys j <= r % ``length`` and the rest become 0."""
    size = scores.shape[1]
    for r in range(lo, hi):
        row = scores[r]
        n = min(r % length + 1, size) if causal else size
        if n == 0:
            continue
        top = np.float32(-np.inf)
        for j in range(n):
            v = row[j] * scale
            top = v if v > top else top
        total = 0.0
        for j in range(n):
            e = exp32(row[j] * scale - top)
            row[j] = e
            total += e
        inv = 1.0 / total
        for j in range(n):
            row[j] *= inv
        for j in range(n, size):
            row[j] = 0.0


@numba.njit(nogil=True, cache=True, fastmath=_FAST, error_model="numpy", boundscheck=False)
def softmax_backward(probs, grad, lo, hi, length, scale, causal):  # noqa: ANN001, ANN201
    """Rows lo..hi of ``grad`` (the gradient of the weights) become the gradient of the unscaled
    scores in place: scale·p·(g - Σ g·p); past a causal row's keys, 0."""
    size = grad.shape[1]
    for r in range(lo, hi):
        p, g = probs[r], grad[r]
        n = min(r % length + 1, size) if causal else size
        dot = 0.0
        for j in range(n):
            dot += np.float64(g[j]) * p[j]
        for j in range(n):
            g[j] = scale * p[j] * (g[j] - dot)
        for j in range(n, size):
            g[j] = 0.0


@numba.njit(**TEAM)
def softmax_forward_split(scores, length, scale, causal, parts):  # noqa: ANN001, ANN201
    """:func:`softmax_forward` over all rows, in ``parts`` row ranges on numba's thread team."""
    for k in numba.prange(parts):
        lo, hi = bounds(scores.shape[0], k, parts)
        softmax_forward(scores, lo, hi, length, scale, causal)


@numba.njit(**TEAM)
def softmax_backward_split(probs, grad, length, scale, causal, parts):  # noqa: ANN001, ANN201
    """:func:`softmax_backward` over all rows, in ``parts`` row ranges on the team."""
    for k in numba.prange(parts):
        lo, hi = bounds(grad.shape[0], k, parts)
        softmax_backward(probs, grad, lo, hi, length, scale, causal)
