"""NumPy's own OpenBLAS ``sgemm``, callable from compiled code without the GIL.

Imported only through kernel modules loaded by :func:`neuralab.compiled.load`; raises
ImportError (so their callers take the NumPy path) when NumPy's BLAS is not an OpenBLAS whose
``cblas_sgemm`` compiled code can call. The compiled code calls it by a symbol name that this
process binds to NumPy's OpenBLAS, not by an address baked into it, so numba can cache the
callers on disk (pointers pass as uintp, the same register).
"""

import ctypes

import numba
import numpy as np
from llvmlite import binding
from numba import types

from neuralab.compiled import numpy_sgemm, numpy_sgemv
from neuralab.compiled.team import TEAM, bounds

_found, _found_gemv = numpy_sgemm(), numpy_sgemv()
if _found is None or _found_gemv is None:
    raise ImportError("compiled products call NumPy's OpenBLAS, which was not found")
binding.add_symbol("neuralab_cblas_sgemm", ctypes.cast(_found, ctypes.c_void_p).value)
binding.add_symbol("neuralab_cblas_sgemv", ctypes.cast(_found_gemv, ctypes.c_void_p).value)
_size = types.int64 if _found.argtypes[3] is ctypes.c_int64 else types.intc
_ptr, _real, _enum = types.uintp, types.float32, types.intc
_sgemm = types.ExternalFunction(
    "neuralab_cblas_sgemm",
    types.void(_enum, _enum, _enum, _size, _size, _size, _real, _ptr, _size, _ptr, _size, _real,
               _ptr, _size),
)  # fmt: skip
_sgemv = types.ExternalFunction(
    "neuralab_cblas_sgemv",
    types.void(_enum, _enum, _size, _size, _real, _ptr, _size, _ptr, _size, _real, _ptr, _size),
)
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


@numba.njit(nogil=True, cache=True, error_model="numpy")
def product(a, b, out, beta):  # noqa: ANN001, ANN201
    """out = a @ b + beta·out for C-contiguous float32 matrices (rows may be a slice). One row
    of a goes to sgemv, as NumPy's matmul sends it (OpenBLAS's Haswell sgemm of a 1×128 by
    128×512 product: 21 µs, its sgemv 6)."""
    m, k = a.shape
    n = b.shape[1]
    pa, pb, po = a.ctypes.data, b.ctypes.data, out.ctypes.data
    one, b_ = np.float32(1.0), np.float32(beta)
    if m == 1:  # out = bᵀ a
        _sgemv(_ROW_MAJOR, _TRANS, k, n, one, pb, n, pa, 1, b_, po, 1)
        return
    _sgemm(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, m, n, k, one, pa, k, pb, n, b_, po, n)


@numba.njit(nogil=True, cache=True, error_model="numpy")
def product_nt(a, b, out, beta):  # noqa: ANN001, ANN201
    """out = a @ bᵀ + beta·out for float32 a (m, k), b (n, k) whose rows may be strided; one
    row of a by sgemv, as :func:`product`."""
    m, k = a.shape
    n = b.shape[0]
    lda, ldb, ldo = a.strides[0] // 4, b.strides[0] // 4, out.strides[0] // 4
    pa, pb, po = a.ctypes.data, b.ctypes.data, out.ctypes.data
    one, b_ = np.float32(1.0), np.float32(beta)
    if m == 1:  # out = b a
        _sgemv(_ROW_MAJOR, _NO_TRANS, n, k, one, pb, ldb, pa, 1, b_, po, 1)
        return
    _sgemm(_ROW_MAJOR, _NO_TRANS, _TRANS, m, n, k, one, pa, lda, pb, ldb, b_, po, ldo)


@numba.njit(inline="always")
def _layout(strides1: int, strides2: int) -> tuple[int, int]:
    """(transpose flag, leading dimension) of a float32 matrix with these (row, column) strides
    in bytes, one of them 4 (the caller checks): read as stored, or as a transpose."""
    if strides2 == 4:
        return _NO_TRANS, strides1 // 4
    return _TRANS, strides2 // 4


@numba.njit(**TEAM)
def stacked_product(a, b, out, parts):  # noqa: ANN001, ANN201
    """out[i, j] = a[i, j] @ b[i, j] for float32 stacks (I, J, m, k) @ (I, J, k, n), in
    ``parts`` ranges of the I·J products on numba's thread team; one sgemm each, as NumPy's
    matmul makes. Every matrix has a unit stride on one axis; stacks may broadcast (stride 0);
    ``out`` is C-contiguous."""
    rows, cols = out.shape[2], out.shape[3]
    inner = a.shape[3]
    ta, lda = _layout(a.strides[2], a.strides[3])
    tb, ldb = _layout(b.strides[2], b.strides[3])
    one, zero = np.float32(1.0), np.float32(0.0)
    second = out.shape[1]
    for k in numba.prange(parts):
        lo, hi = bounds(out.shape[0] * second, k, parts)
        for s in range(lo, hi):
            i, j = s // second, s % second
            pa = a.ctypes.data + np.uintp(i * a.strides[0] + j * a.strides[1])
            pb = b.ctypes.data + np.uintp(i * b.strides[0] + j * b.strides[1])
            po = out.ctypes.data + np.uintp(i * out.strides[0] + j * out.strides[1])
            _sgemm(_ROW_MAJOR, ta, tb, rows, cols, inner, one, pa, lda, pb, ldb, zero, po, cols)
