"""torch.linalg on NumPy: norms, inverses, determinants, solvers and decompositions, and the
older top-level forms torch keeps (torch.svd, torch.triangular_solve, torch.lu_solve, ...).

Differentiable: the norms, inv, det, slogdet, solve, solve_triangular, cholesky, eigh /
eigvalsh, svdvals, matrix_power, multi_dot, vecdot, cross, lu_factor / lu, the *_ex forms, cond,
and the solvers built on them (cholesky_solve, cholesky_inverse, triangular_solve, lu_solve,
lu_unpack's L and U). qr, svd, pinv, lstsq and matrix_rank compute forward only: a backward
through them raises a clear error.
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
from neuralab.ops.elementwise import mul, where
from neuralab.ops.linalg import cross as _cross
from neuralab.ops.matmul import matmul
from neuralab.ops.reduce import sum as _sum
from neuralab.ops.scan import cumprod
from neuralab.ops.shape import cat, expand, getitem, movedim, reshape, transpose
from neuralab.tensor import Tensor, constant, make

__all__ = [
    "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv",
    "inv_ex", "lstsq", "lu", "lu_factor", "lu_factor_ex", "lu_solve", "matmul", "matrix_norm",
    "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve",
    "solve_ex", "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve", "vander",
    "vecdot", "vector_norm",
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


def legacy_lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """torch.lu_solve (:func:`lu_solve`'s older form, b first): X with A X = b."""
    _operands("lu_solve", b, LU_data)
    return lu_solve(LU_data, LU_pivots, b)


def lu_solve(
    LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False
) -> Tensor:
    """X with A X = B (Aᵀ X = B when ``adjoint``; X A = B, X Aᵀ = B when not ``left``), A = P L U
    given as lu_factor's packed LU and pivots: two triangular solves, each reading its triangle."""
    _square("lu_solve", LU)
    if not left:  # X A = B is Aᵀ Xᵀ = Bᵀ
        return lu_solve(LU, pivots, B.mT, adjoint=not adjoint).mT
    P = constant(_permutation("lu_solve", LU, pivots))
    if adjoint:  # Uᵀ Lᵀ Pᵀ X = B
        y = solve_triangular(LU.mT, B, upper=False)
        return matmul(P, solve_triangular(LU.mT, y, upper=True, unitriangular=True))
    y = solve_triangular(LU, matmul(P.mT, B), upper=False, unitriangular=True)
    return solve_triangular(LU, y, upper=True)


class LUFactor(NamedTuple):
    """What lu_factor returns."""

    LU: Tensor
    pivots: Tensor


class LUFactorEx(NamedTuple):
    """What lu_factor_ex returns: ``info`` is 0, or k where U[k-1, k-1] is zero."""

    LU: Tensor
    pivots: Tensor
    info: Tensor


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False) -> LUFactorEx:
    """A = P L U with partial pivoting (LAPACK's getrf), L and U packed in one matrix and the row
    swaps as 1-based int32 pivots; the info says where U's diagonal has a zero."""
    import warnings

    from scipy import linalg as sla  # imported on first use: it costs 0.1 s at startup

    a = A._data
    if a.ndim < 2 or a.dtype.kind != "f":
        raise ValueError(
            f"linalg.lu_factor: expected floating-point matrices (..., m, n), got shape {a.shape} "
            f"and dtype {a.dtype}"
        )
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    m, n = a.shape[-2:]
    k = min(m, n)
    flat = a.reshape(-1, m, n)
    lu = np.empty_like(flat)
    piv = np.empty((len(flat), k), np.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sla.LinAlgWarning)  # a zero pivot: reported in info
        for i, matrix in enumerate(flat):
            lu[i], piv[i] = sla.lu_factor(matrix, check_finite=False)
    zero = np.diagonal(lu, axis1=-2, axis2=-1) == 0
    info = np.where(zero.any(-1), zero.argmax(-1) + 1, 0).astype(np.int32).reshape(a.shape[:-2])
    lu, piv = lu.reshape(a.shape), (piv + 1).reshape(a.shape[:-2] + (k,))
    if check_errors and info.any():
        raise RuntimeError(f"linalg.lu_factor_ex: U has a zero on its diagonal (info {info})")

    def backward(g: np.ndarray) -> tuple[np.ndarray]:  # P built here: a forward never needs it
        return (_lu_grad(lu, _permutation("lu_factor", A, piv), g),)

    return LUFactorEx(make(lu, (A,), backward), constant(piv), constant(info))


