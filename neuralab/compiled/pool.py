"""2×2 max pooling with stride 2 compiled by numba: max and argmax in one pass over the input,
and the backward's gradient image a row at a time.

Imported only through :func:`neuralab.compiled.load`, so neuralab never needs numba. NumPy
builds the same result from strided planes, whose every-other-element access NumPy cannot
vectorise: a dozen passes at a fraction of memory speed. Here each window's four values stay in
registers and the compiler vectorises across windows (about 10x faster on a CIFAR-sized layer).
Maxima are exact, so results equal NumPy's path bit for bit, in any float dtype.
"""

import numba
import numpy as np


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def max_pool_2x2(x, best, arg):  # noqa: ANN001, ANN201
    """``best`` (N, C, OH, OW) = each 2×2 window's max of ``x`` (N, C, ≥2·OH, ≥2·OW) and ``arg``
    its offset 0..3 (row-major): the first maximum, or the last NaN of a window holding NaN,
    as torch picks them."""
    batch, channels, out_h, out_w = best.shape
    for n in range(batch):
        for c in range(channels):
            for oh in range(out_h):
                top, bottom = x[n, c, 2 * oh], x[n, c, 2 * oh + 1]
                b, a = best[n, c, oh], arg[n, c, oh]
                for ow in range(out_w):
                    m, k = top[2 * ow], 0
                    v = top[2 * ow + 1]
                    if v > m or v != v:
                        m, k = v, 1
                    v = bottom[2 * ow]
                    if v > m or v != v:
                        m, k = v, 2
                    v = bottom[2 * ow + 1]
                    if v > m or v != v:
                        m, k = v, 3
                    b[ow] = m
                    a[ow] = k


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def max_pool_2x2_backward(g, arg, gx):  # noqa: ANN001, ANN201
    """``gx`` (N, C, 2·OH, 2·OW) = each window's gradient ``g`` (N, C, OH, OW) at the offset
    ``arg`` names, zero at the window's other three pixels. Written a whole image row at a time
    (unsigned indices, so the loop vectorises): NumPy's four strided passes are ~1.7x slower."""
    batch, channels, out_h, out_w = g.shape
    zero = g.dtype.type(0)
    for n in range(batch):
        for c in range(channels):
            for oh in range(out_h):
                grad, won = g[n, c, oh], arg[n, c, oh]
                top, bottom = gx[n, c, 2 * oh], gx[n, c, 2 * oh + 1]
                for x in range(2 * out_w):
                    q = np.uint64(x) >> np.uint64(1)
                    j = np.uint8(x & 1)
                    v, k = grad[q], won[q]
                    top[np.uint64(x)] = v if k == j else zero
                    bottom[np.uint64(x)] = v if k == j + np.uint8(2) else zero
