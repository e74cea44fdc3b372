"""Fused network kernels (losses, norms, attention, embedding, dropout) against torch as oracle.

Each op's forward values and the gradient of every differentiable input are compared with
``torch.nn.functional`` under a random upstream gradient, in float32 and float64; the backward is
run twice (retain_graph) to catch in-place changes to saved arrays or to the incoming gradient.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.special import logsumexp

from neuralab import compiled, ops
from neuralab.gradcheck import gradcheck
from neuralab.ops import attention, dropout, embedding, loss, norm
from neuralab.random import manual_seed
from neuralab.tensor import Tensor, no_grad

DTYPES = [np.float32, np.float64]
TOL = {np.float32: {"rtol": 1e-4, "atol": 1e-5}, np.float64: {"rtol": 1e-10, "atol": 1e-10}}
REDUCTIONS = ["mean", "sum", "none"]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def nt(a, requires_grad=False):
    """A neuralab tensor keeping the array's dtype (plain ``Tensor(float64 array)`` is float32)."""
    a = np.asarray(a)
    return Tensor(a, dtype=a.dtype, requires_grad=requires_grad)


def compare(ours_fn, torch_fn, arrays, dtype, seed=0):
    """Run both on copies of ``arrays`` (all differentiable); check outputs and every gradient."""
    arrays = [np.asarray(a, dtype) for a in arrays]
    ours = [nt(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = ours_fn(*ours), torch_fn(*theirs)
    assert out.numpy().dtype == dtype
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **TOL[dtype])
    g = rng(seed + 1).standard_normal(out.shape).astype(dtype)
    g_saved = g.copy()
    out.backward(gradient=g, retain_graph=True)
    ref.backward(torch.tensor(g))
    first = [t.grad.numpy().copy() for t in ours]
    for mine, theirs_t in zip(ours, theirs):
        assert mine.grad.numpy().dtype == dtype
        np.testing.assert_allclose(mine.grad.numpy(), theirs_t.grad.numpy(), **TOL[dtype])
    out.backward(gradient=g)  # the same graph again: saved arrays and g must be untouched
    np.testing.assert_array_equal(g, g_saved)
    for mine, f in zip(ours, first):
        np.testing.assert_allclose(mine.grad.numpy(), 2 * f, rtol=1e-6)
    return out


def const(a, dtype=None):
    """Graph-free tensor for the neuralab side (targets, weights)."""
    return nt(np.asarray(a, dtype) if dtype else a)


def tt(a, dtype=None):
    return torch.tensor(np.asarray(a, dtype) if dtype else np.asarray(a))


# ============================================================================= regression losses


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_regression_losses(name, shape, reduction, dtype):
    x, t = rng().standard_normal((2,) + shape)
    compare(
        lambda a, b: getattr(loss, name)(a, b, reduction=reduction),
        lambda a, b: getattr(F, name)(a, b, reduction=reduction),
        [x, t],
        dtype,
    )


# ============================================================================= binary losses


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [None, (4,), (3, 4)])
def test_binary_cross_entropy(weight_shape, reduction, dtype):
    r = rng(1)
    p, t = r.uniform(0.05, 0.95, (2, 3, 4))
    w = None if weight_shape is None else r.uniform(0.5, 2, weight_shape).astype(dtype)
    compare(
        lambda a, b: loss.binary_cross_entropy(
            a, b, weight=None if w is None else const(w), reduction=reduction
        ),
        lambda a, b: F.binary_cross_entropy(
            a, b, weight=None if w is None else tt(w), reduction=reduction
        ),
        [p, t],
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_finite_at_0_and_1(dtype):
    p = nt(np.array([0, 1, 0, 1], dtype), requires_grad=True)
    t = nt(np.array([0, 1, 1, 0], dtype), requires_grad=True)
    out = loss.binary_cross_entropy(p, t, reduction="none")
    np.testing.assert_array_equal(out.numpy(), [0, 0, 100, 100])
    ref = F.binary_cross_entropy(tt(p.numpy()), tt(t.numpy()), reduction="none")
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    out.sum().backward()
    assert np.isfinite(p.grad.numpy()).all()
    torch_p = tt(p.numpy()).requires_grad_()
    F.binary_cross_entropy(torch_p, tt(t.numpy()), reduction="sum").backward()
    np.testing.assert_allclose(p.grad.numpy(), torch_p.grad.numpy(), rtol=1e-6)
    # d/dt of the clamped loss: log(1-p) - log p, each clamped at -100 (torch gives ±inf here)
    np.testing.assert_array_equal(t.grad.numpy(), [100, -100, 100, -100])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_binary_cross_entropy_with_logits(pos_weighted, weighted, reduction, dtype):
    r = rng(2)
    x = 3 * r.standard_normal((3, 4))
    t = r.uniform(0, 1, (3, 4))
    w = r.uniform(0.5, 2, (3, 1)).astype(dtype) if weighted else None
    pw = r.uniform(0.5, 3, (4,)).astype(dtype) if pos_weighted else None
    compare(
        lambda a, b: loss.binary_cross_entropy_with_logits(
            a,
            b,
            weight=None if w is None else const(w),
            pos_weight=None if pw is None else const(pw),
            reduction=reduction,
        ),
        lambda a, b: F.binary_cross_entropy_with_logits(
            a,
            b,
            weight=None if w is None else tt(w),
            pos_weight=None if pw is None else tt(pw),
            reduction=reduction,
        ),
        [x, t],
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_with_logits_stable_at_1000(dtype):
    x, t = [1000, -1000, 1000, -1000], [1, 0, 0, 1]
    out = compare(
        lambda a, b: loss.binary_cross_entropy_with_logits(a, b, reduction="none"),
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"),
        [x, t],
        dtype,
    )
    np.testing.assert_array_equal(out.numpy(), [0, 0, 1000, 1000])


def test_binary_cross_entropy_rejects_non_probabilities():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must hold probabilities"):
        loss.binary_cross_entropy(const([0.5, 1.5]), const([0.0, 1.0]))


# ============================================================================= cross-entropy


def ce_pair(**kw):
    """cross_entropy on both sides with the same keyword arguments (tensors converted)."""
    nl_kw = {k: const(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    t_kw = {k: tt(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    return nl_kw, t_kw


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "shape", [(5,), (6, 5), (3, 5, 4), (2, 5, 3, 2)], ids=["C", "NC", "NCd", "NCdd"]
)
@pytest.mark.parametrize("options", ["plain", "weight+ignore+smoothing"])
def test_cross_entropy_index_target(options, shape, reduction, dtype):
    r = rng(3)
    x = 2 * r.standard_normal(shape)
    c = shape[0] if len(shape) == 1 else shape[1]
    y = r.integers(0, c, shape[:0] if len(shape) == 1 else shape[:1] + shape[2:])
    kw = {"reduction": reduction}
    if options != "plain":
        y = np.where(r.uniform(size=y.shape) < 0.3, -1, y)
        if len(shape) > 1:
            y.flat[0] = 2  # at least one sample counts
        kw.update(weight=r.uniform(0.5, 2, c).astype(dtype), ignore_index=-1, label_smoothing=0.2)
    nl_kw, t_kw = ce_pair(**kw)
    compare(
        lambda a: loss.cross_entropy(a, const(y), **nl_kw),
        lambda a: F.cross_entropy(a, tt(y), **t_kw),
        [x],
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5,), (6, 5), (3, 5, 4)], ids=["C", "NC", "NCd"])
@pytest.mark.parametrize("options", ["plain", "weight+smoothing"])
def test_cross_entropy_probability_target(options, shape, reduction, dtype):
    r = rng(4)
    x = 2 * r.standard_normal(shape)
    cdim = 0 if len(shape) == 1 else 1
    probs = np.exp(r.standard_normal(shape))
    probs /= probs.sum(axis=cdim, keepdims=True)
    kw = {"reduction": reduction}
    if options != "plain":
        kw.update(weight=r.uniform(0.5, 2, shape[cdim]).astype(dtype), label_smoothing=0.1)
    nl_kw, t_kw = ce_pair(**kw)
    compare(
        lambda a, b: loss.cross_entropy(a, b, **nl_kw),
        lambda a, b: F.cross_entropy(a, b, **t_kw),
        [x, probs],
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("target", ["index", "probability"])
def test_cross_entropy_stable_for_logits_1e4(target, dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype)
    y = np.array([1, 0]) if target == "index" else np.eye(3, dtype=dtype)[[1, 0]]
    ours = nt(x, requires_grad=True)
    out = loss.cross_entropy(ours, const(y), reduction="none", label_smoothing=0.1)
    ref = F.cross_entropy(tt(x), tt(y), reduction="none", label_smoothing=0.1)
    assert np.isfinite(out.numpy()).all()
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)
    out.sum().backward()
    assert np.isfinite(ours.grad.numpy()).all()


def test_cross_entropy_all_ignored_mean_is_nan_like_torch():
    out = loss.cross_entropy(const(np.zeros((2, 3))), const([-100, -100]))
    assert np.isnan(out.item())
    assert np.isnan(F.cross_entropy(torch.zeros(2, 3), torch.tensor([-100, -100])).item())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5,), (6, 5), (3, 5, 4)], ids=["C", "NC", "NCd"])
