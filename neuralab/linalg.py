"""torch.linalg on NumPy: norms, inverses, determinants, solvers and decompositions, and the
older top-level forms torch keeps (torch.svd, torch.triangular_solve, torch.lu_solve, ...).

Differentiable: the norms, inv, det, slogdet, solve, solve_triangular, cholesky, eigh /
eigvalsh, svdvals, matrix_power, multi_dot, vecdot, cross, and the solvers built on them
(cholesky_solve, cholesky_inverse, triangular_solve, lu_solve, lu_unpack's L and U). qr, svd,
pinv, lstsq and matrix_rank compute forward only: a backward through them raises a clear error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import reduce as _fold
from typing import Any, NamedTuple

import numpy as np

from neuralab.ops._util import unbroadcast
from neuralab.ops.diagonal import diagonal, tril, triu
from neuralab.ops.distance import linalg_norm as norm
from neuralab.ops.distance import matrix_norm, vector_norm
from neuralab.ops.elementwise import mul
from neuralab.ops.linalg import cross as _cross
from neuralab.ops.matmul import matmul
from neuralab.ops.reduce import sum as _sum
from neuralab.ops.shape import expand, getitem, transpose
from neuralab.tensor import Tensor, constant, make

__all__ = [
    "cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "lstsq", "matmul",
    "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet",
    "solve", "solve_triangular", "svd", "svdvals", "vecdot", "vector_norm",
]  # fmt: skip


def _mT(x: np.ndarray) -> np.ndarray:
    return np.swapaxes(x, -1, -2)


def _square(op: str, A: Tensor) -> np.ndarray:
    a = A._data
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"linalg.{op}: expected square matrices (..., n, n), got shape {a.shape}")
    if a.dtype.kind != "f":
        raise TypeError(f"linalg.{op}: expected a floating-point input, got dtype {a.dtype}")
    return a


def _call(op: str, fn: Callable, *arrays: np.ndarray, **kwargs: Any) -> Any:
    try:
        return fn(*arrays, **kwargs)
    except np.linalg.LinAlgError as err:
        raise RuntimeError(
            f"linalg.{op}: {err} (the input is singular or not well-formed)"
        ) from None


def _forward_only(op: str, out: np.ndarray, parents: tuple[Tensor, ...]) -> Tensor:
    def backward(g: np.ndarray) -> tuple:
        raise RuntimeError(f"linalg.{op}: backward is not implemented in neuralab")

    return make(out, parents, backward)


def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix."""
    a = _square("inv", A)
    out = _call("inv", np.linalg.inv, a)
    return make(out, (A,), lambda g: (-(_mT(out) @ g @ _mT(out)),))


def det(A: Tensor) -> Tensor:
    """The determinant of each square matrix."""
    a = _square("det", A)
    out = np.asarray(np.linalg.det(a), a.dtype)

    def backward(g: np.ndarray) -> tuple:
        return ((g * out)[..., None, None] * _mT(_call("det", np.linalg.inv, a)),)

    return make(out, (A,), backward)


class SignLogAbsDet(NamedTuple):
    """What slogdet returns."""

    sign: Tensor
    logabsdet: Tensor


def slogdet(A: Tensor) -> SignLogAbsDet:
    """The sign and the log of the absolute value of each determinant."""
    a = _square("slogdet", A)
    sign, logabs = np.linalg.slogdet(a)

    def backward(g: np.ndarray) -> tuple:
        return (g[..., None, None] * _mT(_call("slogdet", np.linalg.inv, a)),)

    logabs = make(np.asarray(logabs, a.dtype), (A,), backward)
    return SignLogAbsDet(constant(np.asarray(sign, a.dtype)), logabs)


def logdet(A: Tensor) -> Tensor:
    """log(det(A)): NaN where the determinant is negative."""
    sign, logabs = slogdet(A)
    return logabs + constant(np.log(sign._data))


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (or X A = B when ``left`` is False); B may be a vector (..., n)."""
    a = _square("solve", A)
    if not left:
        return transpose(solve(transpose(A, -1, -2), transpose(B, -1, -2)), -1, -2)
    b = B._data
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    b2 = b[..., None] if vector else b
    x = _call("solve", np.linalg.solve, a, b2)

    def backward(g: np.ndarray) -> tuple:
        gb = np.linalg.solve(_mT(a), g[..., None] if vector else g)
        ga = -gb @ _mT(x)
        return unbroadcast(ga, a.shape), unbroadcast(gb[..., 0] if vector else gb, b.shape)

    return make(x[..., 0] if vector else x, (A, B), backward)


def solve_triangular(
    A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False
) -> Tensor:
    """X with A X = B (or X A = B) for triangular A, reading only A's triangle."""
    a, b = A._data, B._data
    if not left:
        x = _mT(_batched_tri(_mT(a), _mT(b), not upper, unitriangular))
    else:
        x = _batched_tri(a, b, upper, unitriangular)
    keep = np.triu if upper else np.tril

    def backward(g: np.ndarray) -> tuple:
        if left:
            gb = _batched_tri(_mT(a), g, not upper, unitriangular)
            ga = -gb @ _mT(x)
        else:
            gb = _mT(_batched_tri(a, _mT(g), upper, unitriangular))
            ga = -_mT(x) @ gb
        ga = keep(ga, 1 if unitriangular and upper else (-1 if unitriangular else 0))
        return unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)

    return make(x, (A, B), backward)


