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

_JIT = {"nogil": True, "cache": True, "error_model": "numpy", "boundscheck": False}


@numba.njit(**_JIT)
def _flat_rows(height, width, out_h, row_off, shift):  # noqa: ANN001, ANN201
    """For a stride-1 plane as wide as the image: the output rows [first, last) that fall on image
    rows, the flat range [q0, q1) of the plane copied from image index q + offset, and the
    columns [c0, c1) of every such row that wrapped around from a neighbouring row (the
    padding: zero in im2col, dropped in col2im)."""
    first = min(out_h, max(0, -row_off))
    last = max(first, min(out_h, height - row_off))
    offset = row_off * width + shift
    q0 = max(first * width, -offset)
    q1 = max(q0, min(last * width, height * width - offset))
    c0, c1 = (max(0, width - shift), width) if shift > 0 else (0, min(width, -shift))
    return first, last, offset, q0, q1, c0, c1


@numba.njit(**_JIT)
def _col2im_flat(cols, base, out_h, image, height, width, row_off, shift):  # noqa: ANN001, ANN201
    """Add the stride-1, image-wide column plane at ``cols[base:]`` (OH·W, flat) into ``image``
    (H·W, flat) as one run: the wrapped columns are zeroed in ``cols`` first, so adding them
    changes nothing."""
    first, last, offset, q0, q1, c0, c1 = _flat_rows(height, width, out_h, row_off, shift)
    for oh in range(first, last):
        for ow in range(c0, c1):
            cols[base + oh * width + ow] = 0
    for q in range(q0, q1):
        image[np.uint64(q + offset)] += cols[np.uint64(base + q)]


@numba.njit(**_JIT)
def _im2col_flat(image, height, width, cols, base, out_h, row_off, shift):  # noqa: ANN001, ANN201
    """Fill the stride-1, image-wide column plane at ``cols[base:]`` (OH·W, flat) from ``image``
    (H·W, flat) as one copy, then zero what lies on the padding (rows outside the image, wrapped
    columns)."""
    first, last, offset, q0, q1, c0, c1 = _flat_rows(height, width, out_h, row_off, shift)
    zero = cols.dtype.type(0)
    for q in range(0, q0):
        cols[np.uint64(base + q)] = zero
    for q in range(q0, q1):
        cols[np.uint64(base + q)] = image[np.uint64(q + offset)]
    for q in range(q1, out_h * width):
        cols[np.uint64(base + q)] = zero
    for oh in range(first, last):
        for ow in range(c0, c1):
            cols[base + oh * width + ow] = zero


@numba.njit(**_JIT)
def col2im(cols, out, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w):  # noqa: ANN001, ANN201
    """``out`` (N, C, H, W) = the sum of ``cols`` (N, C, kh, kw, OH, OW) over kernel offsets,
    each column at its pixel: the adjoint of im2col for that geometry (zero padding dropped).
    ``cols`` entries that fall on the padding may be overwritten with zeros."""
    batch, channels, kh, kw, out_h, out_w = cols.shape
    height, width = out.shape[2], out.shape[3]
    flat = stride_h == 1 and stride_w == 1 and out_w == width
    for n in range(batch):
        for c in range(channels):
            image = out[n, c]
            image_flat = image.reshape(height * width)
            cols_nc = cols[n, c].reshape(kh * kw * out_h * out_w)
            for q in range(height * width):
                image_flat[np.uint64(q)] = 0
            for i in range(kh):
                for j in range(kw):
                    shift = j * dil_w - pad_w  # x = ow·stride_w + shift must fall in [0, width)
                    if flat:
                        base = (i * kw + j) * out_h * width
                        row_off = i * dil_h - pad_h
                        _col2im_flat(
                            cols_nc, base, out_h, image_flat, height, width, row_off, shift
                        )
                        continue
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
                                dst[np.uint64(ow * stride_w + shift)] += src[np.uint64(ow)]


@numba.njit(**_JIT)
def im2col(x, out, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w):  # noqa: ANN001, ANN201
    """``out`` (N, C, kh, kw, OH, OW) = every window of ``x`` (N, C, H, W) zero-padded by
    (pad_h, pad_w) on the top and left (and as far as the windows reach beyond): the copy
    NumPy makes from a padded copy of the input, without making that copy."""
    batch, channels, kh, kw, out_h, out_w = out.shape
    height, width = x.shape[2], x.shape[3]
    flat = stride_h == 1 and stride_w == 1 and out_w == width
    zero = out.dtype.type(0)
    for n in range(batch):
        for c in range(channels):
            image = x[n, c]
            image_flat = image.reshape(height * width)
            out_nc = out[n, c].reshape(kh * kw * out_h * out_w)
            for i in range(kh):
                for j in range(kw):
                    shift = j * dil_w - pad_w
                    if flat:
                        base = (i * kw + j) * out_h * width
                        row_off = i * dil_h - pad_h
                        _im2col_flat(image_flat, height, width, out_nc, base, out_h, row_off, shift)
                        continue
                    first = min(out_w, max(0, (-shift + stride_w - 1) // stride_w))
                    last = max(first, min(out_w, (width - 1 - shift) // stride_w + 1))
                    plane = out[n, c, i, j]
                    for oh in range(out_h):
                        row = plane[oh]
                        y = oh * stride_h + i * dil_h - pad_h
                        if y < 0 or y >= height:
                            for ow in range(out_w):
                                row[np.uint64(ow)] = zero
                            continue
                        src = image[y]
                        for ow in range(first):
                            row[np.uint64(ow)] = zero
                        if stride_w == 1:
                            for ow in range(first, last):
                                row[np.uint64(ow)] = src[np.uint64(ow + shift)]
                        else:
                            for ow in range(first, last):
                                row[np.uint64(ow)] = src[np.uint64(ow * stride_w + shift)]
                        for ow in range(last, out_w):
                            row[np.uint64(ow)] = zero