def test_nll_loss(shape, reduction, dtype):
    r = rng(5)
    cdim = 0 if len(shape) == 1 else 1
    z = r.standard_normal(shape)
    logp = z - logsumexp(z, axis=cdim, keepdims=True)
    y = r.integers(0, 5, shape[:cdim] + shape[cdim + 1 :])
    y = np.where(r.uniform(size=y.shape) < 0.3, 7, y)
    y[(0,) * y.ndim] = 1  # at least one sample counts
    w = r.uniform(0.5, 2, 5).astype(dtype)
    compare(
        lambda a: loss.nll_loss(a, const(y), weight=const(w), ignore_index=7, reduction=reduction),
        lambda a: F.nll_loss(a, tt(y), weight=tt(w), ignore_index=7, reduction=reduction),
        [logp],
        dtype,
    )


def test_nll_loss_finite_with_minus_inf_elsewhere():
    out = loss.nll_loss(const([[0.0, -np.inf], [-np.inf, -1.0]]), const([0, 1]), reduction="sum")
    assert out.item() == 1.0


# ============================================================================= margin losses

Y = np.array([1, -1, 1, -1, 1, -1])
SCORE = np.array([2.0, 0.5, -0.3, -3.0, 0.0, -0.5])  # margins y·ŷ = 2, -0.5, -0.3, 3, 0, 0.5
MARGIN_CASES = {
    # name: (per-element loss, d loss / d ŷ), by hand from the definitions
    "perceptron_loss": ([0, 0.5, 0.3, 0, 0, 0], [0, 1, -1, 0, 0, 0]),
    "hinge_loss": ([0, 1.5, 1.3, 0, 1, 0.5], [0, 1, -1, 0, -1, 1]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(MARGIN_CASES))
def test_margin_losses_by_hand(name, dtype):
    expected, grad = MARGIN_CASES[name]
    fn = getattr(loss, name)
    x = nt(SCORE.astype(dtype), requires_grad=True)
    out = fn(x, const(Y), reduction="none")
    assert out.numpy().dtype == dtype
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), grad, rtol=1e-6)
    np.testing.assert_allclose(fn(x, const(Y), reduction="sum").item(), sum(expected), rtol=1e-6)
    np.testing.assert_allclose(fn(x, const(Y)).item(), np.mean(expected), rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_logistic_loss_matches_soft_margin_loss(reduction, dtype):
    y = Y.astype(dtype)
    compare(
        lambda a: loss.logistic_loss(a, const(y), reduction=reduction),
        lambda a: F.soft_margin_loss(a, tt(y), reduction=reduction),
        [SCORE],
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_logistic_loss_stable(dtype):
    x = nt(np.array([1000, 1000, -1000], dtype), requires_grad=True)
    out = loss.logistic_loss(x, const([1, -1, 1]), reduction="none")
    np.testing.assert_array_equal(out.numpy(), [0, 1000, 1000])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, -1])