def _batched_tri(a: np.ndarray, b: np.ndarray, lower_is_upper: bool, unit: bool) -> np.ndarray:
    from scipy import linalg as sla  # imported on first use: it costs 0.1 s at startup

    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a3 = np.broadcast_to(a, shape + a.shape[-2:]).reshape(-1, *a.shape[-2:])
    b3 = np.broadcast_to(b, shape + b.shape[-2:]).reshape(-1, *b.shape[-2:])
    out = [
        sla.solve_triangular(m, r, lower=not lower_is_upper, unit_diagonal=unit)
        for m, r in zip(a3, b3)
    ]
    return np.stack(out).reshape(shape + b.shape[-2:]).astype(np.result_type(a, b))


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor L (A = L Lᴴ) of each symmetric positive-definite matrix."""
    a = _square("cholesky", A)
    L = _call("cholesky", np.linalg.cholesky, a)

    def backward(g: np.ndarray) -> tuple:
        gl = _mT(g) if upper else g
        phi = np.tril(_mT(L) @ gl)
        phi -= 0.5 * np.tril(np.triu(phi))  # halve the diagonal
        inner = _batched_tri(_mT(L), _mT(_batched_tri(_mT(L), phi, True, False)), True, False)
        return (0.5 * (inner + _mT(inner)),)

    return make(_mT(L).copy() if upper else L, (A,), backward)


class Eigh(NamedTuple):
    """What eigh returns."""

    eigenvalues: Tensor
    eigenvectors: Tensor


def eigh(A: Tensor, UPLO: str = "L") -> Eigh:
    """Eigenvalues (ascending) and orthonormal eigenvectors of symmetric matrices."""
    a = _square("eigh", A)
    w, v = _call("eigh", np.linalg.eigh, a, UPLO=UPLO)
    stacked = np.concatenate([w[..., None, :], v], axis=-2)  # one node: both outputs' gradients
    pair = make(stacked, (A,), lambda g: (_eigh_grad(w, v, g),))
    return Eigh(
        getitem(pair, (..., 0, slice(None))), getitem(pair, (..., slice(1, None), slice(None)))
    )


def _eigh_grad(w: np.ndarray, v: np.ndarray, g: np.ndarray) -> np.ndarray:
    gw, gv = g[..., 0, :], g[..., 1:, :]
    with np.errstate(divide="ignore"):
        gap = w[..., None, :] - w[..., :, None]
        f = np.where(gap == 0, 0, 1 / np.where(gap == 0, 1, gap))
    inner = f * (_mT(v) @ gv)
    inner = inner + np.eye(w.shape[-1], dtype=w.dtype) * gw[..., None, :]
    ga = v @ inner @ _mT(v)
    return 0.5 * (ga + _mT(ga))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending) of symmetric matrices."""
    return eigh(A, UPLO).eigenvalues


def svdvals(A: Tensor) -> Tensor:
    """The singular values (descending) of each matrix."""
    a = A._data
    u, s, vh = _call("svdvals", np.linalg.svd, a, full_matrices=False)
    return make(s, (A,), lambda g: ((u * g[..., None, :]) @ vh,))


class SVD(NamedTuple):
    """What svd returns."""

    U: Tensor
    S: Tensor
    Vh: Tensor


def svd(A: Tensor, full_matrices: bool = True) -> SVD:
    """U, S, Vh with A = U diag(S) Vh (forward only)."""
    u, s, vh = _call("svd", np.linalg.svd, A._data, full_matrices=full_matrices)
    return SVD(*(_forward_only("svd", x, (A,)) for x in (u, s, vh)))


class LegacySVD(NamedTuple):
    """What torch.svd returns: V itself, where linalg.svd gives Vᴴ."""

    U: Tensor
    S: Tensor
    V: Tensor


