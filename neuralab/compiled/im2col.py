"""im2col and col2im compiled by numba: a convolution's columns, and its input gradient summed
back from them, one pass each.

Imported only through :func:`neuralab.compiled.load`, so neuralab never needs numba. NumPy adds
the kh·kw column planes into the image one strided plane at a time, and for small images (rows of
8 to 32 pixels) its per-row overhead dominates: on a 16×16 layer it is as slow as the GEMM that
made the columns. Here the same additions run in the same order (each pixel sums its
contributions by kernel offset, first to last, starting from zero), so results equal NumPy's
path bit for bit; the padding border is skipped rather than computed and cropped. im2col is a
copy (exact either way) that reads the unpadded input, writing zeros where the padding would be.
"""

import numba
import numpy as np


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def col2im(cols, out, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w):  # noqa: ANN001, ANN201
    """``out`` (N, C, H, W) = the sum of ``cols`` (N, C, kh, kw, OH, OW) over kernel offsets,
    each column at its pixel: the adjoint of im2col for that geometry (zero padding dropped)."""
    batch, channels, kh, kw, out_h, out_w = cols.shape
    height, width = out.shape[2], out.shape[3]
    for n in range(batch):
        for c in range(channels):
            image = out[n, c]
            for y in range(height):
                for x in range(width):
                    image[y, x] = 0
            for i in range(kh):
                for j in range(kw):
                    shift = j * dil_w - pad_w  # x = ow·stride_w + shift must fall in [0, width)
                    first = max(0, (-shift + stride_w - 1) // stride_w)
                    last = min(out_w, (width - 1 - shift) // stride_w + 1)
                    plane = cols[n, c, i, j]
                    for oh in range(out_h):
                        y = oh * stride_h + i * dil_h - pad_h
                        if y < 0 or y >= height:
                            continue
                        src, dst = plane[oh], image[y]
                        if stride_w == 1:
                            for ow in range(first, last):  # unsigned indices: no wraparound
                                dst[np.uint64(ow + shift)] += src[np.uint64(ow)]  # branch, SIMD
                        else:
                            for ow in range(first, last):
                                dst[ow * stride_w + shift] += src[ow]


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def im2col(x, out, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w):  # noqa: ANN001, ANN201
    """``out`` (N, C, kh, kw, OH, OW) = every window of ``x`` (N, C, H, W) zero-padded by
    (pad_h, pad_w) on the top and left (and as far as the windows reach beyond): the copy
    NumPy makes from a padded copy of the input, without making that copy."""
    batch, channels, kh, kw, out_h, out_w = out.shape
    height, width = x.shape[2], x.shape[3]
    zero = out.dtype.type(0)
    for n in range(batch):
        for c in range(channels):
            image = x[n, c]
            for i in range(kh):
                for j in range(kw):
                    shift = j * dil_w - pad_w
                    first = min(out_w, max(0, (-shift + stride_w - 1) // stride_w))
                    last = max(first, min(out_w, (width - 1 - shift) // stride_w + 1))
                    plane = out[n, c, i, j]
                    for oh in range(out_h):
                        dst = plane[oh]
                        y = oh * stride_h + i * dil_h - pad_h
                        if y < 0 or y >= height:
                            for ow in range(out_w):
                                dst[np.uint64(ow)] = zero
                            continue
                        src = image[y]
                        for ow in range(first):
                            dst[np.uint64(ow)] = zero
                        if stride_w == 1:
                            for ow in range(first, last):
                                dst[np.uint64(ow)] = src[np.uint64(ow + shift)]
                        else:
                            for ow in range(first, last):
                                dst[ow] = src[ow * stride_w + shift]
                        for ow in range(last, out_w):
                            dst[np.uint64(ow)] = zero
