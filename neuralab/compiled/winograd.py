"""Winograd F(2×2, 3×3) convolution kernels: the tile transforms and the 16 tile products.

Imported only through :func:`neuralab.compiled.load` (ImportError when NumPy's BLAS cannot be
called from compiled code, see :mod:`neuralab.compiled.blas`). Float32, C-contiguous arrays.

Each output tile of 2×2 pixels reads a 4×4 input patch d; with the patch transformed to
Bᵀ d B and the 3×3 kernel g to G g Gᵀ (both 4×4), the tile is Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A, so
summing over input channels is one product per position ξ of the 4×4: M[ξ] = U[ξ] @ V[ξ], with
U[ξ] (out × in) and V[ξ] (in × tiles). That is 16 multiply-adds per tile where a direct or im2col
convolution does 36, in products whose inner size is the channel count rather than 9× it.

A row of tiles is laid out with one extra (unused) tile, so that tile k of a plane starts at
column 2k of the row-transformed plane: every transform is then a flat loop the compiler
vectorises. Samples go ``per`` at a time so that V and M stay in the cache.
"""

import numba
import numpy as np

from neuralab.compiled.blas import product, product_nt

_KERNEL_BLOCK = 64  # kernels transformed into a small buffer before their 16 rows are stored


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def kernel_tiles(w, flip, u):  # noqa: ANN001, ANN201
    """u[ξ, a, b] = (G g Gᵀ)[ξ] for the 3×3 kernel g = w[a, b] of float32 w (out, in, 3, 3); with
    ``flip``, g = w[b, a] turned by 180° (the input gradient's kernels, u of shape (16, in, out)).

    Sixteen stores per kernel straight into u would land 4 KB multiples apart and evict each
    other from the cache, so a block of kernels is transformed into a buffer first (3-4x quicker
    than NumPy's products with G and their reshapes)."""
    half = np.float32(0.5)
    rows, cols = u.shape[1], u.shape[2]
    buf = np.empty((16, _KERNEL_BLOCK), np.float32)
    for a in range(rows):
        for b0 in range(0, cols, _KERNEL_BLOCK):
            m = min(_KERNEL_BLOCK, cols - b0)
            for q in range(m):
                b = b0 + q
                if flip:
                    g00, g01, g02 = w[b, a, 2, 2], w[b, a, 2, 1], w[b, a, 2, 0]
                    g10, g11, g12 = w[b, a, 1, 2], w[b, a, 1, 1], w[b, a, 1, 0]
                    g20, g21, g22 = w[b, a, 0, 2], w[b, a, 0, 1], w[b, a, 0, 0]
                else:
                    g00, g01, g02 = w[a, b, 0, 0], w[a, b, 0, 1], w[a, b, 0, 2]
                    g10, g11, g12 = w[a, b, 1, 0], w[a, b, 1, 1], w[a, b, 1, 2]
                    g20, g21, g22 = w[a, b, 2, 0], w[a, b, 2, 1], w[a, b, 2, 2]
                # rows 1 and 2 of G g (rows 0 and 3 are g's first and last rows)
                t10, t11, t12 = (
                    half * (g00 + g10 + g20),
                    half * (g01 + g11 + g21),
                    half * (g02 + g12 + g22),
                )
                t20, t21, t22 = (
                    half * (g00 - g10 + g20),
                    half * (g01 - g11 + g21),
                    half * (g02 - g12 + g22),
                )
                for i, (r0, r1, r2) in enumerate(
                    ((g00, g01, g02), (t10, t11, t12), (t20, t21, t22), (g20, g21, g22))
                ):  # row i of (G g) Gᵀ
                    buf[4 * i, q] = r0
                    buf[4 * i + 1, q] = half * (r0 + r1 + r2)
                    buf[4 * i + 2, q] = half * (r0 - r1 + r2)
                    buf[4 * i + 3, q] = r2
            for x in range(16):
                for q in range(m):
                    u[x, a, b0 + q] = buf[x, q]


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def kernel_grad(du, dw):  # noqa: ANN001, ANN201
    """dw[o, c] = Gᵀ dU G for each kernel: the adjoint of :func:`kernel_tiles`, from the gradient
    du (16, out, in) of the transformed kernels to that of w (out, in, 3, 3). du's sixteen rows
    are read a block of kernels at a time, for the reason kernel_tiles writes them so."""
    half = np.float32(0.5)
    outs, ins = du.shape[1], du.shape[2]
    buf = np.empty((16, _KERNEL_BLOCK), np.float32)
    y = np.empty((3, 4), np.float32)  # Gᵀ dU
    for o in range(outs):
        for c0 in range(0, ins, _KERNEL_BLOCK):
            m = min(_KERNEL_BLOCK, ins - c0)
            for x in range(16):
                for q in range(m):
                    buf[x, q] = du[x, o, c0 + q]
            for q in range(m):
                for j in range(4):
                    d0, d1, d2, d3 = buf[j, q], buf[4 + j, q], buf[8 + j, q], buf[12 + j, q]
                    y[0, j] = d0 + half * (d1 + d2)
                    y[1, j] = half * (d1 - d2)
                    y[2, j] = half * (d1 + d2) + d3
                for k in range(3):
                    e0, e1, e2, e3 = y[k, 0], y[k, 1], y[k, 2], y[k, 3]
                    dw[o, c0 + q, k, 0] = e0 + half * (e1 + e2)
                    dw[o, c0 + q, k, 1] = half * (e1 - e2)
                    dw[o, c0 + q, k, 2] = half * (e1 + e2) + e3


