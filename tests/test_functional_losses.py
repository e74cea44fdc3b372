"""Losses of ``neuralab.nn.functional`` and ``neuralab.nn`` against torch: values and the
gradients of input, target and variance in float32/float64 under every reduction, torch's legacy
``size_average``/``reduce`` and positional orders, the ``_Loss`` bases, and clear errors."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from oracle import compare

import neuralab as nl
import neuralab.nn as nn
import neuralab.nn.functional as F

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["mean", "sum", "none"]
R = np.random.default_rng(0)
X = R.standard_normal((4, 5)) * 2
T = np.abs(R.standard_normal((4, 5))) * 2
T[0, :3] = [0.0, 1.0, 0.5]
W = R.uniform(0.5, 2, (4, 5))
SIGNS = np.array([1.0, -1.0, 1.0, -1.0, 1.0])


def both(fn_name, *args, **kwargs):
    """(ours, theirs) calling ``F.<fn_name>`` with extra constant arguments (numpy → tensors)."""
    conv = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
    targs = [torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    return (
        lambda *t: getattr(F, fn_name)(*t, *args, **kwargs),
        lambda *t: getattr(TF, fn_name)(*t, *targs, **conv),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "name, kwargs",
    [("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 0.0}),
     ("huber_loss", {}), ("huber_loss", {"delta": 0.3}), ("mse_loss", {}), ("l1_loss", {})],
)  # fmt: skip
def test_regression_losses_match_torch(name, kwargs, reduction, dtype):
    compare(*both(name, reduction=reduction, **kwargs), [X, T], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_elementwise_weight_matches_torchs_means(name, reduction, dtype):
    w = W.astype(dtype)
    compare(
        lambda a, b: getattr(F, name)(
            a, b, reduction=reduction, weight=nl.tensor(w, dtype=w.dtype)
        ),
        lambda a, b: getattr(TF, name)(a, b, reduction=reduction, weight=torch.tensor(w)),
        [X, T],
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch_with_target_gradient(log_target, reduction, dtype):
    logp = np.log(np.abs(X) + 0.1)
    target = np.log(T + 0.1) if log_target else T  # T has a 0 entry: 0·log 0 counts as 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(
            *both("kl_div", reduction=reduction, log_target=log_target),
            [logp, target],
            dtype,
            grad=[True, log_target],  # torch's target gradient at t = 0 is -inf (not compared)
        )


def test_kl_div_mean_warns_like_torch():
    with pytest.warns(UserWarning, match="kl_div: reduction='mean' divides"):
        F.kl_div(nl.zeros(2, 3), nl.ones(2, 3) / 3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input, full", [(True, False), (False, False), (True, True)])
def test_poisson_nll_loss_matches_torch(log_input, full, reduction, dtype):
    rate = X if log_input else np.abs(X) + 0.05
    counts = np.round(T * 2) + (1 if full else 0)  # torch's full-mode target gradient is NaN at 0
    compare(*both("poisson_nll_loss", log_input, full, reduction=reduction), [rate, counts], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("var_shape", [(4, 5), (4, 1), (4,), (1, 5)])
def test_gaussian_nll_loss_matches_torch_with_variance_gradient(var_shape, reduction, dtype):
    var = np.abs(R.standard_normal(var_shape)) + 1e-7  # some below eps: clamped, grad passes
    var.flat[0] = 1e-9
    compare(*both("gaussian_nll_loss", full=True, reduction=reduction), [X, T, var], dtype)
    compare(*both("gaussian_nll_loss", 0.5, reduction=reduction), [X, T], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pair_and_triplet_losses_match_torch(reduction, dtype):
    a, b, c = (R.standard_normal((5, 3)) for _ in range(3))
    compare(
        *both("margin_ranking_loss", margin=0.3, reduction=reduction),
        [a[:, 0], b[:, 0], SIGNS],
        dtype,
    )
    compare(*both("hinge_embedding_loss", SIGNS, reduction=reduction), [a.T * 2], dtype)
    compare(*both("cosine_embedding_loss", SIGNS, 0.2, reduction=reduction), [a, b], dtype)
    compare(
        *both("cosine_embedding_loss", np.array(-1.0), reduction=reduction), [a[0], b[0]], dtype
    )
    compare(
        *both("soft_margin_loss", reduction=reduction),
        [a.T * 2, np.sign(b.T)],
        dtype,
        [True, False],
    )
    for kw in ({}, {"p": 1, "swap": True}, {"margin": 0.5, "eps": 1e-3}):
        compare(*both("triplet_margin_loss", reduction=reduction, **kw), [a, b, c], dtype)
    compare(
        *both("triplet_margin_with_distance_loss", swap=True, reduction=reduction), [a, b, c], dtype
    )
    cosine = lambda x, y: 1 - F.cosine_similarity(x, y)  # noqa: E731
    tcosine = lambda x, y: 1 - TF.cosine_similarity(x, y)  # noqa: E731
    compare(
        lambda *t: F.triplet_margin_with_distance_loss(*t, distance_function=cosine),
        lambda *t: TF.triplet_margin_with_distance_loss(*t, distance_function=tcosine),
        [a, b, c],
        dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 5), (5,)])
def test_multiclass_and_multilabel_margins_match_torch(shape, reduction, dtype):
    x = R.standard_normal(shape)
    w = R.uniform(0.5, 2, 5).astype(dtype)
    labels = (R.uniform(size=shape) > 0.5).astype(float)
    compare(*both("multilabel_soft_margin_loss", reduction=reduction), [x, labels], dtype)
    compare(
        *both("multilabel_soft_margin_loss", labels.astype(dtype), w, reduction=reduction),
        [x],
        dtype,
    )
    y = R.integers(0, 5, shape[:-1])
    for p in (1, 2):
        compare(*both("multi_margin_loss", y, p, 0.7, w, reduction=reduction), [x], dtype)
    rows = np.array([[3, 0, -1, 2, 1], [1, 1, 4, -1, 0], [-1, 2, 3, 4, 0], [0, 1, 2, 3, 4]])
    listed = rows if len(shape) == 2 else rows[0]  # duplicates count, the first -1 ends a row
    compare(*both("multilabel_margin_loss", listed, reduction=reduction), [x], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_nd_probabilities_smoothing_and_weights(dtype):
    x = R.standard_normal((3, 4, 2, 5))
    y = R.integers(0, 4, (3, 2, 5))
    y[0, 0, :2] = -1
    w = R.uniform(0.5, 2, 4).astype(dtype)
    compare(*both("cross_entropy", y, w, ignore_index=-1, label_smoothing=0.1), [x], dtype)
    probs = np.exp(R.standard_normal(x.shape))
    probs /= probs.sum(1, keepdims=True)
    compare(*both("cross_entropy", weight=w, label_smoothing=0.2), [x, probs], dtype)
    compare(*both("nll_loss", y, w, ignore_index=-1, reduction="sum"), [x], dtype)


@pytest.mark.parametrize(
    "size_average, reduce", [(None, False), (False, None), (True, True), (False, True)]
)
def test_legacy_size_average_and_reduce_warn_and_reduce_like_torch(size_average, reduce):
    x, t = X.astype(np.float32), T.astype(np.float32)
    y = R.integers(0, 5, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = [
            TF.mse_loss(torch.tensor(x), torch.tensor(t), size_average, reduce),
            TF.cross_entropy(torch.tensor(x), torch.tensor(y), None, size_average, -100, reduce),
            tnn.L1Loss(size_average, reduce)(torch.tensor(x), torch.tensor(t)),
        ]
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        ours = [
            F.mse_loss(nl.tensor(x), nl.tensor(t), size_average, reduce),
            F.cross_entropy(nl.tensor(x), nl.tensor(y), None, size_average, -100, reduce),
            nn.L1Loss(size_average, reduce)(nl.tensor(x), nl.tensor(t)),
        ]
    for o, e in zip(ours, expected):
        np.testing.assert_allclose(o.numpy(), e.numpy(), rtol=1e-5)


LOSS_MODULES = [
    ("SmoothL1Loss", dict(beta=0.5), 2), ("HuberLoss", dict(delta=0.5), 2),
    ("KLDivLoss", dict(reduction="batchmean", log_target=True), 2),
    ("PoissonNLLLoss", dict(log_input=True, full=False), 2), ("GaussianNLLLoss", dict(full=True), 3),
    ("MarginRankingLoss", dict(margin=0.1), 3), ("HingeEmbeddingLoss", dict(margin=0.5), 2),
    ("CosineEmbeddingLoss", dict(margin=0.1), 3), ("SoftMarginLoss", {}, 2),
    ("MultiLabelSoftMarginLoss", {}, 2), ("MultiLabelMarginLoss", {}, 2),
    ("MultiMarginLoss", dict(p=2, margin=0.5), 2), ("TripletMarginLoss", dict(margin=0.5, swap=True), 3),
    ("TripletMarginWithDistanceLoss", dict(margin=0.5), 3),
    ("CrossEntropyLoss", dict(label_smoothing=0.1, ignore_index=1), 2), ("NLLLoss", {}, 2),
    ("BCEWithLogitsLoss", {}, 2), ("MSELoss", dict(reduction="sum"), 2),
]  # fmt: skip


def _module_inputs(name):
    x = R.standard_normal((4, 5)).astype(np.float32)
    if name in ("MultiLabelMarginLoss",):
        return [x, np.array([[3, 0, -1, 2, 1]] * 4)]
    if name in ("MultiMarginLoss", "CrossEntropyLoss", "NLLLoss"):
        return [x, R.integers(0, 5, 4)]
    if name in ("MarginRankingLoss",):
        return [x[:, 0], x[:, 1], SIGNS[:4].astype(np.float32)]
    if name in ("CosineEmbeddingLoss",):
        return [x, x[::-1].copy(), SIGNS[:4].astype(np.float32)]
    if name in ("HingeEmbeddingLoss", "SoftMarginLoss"):
        return [x, np.sign(x + 0.1).astype(np.float32)]
    if name in ("TripletMarginLoss", "TripletMarginWithDistanceLoss", "GaussianNLLLoss"):
        third = np.abs(x) + 0.1 if name == "GaussianNLLLoss" else x[::-1].copy()
        return [x, np.roll(x, 1, 0), third]
    if name in ("MultiLabelSoftMarginLoss", "BCEWithLogitsLoss"):
        return [x, (x > 0).astype(np.float32)]
    if name == "PoissonNLLLoss":
        return [x, np.round(np.abs(x) * 3).astype(np.float32)]
    return [x, np.abs(x[::-1]).astype(np.float32)]


@pytest.mark.parametrize("name, kwargs, arity", LOSS_MODULES, ids=lambda v: str(v))
def test_loss_modules_match_torch(name, kwargs, arity):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(tnn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    arrays = _module_inputs(name)
    assert len(arrays) == arity
    leaf = nl.tensor(arrays[0], requires_grad=True)
    tleaf = torch.tensor(arrays[0], requires_grad=True)
    out = ours(leaf, *(nl.tensor(a) for a in arrays[1:]))
    ref = theirs(tleaf, *(torch.tensor(a) for a in arrays[1:]))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-4, atol=1e-6)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), tleaf.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_loss_constructors_have_torchs_parameters_in_torchs_order():
    for name in [m for m, _, _ in LOSS_MODULES] + ["BCELoss", "L1Loss", "NLLLoss2d"]:
        ours = list(inspect.signature(getattr(nn, name).__init__).parameters)
        theirs = list(inspect.signature(getattr(tnn, name).__init__).parameters)
        assert ours == theirs, name


def test_user_losses_subclass_torchs_bases():
    from neuralab.nn.layers.loss import _Loss, _WeightedLoss

    class Scaled(_Loss):
        def __init__(self, scale=2.0, reduction="sum"):
            super().__init__(reduction=reduction)
            self.scale = scale

        def forward(self, input, target):
            return F.mse_loss(input, target, reduction=self.reduction) * self.scale

    loss = Scaled()
    assert loss.reduction == "sum"
    assert loss(nl.ones(3), nl.zeros(3)).item() == 6.0

    class Weighted(_WeightedLoss):
        def forward(self, input, target):
            return F.cross_entropy(input, target, self.weight)

    weighted = Weighted(weight=nl.tensor([1.0, 3.0]), reduction="none")
    assert "weight" in dict(weighted.named_buffers()) and weighted.reduction == "none"
    with pytest.raises(ValueError, match=r"Scaled: reduction must be 'mean', 'sum' or 'none'"):
        Scaled(reduction="avg")


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: F.huber_loss(nl.ones(3), nl.ones(3), delta=0), ValueError, r"huber_loss: delta must be positive"),
        (lambda: F.smooth_l1_loss(nl.ones(3), nl.ones(3), beta=-1), ValueError, r"smooth_l1_loss: beta must be non-negative"),
        (lambda: F.mse_loss(nl.ones(3), nl.ones(3), weight=nl.ones(2)), ValueError, r"mse_loss: weight of shape \(2,\) does not have input shape \(3,\)"),
        (lambda: F.kl_div(nl.ones(3), nl.ones(3), reduction="avg"), ValueError, r"kl_div: reduction must be 'mean', 'batchmean', 'sum' or 'none'"),
        (lambda: F.gaussian_nll_loss(nl.ones(2, 3), nl.ones(2, 3), nl.ones(3, 2)), ValueError, r"gaussian_nll_loss: var of shape \(3, 2\) does not fit input shape \(2, 3\)"),
        (lambda: F.gaussian_nll_loss(nl.ones(2), nl.ones(2), -1.0), ValueError, r"gaussian_nll_loss: var must be non-negative"),
        (lambda: F.multi_margin_loss(nl.ones(2, 3), nl.tensor([0, 1]), p=3), ValueError, r"multi_margin_loss: only p = 1 and p = 2"),
        (lambda: F.multi_margin_loss(nl.ones(2, 3), nl.tensor([0, 5])), IndexError, r"multi_margin_loss: target class index out of range for 3 classes"),
        (lambda: F.multi_margin_loss(nl.ones(2, 3), nl.tensor([0.0, 1.0])), TypeError, r"multi_margin_loss: target must hold class indices"),
        (lambda: F.multilabel_margin_loss(nl.ones(2, 3), nl.tensor([0, 1])), ValueError, r"multilabel_margin_loss: expected input \(N, C\) or \(C,\) and target the input's shape"),
        (lambda: F.triplet_margin_loss(nl.ones(3, 4), nl.ones(3, 4), nl.ones(4)), ValueError, r"triplet_margin_loss: the inputs must have the same number of dimensions"),
        (lambda: F.margin_ranking_loss(nl.ones(3), nl.ones(3, 1), nl.ones(3)), ValueError, r"margin_ranking_loss: the inputs must have the same number of dimensions"),
        (lambda: F.cosine_embedding_loss(nl.ones(3, 4), nl.ones(3, 4), nl.ones(4)), ValueError, r"cosine_embedding_loss: expected input1 and input2 of one shape"),
        (lambda: F.triplet_margin_with_distance_loss(nl.ones(3), nl.ones(3), nl.ones(3), margin=0), ValueError, r"margin must be greater than 0"),
        (lambda: nn.MultiMarginLoss(p=3), ValueError, r"MultiMarginLoss: only p = 1 and p = 2"),
    ],
)  # fmt: skip
def test_bad_loss_arguments_raise_one_clear_line(call, error, message):
    with pytest.raises(error, match=message):
        call()
