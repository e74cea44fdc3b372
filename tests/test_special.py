"""neuralab.special beside torch.special: the same names, and every function's values, dtypes
and gradients in float32 and float64 over a few hundred points of its domain (edge values
included), which gradients exist, and the errors torch raises."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import TOL, compare

import neuralab as nl
import neuralab.special as special

TS = torch.special

# torch.special's public attributes that are not functions: the Tensor class and the torch
# module it imports, and two dicts of docstring fragments
NOT_FUNCTIONS = {"Tensor", "torch", "common_args", "multi_dim_common"}
# torch.special functions neuralab.special does not have: none
MISSING: set[str] = set()

rng = np.random.default_rng(11)
EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 30.0, -30.0, 100.0, -100.0, np.inf, -np.inf]


def grid(lo: float, hi: float, *edges: float, n: int = 300) -> np.ndarray:
    return np.concatenate([np.linspace(lo, hi, n), np.array(edges, dtype=float)])


REALS = grid(-12.3, 12.3, *EDGES)
FINITE = grid(-12.3, 12.3, *EDGES[:-2])
UNIT = grid(0.001, 0.999, 0.0, 1.0, 1e-6, 1 - 1e-6)  # probabilities
SYMMETRIC_UNIT = grid(-0.999, 0.999, 0.0, 1.0, -1.0)
ABOVE_MINUS_ONE = grid(-0.999, 30.0, -1.0, -2.0, 0.0, 1e-8, np.inf)
NOT_POLES = grid(-9.93, 12.3, 0.5, -0.5, 1.0, 2.0, 30.0, 100.0)
# a hundredth or more from the poles at 0, -1, -2, ...: beside them torch's float32 polygammas lose
# digits that SciPy keeps
NOT_POLES = NOT_POLES[(NOT_POLES > 0) | (np.abs(NOT_POLES - np.round(NOT_POLES)) > 0.01)]
NONNEGATIVE = grid(0.0, 20.0, 1e-6, 50.0, 100.0, -1.0, np.inf)
LOOSE = dict(rtol=1e-5, atol=1e-5)  # torch's float64 Bessel and Airy functions err by up to ~3e-6


def _tol(dtype: type, tol32: dict | None = None, tol64: dict | None = None) -> dict:
    return (tol32 if dtype is np.float32 else tol64) or TOL[dtype]


# (name, inputs, float32 tolerance, float64 tolerance); None: the oracle's
UNARY = [
    ("erf", REALS, None, None),
    ("erfc", REALS, None, None),
    ("erfcx", REALS, None, None),
    ("erfinv", SYMMETRIC_UNIT, None, None),
    ("ndtr", REALS, None, None),
    ("ndtri", UNIT, None, None),
    ("log_ndtr", FINITE, dict(rtol=1e-4, atol=1e-4), None),
    ("expit", REALS, None, None),
    ("logit", UNIT, None, None),
    ("exp2", FINITE, None, None),
    ("expm1", FINITE, None, None),
    ("log1p", ABOVE_MINUS_ONE, None, None),
    ("entr", REALS, None, None),
    ("sinc", FINITE, None, None),
    ("i0", FINITE, None, None),
    ("i0e", REALS, None, None),
    ("i1", FINITE, None, None),
    ("i1e", REALS, None, None),
    ("gammaln", NOT_POLES, None, None),
    ("digamma", NOT_POLES, dict(rtol=1e-4, atol=1e-4), dict(rtol=1e-8, atol=1e-8)),
    ("psi", NOT_POLES, dict(rtol=1e-4, atol=1e-4), dict(rtol=1e-8, atol=1e-8)),
    # no gradient in torch: values only
    ("airy_ai", FINITE, None, LOOSE),
    ("bessel_j0", REALS, None, LOOSE),
    ("bessel_j1", REALS, None, LOOSE),
    ("bessel_y0", NONNEGATIVE, None, LOOSE),
    ("bessel_y1", NONNEGATIVE, None, LOOSE),
    ("modified_bessel_i0", FINITE, None, None),
    ("modified_bessel_i1", FINITE, None, None),
    ("modified_bessel_k0", NONNEGATIVE, None, None),
    ("modified_bessel_k1", NONNEGATIVE, None, None),
    ("scaled_modified_bessel_k0", NONNEGATIVE, None, None),
    ("scaled_modified_bessel_k1", NONNEGATIVE, None, None),
    ("spherical_bessel_j0", REALS, None, None),
]
UNARY_NAMES = [row[0] for row in UNARY]
DTYPES = [np.float32, np.float64]

POLYNOMIALS = {
    "chebyshev_polynomial_t": (-1.5, 1.5),
    "chebyshev_polynomial_u": (-1.5, 1.5),
    "chebyshev_polynomial_v": (-1.5, 1.5),
    "chebyshev_polynomial_w": (-1.5, 1.5),
    "shifted_chebyshev_polynomial_t": (-0.25, 1.25),
    "shifted_chebyshev_polynomial_u": (-0.25, 1.25),
    "shifted_chebyshev_polynomial_v": (-0.25, 1.25),
    "shifted_chebyshev_polynomial_w": (-0.25, 1.25),
    "hermite_polynomial_h": (-3.0, 3.0),
    "hermite_polynomial_he": (-3.0, 3.0),
    "laguerre_polynomial_l": (-2.0, 12.0),
    "legendre_polynomial_p": (-1.5, 1.5),
}


def test_names_match_torch_special():
    theirs = {n for n in dir(TS) if not n.startswith("_")} - NOT_FUNCTIONS
    assert set(special.__all__) == theirs - MISSING
    assert all(callable(getattr(special, n)) for n in special.__all__)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, xs, tol32, tol64", UNARY, ids=UNARY_NAMES)
def test_unary(name, xs, tol32, tol64, dtype):
    compare(getattr(special, name), getattr(TS, name), [xs], dtype, tol=_tol(dtype, tol32, tol64))


@pytest.mark.parametrize("name", UNARY_NAMES + ["round"])
def test_which_have_gradients(name):
    ours = getattr(special, name)(nl.tensor([0.3, 0.7], requires_grad=True))
    theirs = getattr(TS, name)(torch.tensor([0.3, 0.7], requires_grad=True))
    assert ours.requires_grad == theirs.requires_grad


@pytest.mark.parametrize("default", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", [n for n in UNARY_NAMES if n != "round"])
def test_integer_inputs_promote_to_the_default_dtype(name, default):
    before = torch.get_default_dtype()
    torch.set_default_dtype(default)
    nl.set_default_dtype(nl.float32 if default == torch.float32 else nl.float64)
    try:
        ints = np.array([0, 1, 2, 5], dtype=np.int64)
        ours = getattr(special, name)(nl.tensor(ints))
        theirs = getattr(TS, name)(torch.tensor(ints))
        assert ours.dtype == theirs.numpy().dtype
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
    finally:
        torch.set_default_dtype(before)
        nl.set_default_dtype(nl.float32)


def test_round_keeps_integer_steps_and_decimals():
    xs = np.concatenate([rng.standard_normal(200) * 10, [0.5, 1.5, 2.5, -0.5, -2.5]])
    for dtype in DTYPES:
        compare(special.round, TS.round, [xs], dtype)
        compare(
            lambda a: special.round(a, decimals=2), lambda a: TS.round(a, decimals=2), [xs], dtype
        )


@pytest.mark.parametrize("dtype", DTYPES)
def test_logit_eps(dtype):
    xs = grid(0.0, 1.0, 0.05, 0.95)
    compare(lambda a: special.logit(a, eps=0.1), lambda a: TS.logit(a, eps=0.1), [xs], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_polygamma(n, dtype):
    tol = dict(rtol=1e-4, atol=1e-4) if dtype is np.float32 else dict(rtol=1e-8, atol=1e-8)
    xs = grid(-4.93, 8.0, 0.25, 1.0, 30.0)
    compare(lambda a: special.polygamma(n, a), lambda a: TS.polygamma(n, a), [xs], dtype, tol=tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [1, 2, 4])
def test_multigammaln(p, dtype):
    xs = grid((p - 1) / 2 + 0.01, 20.0, 50.0)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype is np.float32 else dict(rtol=1e-8, atol=1e-8)
    compare(
        lambda a: special.multigammaln(a, p), lambda a: TS.multigammaln(a, p), [xs], dtype, tol=tol
    )


def _pairs(xs: np.ndarray, ys: np.ndarray) -> list[np.ndarray]:
    """Every (x, y) of the two grids, as two flat arrays."""
    a, b = np.meshgrid(xs, ys)
    return [a.ravel(), b.ravel()]


BINARY = [
    ("xlogy", _pairs(grid(-3, 3, 0.0, n=20), grid(0.01, 10, 0.0, -1.0, n=15)), [True, True]),
    ("xlog1py", _pairs(grid(-3, 3, 0.0, n=20), grid(-0.99, 10, -1.0, -2.0, n=15)), [True, True]),
    # torch differentiates zeta and the incomplete gammas in their second argument only
    ("zeta", _pairs(grid(1.1, 10, 2.0, n=20), grid(0.1, 8, 1.0, -0.5, n=15)), [False, True]),
    ("gammainc", _pairs(grid(0.1, 10, 1.0, n=20), grid(0.01, 20, 0.0, n=15)), [False, True]),
    ("gammaincc", _pairs(grid(0.1, 10, 1.0, n=20), grid(0.01, 20, 0.0, n=15)), [False, True]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, arrays, grad", BINARY, ids=[row[0] for row in BINARY])
def test_binary(name, arrays, grad, dtype):
    tol = dict(rtol=1e-4, atol=1e-4) if dtype is np.float32 else dict(rtol=1e-9, atol=1e-10)
    compare(getattr(special, name), getattr(TS, name), arrays, dtype, grad=grad, tol=tol)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py", "zeta"])
def test_binary_with_a_number_and_broadcasting(name):
    ys = rng.uniform(0.5, 3.0, (4, 1))
    compare(lambda b: getattr(special, name)(2.0, b), lambda b: getattr(TS, name)(2.0, b), [ys])
    grad = [name != "zeta", True]  # torch has no derivative of zeta in its first argument
    xs = rng.uniform(1.5, 3, (3,))
    compare(getattr(special, name), getattr(TS, name), [xs, ys], np.float64, grad=grad)


@pytest.mark.parametrize("name", ["zeta", "gammainc", "gammaincc"])
def test_unimplemented_derivative_raises_like_torch(name):
    ours = getattr(special, name)(nl.tensor([2.0], requires_grad=True), nl.tensor([1.5]))
    theirs = getattr(TS, name)(torch.tensor([2.0], requires_grad=True), torch.tensor([1.5]))
    with pytest.raises(RuntimeError, match="not implemented"):
        theirs.sum().backward()
    with pytest.raises(RuntimeError, match="not implemented"):  # NotImplementedError is one
        ours.sum().backward()


def test_argument_errors_like_torch():
    with pytest.raises(RuntimeError, match="negative n"):
        special.polygamma(-1, nl.tensor([1.0]))
    with pytest.raises(RuntimeError, match="greater than or equal to 1"):
        special.multigammaln(nl.tensor([3.0]), 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim, keep", [(0, False), (-1, True)])
def test_softmax_family(dim, keep, dtype):
    x = rng.standard_normal((4, 5)) * 5
    compare(lambda a: special.softmax(a, dim), lambda a: TS.softmax(a, dim), [x], dtype)
    compare(lambda a: special.log_softmax(a, dim), lambda a: TS.log_softmax(a, dim), [x], dtype)
    compare(
        lambda a: special.logsumexp(a, dim, keep),
        lambda a: TS.logsumexp(a, dim, keep),
        [x * 40],
        dtype,
    )


def test_softmax_dtype_and_integer_logsumexp():
    compare(
        lambda a: special.softmax(a, 1, dtype=nl.float64),
        lambda a: TS.softmax(a, 1, dtype=torch.float64),
        [rng.standard_normal((4, 5))],
        np.float32,
    )
    ints = np.array([[1, 2, 3]])
    ours = special.logsumexp(nl.tensor(ints), 1)
    theirs = TS.logsumexp(torch.tensor(ints), 1)
    assert ours.dtype == theirs.numpy().dtype
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(POLYNOMIALS))
def test_polynomials(name, dtype):
    lo, hi = POLYNOMIALS[name]
    xs = grid(lo, hi, 0.0, 1.0, -1.0, 0.5, n=40)[:, None]  # with torch's special points
    ns = np.arange(-1, 13)[None, :]  # a negative degree gives 0
    ours, theirs = getattr(special, name), getattr(TS, name)
    scale = np.abs(ours(nl.tensor(xs.astype(dtype)), nl.tensor(ns)).numpy()).max()
    tol = (
        dict(rtol=1e-4, atol=1e-6 * scale)
        if dtype is np.float32
        else dict(rtol=1e-9, atol=1e-12 * scale)
    )
    compare(ours, theirs, [xs, ns], dtype, tol=tol)
    # a number for either argument, a float degree (truncated), a float32 batch with a 0-d n
    compare(lambda a: ours(a, 3), lambda a: theirs(a, 3), [xs], dtype, tol=tol)
    compare(lambda a: ours(a, 2.7), lambda a: theirs(a, 2.7), [xs], dtype, tol=tol)
    compare(
        lambda n: ours(0.3, n), lambda n: theirs(0.3, n), [ns.astype(np.float64)], dtype, tol=tol
    )
    x_grad = nl.tensor(xs.astype(dtype), requires_grad=True)
    assert not ours(x_grad, nl.tensor(ns)).requires_grad  # torch gives them no gradient either


def test_polynomial_dtypes_and_hermite_limit():
    for x, n in [([1, 2], 3), ([0.5], np.float64(3.0)), ([1, 2], 2.5)]:
        ours = special.chebyshev_polynomial_t(nl.tensor(x), nl.tensor(n))
        theirs = TS.chebyshev_polynomial_t(torch.tensor(x), torch.tensor(n))
        assert ours.dtype == theirs.numpy().dtype
    for dtype, n in [(np.float32, 129), (np.float64, 513)]:
        x = np.array([0.5], dtype)
        ours = special.hermite_polynomial_h(nl.tensor(x), n).numpy()
        theirs = TS.hermite_polynomial_h(torch.tensor(x), n).numpy()
        assert np.isnan(ours).all() and np.isnan(theirs).all()


# torch's top-level names and Tensor methods for functions of torch.special (n or p: an int)
ALIASES = [
    ("polygamma", lambda lib, x, y: lib.polygamma(2, x), lambda x, y: x.polygamma(1)),
    ("mvlgamma", lambda lib, x, y: lib.mvlgamma(x + 2, 2), lambda x, y: (x + 2).mvlgamma(3)),
    ("igamma", lambda lib, x, y: lib.igamma(x, y), lambda x, y: x.igamma(y)),
    ("igammac", lambda lib, x, y: lib.igammac(x, y), lambda x, y: x.igammac(y)),
]


@pytest.mark.parametrize("name, function, method", ALIASES, ids=[a[0] for a in ALIASES])
def test_top_level_names_and_methods_of_special_functions(name, function, method):
    x = np.array([0.25, 0.5, 1.5, 2.5, 4.0, 7.0], np.float32)
    y = np.array([1.0, 0.5, 3.0, 2.0, 0.1, 9.0], np.float32)
    ours, theirs = (nl.tensor(x), nl.tensor(y)), (torch.tensor(x), torch.tensor(y))
    for call in (lambda lib, a, b: function(lib, a, b), lambda lib, a, b: method(a, b)):
        got, want = call(nl, *ours), call(torch, *theirs)
        assert got.dtype == nl.float32
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=2e-5, err_msg=name)
    in_place = {"polygamma": (lambda t: t.polygamma_(1), lambda t: t.polygamma(1)),
                "mvlgamma": (lambda t: (t.add_(2)).mvlgamma_(2), lambda t: (t + 2).mvlgamma(2)),
                "igamma": (lambda t: t.igamma_(t), lambda t: t.igamma(t)),
                "igammac": (lambda t: t.igammac_(t), lambda t: t.igammac(t))}[name]  # fmt: skip
    t = nl.tensor(x)
    expected = in_place[1](nl.tensor(x)).numpy()
    assert in_place[0](t) is t
    np.testing.assert_array_equal(t.numpy(), expected)


def test_i0_in_place_matches_torch():
    x = np.linspace(-5, 5, 11, dtype=np.float32)
    t, reference = nl.tensor(x), torch.tensor(x)
    assert t.i0_() is t
    np.testing.assert_allclose(t.numpy(), reference.i0_().numpy(), rtol=1e-5)
