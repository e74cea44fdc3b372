"""Batch normalization in training mode compiled by numba: statistics and normalization in two
passes over the input, the backward in two passes over the gradient.

Imported only through :func:`neuralab.compiled.load`, so neuralab never needs numba. NumPy's
path makes about a dozen passes and as many input-sized temporaries (centered input, its square,
x̂, the affine output; in backward g·w, g·x̂ and the closed form's terms). Here each channel's
sums are accumulated in float64 (whatever the data's dtype) and the output is written once, as
``(x - mean)·scale + shift``; backward recomputes x̂ from the input instead of keeping it.
Every kernel works on the channels ``lo..hi`` of C-contiguous (N, C, S) arrays, so callers
split the channels over threads (:func:`neuralab.parallel.parallel_for`).
"""

import numba
import numpy as np


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False, fastmath={"reassoc"})
def channel_moments(x, lo, hi, mean, var):  # noqa: ANN001, ANN201
    """``mean`` and biased ``var`` (float64, one per channel) of channels lo..hi of ``x`` (N, C, S).

    One pass, each channel shifted by its first value so the sum of squares does not cancel.
    """
    batch, _, size = x.shape
    count = batch * size
    for c in range(lo, hi):
        shift = np.float64(x[0, c, 0])
        total = 0.0
        squares = 0.0
        for n in range(batch):
            row = x[n, c]
            for s in range(size):
                d = np.float64(row[s]) - shift
                total += d
                squares += d * d
        centered = total / count
        mean[c] = shift + centered
        var[c] = max(squares / count - centered * centered, 0.0)


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def normalize(x, lo, hi, center, scale, shift, out):  # noqa: ANN001, ANN201
    """``out[:, c] = (x[:, c] - center[c])·scale[c] + shift[c]`` for channels lo..hi of (N, C, S)
    arrays: x̂·weight + bias with scale = rstd·weight, centered first so nothing cancels."""
    batch, _, size = x.shape
    for n in range(batch):
        for c in range(lo, hi):
            m, a, b = center[c], scale[c], shift[c]
            src, dst = x[n, c], out[n, c]
            for s in range(size):
                dst[s] = (src[s] - m) * a + b


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False, fastmath={"reassoc"})
def grad_sums(g, x, lo, hi, mean, sum_g, sum_gx):  # noqa: ANN001, ANN201
    """Per channel lo..hi: ``sum_g`` = Σ g and ``sum_gx`` = Σ g·(x - mean), in float64."""
    batch, _, size = x.shape
    for c in range(lo, hi):
        m = mean[c]
        total = 0.0
        product = 0.0
        for n in range(batch):
            grow, xrow = g[n, c], x[n, c]
            for s in range(size):
                v = np.float64(grow[s])
                total += v
                product += v * (np.float64(xrow[s]) - m)
        sum_g[c] = total
        sum_gx[c] = product


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def input_grad(g, x, lo, hi, center, a, b, k, out):  # noqa: ANN001, ANN201
    """``out[:, c] = g·a[c] + (x - center[c])·b[c] + k[c]`` for channels lo..hi: the closed-form
    input gradient rstd·w·(g - mean(g) - x̂·mean(g·x̂)) with its per-channel factors folded."""
    batch, _, size = x.shape
    for n in range(batch):
        for c in range(lo, hi):
            m, ga, xb, kc = center[c], a[c], b[c], k[c]
            grow, xrow, dst = g[n, c], x[n, c], out[n, c]
            for s in range(size):
                dst[s] = grow[s] * ga + (xrow[s] - m) * xb + kc
