"""The compiled kernels of transformer models: GELU (and SiLU, sigmoid), layer norm and attention's
softmax, and the float32 exp and erf they use, against torch and the NumPy paths they replace."""

import os

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import neuralab as nl
import neuralab.nn.functional as F
from neuralab import compiled, parallel
from neuralab.ops._pointwise import erf32 as numpy_erf32
from tests.oracle import compare

numba = pytest.importorskip("numba", reason="the compiled kernels need numba")
pytestmark = pytest.mark.skipif(
    os.environ.get("NEURALAB_NUMBA") == "0", reason="NEURALAB_NUMBA=0 turns the kernels off"
)

MODULES = {
    "gelu": "neuralab.compiled.activation",
    "layer_norm": "neuralab.compiled.layer_norm",
    "attention": "neuralab.compiled.attention",
}


@pytest.fixture
def kernels():
    """``kernels(True)`` uses the compiled kernels, ``kernels(False)`` the NumPy paths."""
    saved = dict(compiled._cache)

    def choose(use: bool) -> None:
        compiled._cache.clear()
        if not use:
            compiled._cache.update({m: None for m in MODULES.values()})

    yield choose
    compiled._cache.clear()
    compiled._cache.update(saved)


@pytest.fixture
def two_threads(monkeypatch):
    """Two threads, with every op big enough to be split between them."""
    monkeypatch.setattr(parallel, "MIN_CHUNK_WORK", 1)
    monkeypatch.setattr(parallel, "BLAS_THREADING_WORK", 0)
    previous = nl.get_num_threads()
    nl.set_num_threads(2)
    yield
    nl.set_num_threads(previous)


def _elementwise(kernel):
    """A compiled loop applying the scalar function ``kernel`` to a float32 array."""

    @numba.njit
    def run(x, out):
        for i in range(x.size):
            out[i] = kernel(x[i])

    def apply(x: np.ndarray) -> np.ndarray:
        out = np.empty_like(x)
        run(x, out)
        return out

    return apply


# ----------------------------------------------------------------------------- exp32, erf32


def test_exp32_is_within_two_ulp_of_exp_and_keeps_the_special_values():
    from neuralab.compiled.fastmath import exp32

    exp = _elementwise(exp32)
    x = np.linspace(-87, 88.7, 1_000_003, dtype=np.float32)
    reference = np.exp(x.astype(np.float64))
    assert np.max(np.abs(exp(x) - reference) / reference) < 1.5e-7
    tiny = np.array([-90, -100, -103.9], np.float32)  # subnormal results
    assert np.allclose(exp(tiny), np.exp(tiny.astype(np.float64)), rtol=0, atol=2e-45)
    special = np.array([0, -0.0, -104.5, -1e30, -np.inf, 88.72, 89, np.inf, np.nan], np.float32)
    got = exp(special)
    assert got[:2].tolist() == [1, 1] and got[2:5].tolist() == [0, 0, 0]
    assert np.isfinite(got[5]) and np.isinf(got[6:8]).all() and np.isnan(got[8])


@pytest.mark.parametrize("implementation", ["compiled", "numpy"])
def test_float32_erf_is_within_5e_7_of_erf(implementation):
    from scipy.special import erf

    from neuralab.compiled.fastmath import erf32

    fn = _elementwise(erf32) if implementation == "compiled" else numpy_erf32
    x = np.linspace(-6, 6, 1_000_001, dtype=np.float32)
    got = fn(x)
    assert got.dtype == np.float32
    assert np.max(np.abs(got - erf(x.astype(np.float64)))) < 5e-7
    assert np.all(np.abs(got) <= 1)
    special = fn(np.array([np.inf, -np.inf, np.nan], np.float32))
    assert special[:2].tolist() == [1, -1] and np.isnan(special[2])


# ----------------------------------------------------------------------------- GELU