@numba.njit(nogil=True, cache=True, error_model="numpy")
def input_tiles(x, n0, n1, top, left, th, tw, v):  # noqa: ANN001, ANN201
    """v[ξ, c, t] = (Bᵀ d B)[ξ] for the 4×4 patch d of each tile t of samples n0..n1 of x
    (zero outside x; ``top``/``left`` rows and columns of padding before it)."""
    _, channels, h, w = x.shape
    wp, q = 2 * tw + 2, th * (tw + 1)
    # The padded plane's even and odd rows apart: tile row ty reads even rows ty, ty + 1 and odd
    # rows ty, ty + 1, so each row of Bᵀ d is one flat loop over every tile row at once. Indices
    # that add a runtime offset are unsigned: a signed one gets a negative-index check per
    # element, which kept these loops scalar (this transform ran 1.7-1.9x slower).
    even = np.zeros((th + 1) * wp, np.float32)  # borders stay zero: the same cells every plane
    odd = np.zeros((th + 1) * wp, np.float32)
    r = np.zeros((4, th * wp + 2), np.float32)  # Bᵀ d for every tile row, flat
    rows, cols = min(h, 2 * th + 2 - top), min(w, wp - left)
    span = th * wp
    for n in range(n0, n1):
        for c in range(channels):
            for yy in range(rows):
                y = yy + top
                dst = even if y % 2 == 0 else odd
                at = (y // 2) * wp + left
                src = x[n, c, yy]
                for xx in range(cols):
                    dst[np.uint64(at + xx)] = src[np.uint64(xx)]
            r0, r1, r2, r3 = r[0], r[1], r[2], r[3]
            for k in range(span):
                r0[np.uint64(k)] = even[np.uint64(k)] - even[np.uint64(k + wp)]
            for k in range(span):
                r1[np.uint64(k)] = odd[np.uint64(k)] + even[np.uint64(k + wp)]
            for k in range(span):
                r2[np.uint64(k)] = even[np.uint64(k + wp)] - odd[np.uint64(k)]
            for k in range(span):
                r3[np.uint64(k)] = odd[np.uint64(k)] - odd[np.uint64(k + wp)]
            t = (n - n0) * q
            for i in range(4):
                ri = r[i]
                v0, v1 = v[4 * i, c, t : t + q], v[4 * i + 1, c, t : t + q]
                v2, v3 = v[4 * i + 2, c, t : t + q], v[4 * i + 3, c, t : t + q]
                for k in range(q):
                    e0, e1, e2, e3 = ri[2 * k], ri[2 * k + 1], ri[2 * k + 2], ri[2 * k + 3]
                    v0[k] = e0 - e2
                    v1[k] = e1 + e2
                    v2[k] = e2 - e1
                    v3[k] = e1 - e3


@numba.njit(nogil=True, cache=True, error_model="numpy")
def output_tiles(m, n0, n1, th, tw, bias, y):  # noqa: ANN001, ANN201
    """y[n, o] for samples n0..n1: every tile's Aᵀ m A (2×2 pixels), plus ``bias`` unless it is
    empty; pixels past y's edge (odd sizes) are dropped."""
    _, outs, oh, ow = y.shape
    wp, q = 2 * tw + 2, th * (tw + 1)
    row0, row1 = np.empty(2 * q, np.float32), np.empty(2 * q, np.float32)
    for n in range(n0, n1):
        t = (n - n0) * q
        for o in range(outs):
            b = bias[o] if bias.shape[0] else np.float32(0.0)
            # sixteen flat rows: indexing a strided 2-D view here ran at half the speed
            r = slice(t, t + q)
            m0, m1, m2, m3 = m[0, o, r], m[1, o, r], m[2, o, r], m[3, o, r]
            m4, m5, m6, m7 = m[4, o, r], m[5, o, r], m[6, o, r], m[7, o, r]
            m8, m9, m10, m11 = m[8, o, r], m[9, o, r], m[10, o, r], m[11, o, r]
            m12, m13, m14, m15 = m[12, o, r], m[13, o, r], m[14, o, r], m[15, o, r]
            for k in range(q):
                s0 = m0[k] + m4[k] + m8[k]
                s1 = m1[k] + m5[k] + m9[k]
                s2 = m2[k] + m6[k] + m10[k]
                s3 = m3[k] + m7[k] + m11[k]
                z0 = m4[k] - m8[k] - m12[k]
                z1 = m5[k] - m9[k] - m13[k]
                z2 = m6[k] - m10[k] - m14[k]
                z3 = m7[k] - m11[k] - m15[k]
                row0[2 * k] = s0 + s1 + s2 + b
                row0[2 * k + 1] = s1 - s2 - s3 + b
                row1[2 * k] = z0 + z1 + z2 + b
                row1[2 * k + 1] = z1 - z2 - z3 + b
            for ty in range(th):
                y[n, o, 2 * ty] = row0[ty * wp : ty * wp + ow]
                if 2 * ty + 1 < oh:
                    y[n, o, 2 * ty + 1] = row1[ty * wp : ty * wp + ow]


@numba.njit(nogil=True, cache=True, error_model="numpy")
def conv3x3(x, u, bias, top, left, y, lo, hi, per):  # noqa: ANN001, ANN201
    """y[lo:hi] = the 3×3, stride-1 correlation of x[lo:hi] (``top``/``left`` padding before it)
    with the kernels whose transforms are ``u`` (16, out, in), ``per`` samples at a time."""
    th, tw = (y.shape[2] + 1) // 2, (y.shape[3] + 1) // 2
    size = per * th * (tw + 1)
    v = np.zeros((16, x.shape[1], size), np.float32)
    m = np.empty((16, u.shape[1], size), np.float32)
    for n0 in range(lo, hi, per):
        n1 = min(n0 + per, hi)
        input_tiles(x, n0, n1, top, left, th, tw, v)
        for k in range(16):  # a short last block multiplies stale tiles its output never reads
            product(u[k], v[k], m[k], 0.0)
        output_tiles(m, n0, n1, th, tw, bias, y)


@numba.njit(nogil=True, cache=True, error_model="numpy")
def grad_tiles(g, n0, n1, th, tw, dm):  # noqa: ANN001, ANN201
    """dm[ξ, o, t] = (A dY Aᵀ)[ξ] for each 2×2 output-gradient tile dY of samples n0..n1 of g
    (zero past g's edges and for each row's extra tile): the adjoint of :func:`output_tiles`."""
    _, outs, oh, ow = g.shape
    wp, q = 2 * tw + 2, th * (tw + 1)
    row0, row1 = np.zeros(2 * q, np.float32), np.zeros(2 * q, np.float32)
    for n in range(n0, n1):
        t = (n - n0) * q
        for o in range(outs):
            for ty in range(th):
                row0[ty * wp : ty * wp + ow] = g[n, o, 2 * ty]
                if 2 * ty + 1 < oh:
                    row1[ty * wp : ty * wp + ow] = g[n, o, 2 * ty + 1]
                else:
                    row1[ty * wp : ty * wp + ow] = 0.0
            for i in range(4):  # row i of A dY: (a, b) and (c, d) are dY's rows
                d0, d1 = dm[4 * i, o, t : t + q], dm[4 * i + 1, o, t : t + q]
                d2, d3 = dm[4 * i + 2, o, t : t + q], dm[4 * i + 3, o, t : t + q]
                for k in range(q):
                    a, b, c, d = row0[2 * k], row0[2 * k + 1], row1[2 * k], row1[2 * k + 1]
                    if i == 0:
                        p0, p1 = a, b
                    elif i == 1:
                        p0, p1 = a + c, b + d
                    elif i == 2:
                        p0, p1 = a - c, b - d
                    else:
                        p0, p1 = -c, -d
                    d0[k] = p0
                    d1[k] = p0 + p1
                    d2[k] = p0 - p1
                    d3[k] = -p1


@numba.njit(nogil=True, cache=True, error_model="numpy")
def weight_grad(x, g, top, left, du, lo, hi, per):  # noqa: ANN001, ANN201
    """du (16, out, in) += Σ over the tiles of samples lo..hi of dM[ξ] @ V[ξ]ᵀ: the gradient of
    the transformed kernels of :func:`conv3x3`, given x and the output gradient g."""
    th, tw = (g.shape[2] + 1) // 2, (g.shape[3] + 1) // 2
    size = per * th * (tw + 1)
    v = np.zeros((16, x.shape[1], size), np.float32)
    dm = np.zeros((16, g.shape[1], size), np.float32)
    for n0 in range(lo, hi, per):
        n1 = min(n0 + per, hi)
        used = (n1 - n0) * th * (tw + 1)
        input_tiles(x, n0, n1, top, left, th, tw, v)
        grad_tiles(g, n0, n1, th, tw, dm)
        for k in range(16):
            product_nt(dm[k, :, :used], v[k, :, :used], du[k], 1.0)