@pytest.mark.parametrize("name", ["perceptron_loss", "hinge_loss", "logistic_loss"])
def test_margin_losses_reject_01_labels(name):
    with pytest.raises(
        ValueError, match=rf"{name} expects labels in {{-1, \+1}}, got values \[0, 1\]"
    ):
        getattr(loss, name)(const([0.5, -0.5]), const([0, 1]))


# ============================================================================= loss errors


ALL_LOSSES = [
    (loss.mse_loss, [0.5], [0.5]),
    (loss.l1_loss, [0.5], [0.5]),
    (loss.binary_cross_entropy, [0.5], [0.5]),
    (loss.binary_cross_entropy_with_logits, [0.5], [0.5]),
    (loss.cross_entropy, [[0.5, 0.2]], [1]),
    (loss.nll_loss, [[-0.5, -0.2]], [1]),
    (loss.perceptron_loss, [0.5], [1]),
    (loss.hinge_loss, [0.5], [1]),
    (loss.logistic_loss, [0.5], [1]),
]


@pytest.mark.parametrize("fn, x, y", ALL_LOSSES, ids=lambda v: getattr(v, "__name__", ""))
def test_unknown_reduction(fn, x, y):
    with pytest.raises(ValueError, match=rf"{fn.__name__}: reduction must be .*got 'avg'"):
        fn(const(np.array(x, np.float32)), const(y), reduction="avg")