def lu_factor(A: Tensor, *, pivot: bool = True) -> LUFactor:
    """:func:`lu_factor_ex` without the info, raising where U's diagonal has a zero (a solve with
    it would divide by zero; :func:`lu` and :func:`lu_factor_ex` still factor such matrices)."""
    LU, pivots, info = lu_factor_ex(A, pivot=pivot)
    if info._data.any():
        k = int(info._data[info._data > 0].flat[0])
        raise RuntimeError(
            f"linalg.lu_factor: U[{k},{k}] is zero (A is singular), so lu_solve would divide by "
            "zero; linalg.lu or linalg.lu_factor_ex still factor it"
        )
    return LUFactor(LU, pivots)


def _lu_grad(lu: np.ndarray, perm: np.ndarray, g: np.ndarray) -> np.ndarray:
    """dL/dA of A = P L U from the packed factors' gradient g: with the parts of L and U past
    the leading k×k square (k = min(m, n)) folded in, gA = P L₁⁻ᵀ Φ U₁⁻ᵀ padded by those parts,
    where Φ = tril(L₁ᵀ ḡ_L₁ − Ū₂ U₂ᵀ, −1) + triu(Ḡ_U₁ U₁ᵀ − L₂ᵀ Ḡ_L₂)."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    L, U = np.tril(lu[..., :, :k], -1), np.triu(lu[..., :k, :])
    L[..., range(k), range(k)] = 1
    gl, gu = np.tril(g[..., :, :k], -1), np.triu(g[..., :k, :])
    L1, U1 = L[..., :k, :], U[..., :, :k]
    phi_l = _mT(L1) @ gl[..., :k, :] - gu[..., :, k:] @ _mT(U[..., :, k:])
    phi_u = gu[..., :, :k] @ _mT(U1) - _mT(L[..., k:, :]) @ gl[..., k:, :]
    phi = np.tril(phi_l, -1) + np.triu(phi_u)
    inner = _batched_tri(_mT(L1), phi, True, True)  # L₁⁻ᵀ Φ
    inner = _mT(_batched_tri(U1, _mT(inner), True, False))  # (L₁⁻ᵀ Φ) U₁⁻ᵀ
    if n > k:  # the columns of U₂: their gradient goes through L⁻ᵀ only
        ga = np.concatenate([inner, _batched_tri(_mT(L1), gu[..., :, k:], True, True)], -1)
    elif m > n:  # the rows of L₂: their gradient goes through U⁻ᵀ only
        ga = np.concatenate([inner, _mT(_batched_tri(U1, _mT(gl[..., k:, :]), True, False))], -2)
    else:
        ga = inner
    return (perm @ ga).astype(g.dtype)


class PLU(NamedTuple):
    """What linalg.lu returns: A = P L U."""

    P: Tensor
    L: Tensor
    U: Tensor


def lu(A: Tensor, *, pivot: bool = True) -> PLU:
    """A = P L U with partial pivoting: P a permutation, L unit lower triangular (m × k), U upper
    triangular (k × n), k = min(m, n); differentiable through L and U."""
    LU, pivots, _ = lu_factor_ex(A, pivot=pivot)
    return PLU(*lu_unpack(LU, pivots))


def legacy_lu(A: Tensor, pivot: bool = True, get_infos: bool = False) -> tuple[Tensor, ...]:
    """torch.lu (lu_factor's older form): (LU, pivots), with the info too when ``get_infos``."""
    factors = lu_factor_ex(A, pivot=pivot)
    return tuple(factors) if get_infos else tuple(factors[:2])


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


class InvEx(NamedTuple):
    """What inv_ex returns."""

    inverse: Tensor
    info: Tensor


class CholeskyEx(NamedTuple):
    """What cholesky_ex returns."""

    L: Tensor
    info: Tensor


class SolveEx(NamedTuple):
    """What solve_ex returns."""

    result: Tensor
    info: Tensor


def _with_info(
    op: str, A: Tensor, check_errors: bool, fn: Callable, info_of: Callable[[], np.ndarray]
) -> tuple[Tensor, np.ndarray]:
    """``fn(A)`` and a zero info per matrix when ``fn`` succeeds (one factorization, as usual);
    when it fails, the info ``info_of()`` finds, and ``fn`` of A where it is 0 (differentiable
    there), NaN for the matrices it flags, which ``fn`` never sees (each is replaced by the
    identity); or an error when ``check_errors``."""
    try:
        return fn(A), np.zeros(A.shape[:-2], np.int32)
    except RuntimeError:
        info = info_of()
    if check_errors and info.any():
        raise RuntimeError(
            f"linalg.{op}: the input is singular or not positive-definite (info "
            f"{info.tolist()}: 0 where it is not, else the failing order)"
        )
    if not info.any():
        return fn(A), info
    bad = constant((info != 0)[..., None, None])
    eye = constant(np.eye(A.shape[-1], dtype=A.dtype))
    out = fn(where(bad, eye, A))
    return where(bad if out.ndim == bad.ndim else bad[..., 0], np.nan, out), info  # vector B


def _lu_info(A: Tensor) -> Callable[[], np.ndarray]:
    """What :func:`_with_info` asks of a solver: lu_factor_ex's info of A."""
    return lambda: lu_factor_ex(A.detach()).info._data


def inv_ex(A: Tensor, *, check_errors: bool = False) -> InvEx:
    """:func:`inv` with an info per matrix (k > 0: U[k-1, k-1] of its LU is zero, the inverse
    NaN) instead of an error, unless ``check_errors``."""
    inverse, info = _with_info("inv_ex", A, check_errors, inv, _lu_info(A))
    return InvEx(inverse, constant(info))


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> CholeskyEx:
    """:func:`cholesky` with an info per matrix (k > 0: the leading minor of order k is not
    positive-definite, the factor NaN) instead of an error, unless ``check_errors``."""
    from scipy.linalg import lapack

    a = _square("cholesky_ex", A)

    def info_of() -> np.ndarray:
        flat = a.reshape(-1, *a.shape[-2:])
        info = np.array([lapack.dpotrf(m, lower=True)[1] for m in flat], np.int32)
        return info.reshape(a.shape[:-2])

    factor, info = _with_info(
        "cholesky_ex", A, check_errors, lambda m: cholesky(m, upper=upper), info_of
    )
    return CholeskyEx(factor, constant(info))


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False) -> SolveEx:
    """:func:`solve` with an info per matrix of A (as :func:`inv_ex`'s; the result NaN there)."""
    x, info = _with_info("solve_ex", A, check_errors, lambda m: solve(m, B, left=left), _lu_info(A))
    return SolveEx(x, constant(info))