def legacy_svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> LegacySVD:
    """torch.svd (torch.linalg.svd's older form): U, S, V with A = U diag(S) Vᴴ, reduced unless
    ``some=False``; without ``compute_uv``, U and V are zeros (forward only)."""
    u, s, vh = svd(input, full_matrices=not some)
    v = transpose(vh, -2, -1)
    if not compute_uv:
        u, v = constant(np.zeros_like(u._data)), constant(np.zeros_like(v._data))
    return LegacySVD(u, s, v)


def legacy_qr(input: Tensor, some: bool = True) -> QR:
    """torch.qr (torch.linalg.qr's older form): reduced unless ``some=False``."""
    return qr(input, "reduced" if some else "complete")


def legacy_cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """torch.cholesky (torch.linalg.cholesky's older form, ``upper`` positional)."""
    return cholesky(input, upper=upper)


def _operands(op: str, b: Tensor, A: Tensor) -> None:
    """Raise unless A holds square matrices and b (..., n, k) matrices of A's dtype."""
    _square(op, A)
    if b.ndim < 2 or b.dtype != A.dtype:
        raise ValueError(
            f"{op}: expected b of shape (..., n, k) with A's dtype {A.dtype}, got shape "
            f"{b.shape} and dtype {b.dtype}"
        )


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:
    """torch.cholesky_solve: X with A X = B given A's Cholesky factor (A = L Lᵀ, or Uᵀ U when
    ``upper``): two triangular solves."""
    _operands("cholesky_solve", B, L)
    lower = L.mT if upper else L
    return solve_triangular(lower.mT, solve_triangular(lower, B, upper=False), upper=True)


def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:
    """torch.cholesky_inverse: A⁻¹ given A's Cholesky factor (as :func:`cholesky_solve`)."""
    _square("cholesky_inverse", L)
    return cholesky_solve(constant(np.eye(L.shape[-1], dtype=L.dtype)), L, upper)


class TriangularSolve(NamedTuple):
    """What torch.triangular_solve returns."""

    solution: Tensor
    cloned_coefficient: Tensor


def triangular_solve(
    b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False, unitriangular: bool = False
) -> TriangularSolve:
    """torch.triangular_solve (solve_triangular's older form, b first): X with A X = b, or
    Aᵀ X = b when ``transpose``, and a copy of A broadcast to X's batch."""
    _operands("triangular_solve", b, A)
    M, reads_upper = (A.mT, not upper) if transpose else (A, upper)
    x = solve_triangular(M, b, upper=reads_upper, unitriangular=unitriangular)
    batch = np.broadcast_shapes(b.shape[:-2], A.shape[:-2])
    return TriangularSolve(x, expand(A, batch + A.shape[-2:]).clone())


class LUUnpack(NamedTuple):
    """What torch.lu_unpack returns: A = P L U."""

    P: Tensor
    L: Tensor
    U: Tensor


def _permutation(op: str, LU: Tensor, pivots: Any) -> np.ndarray:
    """The matrices P (A = P L U) of LAPACK's 1-based row swaps ``pivots`` (lu_factor's)."""
    m, shape = LU.shape[-2], LU.shape[:-2] + (min(LU.shape[-2:]),)
    piv = pivots._data if isinstance(pivots, Tensor) else np.asarray(pivots)
    fits = piv.shape == shape and piv.dtype.kind in "iu"
    if not fits or (piv.size and (piv.min() < 1 or piv.max() > m)):
        seen = f"{piv.min()}..{piv.max()}" if fits and piv.size else f"{piv.dtype} {piv.shape}"
        raise ValueError(
            f"{op}: pivots must be lu_factor's, integers in 1..{m} of shape {shape}; got {seen}"
        )
    perm = np.broadcast_to(np.arange(m), piv.shape[:-1] + (m,)).copy()
    for i in range(piv.shape[-1]):  # row i swapped with row piv[i] - 1, in order
        j = piv[..., i : i + 1].astype(np.int64) - 1
        row_i = perm[..., i : i + 1].copy()
        perm[..., i : i + 1] = np.take_along_axis(perm, j, -1)
        np.put_along_axis(perm, j, row_i, -1)
    return _mT(np.eye(m, dtype=LU.dtype)[perm])  # Pᵀ A holds A's rows in the order perm