@pytest.mark.parametrize("fn", [loss.mse_loss, loss.l1_loss, loss.binary_cross_entropy])
def test_elementwise_target_shape_mismatch(fn):
    with pytest.raises(
        ValueError, match=r"target shape \(4,\) does not match input shape \(3, 4\)"
    ):
        fn(const(np.full((3, 4), 0.5, np.float32)), const(np.zeros(4, np.float32)))


@pytest.mark.parametrize("fn", [loss.cross_entropy, loss.nll_loss])
def test_class_index_out_of_range(fn):
    with pytest.raises(IndexError, match=r"target class index 7 is out of range for 3 classes"):
        fn(const(np.zeros((2, 3), np.float32)), const([0, 7]))
    with pytest.raises(IndexError, match=r"target class index -2 is out of range for 3 classes"):
        fn(const(np.zeros((2, 3), np.float32)), const([-2, 0]))


def test_cross_entropy_errors():
    x = const(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(
        ValueError, match=r"target shape \(2, 3\) does not match input shape \(2, 3, 4\)"
    ):
        loss.cross_entropy(x, const(np.zeros((2, 3), np.int64)))
    with pytest.raises(
        ValueError, match=r"target shape \(2, 4\) does not match input shape \(2, 3, 4\)"
    ):
        loss.cross_entropy(x, const(np.zeros((2, 4), np.float32)))
    with pytest.raises(TypeError, match=r"target must hold class indices .* got dtype bool"):
        loss.cross_entropy(x, const(np.zeros((2, 4), bool)))
    with pytest.raises(
        ValueError, match=r"weight must have shape \(3,\), one per class, got \(4,\)"
    ):
        loss.cross_entropy(x, const(np.zeros((2, 4), np.int64)), weight=const(np.ones(4)))
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\], got 1.5"):
        loss.cross_entropy(x, const(np.zeros((2, 4), np.int64)), label_smoothing=1.5)
    with pytest.raises(TypeError, match=r"nll_loss: target must hold class indices"):
        loss.nll_loss(x, const(np.zeros((2, 4), np.float32)))
    with pytest.raises(TypeError, match=r"cross_entropy: input must be a floating-point tensor"):
        loss.cross_entropy(const([1, 2]), const(0))


# ============================================================================= normalization


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, normalized", [((4, 6), 6), ((2, 3, 4, 5), (4, 5)), ((3, 7), (3, 7))]
)
@pytest.mark.parametrize("affine", ["none", "weight", "weight+bias"])
def test_layer_norm(affine, shape, normalized, dtype):
    r = rng(6)
    ns = (normalized,) if isinstance(normalized, int) else normalized
    arrays = [3 * r.standard_normal(shape) + 1]
    if affine != "none":
        arrays.append(r.standard_normal(ns))
    if affine == "weight+bias":
        arrays.append(r.standard_normal(ns))
    compare(
        lambda *a: norm.layer_norm(a[0], normalized, *a[1:]),
        lambda *a: F.layer_norm(a[0], ns, *a[1:]),
        arrays,
        dtype,
    )


def test_layer_norm_shape_error():
    with pytest.raises(
        ValueError, match=r"normalized_shape \(4,\) does not match .* input shape \(2, 3\)"
    ):
        norm.layer_norm(const(np.zeros((2, 3), np.float32)), 4)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 5)], ids=["NC", "NCL", "NCHW"])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm(training, shape, dtype):
    r = rng(7)
    x = 2 * r.standard_normal(shape) + 0.5
    w, b = r.standard_normal((2, 3))
    stats0 = (r.standard_normal(3).astype(dtype), r.uniform(0.5, 2, 3).astype(dtype))
    ours_stats = [nt(s.copy()) for s in stats0]
    torch_stats = [torch.tensor(s.copy()) for s in stats0]
    compare(
        lambda a, c, d: norm.batch_norm(a, *ours_stats, c, d, training=training, momentum=0.3),
        lambda a, c, d: F.batch_norm(a, *torch_stats, c, d, training=training, momentum=0.3),
        [x, w, b],
        dtype,
    )
    for mine, ref, s0 in zip(ours_stats, torch_stats, stats0):
        assert mine.numpy().dtype == dtype
        np.testing.assert_allclose(mine.numpy(), ref.numpy(), **TOL[dtype])
        assert training != np.array_equal(mine.numpy(), s0)  # updated in place only when training


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_training_without_buffers_or_affine(dtype):
    x = rng(8).standard_normal((5, 3, 2))
    compare(
        lambda a: norm.batch_norm(a, None, None, training=True),
        lambda a: F.batch_norm(a, None, None, training=True),
        [x],
        dtype,
    )


