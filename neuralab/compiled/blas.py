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

from neuralab.compiled import numpy_sgemm

_found = numpy_sgemm()
if _found is None:
    raise ImportError("compiled products call NumPy's OpenBLAS, which was not found")
binding.add_symbol("neuralab_cblas_sgemm", ctypes.cast(_found, ctypes.c_void_p).value)
_size = types.int64 if _found.argtypes[3] is ctypes.c_int64 else types.intc
_ptr, _real, _enum = types.uintp, types.float32, types.intc
_sgemm = types.ExternalFunction(
    "neuralab_cblas_sgemm",
    types.void(_enum, _enum, _enum, _size, _size, _size, _real, _ptr, _size, _ptr, _size, _real,
               _ptr, _size),
)  # fmt: skip
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


@numba.njit(nogil=True, cache=True, error_model="numpy")
def product(a, b, out, beta):  # noqa: ANN001, ANN201
    """out = a @ b + beta·out for C-contiguous float32 matrices (rows may be a slice)."""
    m, k = a.shape
    n = b.shape[1]
    pa, pb, po = a.ctypes.data, b.ctypes.data, out.ctypes.data
    one, b_ = np.float32(1.0), np.float32(beta)
    _sgemm(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, m, n, k, one, pa, k, pb, n, b_, po, n)


@numba.njit(nogil=True, cache=True, error_model="numpy")
def product_nt(a, b, out, beta):  # noqa: ANN001, ANN201
    """out = a @ bᵀ + beta·out for float32 a (m, k), b (n, k) whose rows may be strided."""
    m, k = a.shape
    n = b.shape[0]
    lda, ldb, ldo = a.strides[0] // 4, b.strides[0] // 4, out.strides[0] // 4
    pa, pb, po = a.ctypes.data, b.ctypes.data, out.ctypes.data
    one, b_ = np.float32(1.0), np.float32(beta)
    _sgemm(_ROW_MAJOR, _NO_TRANS, _TRANS, m, n, k, one, pa, lda, pb, ldb, b_, po, ldo)
