"""Layer normalization compiled by numba: each row's statistics and output in one call, the
backward in one more.

Imported only through :func:`neuralab.compiled.load`, so neuralab never needs numba. NumPy's
path makes about a dozen passes and as many input-sized temporaries (the centered input, its
square, x̂, the affine output; in backward g·w, g·x̂ and the closed form's terms), which on a
transformer's (tokens, 128) activations costs more than the arithmetic. Here each row's sums
are accumulated in float64 and x̂ is not kept: the backward recomputes it from the input and
the saved per-row mean and 1/std. Every kernel works on the rows ``lo..hi`` of C-contiguous
(M, D) arrays, so callers split the rows over threads (:func:`neuralab.parallel.parallel_for`).
"""

import math

import numba
import numpy as np

from neuralab.compiled.team import TEAM, bounds

_FAST = {"reassoc", "contract", "nsz"}  # sums may be reordered; NaN and inf still propagate


@numba.njit(nogil=True, cache=True, fastmath=_FAST, error_model="numpy", boundscheck=False)
def forward(x, lo, hi, weight, bias, eps, out, mean, rstd):  # noqa: ANN001, ANN201
    """``out = (x - mean)·rstd·weight + bias`` for rows lo..hi of (M, D) ``x``; writes each
    row's ``mean`` and ``rstd`` = 1/sqrt(biased var + eps) (float64, one per row)."""
    size = x.shape[1]
    for r in range(lo, hi):
        row, dst = x[r], out[r]
        total = 0.0
        for j in range(size):
            total += np.float64(row[j])
        m = total / size
        squares = 0.0
        for j in range(size):
            d = np.float64(row[j]) - m
            squares += d * d
        s = 1.0 / math.sqrt(squares / size + eps)
        mean[r], rstd[r] = m, s
        for j in range(size):
            dst[j] = (np.float64(row[j]) - m) * s * weight[j] + bias[j]


@numba.njit(nogil=True, cache=True, fastmath=_FAST, error_model="numpy", boundscheck=False)
def backward(g, x, lo, hi, weight, mean, rstd, gx, g_weight, g_bias):  # noqa: ANN001, ANN201
    """For rows lo..hi: ``gx = rstd·(g·w - mean(g·w) - x̂·mean(g·w·x̂))`` (skipped when ``gx``
    has no rows), and ``g_weight += Σ g·x̂``, ``g_bias += Σ g`` (float64, per column)."""
    size = x.shape[1]
    for r in range(lo, hi):
        grow, xrow = g[r], x[r]
        m, s = mean[r], rstd[r]
        sum_g = 0.0
        sum_gx = 0.0
        for j in range(size):
            gj = np.float64(grow[j])
            h = (np.float64(xrow[j]) - m) * s
            gw = gj * weight[j]
            sum_g += gw
            sum_gx += gw * h
            g_weight[j] += gj * h
            g_bias[j] += gj
        if gx.shape[0] == 0:
            continue
        a, b = sum_g / size, sum_gx / size
        dst = gx[r]
        for j in range(size):
            h = (np.float64(xrow[j]) - m) * s
            dst[j] = s * (np.float64(grow[j]) * weight[j] - a - h * b)


@numba.njit(**TEAM)
def forward_split(x, weight, bias, eps, out, mean, rstd, parts):  # noqa: ANN001, ANN201
    """:func:`forward` over all rows, in ``parts`` row ranges on numba's thread team."""
    for k in numba.prange(parts):
        lo, hi = bounds(x.shape[0], k, parts)
        forward(x, lo, hi, weight, bias, eps, out, mean, rstd)


@numba.njit(**TEAM)
def backward_split(g, x, weight, mean, rstd, gx, g_weights, g_biases):  # noqa: ANN001, ANN201
    """:func:`backward` over all rows in as many row ranges as ``g_weights`` has rows (each
    range's column sums in its own row of ``g_weights``, ``g_biases``), on the team."""
    parts = g_weights.shape[0]
    for k in numba.prange(parts):
        lo, hi = bounds(x.shape[0], k, parts)
        backward(g, x, lo, hi, weight, mean, rstd, gx, g_weights[k], g_biases[k])