def test_batch_norm_errors():
    with pytest.raises(ValueError, match=r"more than 1 value per channel .* input shape \(1, 3\)"):
        norm.batch_norm(const(np.zeros((1, 3), np.float32)), None, None, training=True)
    with pytest.raises(ValueError, match=r"running_mean and running_var must be given"):
        norm.batch_norm(const(np.zeros((2, 3), np.float32)), None, None, training=False)
    with pytest.raises(ValueError, match=r"running_mean must have shape \(3,\).* got \(4,\)"):
        norm.batch_norm(const(np.zeros((2, 3), np.float32)), const(np.zeros(4)), None)
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\), got \(2,\)"):
        norm.batch_norm(
            const(np.zeros((2, 3), np.float32)), None, None, const([1.0, 2.0]), None, True
        )


# ============================================================================= attention


def sdpa_pair(**kw):
    ours = {k: const(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    theirs = {k: tt(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    return (
        lambda q, k, v: attention.scaled_dot_product_attention(q, k, v, **ours),
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **theirs),
    )


SDPA_SHAPES = {
    "unbatched": ((5, 4), (6, 4), (6, 3)),
    "batched": ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 7)),
    "broadcast": ((2, 3, 5, 4), (3, 6, 4), (3, 6, 7)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", sorted(SDPA_SHAPES))
@pytest.mark.parametrize("mask", ["none", "bool", "additive", "causal", "scale"])
def test_scaled_dot_product_attention(mask, shapes, dtype):
    r = rng(9)
    qkv = [r.standard_normal(s) for s in SDPA_SHAPES[shapes]]
    L, S = qkv[0].shape[-2], qkv[1].shape[-2]
    kw = {}
    if mask == "bool":
        kw["attn_mask"] = r.uniform(size=(L, S)) < 0.7
        kw["attn_mask"][:, 0] = True
    elif mask == "additive":
        batch = (1,) if shapes != "unbatched" else ()
        kw["attn_mask"] = r.standard_normal(batch + (L, S)).astype(dtype)
    elif mask == "causal":
        kw["is_causal"] = True
    elif mask == "scale":
        kw["scale"] = 0.3
    compare(*sdpa_pair(**kw), qkv, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_attention_additive_mask_gradient(dtype):
    r = rng(10)
    arrays = [r.standard_normal(s) for s in [(2, 5, 4), (2, 6, 4), (2, 6, 3), (5, 6)]]
    compare(attention.scaled_dot_product_attention, F.scaled_dot_product_attention, arrays, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_attention_fully_masked_row_is_zero_like_torch(dtype):
    r = rng(11)
    qkv = [r.standard_normal(s) for s in [(3, 4), (5, 4), (5, 2)]]
    m = np.ones((3, 5), bool)
    m[1] = False
    out = compare(*sdpa_pair(attn_mask=m), qkv, dtype)
    np.testing.assert_array_equal(out.numpy()[1], 0)


def test_attention_weights():
    r = rng(12)
    q, k, v = (const(r.standard_normal(s)) for s in [(2, 5, 4), (2, 6, 4), (2, 6, 3)])
    out, weights = attention.scaled_dot_product_attention_with_weights(q, k, v, is_causal=True)
    ref = torch.softmax(
        tt(q.numpy()) @ tt(k.numpy()).mT / 2 + torch.ones(5, 6).tril().log(), dim=-1
    )
    np.testing.assert_allclose(weights.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out.numpy(), weights.numpy() @ v.numpy(), rtol=1e-10)
    assert not weights.requires_grad
    with pytest.raises(ValueError, match="read-only"):
        weights.data[0] = 0


def test_attention_dropout_is_seeded_and_consistent():
    r = rng(13)
    q, k, v = (nt(r.standard_normal(s), requires_grad=True) for s in [(4, 3), (6, 3), (6, 2)])
    manual_seed(0)
    out, weights = attention.scaled_dot_product_attention_with_weights(q, k, v, dropout_p=0.5)
    manual_seed(0)
    again = attention.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(out.numpy(), again.numpy())
    np.testing.assert_allclose(out.numpy(), weights.numpy() @ v.numpy(), rtol=1e-12)
    plain = attention.scaled_dot_product_attention_with_weights(q, k, v)[1].numpy()
    kept = weights.numpy() != 0
    np.testing.assert_allclose(weights.numpy()[kept], 2 * plain[kept], rtol=1e-12)
    assert 0 < kept.sum() < kept.size


def test_attention_errors():
    q, k, v = (const(np.zeros(s, np.float32)) for s in [(2, 5, 4), (2, 6, 4), (2, 6, 3)])
    sdpa = attention.scaled_dot_product_attention
    with pytest.raises(ValueError, match=r"either attn_mask or is_causal=True, not both"):
        sdpa(q, k, v, attn_mask=const(np.ones((5, 6), bool)), is_causal=True)
    with pytest.raises(
        ValueError, match=r"must agree on E and S, got \(2, 5, 4\), \(2, 6, 4\) and \(2, 5, 3\)"
    ):
        sdpa(q, k, const(np.zeros((2, 5, 3), np.float32)))
    with pytest.raises(
        ValueError, match=r"attn_mask of shape \(5, 5\) does not broadcast .* \(2, 5, 6\)"
    ):
        sdpa(q, k, v, attn_mask=const(np.ones((5, 5), bool)))
    with pytest.raises(TypeError, match=r"same dtype, got float32, float64 and float32"):
        sdpa(q, const(np.zeros((2, 6, 4))), v)
    with pytest.raises(
        ValueError, match=r"dropout probability has to be between 0 and 1, but got 2"
    ):
        sdpa(q, k, v, dropout_p=2)


# ============================================================================= embedding, one_hot


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("idx", [[3, 1, 3, 3, 0], [[2, 2, 4], [1, 4, 2]]], ids=["1d", "2d"])
def test_embedding(idx, padding_idx, dtype):
    weight = rng(14).standard_normal((5, 3))
    idx = np.array(idx)
    compare(
        lambda w: embedding.embedding(const(idx), w, padding_idx=padding_idx),
        lambda w: F.embedding(tt(idx), w, padding_idx=padding_idx),
        [weight],
        dtype,
    )


def test_embedding_errors():
    w = const(np.zeros((5, 3), np.float32))
    with pytest.raises(IndexError, match=r"embedding: index 5 is out of range for 5 embeddings"):
        embedding.embedding(const([0, 5]), w)
    with pytest.raises(
        TypeError, match=r"embedding: indices must have an integer dtype, got float32"
    ):
        embedding.embedding(const(np.array([0.0], np.float32)), w)
    with pytest.raises(ValueError, match=r"padding_idx 5 is out of range for 5 embeddings"):
        embedding.embedding(const([0]), w, padding_idx=5)


def from_table(t: Tensor) -> bool:
    """Whether ``t`` was computed from a projected embedding table (project_embedded)."""
    return "project_embedded" in getattr(t.grad_fn, "__qualname__", "")


SCATTER_KERNEL = compiled.load("neuralab.compiled.scatter") is not None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding_idx", [None, 1])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_of_an_embedding_matches_torch(bias, padding_idx, dtype):
    # 40 lookups into 6 rows: computed from the projected table when the compiled scatter exists
    idx = rng(15).integers(0, 6, (8, 5))
    idx[0, :2] = 1
    arrays = [rng(16).standard_normal(s) for s in [(6, 4), (3, 4), (3,)][: 3 if bias else 2]]
    seen = []

    def ours(e, w, b=None):
        out = ops.linear(embedding.embedding(const(idx), e, padding_idx=padding_idx), w, b)
        seen.append(from_table(out))
        return out

    compare(
        ours,
        lambda e, w, b=None: F.linear(F.embedding(tt(idx), e, padding_idx=padding_idx), w, b),
        arrays,
        dtype,
    )
    assert seen == [SCATTER_KERNEL]


def test_an_embedding_used_twice_or_kept_is_projected_correctly():
    idx = rng(17).integers(0, 4, (6, 7))
    e0, w0 = rng(18).standard_normal((4, 5)), rng(19).standard_normal((3, 5))
    e, w = nt(e0, requires_grad=True), nt(w0, requires_grad=True)
    te, tw = torch.tensor(e0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    x, tx = embedding.embedding(const(idx), e), F.embedding(tt(idx), te)
    x.retain_grad()
    tx.retain_grad()
    y = ops.linear(x, w)
    assert not from_table(y)  # x.grad is wanted: computed the usual way
    ((y * y).sum() + (x * x * x).sum()).backward()
    ((F.linear(tx, tw) ** 2).sum() + (tx**3).sum()).backward()
    for mine, ref in [(x, tx), (e, te), (w, tw)]:
        np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-10)
    # the output feeds a projection and another op: both paths reach the table
    e.grad = w.grad = te.grad = tw.grad = None
    x, tx = embedding.embedding(const(idx), e), F.embedding(tt(idx), te)
    y = ops.linear(x, w)
    assert from_table(y) == SCATTER_KERNEL
    ((y * y).sum() + (x * x * x).sum()).backward()
    ((F.linear(tx, tw) ** 2).sum() + (tx**3).sum()).backward()
    for mine, ref in [(e, te), (w, tw)]:
        np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-10)


def test_an_embedding_projection_falls_back_when_the_table_does_not_pay_or_data_changed():
    e, w = (
        nt(rng(20).standard_normal((6, 4)), requires_grad=True),
        nt(rng(21).standard_normal((3, 4))),
    )
    few = embedding.embedding(const([[0, 1], [2, 3]]), e)  # 4 lookups into 6 rows
    assert not from_table(ops.linear(few, w))
    x = embedding.embedding(const(rng(22).integers(0, 6, 30)), e)
    x.data = np.zeros_like(x.numpy())  # no longer the table's rows: the data is what counts
    np.testing.assert_array_equal(ops.linear(x, w).numpy(), np.zeros((30, 3)))
    with no_grad():  # nothing recorded (so nothing to recognise): the usual product
        x = embedding.embedding(const(rng(22).integers(0, 6, 30)), e)
        assert x.grad_fn is None
        np.testing.assert_allclose(ops.linear(x, w).numpy(), x.numpy() @ w.numpy().T, rtol=1e-12)


@pytest.mark.parametrize("num_classes", [-1, 6])
def test_one_hot(num_classes):
    idx = np.array([[0, 3], [2, 3]])
    out = embedding.one_hot(const(idx), num_classes)
    assert out.numpy().dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), F.one_hot(tt(idx), num_classes).numpy())


def test_one_hot_errors():
    with pytest.raises(ValueError, match=r"class values must be non-negative, got -1"):
        embedding.one_hot(const([0, -1]))
    with pytest.raises(ValueError, match=r"class value 3 is out of range for num_classes=3"):
        embedding.one_hot(const([0, 3]), 3)


# ============================================================================= dropout


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_statistics_and_gradient(p, dtype):
    manual_seed(123)
    x = nt(rng(15).uniform(1, 2, (400, 500)).astype(dtype), requires_grad=True)
    out = dropout.dropout(x, p)
    assert out.numpy().dtype == dtype
    kept = out.numpy() != 0
    assert abs(kept.mean() - (1 - p)) < 0.01
    np.testing.assert_allclose(out.numpy()[kept], x.numpy()[kept] / (1 - p), rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / (1 - p), rtol=1e-6)


def test_dropout_reproducible_under_manual_seed():
    x = const(np.ones((50, 50), np.float32))
    manual_seed(7)
    a = dropout.dropout(x, 0.5).numpy()
    manual_seed(7)
    b = dropout.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, dropout.dropout(x, 0.5).numpy())


@pytest.mark.parametrize("fn", [dropout.dropout, dropout.dropout2d])
def test_dropout_identity_and_edges(fn):
    x = nt(np.ones((2, 3, 4), np.float32), requires_grad=True)
    assert fn(x, 0.5, training=False) is x
    assert fn(x, 0.0) is x
    out = fn(x, 1.0)
    np.testing.assert_array_equal(out.numpy(), 0)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0)
    for p in (-0.1, 1.5):
        with pytest.raises(
            ValueError, match=rf"dropout probability has to be between 0 and 1, but got {p}"
        ):
            fn(x, p)