def cond(A: Tensor, p: Any = None) -> Tensor:
    """The condition number of each matrix in the norm ``p``: σ_max/σ_min for None or 2 (σ_min/
    σ_max for -2), else ‖A‖·‖A⁻¹‖ of that matrix norm (square, invertible A)."""
    if p in (None, 2, -2):
        s = svdvals(A)
        big, small = s[..., 0], s[..., -1]
        return big / small if p != -2 else small / big
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The inverse of A for :func:`tensordot` over its first ``ind`` dimensions: A viewed as the
    (prod(shape[:ind]) × prod(shape[ind:])) matrix, inverted, seen as shape[ind:] + shape[:ind]."""
    rows = int(np.prod(A.shape[:ind]))
    if ind <= 0 or rows != int(np.prod(A.shape[ind:])):
        raise ValueError(f"linalg.tensorinv: shape {A.shape} with ind={ind} is not square")
    return reshape(inv(reshape(A, (rows, -1))), A.shape[ind:] + A.shape[:ind])


def tensorsolve(A: Tensor, B: Tensor, dims: Sequence[int] | None = None) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B: A's leading B.ndim dimensions meet B (``dims`` of A
    are moved to the end first), the rest make X's shape."""
    if dims is not None:
        A = movedim(A, tuple(dims), tuple(range(A.ndim - len(dims), A.ndim)))
    shape = A.shape[B.ndim :]
    if A.shape[: B.ndim] != B.shape or int(np.prod(shape)) != B.numel():
        raise ValueError(f"linalg.tensorsolve: A {A.shape} does not fit B {B.shape}")
    return reshape(solve(reshape(A, (B.numel(), -1)), reshape(B, (-1,))), shape)


def vander(x: Tensor, N: int | None = None) -> Tensor:
    """The Vandermonde matrix of the last dimension: x⁰, x¹, ..., x^(N-1) along a new last one
    (N defaults to x's length), as running products so the gradient at 0 stays finite."""
    n = x.shape[-1] if N is None else N
    if x.ndim < 1 or n <= 1:
        raise ValueError(f"linalg.vander: expected x of 1 or more dimensions and N > 1, got "
                         f"shape {x.shape} and N={N}")  # fmt: skip
    ones = constant(np.ones(x.shape + (1,), x.dtype))
    powers = cat([ones, expand(x[..., None], x.shape + (n - 1,))], -1)
    return cumprod(powers, -1)