@pytest.mark.parametrize("use", [True, False], ids=["compiled", "numpy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch(kernels, use, dtype, approximate):
    kernels(use)
    x = np.random.default_rng(0).standard_normal((5, 7, 33)) * 4
    x[0, 0, :4] = [0, 30, -30, 1e-20]
    compare(
        lambda a: F.gelu(a, approximate=approximate),
        lambda a: TF.gelu(a, approximate=approximate),
        [x],
        dtype,
    )
    compare(  # a transposed (non-contiguous) input
        lambda a: F.gelu(a.transpose(0, 2), approximate=approximate),
        lambda a: TF.gelu(a.transpose(0, 2), approximate=approximate),
        [x],
        dtype,
    )


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_compiled_gelu_agrees_with_numpy_and_torch_on_nan_and_infinity(kernels, approximate):
    x = np.array([np.nan, -np.inf, np.inf, 0.0, -10.0], np.float32)
    results = []
    for use in (True, False):
        kernels(use)
        a = nl.tensor(x, requires_grad=True)
        with np.errstate(all="raise"):  # no warning may escape from either path
            y = F.gelu(a, approximate=approximate)
            y.backward(nl.ones(5))
        results.append((y.numpy(), a.grad.numpy()))
    t = torch.tensor(x, requires_grad=True)
    expected = TF.gelu(t, approximate=approximate)
    expected.backward(torch.ones(5))
    for out, grad in results:
        np.testing.assert_array_equal(out[[0, 1, 3, 4]], expected.detach().numpy()[[0, 1, 3, 4]])
        assert out[2] == np.inf  # x·Φ(x) at +inf (torch's erf form gives NaN there)
        np.testing.assert_allclose(grad[[3, 4]], t.grad.numpy()[[3, 4]], atol=1e-7)
        assert np.isnan(grad[0])


@pytest.mark.parametrize("use", [True, False], ids=["compiled", "numpy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["sigmoid", "silu"])
def test_sigmoid_and_silu_match_torch(kernels, use, dtype, name):
    kernels(use)
    x = np.random.default_rng(9).standard_normal((4, 9, 17)) * 5
    x[0, 0, :4] = [0, 100, -100, -1e-20]
    compare(getattr(F, name), getattr(TF, name), [x], dtype)
    a = nl.tensor(np.array([np.nan, np.inf, -np.inf], dtype))
    expected = getattr(TF, name)(torch.tensor(a.numpy()))
    np.testing.assert_array_equal(getattr(F, name)(a).numpy(), expected.numpy())


@pytest.mark.parametrize("name", ["gelu", "silu", "sigmoid"])
def test_compiled_activations_keep_a_0_d_input_0_d(kernels, name):
    x = nl.tensor(0.5, requires_grad=True)
    y = getattr(F, name)(x)
    y.backward()
    assert y.shape == () and x.grad.shape == ()
    t = torch.tensor(0.5, requires_grad=True)
    getattr(TF, name)(t).backward()
    np.testing.assert_allclose(x.grad.item(), t.grad.item(), rtol=1e-6)


@pytest.mark.parametrize("name", ["gelu", "silu", "sigmoid"])
def test_compiled_activations_split_over_two_threads_with_the_same_bits(kernels, two_threads, name):
    fn = getattr(F, name)
    x = nl.tensor(np.random.default_rng(1).standard_normal((3, 1001)), requires_grad=True)
    y = fn(x)
    y.backward(nl.ones_like(y))
    nl.set_num_threads(1)
    x1 = nl.tensor(x.numpy(), requires_grad=True)
    y1 = fn(x1)
    y1.backward(nl.ones_like(y1))
    np.testing.assert_array_equal(y.numpy(), y1.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), x1.grad.numpy())


@pytest.mark.parametrize("use", [True, False], ids=["compiled", "numpy"])
@pytest.mark.parametrize("threads", [1, 2])
def test_tanh_and_its_slope_have_numpys_bits_split_or_not(kernels, use, threads):
    kernels(use)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((600, 1001), dtype=np.float32)  # over the split: 2 threads share it
    x[0, :4] = [np.nan, np.inf, -np.inf, -0.0]
    g = rng.standard_normal(x.shape, dtype=np.float32)
    previous = nl.get_num_threads()
    nl.set_num_threads(threads)
    try:
        t = nl.tensor(x, requires_grad=True)
        y = F.tanh(t)
        y.backward(nl.tensor(g))
    finally:
        nl.set_num_threads(previous)
    expected = np.tanh(x)
    assert y.dtype == nl.float32 and y.numpy().tobytes() == expected.tobytes()
    assert t.grad.numpy().tobytes() == ((1 - expected * expected) * g).tobytes()
    compare(F.tanh, torch.tanh, [x[1:51]])  # and torch's values and gradients


# ----------------------------------------------------------------------------- layer norm


LAYER_NORM_CASES = [
    ((4, 7, 33), (33,), "both"),
    ((3, 5, 6), (5, 6), "both"),
    ((10, 16), (16,), "none"),
    ((2, 3, 8), (8,), "weight"),
    ((1, 1), (1,), "both"),
]


@pytest.mark.parametrize("use", [True, False], ids=["compiled", "numpy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, normalized, affine", LAYER_NORM_CASES)
def test_layer_norm_matches_torch(kernels, use, dtype, shape, normalized, affine):
    kernels(use)
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(shape) * 3 + 1]
    if affine != "none":
        arrays.append(rng.standard_normal(normalized))
    if affine == "both":
        arrays.append(rng.standard_normal(normalized))
    compare(
        lambda x, *p: F.layer_norm(x, normalized, *p, eps=1e-5),
        lambda x, *p: TF.layer_norm(x, normalized, *p, eps=1e-5),
        arrays,
        dtype,
    )


def test_compiled_layer_norm_takes_a_strided_input_and_splits_rows_over_threads(
    kernels, two_threads
):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 3, 24)).astype(np.float32)
    w, b = rng.standard_normal(24).astype(np.float32), rng.standard_normal(24).astype(np.float32)
    compare(
        lambda x, w, b: F.layer_norm(x.transpose(0, 1), (24,), w, b),
        lambda x, w, b: TF.layer_norm(x.transpose(0, 1), (24,), w, b),
        [x, w, b],
    )


def test_compiled_layer_norm_keeps_no_normalized_copy_of_the_input(kernels):
    x = nl.tensor(np.random.default_rng(4).standard_normal((8, 32)), requires_grad=True)
    y = F.layer_norm(x, (32,))
    closure = y.grad_fn.__closure__ or ()
    arrays = [c.cell_contents for c in closure if isinstance(c.cell_contents, np.ndarray)]
    assert not any(a.shape == (8, 32) and a is not y._data for a in arrays if a.base is None)


# ----------------------------------------------------------------------------- attention


ATTENTION_CASES = [
    ((2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6), {}),
    ((2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6), {"is_causal": True}),
    ((2, 3, 7, 4), (2, 3, 5, 4), (2, 3, 5, 6), {"is_causal": True}),
    ((2, 3, 5, 4), (3, 7, 4), (3, 7, 6), {"scale": -0.3}),
    ((1, 2, 33, 8), (1, 2, 33, 8), (1, 2, 33, 8), {"is_causal": True}),
    ((1, 1), (1, 1), (1, 1), {"is_causal": True}),
]


@pytest.mark.parametrize("use", [True, False], ids=["compiled", "numpy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("q, k, v, options", ATTENTION_CASES)
def test_attention_matches_torch(kernels, use, dtype, q, k, v, options):
    kernels(use)
    rng = np.random.default_rng(5)
    compare(
        lambda *a: F.scaled_dot_product_attention(*a, **options),
        lambda *a: TF.scaled_dot_product_attention(*a, **options),
        [rng.standard_normal(s) * 2 for s in (q, k, v)],
        dtype,
    )


def test_compiled_causal_attention_weights_and_threads(kernels, two_threads):
    from neuralab.ops.attention import scaled_dot_product_attention_with_weights as attend

    rng = np.random.default_rng(6)
    q, k, v = (nl.tensor(rng.standard_normal((2, 3, 9, 4)), requires_grad=True) for _ in "qkv")
    out, weights = attend(q, k, v, is_causal=True)
    w = weights.numpy()
    assert not w.flags.writeable
    np.testing.assert_array_equal(np.triu(w, 1), 0)
    np.testing.assert_allclose(w.sum(-1), 1, rtol=1e-6)
    out.backward(nl.ones_like(out))
    grads = [t.grad.numpy() for t in (q, k, v)]
    nl.set_num_threads(1)
    q1, k1, v1 = (nl.tensor(t.numpy(), requires_grad=True) for t in (q, k, v))
    out1, _ = attend(q1, k1, v1, is_causal=True)
    out1.backward(nl.ones_like(out1))
    np.testing.assert_array_equal(out.numpy(), out1.numpy())
    for g, t in zip(grads, (q1, k1, v1)):
        np.testing.assert_array_equal(g, t.grad.numpy())


def test_attention_with_a_mask_or_dropout_keeps_its_numpy_path(kernels):
    kernels(True)
    rng = np.random.default_rng(7)
    mask = np.tril(np.ones((5, 5), bool))
    compare(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, nl.tensor(mask)),
        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, torch.tensor(mask)),
        [rng.standard_normal((2, 5, 4)) for _ in range(3)],
    )
    with pytest.raises(ValueError, match="either attn_mask or is_causal"):
        F.scaled_dot_product_attention(
            nl.ones(1, 2, 2), nl.ones(1, 2, 2), nl.ones(1, 2, 2), nl.tensor(mask[:2, :2]), 0.0, True
        )


# ----------------------------------------------------------------------------- ReLU


@pytest.mark.parametrize("shape", [(1, 7), (3, 4097)])
def test_relu_small_and_large_match_torch(shape):
    x = np.random.default_rng(8).standard_normal(shape)
    x.flat[:2] = [0.0, -0.0]
    compare(F.relu, TF.relu, [x])