@pytest.mark.parametrize("shape", [(40, 50, 3, 2), (40, 50, 6)])
def test_dropout2d_drops_whole_channels(shape):
    manual_seed(3)
    x = nt(np.ones(shape), requires_grad=True)
    out = dropout.dropout2d(x, 0.25)
    per_channel = out.numpy().reshape(shape[0], shape[1], -1)
    assert (per_channel == per_channel[..., :1]).all()
    assert set(np.unique(per_channel)) <= {0.0, 1 / 0.75}
    assert abs((per_channel[..., 0] != 0).mean() - 0.75) < 0.03
    out.backward(gradient=np.full(shape, 2.0))
    np.testing.assert_allclose(x.grad.numpy(), 2 * out.numpy())


def test_dropout2d_shape_error():
    with pytest.raises(ValueError, match=r"dropout2d: channel dropout needs .* got shape \(3,\)"):
        dropout.dropout2d(const(np.ones(3, np.float32)))
    with pytest.warns(UserWarning, match=r"dropout2d: a 2-D input is deprecated"):
        dropout.dropout2d(const(np.ones((3, 4), np.float32)))  # torch: (N, C), elementwise


# ============================================================================= float64 gradchecks


def t64(a, requires_grad=True):
    return nt(np.asarray(a, np.float64), requires_grad)


