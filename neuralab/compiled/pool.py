"""Pooling compiled by numba. Max pooling: max and argmax in one pass over the input, and the
backward. 2×2 windows with stride 2 (the common case) have their own vectorised pair of kernels;
any other geometry runs :func:`max_pool` / :func:`max_pool_backward`, which skip the padding
instead of reading a -inf-padded copy. Average pooling over 2×2 tiles: :func:`avg_pool_2x2`
and its backward, adding in the NumPy path's order (the same bits).

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
    as torch picks them.

    Branch-free, so the compiler vectorises across windows: the maximum by ``np.maximum``
    (which keeps NaN), the offset by integer arithmetic on each comparison's 0 or 1. Written
    with ``if``s, every comparison of real data was a branch the CPU guessed wrong half the
    time: 4.3 ms for a (64, 16, 32, 32) input against 0.25 ms now."""
    batch, channels, out_h, out_w = best.shape
    one = np.uint64(1)
    for n in range(batch):
        for c in range(channels):
            for oh in range(out_h):
                top, bottom = x[n, c, 2 * oh], x[n, c, 2 * oh + 1]
                b, a = best[n, c, oh], arg[n, c, oh]
                for ow in range(out_w):
                    i = np.uint64(ow) << one
                    m, v1, v2, v3 = top[i], top[i + one], bottom[i], bottom[i + one]
                    t1 = np.int32((v1 > m) | (v1 != v1))  # v1 wins: greater, or NaN
                    m = np.maximum(m, v1)
                    t2 = np.int32((v2 > m) | (v2 != v2))
                    m = np.maximum(m, v2)
                    t3 = np.int32((v3 > m) | (v3 != v3))
                    m = np.maximum(m, v3)
                    k = t1
                    k += t2 * (2 - k)
                    k += t3 * (3 - k)
                    b[np.uint64(ow)] = m
                    a[np.uint64(ow)] = np.uint8(k)


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


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def _columns(out_w, width, shift, step):  # noqa: ANN001, ANN201
    """The outputs [first, last) whose tap at column ow·step + shift lies inside [0, width)."""
    first = min(out_w, max(0, (-shift + step - 1) // step))
    return first, max(first, min(out_w, (width - 1 - shift) // step + 1))


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def max_pool(x, best, arg, kernel, stride, pad, dilation):  # noqa: ANN001, ANN201
    """``best`` (N, C, OH, OW) = each window's max of ``x`` (N, C, H, W) for any geometry
    (``kernel``, ``stride``, ``pad`` top/left, ``dilation``: (h, w) pairs) and ``arg`` its offset
    i·kw + j: the first real position holding the max, or the last NaN; padding never wins.
    Taps go in kernel order over a whole output row at a time, without branches."""
    batch, channels, out_h, out_w = best.shape
    height, width = x.shape[2], x.shape[3]
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, pad, dilation
    m = np.empty(out_w, x.dtype)
    k = np.empty(out_w, np.int64)
    for n in range(batch):
        for c in range(channels):
            for oh in range(out_h):
                m[:] = -np.inf  # (then np.maximum gives the first tap itself, NaN included)
                k[:] = -1
                for i in range(kh):
                    y = oh * sh - ph + i * dh
                    if y < 0 or y >= height:
                        continue
                    src = x[n, c, y]
                    for j in range(kw):
                        shift, offset = j * dw - pw, i * kw + j
                        first, last = _columns(out_w, width, shift, sw)
                        for ow in range(first, last):
                            v, mm, kk = src[np.uint64(ow * sw + shift)], m[ow], k[ow]
                            # branch-free, as in max_pool_2x2
                            take = np.int64((kk < 0) | (v > mm) | (v != v))
                            m[ow] = np.maximum(mm, v)
                            k[ow] = kk + take * (offset - kk)
                best[n, c, oh] = m
                arg[n, c, oh] = k


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def max_pool_backward(g, arg, gx, kernel, stride, pad, dilation):  # noqa: ANN001, ANN201
    """``gx`` (N, C, H, W) = each window's gradient ``g`` added at the position ``arg`` names,
    by kernel offset first to last (the NumPy path's order and its additions of zero, so the
    same sums bit for bit), a whole output row per offset."""
    batch, channels, out_h, out_w = g.shape
    height, width = gx.shape[2], gx.shape[3]
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, pad, dilation
    zero = g.dtype.type(0)
    for n in range(batch):
        for c in range(channels):
            gx[n, c] = 0
            for i in range(kh):
                for j in range(kw):
                    shift, offset = j * dw - pw, i * kw + j
                    first, last = _columns(out_w, width, shift, sw)
                    for oh in range(out_h):
                        y = oh * sh - ph + i * dh
                        if y < 0 or y >= height:
                            continue
                        dst, grad, won = gx[n, c, y], g[n, c, oh], arg[n, c, oh]
                        for ow in range(first, last):
                            add = grad[ow] if won[ow] == offset else zero
                            dst[np.uint64(ow * sw + shift)] += add


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def avg_pool_2x2(x, out, divisor):  # noqa: ANN001, ANN201
    """``out`` (N, C, OH, OW) = each 2×2 window's sum over ``divisor``, of ``x`` (N, C, 2·OH,
    2·OW): the kernel rows first, then the columns, as NumPy's separable path adds them."""
    batch, channels, out_h, out_w = out.shape
    for n in range(batch):
        for c in range(channels):
            for oh in range(out_h):
                top, bottom, o = x[n, c, 2 * oh], x[n, c, 2 * oh + 1], out[n, c, oh]
                for ow in range(out_w):
                    left = top[2 * ow] + bottom[2 * ow]
                    right = top[2 * ow + 1] + bottom[2 * ow + 1]
                    o[ow] = (left + right) / divisor


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def avg_pool_2x2_backward(g, gx, divisor):  # noqa: ANN001, ANN201
    """``gx`` (N, C, 2·OH, 2·OW): each window's gradient ``g`` (N, C, OH, OW) over ``divisor``
    at all four of its pixels."""
    batch, channels, out_h, out_w = g.shape
    for n in range(batch):
        for c in range(channels):
            for oh in range(out_h):
                grad, top, bottom = g[n, c, oh], gx[n, c, 2 * oh], gx[n, c, 2 * oh + 1]
                for x in range(2 * out_w):
                    v = grad[np.uint64(x) >> np.uint64(1)] / divisor
                    top[np.uint64(x)] = v
                    bottom[np.uint64(x)] = v
