"""``where``'s compiled passes (neuralab.ops._where): NumPy's ``np.where`` bit for bit, and the
ops built on it equal to torch's at sizes that take the compiled path (≥ 4,096 elements)."""

import os
import types

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn.functional as F
from neuralab import compiled
from neuralab.ops import _where

pytest.importorskip("numba", reason="the compiled kernels need numba")
pytestmark = pytest.mark.skipif(
    os.environ.get("NEURALAB_NUMBA") == "0", reason="NEURALAB_NUMBA=0 turns the kernels off"
)

RNG = np.random.default_rng(0)
X = RNG.standard_normal((64, 128)).astype(np.float32)
X[0, :4] = [np.nan, -0.0, np.inf, -np.inf]
Y = RNG.standard_normal((64, 128)).astype(np.float32)
M = RNG.random((64, 128)) < 0.5

CASES = {
    "two arrays": (M, X, Y),
    "scalar second": (M, X, 0),
    "scalar first": (M, 0.0, X),
    "two scalars": (M, 1, np.float32(0.25)),
    "broadcast mask": (M[:1], X, -np.inf),
    "mask over rows": (M[:, :1], X, Y),
    "float64": (M, X.astype(np.float64), Y.astype(np.float64)),
    "strong float64 scalar promotes": (M, X, np.float64(2.0)),
    "mixed dtypes promote": (M, X, Y.astype(np.float64)),
    "integers": (M, Y.astype(np.int32), 0),
    "transposed operand": (M.T, X.T, Y.T),
    "small": (M[:2, :8], X[:2, :8], 0),
}


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(f"u{a.itemsize}") if a.dtype.kind == "f" else a


@pytest.mark.parametrize("case", CASES)
def test_where_is_numpys_where_bit_for_bit(case):
    cond, a, b = CASES[case]
    expected = np.where(cond, a, b)
    got = _where.where(cond, a, b)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(_bits(got), _bits(expected))


def test_where_splits_large_results_over_two_threads_alike():
    big = np.random.default_rng(1).standard_normal((1024, 1100)).astype(np.float32)
    cond = big > 0.3
    saved = nl.get_num_threads()
    try:
        nl.set_num_threads(2)
        got = [_where.where(cond, big, -big), _where.where(cond, 0, big)]
    finally:
        nl.set_num_threads(saved)
    np.testing.assert_array_equal(got[0], np.where(cond, big, -big))
    np.testing.assert_array_equal(got[1], np.where(cond, 0, big))


def test_the_kernels_run_for_large_float_results_only(monkeypatch):
    real = compiled.load("neuralab.compiled.where")
    assert real is not None
    calls: list[str] = []

    def spy(name: str):
        def run(*args):
            calls.append(name)
            return getattr(real, name)(*args)

        return run

    fake = types.SimpleNamespace(**{k: spy(k) for k in ("select", "select_scalar", "choose")})
    monkeypatch.setattr(_where, "load", lambda module: fake)
    _where.where(M, X, Y)
    _where.where(M, X, 0)
    _where.where(M, 1.0, 0.0)
    assert calls == ["select", "select_scalar", "choose"]
    calls.clear()
    _where.where(M[:2, :8], X[:2, :8], 0)  # small
    _where.where(M, Y.astype(np.int64), 0)  # not float
    _where.where(M.T, X.T, Y.T)  # not C-contiguous
    assert calls == []


def _both(fn_nl, fn_torch, *arrays):
    """Forward and input gradients (of a weighted sum) of one op in both libraries."""
    w = RNG.standard_normal(arrays[0].shape).astype(np.float32)
    ours = [nl.tensor(a, requires_grad=a.dtype == np.float32) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=a.dtype == np.float32) for a in arrays]
    out_n, out_t = fn_nl(*ours), fn_torch(*theirs)
    (out_n * nl.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    grads = [(o.grad.numpy(), t.grad.numpy()) for o, t in zip(ours, theirs) if t.requires_grad]
    return (out_n.detach().numpy(), out_t.detach().numpy()), grads


OPS = {
    "leaky_relu": (
        lambda x: F.leaky_relu(x, 0.2),
        lambda x: torch.nn.functional.leaky_relu(x, 0.2),
    ),
    "elu": (lambda x: F.elu(x), lambda x: torch.nn.functional.elu(x)),
    "selu": (lambda x: F.selu(x), lambda x: torch.nn.functional.selu(x)),
    "softplus": (
        lambda x: F.softplus(x, 2.0, 1.0),
        lambda x: torch.nn.functional.softplus(x, 2.0, 1.0),
    ),
    "hardswish": (lambda x: F.hardswish(x), lambda x: torch.nn.functional.hardswish(x)),
    "threshold": (
        lambda x: F.threshold(x, 0.1, -1.0),
        lambda x: torch.nn.functional.threshold(x, 0.1, -1.0),
    ),
    "hardshrink": (lambda x: F.hardshrink(x), lambda x: torch.nn.functional.hardshrink(x)),
    "softshrink": (lambda x: F.softshrink(x), lambda x: torch.nn.functional.softshrink(x)),
    "huber": (
        lambda x, y: F.huber_loss(x, y, reduction="none", delta=0.5),
        lambda x, y: torch.nn.functional.huber_loss(x, y, reduction="none", delta=0.5),
    ),
    "where": (lambda x, y: nl.where(x > y, x, y), lambda x, y: torch.where(x > y, x, y)),
    "masked_fill": (
        lambda x: x.masked_fill(nl.tensor(M[:1]), -3.0),
        lambda x: x.masked_fill(torch.tensor(M[:1]), -3.0),
    ),
}


@pytest.mark.parametrize("op", OPS)
def test_ops_on_where_match_torch_at_compiled_sizes(op):
    fn_nl, fn_torch = OPS[op]
    finite = np.nan_to_num(X, posinf=3.0, neginf=-3.0)
    arrays = (finite, Y)[: fn_nl.__code__.co_argcount]
    (ours, theirs), grads = _both(fn_nl, fn_torch, *arrays)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)
    for g_ours, g_theirs in grads:
        np.testing.assert_allclose(g_ours, g_theirs, rtol=1e-6, atol=1e-6)


def test_masked_attention_matches_torch_at_compiled_sizes():
    q, k, v = (torch.tensor(RNG.standard_normal((2, 4, 32, 16)).astype(np.float32)) for _ in "qkv")
    mask = torch.tensor(RNG.random((32, 32)) < 0.8)
    mask[:, 0] = True  # every query keeps one key
    ours = F.scaled_dot_product_attention(
        *(nl.tensor(t.numpy()) for t in (q, k, v)), attn_mask=nl.tensor(mask.numpy())
    )
    theirs = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