def seeded(fn, **kw):
    """``fn`` with a fixed dropout mask: reseed before every call, as gradcheck calls it often."""

    def call(*args):
        manual_seed(0)
        return fn(*args, **kw)

    return call


def gradcheck_cases():
    r = rng(16)
    y_idx = nt(np.array([[1, 0], [2, -100], [0, 1]]))
    probs = r.dirichlet(np.ones(3), size=4)
    w3 = t64(r.uniform(0.5, 2, 3), requires_grad=False)
    margins = r.choice([-1.0, 1.0], 6) * r.uniform(0.2, 0.8, 6)  # keeps off the kinks 0 and 1
    labels = nt(np.array([1, -1, 1, 1, -1, -1]))
    return {
        "mse": (loss.mse_loss, [t64(r.standard_normal(5)), t64(r.standard_normal(5))]),
        "l1": (loss.l1_loss, [t64(r.standard_normal(5)), t64(r.standard_normal(5))]),
        "bce": (
            lambda p, t: loss.binary_cross_entropy(p, t, weight=w3),
            [t64(r.uniform(0.1, 0.9, (2, 3))), t64(r.uniform(0, 1, (2, 3)))],
        ),
        "bce_logits": (
            lambda x, t: loss.binary_cross_entropy_with_logits(x, t, weight=w3, pos_weight=w3),
            [t64(r.standard_normal((2, 3))), t64(r.uniform(0, 1, (2, 3)))],
        ),
        "cross_entropy": (
            lambda x: loss.cross_entropy(x, y_idx, weight=w3, label_smoothing=0.2),
            [t64(r.standard_normal((3, 3, 2)))],
        ),
        "cross_entropy_probs": (
            lambda x, t: loss.cross_entropy(x, t, weight=w3, label_smoothing=0.1),
            [t64(r.standard_normal((4, 3))), t64(probs)],
        ),
        "nll": (lambda x: loss.nll_loss(x, y_idx, weight=w3), [t64(r.standard_normal((3, 3, 2)))]),
        "perceptron": (lambda x: loss.perceptron_loss(x, labels), [t64(margins * labels.numpy())]),
        "hinge": (lambda x: loss.hinge_loss(x, labels), [t64((1 + margins) * labels.numpy())]),
        "logistic": (lambda x: loss.logistic_loss(x, labels), [t64(3 * margins)]),
        "layer_norm": (
            lambda x, w, b: norm.layer_norm(x, 4, w, b),
            [t64(r.standard_normal((3, 4))), t64(r.standard_normal(4)), t64(r.standard_normal(4))],
        ),
        "batch_norm_train": (
            lambda x, w, b: norm.batch_norm(x, None, None, w, b, training=True),
            [
                t64(r.standard_normal((3, 2, 2))),
                t64(r.standard_normal(2)),
                t64(r.standard_normal(2)),
            ],
        ),
        "batch_norm_eval": (
            lambda x, w: norm.batch_norm(x, w3, t64([1.0, 2.0, 0.5], False), w, training=False),
            [t64(r.standard_normal((2, 3))), t64(r.standard_normal(3))],
        ),
        "attention_additive_mask": (
            attention.scaled_dot_product_attention,
            [t64(r.standard_normal(s)) for s in [(2, 3, 2), (2, 4, 2), (2, 4, 3), (3, 4)]],
        ),
        "attention_causal_dropout": (
            seeded(attention.scaled_dot_product_attention, dropout_p=0.3, is_causal=True),
            [t64(r.standard_normal(s)) for s in [(3, 2), (4, 2), (4, 3)]],
        ),
        "embedding": (
            lambda w: embedding.embedding(nt(np.array([1, 3, 1, 0])), w, padding_idx=2),
            [t64(r.standard_normal((4, 2)))],
        ),
        "dropout": (
            seeded(dropout.dropout, p=0.4),
            [t64(r.standard_normal((3, 4)))],
        ),
    }


@pytest.mark.parametrize("case", sorted(gradcheck_cases()))
def test_gradcheck(case):
    fn, inputs = gradcheck_cases()[case]
    assert gradcheck(fn, inputs)
