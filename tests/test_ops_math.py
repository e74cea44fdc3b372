"""Math functions beside PyTorch: elementwise math, reductions and scans, matrix products,
einsum, diagonals, norms, torch.linalg, sparse COO products and the random samplers — values
and gradients in float32 and float64, plus dtypes, keywords and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from oracle import compare

import neuralab as nl

rng = np.random.default_rng(7)


def r(*shape):
    return rng.standard_normal(shape)


def pos(*shape):
    return rng.uniform(0.5, 2.0, shape)


def unit(*shape):
    return rng.uniform(-0.9, 0.9, shape)


def spd(*shape):
    a = r(*shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def ties(*shape):
    return rng.integers(0, 3, shape) + 0.5 * rng.integers(0, 2, shape)


def zeros_in(*shape):
    x = r(*shape)
    x.reshape(-1)[:: max(x.size // 3, 1)] = 0
    return x


T = torch
TL = torch.linalg

UNARY = [
    ("log1p", pos), ("expm1", r), ("log2", pos), ("log10", pos), ("exp2", r), ("rsqrt", pos),
    ("reciprocal", pos), ("sinh", r), ("cosh", r), ("tan", unit), ("asin", unit),
    ("acos", unit), ("atan", r), ("asinh", r), ("atanh", unit), ("erf", r), ("erfc", r),
    ("erfinv", unit), ("lgamma", pos), ("sinc", r), ("deg2rad", r),
    ("rad2deg", r), ("frac", r), ("square", r), ("floor", r), ("ceil", r),
    ("trunc", r), ("fix", r), ("round", r), ("i0", r), ("arcsin", unit), ("arctan", r),
]  # fmt: skip

# (id, ours, torch's, input arrays)
ROWS = [
    (f"unary_{name}", getattr(nl, name), getattr(T, name), [make(3, 4)]) for name, make in UNARY
] + [
    ("acosh", nl.acosh, T.acosh, [pos(3) + 1]),
    ("sgn", lambda a: nl.sgn(a) + a, lambda a: T.sgn(a) + a, [r(3, 4)]),  # torch's grad: ZeroTensor
    ("digamma", nl.digamma, T.digamma, [pos(3, 4)], dict(rtol=1e-8, atol=1e-8)),  # polygamma's last bits
    ("round_decimals", lambda a: nl.round(a, decimals=2), lambda a: T.round(a, decimals=2), [r(5)]),
    ("logit", nl.logit, T.logit, [rng.uniform(0.1, 0.9, 5)]),
    ("logit_eps", lambda a: nl.logit(a, eps=0.2), lambda a: T.logit(a, eps=0.2), [rng.uniform(0.05, 0.95, 9)]),
    ("clamp_min", lambda a: nl.clamp_min(a, 0.1), lambda a: T.clamp_min(a, 0.1), [r(6)]),
    ("clamp_max", lambda a: a.clamp_max(0.1), lambda a: a.clamp_max(0.1), [r(6)]),
    ("clamp_tensor", lambda a, lo, hi: nl.clamp(a, lo, hi), lambda a, lo, hi: T.clamp(a, lo, hi), [r(3, 4), r(4) - 1, r(3, 1) + 1]),
    ("nan_to_num", nl.nan_to_num, T.nan_to_num, [np.array([1.0, np.nan, np.inf, -np.inf, -2.0])]),
    ("nan_to_num_values", lambda a: a.nan_to_num(1.0, 5.0, -5.0), lambda a: a.nan_to_num(1.0, 5.0, -5.0), [np.array([np.nan, np.inf, -np.inf, 2.0])]),
    ("remainder", nl.remainder, T.remainder, [r(3, 4) * 3, pos(4)]),
    ("fmod", nl.fmod, T.fmod, [r(3, 4) * 3, -pos(4)]),
    ("atan2", nl.atan2, T.atan2, [r(3, 4), r(3, 1)]),
    ("hypot", nl.hypot, T.hypot, [r(3, 4), r(4)]),
    ("fmax", nl.fmax, T.fmax, [r(3, 4), r(4)]),
    ("fmin", lambda a, b: a.fmin(b), lambda a, b: a.fmin(b), [r(3, 4), r(3, 4)]),
    ("diff", lambda a: nl.diff(a, n=2, dim=0), lambda a: T.diff(a, n=2, dim=0), [r(5, 3)]),
    ("diff_prepend", lambda a, b: a.diff(prepend=b), lambda a, b: a.diff(prepend=b), [r(3, 4), r(3, 2)]),
    ("cov", nl.cov, T.cov, [r(3, 6)]),
    ("cov_1d", lambda a: nl.cov(a, correction=0), lambda a: T.cov(a, correction=0), [r(6)]),
    ("corrcoef", nl.corrcoef, T.corrcoef, [r(3, 6)]),
    ("logaddexp", nl.logaddexp, T.logaddexp, [r(3, 4) * 5, r(4) * 5]),
    ("logaddexp2", nl.logaddexp2, T.logaddexp2, [r(3, 4), r(4)]),
    ("xlogy", nl.xlogy, T.xlogy, [zeros_in(3, 4), pos(3, 4)]),
    ("xlogy_zero_y", nl.xlogy, T.xlogy, [np.array([0.0, 0.0, 2.0]), np.array([0.0, 1.5, 1.0])]),
    ("copysign", nl.copysign, T.copysign, [r(3, 4), r(4)]),
    ("lerp_scalar", lambda a, b: nl.lerp(a, b, 0.3), lambda a, b: T.lerp(a, b, 0.3), [r(3, 4), r(4)]),
    ("lerp_tensor", nl.lerp, T.lerp, [r(3, 4), r(4), rng.random((3, 1))]),
    ("addcmul", lambda a, b, c: nl.addcmul(a, b, c, value=-0.5), lambda a, b, c: T.addcmul(a, b, c, value=-0.5), [r(3, 4), r(4), r(3, 1)]),
    ("addcdiv", lambda a, b, c: a.addcdiv(b, c, value=2), lambda a, b, c: a.addcdiv(b, c, value=2), [r(3, 4), r(4), pos(3, 4)]),
    ("add_alpha", lambda a, b: nl.add(a, b, alpha=-2), lambda a, b: T.add(a, b, alpha=-2), [r(3, 4), r(4)]),
    ("sub_alpha", lambda a, b: a.sub(b, alpha=3), lambda a, b: a.sub(b, alpha=3), [r(3, 4), r(4)]),
    ("div_floor", lambda a, b: nl.div(a, b, rounding_mode="floor"), lambda a, b: T.div(a, b, rounding_mode="floor"), [r(3, 4) * 4, pos(4)]),
    ("div_trunc", lambda a, b: a.div(b, rounding_mode="trunc"), lambda a, b: a.div(b, rounding_mode="trunc"), [r(3, 4) * 4, pos(4)]),
    ("max_binary", nl.max, T.max, [r(3, 4), r(4)]),
    ("min_binary", lambda a, b: a.min(b), lambda a, b: a.min(b), [r(3, 4), r(3, 1)]),
    # reductions and scans
    ("amin", lambda a: nl.amin(a, (0, -1)), lambda a: T.amin(a, (0, -1)), [ties(2, 3, 4)]),
    ("aminmax", lambda a: nl.aminmax(a, dim=1, keepdim=True), lambda a: T.aminmax(a, dim=1, keepdim=True), [ties(3, 4)]),
    ("sum_dtype", lambda a: a.sum(-1, dtype=nl.float64), lambda a: a.sum(-1, dtype=T.float64), [r(3, 4)]),
    ("mean_dtype", lambda a: nl.mean(a, 0, dtype=nl.float64), lambda a: T.mean(a, 0, dtype=T.float64), [r(3, 4)]),
    ("var_mean", lambda a: nl.var_mean(a, 1), lambda a: T.var_mean(a, 1), [r(3, 4)]),
    ("std_mean", lambda a: nl.std_mean(a, (0, 1), correction=0, keepdim=True), lambda a: T.std_mean(a, (0, 1), correction=0, keepdim=True), [r(3, 4, 2)]),
    ("cumprod", lambda a: nl.cumprod(a, 1), lambda a: T.cumprod(a, 1), [r(3, 5)]),
    ("cumprod_zeros", lambda a: a.cumprod(-1), lambda a: a.cumprod(-1), [zeros_in(3, 5)]),
    ("cummax", lambda a: nl.cummax(a, 1), lambda a: T.cummax(a, 1), [ties(3, 6)]),
    ("cummin", lambda a: a.cummin(0), lambda a: a.cummin(0), [ties(5, 2)]),
    ("logcumsumexp", lambda a: nl.logcumsumexp(a, -1), lambda a: T.logcumsumexp(a, -1), [r(3, 6) * 10]),
    # products
    ("mm", nl.mm, T.mm, [r(2, 3), r(3, 4)]),
    ("matmul", nl.matmul, T.matmul, [r(2, 2, 3), r(3)]),
    ("bmm", nl.bmm, T.bmm, [r(2, 2, 3), r(2, 3, 4)]),
    ("mv", nl.mv, T.mv, [r(2, 3), r(3)]),
    ("dot", nl.dot, T.dot, [r(3), r(3)]),
    ("outer", nl.outer, T.outer, [r(3), r(2)]),
    ("ger", lambda a, b: a.ger(b), lambda a, b: a.ger(b), [r(3), r(2)]),
    ("inner", nl.inner, T.inner, [r(2, 3), r(4, 3)]),
    ("addmm", lambda a, b, c: nl.addmm(a, b, c, beta=0.5, alpha=2), lambda a, b, c: T.addmm(a, b, c, beta=0.5, alpha=2), [r(4), r(2, 3), r(3, 4)]),
    ("addmm_beta0", lambda a, b, c: a.addmm(b, c, beta=0), lambda a, b, c: a.addmm(b, c, beta=0), [r(2, 4), r(2, 3), r(3, 4)]),
    ("addmv", nl.addmv, T.addmv, [r(2), r(2, 3), r(3)]),
    ("addr", nl.addr, T.addr, [r(2, 3), r(2), r(3)]),
    ("addbmm", lambda a, b, c: nl.addbmm(a, b, c, alpha=2), lambda a, b, c: T.addbmm(a, b, c, alpha=2), [r(2, 4), r(3, 2, 3), r(3, 3, 4)]),
    ("baddbmm", lambda a, b, c: nl.baddbmm(a, b, c, beta=-1), lambda a, b, c: T.baddbmm(a, b, c, beta=-1), [r(3, 2, 4), r(3, 2, 3), r(3, 3, 4)]),
    ("tensordot", lambda a, b: nl.tensordot(a, b, 2), lambda a, b: T.tensordot(a, b, 2), [r(2, 3, 4), r(3, 4, 5)]),
    ("tensordot_pairs", lambda a, b: nl.tensordot(a, b, ([0, 2], [2, 0])), lambda a, b: T.tensordot(a, b, ([0, 2], [2, 0])), [r(2, 3, 4), r(4, 3, 2)]),
    ("kron", nl.kron, T.kron, [r(2, 3), r(3, 2)]),
    ("kron_ndim", nl.kron, T.kron, [r(2), r(2, 3, 2)]),
    ("cross", lambda a, b: nl.cross(a, b, dim=0), lambda a, b: T.cross(a, b, dim=0), [r(3, 2), r(3, 1)]),
    ("linalg_cross", nl.linalg.cross, TL.cross, [r(2, 3), r(2, 3)]),
    ("chain_matmul", lambda a, b, c: nl.chain_matmul(a, b, c), lambda a, b, c: a @ b @ c, [r(2, 3), r(3, 4), r(4, 2)]),
    # diagonals
    ("diag_1d", lambda a: nl.diag(a, 2), lambda a: T.diag(a, 2), [r(3)]),
    ("diag_2d", lambda a: a.diag(-1), lambda a: a.diag(-1), [r(3, 4)]),
    ("diagonal", lambda a: nl.diagonal(a, 1, -1, 0), lambda a: T.diagonal(a, 1, -1, 0), [r(3, 2, 4)]),
    ("diag_embed", lambda a: nl.diag_embed(a, -1, 0, 2), lambda a: T.diag_embed(a, -1, 0, 2), [r(3, 2, 4)]),
    ("diagflat", lambda a: nl.diagflat(a, 1), lambda a: T.diagflat(a, 1), [r(2, 2)]),
    ("trace", nl.trace, T.trace, [r(3, 4)]),
    ("tril", lambda a: nl.tril(a, -1), lambda a: T.tril(a, -1), [r(2, 3, 4)]),
    ("triu", lambda a: a.triu(1), lambda a: a.triu(1), [r(3, 4)]),
    # norms
    ("norm_default", nl.norm, T.norm, [r(2, 3, 4)]),
    ("norm_dim", lambda a: a.norm(dim=1), lambda a: a.norm(dim=1), [r(2, 3, 4)]),
    ("norm_p1_dims", lambda a: nl.norm(a, p=1, dim=(1, 2)), lambda a: T.norm(a, p=1, dim=(1, 2)), [r(2, 3, 4)]),
    ("norm_fro_keep", lambda a: a.norm("fro", dim=(0, 1), keepdim=True), lambda a: a.norm("fro", dim=(0, 1), keepdim=True), [r(2, 3, 4)]),
    ("norm_nuc", lambda a: nl.norm(a, p="nuc"), lambda a: T.norm(a, p="nuc"), [r(3, 4)]),
    ("norm_inf", lambda a: a.norm(float("inf"), dim=-1), lambda a: a.norm(float("inf"), dim=-1), [r(3, 4)]),
    ("dist", lambda a, b: nl.dist(a, b, 3), lambda a, b: T.dist(a, b, 3), [r(3, 4), r(4)]),
    ("cdist", nl.cdist, T.cdist, [r(2, 3, 4), r(2, 5, 4)]),
    ("cdist_p1", lambda a, b: nl.cdist(a, b, p=1), lambda a, b: T.cdist(a, b, p=1), [r(3, 4), r(5, 4)]),
    ("vecdot", nl.linalg.vecdot, TL.vecdot, [r(2, 3), r(3)]),
]  # fmt: skip

for _ord in (2, 1, 3, 0.5, 0, math.inf, -math.inf):
    ROWS.append((f"vector_norm_{_ord}", lambda a, o=_ord: nl.linalg.vector_norm(a, o, dim=(0, 2)),
                 lambda a, o=_ord: TL.vector_norm(a, o, dim=(0, 2)), [r(2, 3, 4)]))  # fmt: skip
for _ord in ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf):
    ROWS.append((f"matrix_norm_{_ord}", lambda a, o=_ord: nl.linalg.matrix_norm(a, o, dim=(2, 0), keepdim=True),
                 lambda a, o=_ord: TL.matrix_norm(a, o, dim=(2, 0), keepdim=True), [r(2, 3, 4)]))  # fmt: skip

EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("...ij,...jk", [(5, 2, 3), (3, 4)]),
    ("i,j->ij", [(3,), (4,)]), ("ij->", [(2, 3)]), ("ab,ab->ab", [(1, 3), (2, 3)]),
    ("iij,j", [(3, 3, 2), (2,)]), ("i...->i", [(2, 3, 4)]), ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]), ("ijk->kji", [(2, 3, 4)]), ("ij,ik->j", [(3, 2), (3, 4)]),
    ("bA,Ac", [(2, 3), (3, 4)]),
]  # fmt: skip
for _eq, _shapes in EINSUM:
    ROWS.append((f"einsum_{_eq}", lambda *t, e=_eq: nl.einsum(e, *t), lambda *t, e=_eq: T.einsum(e, *t),
                 [r(*s) for s in _shapes]))  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("row", ROWS, ids=[row[0] for row in ROWS])
def test_matches_torch(row, dtype):
    _, ours, theirs, arrays, *tol = row
    compare(ours, theirs, arrays, dtype=dtype, tol=tol[0] if tol and dtype == np.float64 else None)


LINALG = [
    ("inv", nl.linalg.inv, TL.inv, [spd(2, 3, 3)]),
    ("det", nl.linalg.det, TL.det, [r(2, 3, 3)]),
    ("det_top", nl.det, T.det, [r(3, 3)]),
    ("slogdet", lambda a: nl.linalg.slogdet(a), lambda a: TL.slogdet(a), [r(2, 3, 3)]),
    ("logdet", lambda a: a.logdet(), lambda a: a.logdet(), [spd(3, 3)]),
    ("solve", nl.linalg.solve, TL.solve, [spd(2, 3, 3), r(2, 3, 2)]),
    ("solve_vector", nl.linalg.solve, TL.solve, [spd(2, 3, 3), r(2, 3)]),
    ("solve_bcast", nl.linalg.solve, TL.solve, [spd(3, 3), r(2, 3, 4)]),
    ("solve_right", lambda a, b: nl.linalg.solve(a, b, left=False), lambda a, b: TL.solve(a, b, left=False), [spd(3, 3), r(4, 3)]),
    ("cholesky", nl.linalg.cholesky, TL.cholesky, [spd(2, 3, 3)]),
    ("cholesky_upper", lambda a: nl.linalg.cholesky(a, upper=True), lambda a: TL.cholesky(a, upper=True), [spd(3, 3)]),
    ("eigvalsh", nl.linalg.eigvalsh, TL.eigvalsh, [spd(2, 3, 3)]),
    ("eigh", lambda a: (lambda w, v: w + (v**2).sum())(*nl.linalg.eigh(a)), lambda a: (lambda w, v: w + (v**2).sum())(*TL.eigh(a)), [spd(3, 3)]),
    ("eigh_vectors", lambda a: nl.linalg.eigh(a)[1].abs(), lambda a: TL.eigh(a)[1].abs(), [spd(3, 3)]),
    ("svdvals", nl.linalg.svdvals, TL.svdvals, [r(2, 3, 4)]),
    ("multi_dot", lambda a, b, c: nl.linalg.multi_dot([a, b, c]), lambda a, b, c: TL.multi_dot([a, b, c]), [r(3), r(3, 4), r(4, 2)]),
    ("linalg_norm", nl.linalg.norm, TL.norm, [r(2, 3)]),
    ("linalg_norm_ord", lambda a: nl.linalg.norm(a, 2), lambda a: TL.norm(a, 2), [r(2, 3)]),
    ("linalg_norm_dim", lambda a: nl.linalg.norm(a, dim=(0, 2)), lambda a: TL.norm(a, dim=(0, 2)), [r(2, 3, 4)]),
] + [
    (f"matrix_power_{n}", lambda a, n=n: nl.linalg.matrix_power(a, n), lambda a, n=n: TL.matrix_power(a, n), [spd(3, 3) / 3])
    for n in (0, 1, 3, -2)
]  # fmt: skip

for _up in (True, False):
    for _left in (True, False):
        for _unit in (True, False):
            _a = np.triu(spd(3, 3)) if _up else np.tril(spd(3, 3))
            LINALG.append((
                f"solve_triangular_{_up}_{_left}_{_unit}",
                lambda a, b, u=_up, le=_left, un=_unit: nl.linalg.solve_triangular(a, b, upper=u, left=le, unitriangular=un),
                lambda a, b, u=_up, le=_left, un=_unit: TL.solve_triangular(a, b, upper=u, left=le, unitriangular=un),
                [_a, r(3, 2) if _left else r(2, 3)],
            ))  # fmt: skip

LOOSE32 = dict(rtol=2e-3, atol=2e-4)  # decompositions in float32 differ from LAPACK's in torch


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("row", LINALG, ids=[row[0] for row in LINALG])
def test_linalg_matches_torch(row, dtype):
    _, ours, theirs, arrays = row
    compare(ours, theirs, arrays, dtype=dtype, tol=LOOSE32 if dtype == np.float32 else None)


def test_forward_only_decompositions_reconstruct_and_refuse_backward():
    a = r(4, 3).astype(np.float32)
    x = nl.tensor(a, requires_grad=True)
    u, s, vh = nl.linalg.svd(x, full_matrices=False)
    np.testing.assert_allclose((u.numpy() * s.numpy()) @ vh.numpy(), a, atol=1e-5)
    q, rr = nl.linalg.qr(x)
    assert q.shape == (4, 3) and rr.shape == (3, 3)
    np.testing.assert_allclose(q.numpy() @ rr.numpy(), a, atol=1e-5)
    with pytest.raises(RuntimeError, match="linalg.qr: backward is not implemented"):
        q.sum().backward()
    np.testing.assert_allclose(nl.linalg.pinv(x).numpy(), np.linalg.pinv(a), atol=1e-5)
    assert nl.linalg.matrix_rank(x).item() == 3
    assert nl.linalg.lstsq(x, nl.tensor(r(4, 2).astype(np.float32))).solution.shape == (3, 2)


def test_linalg_errors_are_one_line():
    with pytest.raises(RuntimeError, match="linalg.inv: .*singular"):
        nl.linalg.inv(nl.zeros(2, 2))
    with pytest.raises(ValueError, match="linalg.det: expected square matrices"):
        nl.linalg.det(nl.zeros(2, 3))
    with pytest.raises(TypeError, match="vector_norm: expected a floating-point input"):
        nl.linalg.vector_norm(nl.tensor([1, 2]))


def test_vector_norm_gradient_is_zero_at_the_origin_like_torch():
    for ord in (2, 3):
        x = nl.zeros(3, requires_grad=True)
        nl.linalg.vector_norm(x, ord).backward()
        assert x.grad.tolist() == [0.0, 0.0, 0.0]
    x = nl.tensor([3.0, -3.0, 1.0], requires_grad=True)
    nl.linalg.vector_norm(x, float("inf")).backward()
    assert x.grad.tolist() == [0.5, -0.5, 0.0]  # ties share the gradient


def test_step_functions_keep_integer_dtype_and_pass_zero_gradient():
    assert nl.floor(nl.tensor([1, 2])).dtype == nl.int64
    assert nl.square(nl.tensor([2])).dtype == nl.int64
    assert nl.reciprocal(nl.tensor([2])).dtype == nl.float32
    x = nl.tensor([1.5, -0.5], requires_grad=True)
    nl.floor(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    assert nl.floor_divide(nl.tensor([-3, 3]), 2).tolist() == [-2, 1]
    assert nl.floor_divide(nl.tensor([5]), 2.0).dtype == nl.float32
    assert nl.div(nl.tensor([5, -5]), 2, rounding_mode="floor").tolist() == [2, -3]
    assert nl.clamp(nl.tensor([1, 5]), min=2.5).dtype == nl.float32


def test_logic_and_bitwise():
    a, b = nl.tensor([6, 0, 3]), nl.tensor([3, 1, 0])
    assert nl.bitwise_and(a, b).tolist() == [2, 0, 0]
    assert (a ^ b).tolist() == [5, 1, 3]
    assert (a % 4).tolist() == [2, 0, 3] and (a // 4).tolist() == [1, 0, 0]
    assert nl.logical_xor(nl.tensor([1.0, 0.0]), nl.tensor([1, 1])).tolist() == [False, True]
    assert nl.logical_and(a, b).tolist() == [True, False, False]
    assert nl.bitwise_not(nl.tensor([True])).tolist() == [False]
    with pytest.raises(TypeError, match="bitwise_and: expected integer or bool tensors"):
        nl.bitwise_and(nl.tensor([1.0]), nl.tensor([2.0]))
    x = nl.tensor([1.0, float("nan"), float("inf"), -float("inf")])
    assert nl.isinf(x).tolist() == [False, False, True, True]
    assert nl.isposinf(x).tolist() == [False, False, True, False]
    assert nl.isclose(x, x, equal_nan=True).tolist() == [True] * 4
    assert nl.allclose(nl.tensor([1.0]), nl.tensor([1.0 + 1e-9])) is True
    assert nl.equal(nl.tensor([1, 2]), nl.tensor([1, 2])) and not nl.equal(nl.ones(2), nl.ones(3))
    assert x.eq(1).tolist() == [True, False, False, False] and nl.greater(x, 0)[0].item()


def test_any_all_count_and_nan_reductions():
    m = nl.tensor([[1, 0], [1, 1]])
    assert nl.any(nl.tensor([0.0, 1.0])).item() is True
    assert m.all(dim=1).tolist() == [False, True] and m.any(0, keepdim=True).shape == (1, 2)
    assert nl.count_nonzero(m, dim=0).tolist() == [2, 1]
    x = nl.tensor([[1.0, float("nan")], [float("nan"), float("nan")]], requires_grad=True)
    assert nl.nansum(x, 1).tolist() == [1.0, 0.0]
    assert np.isnan(nl.nanmean(x, 1).numpy()[1]) and nl.nanmean(x).item() == 1.0
    nl.nansum(x).backward()
    assert x.grad.tolist() == [[1.0, 0.0], [0.0, 0.0]]


def test_products_check_shapes_in_one_line():
    with pytest.raises(ValueError, match=r"mm: shapes \(2, 3\) and \(4, 2\) cannot be multiplied"):
        nl.mm(nl.zeros(2, 3), nl.zeros(4, 2))
    with pytest.raises(ValueError, match="mm: input must be 2-D"):
        nl.mm(nl.zeros(2, 3, 1), nl.zeros(1, 2))
    with pytest.raises(ValueError, match="bmm: shapes"):
        nl.bmm(nl.zeros(2, 2, 3), nl.zeros(3, 3, 2))
    with pytest.raises(ValueError, match="dot: the vectors have different lengths 3 and 4"):
        nl.dot(nl.zeros(3), nl.zeros(4))
    with pytest.raises(ValueError, match="einsum: operand 0 has 3 dimensions"):
        nl.einsum("ij", nl.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="einsum: the equation 'ij,jk' names 2 operands, got 1"):
        nl.einsum("ij,jk", nl.zeros(2, 3))
    with pytest.raises(TypeError, match="einsum: operands must share one dtype"):
        nl.einsum("i,i", nl.zeros(3), nl.zeros(3, dtype=nl.float64))
    with pytest.raises(ValueError, match="diag: expected a 1-D or 2-D tensor"):
        nl.diag(nl.zeros(2, 2, 2))


def test_einsum_takes_a_list_of_operands():
    a, b = r(2, 3), r(3, 4)
    out = nl.einsum("ij,jk->ik", [nl.tensor(a), nl.tensor(b)])
    np.testing.assert_allclose(out.numpy(), (a @ b).astype(np.float32), rtol=1e-5)


def test_tril_triu_indices():
    for f, g in ((nl.tril_indices, T.tril_indices), (nl.triu_indices, T.triu_indices)):
        assert f(3, 4, 1).tolist() == g(3, 4, 1).tolist()
        assert f(4, 3, -1).tolist() == g(4, 3, -1).tolist()


# ----------------------------------------------------------------------------- sparse


def _graph():
    idx = np.array([[0, 1, 1, 2, 0], [1, 0, 2, 2, 1]])
    return idx, rng.standard_normal(5), rng.standard_normal((3, 4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("how", ["sparse.mm", "spmm", "mm", "matmul", "@"])
def test_sparse_mm_matches_torch_with_gradients(dtype, how):
    idx, vals, dense = _graph()
    fns = {
        "sparse.mm": (nl.sparse.mm, T.sparse.mm), "spmm": (nl.spmm, T.spmm), "mm": (nl.mm, T.mm),
        "matmul": (nl.matmul, T.matmul), "@": (lambda a, b: a @ b, lambda a, b: a @ b),
    }  # fmt: skip
    ours, theirs = fns[how]
    compare(
        lambda v, d: ours(nl.sparse_coo_tensor(nl.tensor(idx), v, (3, 3)), d),
        lambda v, d: theirs(
            T.sparse_coo_tensor(T.tensor(idx), v, (3, 3), check_invariants=True), d
        ),
        [vals, dense],
        dtype=dtype,
    )


def test_sparse_to_dense_coalesce_and_accessors():
    idx, vals, _ = _graph()
    ours = nl.sparse_coo_tensor(nl.tensor(idx), nl.tensor(vals, dtype=nl.float64), (3, 3))
    theirs = T.sparse_coo_tensor(T.tensor(idx), T.tensor(vals), (3, 3), check_invariants=True)
    np.testing.assert_allclose(ours.to_dense().numpy(), theirs.to_dense().numpy())
    c, tc = ours.coalesce(), theirs.coalesce()
    assert c.indices().tolist() == tc.indices().tolist() and c.is_coalesced()
    np.testing.assert_allclose(c.values().numpy(), tc.values().numpy())
    assert ours._nnz() == 5 and ours.shape == (3, 3) and ours.is_sparse
    assert ours.t().to_dense().tolist() == ours.to_dense().numpy().T.tolist()
    assert ours.float().dtype == nl.float32 and ours.to("cpu") is ours
    legacy = nl.sparse.FloatTensor(nl.tensor(idx), nl.tensor(vals), (3, 3))
    assert legacy.dtype == nl.float32
    assert nl.sparse_coo_tensor([[0, 2]], [1.0, 2.0]).shape == (3,)  # size inferred
    dense = nl.tensor([[0.0, 1.0], [2.0, 0.0]])
    assert dense.to_sparse().to_dense().tolist() == dense.tolist()


def test_sparse_gradient_reaches_values_through_to_dense():
    idx, vals, _ = _graph()
    v = nl.tensor(vals, requires_grad=True)
    (
        nl.sparse_coo_tensor(nl.tensor(idx), v, (3, 3)).to_dense() * nl.arange(9.0).reshape(3, 3)
    ).sum().backward()
    assert v.grad.tolist() == [1.0, 3.0, 5.0, 8.0, 1.0]


def test_sparse_errors():
    with pytest.raises(ValueError, match="sparse_coo_tensor: 2 coordinates but values of shape"):
        nl.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 2.0, 3.0], (2, 2))
    with pytest.raises(ValueError, match="sparse_coo_tensor: an index is out of range"):
        nl.sparse_coo_tensor([[0, 5], [1, 0]], [1.0, 2.0], (2, 2))
    a = nl.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 2.0], (2, 2))
    with pytest.raises(ValueError, match="sparse.mm: shapes"):
        nl.sparse.mm(a, nl.zeros(3, 2))
    with pytest.raises(RuntimeError, match="CPU only"):
        a.cuda()


# ----------------------------------------------------------------------------- random


def test_manual_seed_governs_every_sampler():
    def draw():
        nl.manual_seed(3)
        p = nl.tensor([[0.1, 0.0, 0.9], [0.5, 0.5, 0.0]])
        return [
            nl.randperm(6).tolist(), nl.multinomial(p, 2).tolist(),
            nl.multinomial(p, 4, replacement=True).tolist(), nl.bernoulli(nl.full((5,), 0.5)).tolist(),
            nl.normal(nl.zeros(3), 2.0).tolist(), nl.poisson(nl.ones(4) * 3).tolist(),
            nl.zeros(4).exponential_().tolist(), nl.zeros(3).random_(10).tolist(),
        ]  # fmt: skip

    assert draw() == draw()


def test_generator_is_a_separate_stream_and_resettable():
    g = nl.Generator().manual_seed(42)
    first = nl.randperm(10, generator=g).tolist()
    nl.manual_seed(0)
    nl.randperm(10)  # the global stream does not disturb g
    assert g.initial_seed() == 42 and sorted(first) == list(range(10))
    state = g.get_state()
    a = nl.randperm(10, generator=g).tolist()
    g.set_state(state)
    assert nl.randperm(10, generator=g).tolist() == a
    assert (
        nl.Generator().manual_seed(42).permutation(3).tolist()
        == np.random.default_rng(42).permutation(3).tolist()
    )
    assert nl.manual_seed(5).initial_seed() == 5 == nl.initial_seed()


def test_sampler_shapes_dtypes_and_rules():
    nl.manual_seed(0)
    assert nl.randperm(4).dtype == nl.int64 and nl.randperm(0).shape == (0,)
    p = nl.tensor([0.0, 0.2, 0.8])
    draws = nl.multinomial(p, 2)
    assert draws.shape == (2,) and 0 not in draws.tolist() and len(set(draws.tolist())) == 2
    counts = np.bincount(nl.multinomial(p, 4000, replacement=True).numpy(), minlength=3)
    assert counts[0] == 0 and abs(counts[2] / 4000 - 0.8) < 0.03
    assert nl.bernoulli(nl.full((3,), 0.5, dtype=nl.float64)).dtype == nl.float64
    b = nl.zeros(1000).bernoulli_(0.25)
    assert set(b.tolist()) <= {0.0, 1.0} and abs(b.mean().item() - 0.25) < 0.05
    assert nl.normal(0.0, 1.0, (2, 3)).shape == (2, 3) and nl.normal(
        nl.zeros(2), nl.ones(3, 1)
    ).shape == (3, 2)
    assert p.multinomial(1).shape == (1,)
    with pytest.raises(ValueError, match="multinomial: cannot draw 3 samples without replacement"):
        nl.multinomial(p, 3)
    with pytest.raises(ValueError, match="multinomial: weights must be finite, non-negative"):
        nl.multinomial(nl.tensor([-1.0, 2.0]), 1)
    with pytest.raises(ValueError, match="randperm: n must be a non-negative int, got -3"):
        nl.randperm(-3)
    with pytest.raises(ValueError, match=r"bernoulli: probabilities must be in \[0, 1\]"):
        nl.bernoulli(nl.tensor([1.5]))


def _aliases(lib):
    x = lib.tensor([[1.0, -2.0, 3.0], [0.5, 2.0, -1.0]])
    y = lib.tensor([[1.0, 2.0, 0.0], [0.5, 1.0, -1.0]])
    out = {
        "ravel": x.ravel().tolist(),
        "reshape_as": x.reshape_as(lib.zeros(3, 2)).tolist(),
        "where": x.where(x > 0, y).tolist(),
        "fliplr": x.fliplr().tolist(),
        "flipud": x.flipud().tolist(),
        "split_with_sizes": [t.tolist() for t in x.split_with_sizes([1, 2], 1)],
        "is_same_size": x.is_same_size(y),
        "heaviside": lib.heaviside(x, lib.tensor([0.5])).tolist(),
        "concatenate": lib.concatenate([x, y]).tolist(),
    }
    for name in ("eq_", "lt_", "ge_", "subtract_", "multiply_", "divide_", "cumsum_"):
        z = x.clone()
        out[name] = (getattr(z, name)(1) if name == "cumsum_" else getattr(z, name)(y)).tolist()
    z = x.clone()
    out["addmm_"] = z[:, :2].clone().addmm_(y[:, :2], lib.eye(2)).tolist()
    return out


def test_method_aliases_and_inplace_forms_match_torch():
    ours, theirs = _aliases(nl), _aliases(T)
    assert ours.keys() == theirs.keys()
    for key in ours:
        if key == "split_with_sizes":
            for a, b in zip(ours[key], theirs[key]):
                np.testing.assert_allclose(a, b, err_msg=key)
        else:
            np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-6, err_msg=key)


@pytest.mark.parametrize(
    "equation, shapes, blas",
    [
        ("bhqd,bhkd->bhqk", [(8, 4, 64, 32), (8, 4, 64, 32)], True),  # attention's scores
        ("btc,oc->bto", [(16, 32, 128), (96, 128)], True),  # a bare linear map
        ("ij,ik->jk", [(2048, 16), (2048, 16)], True),  # summed over the rows
        ("ij,ij->i", [(4096, 64), (4096, 64)], False),  # row-wise dots: NumPy's loop
        ("ij,jk->ik", [(8, 8), (8, 8)], False),  # too small to plan
    ],
)
def test_large_einsum_products_go_to_blas_and_match_torch(monkeypatch, equation, shapes, blas):
    from neuralab.ops import einsum as einsum_ops

    planned = []
    real = np.einsum
    monkeypatch.setattr(
        einsum_ops.np,
        "einsum",
        lambda *a, optimize=False: planned.append(optimize) or real(*a, optimize=optimize),
    )
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ours = [nl.tensor(a, requires_grad=True) for a in arrays]
    theirs = [T.tensor(a, requires_grad=True) for a in arrays]
    out, ref = nl.einsum(equation, *ours), T.einsum(equation, *theirs)
    g = rng.standard_normal(ref.shape).astype(np.float32)
    out.backward(nl.tensor(g))
    ref.backward(T.tensor(g))
    assert planned == [blas] * 3  # the forward and both gradients
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-4, atol=1e-4)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", [None, "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"])
def test_cdist_past_25_rows_is_torchs_product_form_with_its_gradients(dtype, mode):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 40, 8)), rng.standard_normal((1, 30, 8))
    ours = [nl.tensor(v, dtype=getattr(nl, dtype), requires_grad=True) for v in (a, b)]
    theirs = [T.tensor(v, dtype=getattr(T, dtype), requires_grad=True) for v in (a, b)]
    out = nl.cdist(*ours, compute_mode=mode)
    ref = T.cdist(*theirs, **({} if mode is None else {"compute_mode": mode}))
    g = rng.standard_normal(ref.shape)
    out.backward(nl.tensor(g, dtype=out.dtype))
    ref.backward(T.tensor(g, dtype=ref.dtype))
    tol = 1e-4 if dtype == "float32" else 1e-9
    assert out.shape == tuple(ref.shape) and out.dtype == getattr(nl, dtype)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=tol, atol=tol)
    for x, y in zip(ours, theirs):
        assert np.isfinite(x.grad.numpy()).all()
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=tol, atol=tol)
    with pytest.raises(ValueError, match="cdist: 'fast' is not a valid compute_mode"):
        nl.cdist(*ours, compute_mode="fast")


def test_cdist_of_coincident_rows_in_product_form_is_near_zero_with_finite_gradients():
    rng = np.random.default_rng(3)
    a = nl.tensor(rng.standard_normal((30, 8)), dtype=nl.float32, requires_grad=True)
    d = nl.cdist(a, a)  # 30 rows: the product form, whose float32 cancellation leaves ~1e-3
    assert np.all(np.diag(d.numpy()) < 2e-3)
    d.sum().backward()
    assert np.isfinite(a.grad.numpy()).all()