def lu_unpack(
    LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True
) -> LUUnpack:
    """torch.lu_unpack: P, L (unit lower triangular) and U of lu_factor's packed form; the parts
    not asked for are empty tensors."""
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    empty = constant(np.zeros(0, LU_data.dtype))
    P = constant(_permutation("lu_unpack", LU_data, LU_pivots)) if unpack_pivots else empty
    if not unpack_data:
        return LUUnpack(P, empty, empty)
    L = tril(LU_data[..., :, :k], -1) + constant(np.eye(m, k, dtype=LU_data.dtype))
    return LUUnpack(P, L, triu(LU_data[..., :k, :]))


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """torch.lu_solve: X with A X = b, A = P L U given as lu_factor's packed LU and pivots
    (two triangular solves, each reading its triangle of LU)."""
    _operands("lu_solve", b, LU_data)
    P = constant(_permutation("lu_solve", LU_data, LU_pivots))
    y = solve_triangular(LU_data, matmul(P.mT, b), upper=False, unitriangular=True)
    return solve_triangular(LU_data, y, upper=True)


class QR(NamedTuple):
    """What qr returns."""

    Q: Tensor
    R: Tensor


def qr(A: Tensor, mode: str = "reduced") -> QR:
    """Q (orthonormal columns) and R (upper triangular) with A = QR (forward only)."""
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    q, r = np.linalg.qr(A._data, "complete" if mode == "complete" else "reduced")
    q = np.zeros((0,), A.dtype) if mode == "r" else q
    return QR(_forward_only("qr", q, (A,)), _forward_only("qr", r, (A,)))


def pinv(A: Tensor, *, atol: float | None = None, rtol: float | None = None,
         hermitian: bool = False) -> Tensor:  # fmt: skip
    """The Moore-Penrose pseudo-inverse (forward only)."""
    rcond = 1e-15 if rtol is None else rtol
    return _forward_only("pinv", np.linalg.pinv(A._data, rcond, hermitian), (A,))


def matrix_rank(A: Tensor, *, atol: float | None = None, rtol: float | None = None,
                hermitian: bool = False) -> Tensor:  # fmt: skip
    """The number of singular values above the tolerance (int64)."""
    rank = np.linalg.matrix_rank(A._data, rtol=rtol, hermitian=hermitian)
    return constant(np.asarray(rank, np.int64))


class Lstsq(NamedTuple):
    """What lstsq returns."""

    solution: Tensor
    residuals: Tensor
    rank: Tensor
    singular_values: Tensor


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None) -> Lstsq:
    """The least-squares solution of A X = B for one matrix A (forward only)."""
    x, res, rank, sv = np.linalg.lstsq(A._data, B._data, rcond=rcond)
    dt = A.dtype
    return Lstsq(
        _forward_only("lstsq", x.astype(dt), (A, B)), constant(res.astype(dt)),
        constant(np.asarray(rank, np.int64)), constant(sv.astype(dt)),
    )  # fmt: skip


def matrix_power(A: Tensor, n: int) -> Tensor:
    """A multiplied by itself n times (n < 0: of the inverse; n = 0: the identity)."""
    _square("matrix_power", A)
    if n == 0:
        eye = np.broadcast_to(np.eye(A.shape[-1], dtype=A.dtype), A.shape).copy()
        return make(eye, (A,), lambda g: (np.zeros_like(g),))
    base, result = (inv(A) if n < 0 else A), None
    k = abs(n)
    while k:  # square and multiply
        if k & 1:
            result = base if result is None else matmul(result, base)
        k >>= 1
        if k:
            base = matmul(base, base)
    return result


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """The product of a chain of matrices (the first and last may be vectors)."""
    if len(tensors) < 2:
        raise ValueError(f"linalg.multi_dot: expected at least 2 tensors, got {len(tensors)}")
    return _fold(matmul, tensors)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product of vectors along ``dim`` (broadcasting the rest)."""
    return _sum(mul(x, y), dim)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (default the last)."""
    return _cross(input, other, dim)


def matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential exp(A) = Σ Aᵏ/k! of each square matrix (scipy's expm); its
    gradient is the upper-right block of exp([[Aᵀ, G], [0, Aᵀ]]) (Mathias' theorem)."""
    from scipy.linalg import expm

    a = _square("matrix_exp", A)
    n = a.shape[-1]
    out = _call("matrix_exp", expm, a)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        block = np.zeros((*a.shape[:-2], 2 * n, 2 * n), np.result_type(a, g))
        block[..., :n, :n] = block[..., n:, n:] = _mT(a)
        block[..., :n, n:] = g
        return (expm(block)[..., :n, n:].astype(g.dtype),)

    return make(np.asarray(out, a.dtype), (A,), backward)
