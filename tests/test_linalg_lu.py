"""torch.linalg's LU family (lu_factor, lu_factor_ex, lu, lu_solve with left/adjoint), its older
top-level forms (torch.lu, torch.lu_solve, the Tensor methods), the *_ex functions, cond,
tensorinv, tensorsolve and vander: values, pivots, infos and gradients against torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from oracle import compare

import neuralab as nl

rng = np.random.default_rng(11)
SHAPES = [(4, 4), (3, 5), (5, 3), (2, 4, 4), (2, 3, 2, 5)]  # square, wide, tall, batched


def randn(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def f64(a: np.ndarray, grad: bool = False) -> nl.Tensor:
    return nl.tensor(a, dtype=nl.float64, requires_grad=grad)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lu_factor_values_pivots_and_gradient(shape, dtype):
    compare(lambda a: nl.linalg.lu_factor(a).LU, lambda a: torch.linalg.lu_factor(a).LU,
            [randn(*shape)], dtype)  # fmt: skip
    a = randn(*shape).astype(dtype)
    ours, theirs = nl.linalg.lu_factor(nl.from_numpy(a)), torch.linalg.lu_factor(torch.tensor(a))
    assert ours.pivots.dtype == nl.int32
    np.testing.assert_array_equal(ours.pivots.numpy(), theirs.pivots.numpy())


@pytest.mark.parametrize("shape", SHAPES)
def test_lu_is_p_l_u_with_their_gradients(shape):
    compare(nl.linalg.lu, torch.linalg.lu, [randn(*shape)], np.float64)
    P, L, U = nl.linalg.lu(f64(a := randn(*shape)))
    np.testing.assert_allclose((P @ L @ U).numpy(), a, atol=1e-12)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_lu_solve_sides_and_adjoint(left, adjoint):
    LU, pivots = torch.linalg.lu_factor(torch.tensor(randn(2, 4, 4)))
    b = randn(2, 4, 3) if left else randn(2, 3, 4)
    compare(
        lambda lu, b: nl.linalg.lu_solve(lu, nl.tensor(pivots.numpy()), b, left=left, adjoint=adjoint),
        lambda lu, b: torch.linalg.lu_solve(lu, pivots, b, left=left, adjoint=adjoint),
        [LU.numpy(), b], np.float64,
    )  # fmt: skip


def test_the_older_forms_keep_b_first():
    a, b = randn(3, 3), randn(3, 2)
    LU, pivots = nl.lu(f64(a))
    x = nl.lu_solve(f64(b), LU, pivots)
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(a, b), atol=1e-12)
    np.testing.assert_allclose(f64(b).lu_solve(*f64(a).lu()).numpy(), x.numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.lu is deprecated
        info = torch.lu(torch.tensor([[1.0, 2], [2, 4]]), get_infos=True)[2]
    assert nl.tensor([[1.0, 2], [2, 4]]).lu(get_infos=True)[2].item() == info.item() == 2


def test_the_cholesky_and_triangular_methods():
    a = randn(4, 4)
    spd, b = a @ a.T + 4 * np.eye(4), randn(4, 2)
    L = f64(np.linalg.cholesky(spd))
    np.testing.assert_allclose(f64(b).cholesky_solve(L).numpy(), np.linalg.solve(spd, b))
    np.testing.assert_allclose(L.cholesky_inverse().numpy(), np.linalg.inv(spd), atol=1e-12)
    x = f64(b).triangular_solve(L, upper=False).solution
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(np.linalg.cholesky(spd), b))


def test_singular_and_unsupported_inputs():
    singular = nl.tensor([[1.0, 2], [2, 4]])
    with pytest.raises(
        RuntimeError, match=r"U\[2,2\] is zero .* linalg.lu_factor_ex still factor it"
    ):
        nl.linalg.lu_factor(singular)
    LU, pivots, info = nl.linalg.lu_factor_ex(singular)
    theirs = torch.linalg.lu_factor_ex(torch.tensor([[1.0, 2], [2, 4]]))
    np.testing.assert_allclose(LU.numpy(), theirs.LU.numpy())
    assert info.item() == theirs.info.item() == 2
    with pytest.raises(RuntimeError, match="zero on its diagonal"):
        nl.linalg.lu_factor_ex(singular, check_errors=True)
    with pytest.raises(RuntimeError, match="without pivoting is not implemented"):
        nl.linalg.lu_factor(nl.randn(3, 3), pivot=False)
    with pytest.raises(ValueError, match=r"floating-point matrices .* shape \(3,\)"):
        nl.linalg.lu_factor(nl.randn(3))


def _with_singular(a: np.ndarray) -> np.ndarray:
    """a with its second matrix made exactly singular: small integers, one row twice another
    (a sum of rows would leave a rounding-sized pivot whose size depends on the LAPACK)."""
    a = a.copy()
    a[1] = [[1.0, 2, 3], [2, 4, 6], [0, 1, 1]]
    return a


@pytest.mark.parametrize("name", ["inv_ex", "solve_ex"])
def test_inv_ex_and_solve_ex_report_what_is_singular(name):
    a, b = _with_singular(randn(3, 3, 3)), randn(3, 3, 2)
    args = (a,) if name == "inv_ex" else (a, b)
    ours = getattr(nl.linalg, name)(*(f64(x) for x in args))
    theirs = getattr(torch.linalg, name)(*(torch.tensor(x) for x in args))
    np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
    assert ours.info.numpy()[1] > 0 and np.isnan(ours[0].numpy()[1]).all()
    np.testing.assert_allclose(ours[0].numpy()[[0, 2]], theirs[0].numpy()[[0, 2]], atol=1e-10)
    with pytest.raises(RuntimeError, match=r"singular or not positive-definite \(info \[0, "):
        getattr(nl.linalg, name)(*(f64(x) for x in args), check_errors=True)


def test_ex_functions_differentiate_the_good_matrices():
    a = randn(2, 3, 3)
    compare(lambda m: nl.linalg.inv_ex(m).inverse, lambda m: torch.linalg.inv_ex(m).inverse,
            [a], np.float64)  # fmt: skip
    spd = a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3)
    compare(lambda m: nl.linalg.cholesky_ex(m, upper=True).L,
            lambda m: torch.linalg.cholesky_ex(m, upper=True).L, [spd], np.float64)  # fmt: skip
    compare(lambda m: nl.linalg.cholesky_ex(m).L, lambda m: torch.linalg.cholesky_ex(m).L, [spd],
            np.float64)  # fmt: skip
    compare(lambda m, b: nl.linalg.solve_ex(m, b, left=False).result,
            lambda m, b: torch.linalg.solve_ex(m, b, left=False).result,
            [a, randn(2, 4, 3)], np.float32)  # fmt: skip


def test_cholesky_ex_gives_the_failing_order():
    spd = randn(2, 4, 4)
    spd = spd @ np.swapaxes(spd, -1, -2) + np.eye(4)
    spd[1, 2, 2] = -50.0
    ours = nl.linalg.cholesky_ex(nl.from_numpy(spd.astype(np.float32)))
    assert ours.info.tolist() == torch.linalg.cholesky_ex(torch.tensor(spd)).info.tolist() == [0, 3]
    assert ours.L.dtype == nl.float32 and np.isnan(ours.L.numpy()[1]).all()


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, float("inf"), -float("inf")])
def test_cond(p):
    # torch's own backward of cond fails for the norms other than 2 (an in-place error in 2.13)
    grad = None if p in (None, 2, -2) else [False]
    compare(lambda a: nl.linalg.cond(a, p), lambda a: torch.linalg.cond(a, p), [randn(3, 4, 4)],
            np.float64, grad=grad)  # fmt: skip


def test_tensorinv_and_tensorsolve():
    compare(lambda a: nl.linalg.tensorinv(a, ind=2), lambda a: torch.linalg.tensorinv(a, ind=2),
            [randn(4, 6, 8, 3)], np.float64)  # fmt: skip
    compare(nl.linalg.tensorsolve, torch.linalg.tensorsolve, [randn(2, 3, 6), randn(2, 3)],
            np.float64)  # fmt: skip
    compare(lambda a, b: nl.linalg.tensorsolve(a, b, dims=(0,)),
            lambda a, b: torch.linalg.tensorsolve(a, b, dims=(0,)), [randn(6, 2, 3), randn(2, 3)],
            np.float64)  # fmt: skip
    with pytest.raises(ValueError, match=r"shape \(2, 3\) with ind=1 is not square"):
        nl.linalg.tensorinv(nl.randn(2, 3), ind=1)


@pytest.mark.parametrize("N", [None, 2, 4])
def test_vander_and_its_gradient_at_zero(N):
    x = np.array([[0.0, 2, 3], [1, -1, 0.5]])
    compare(lambda t: nl.linalg.vander(t, N=N), lambda t: torch.linalg.vander(t, N=N), [x],
            np.float32)  # fmt: skip
    with pytest.raises(ValueError, match="N > 1"):
        nl.linalg.vander(nl.from_numpy(x), N=1)
