"""Activations of ``neuralab.nn.functional`` and their modules against torch: values and
gradients in float32/float64 (kinks included), torch's ``inplace=`` semantics, constructors,
reprs, the softmax family's dim handling, PReLU/RReLU, and clear errors."""

from __future__ import annotations

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
# random values plus every kink the piecewise activations have (0, ±1, ±3, 6, the lambdas)
X = np.concatenate(
    [np.random.default_rng(0).standard_normal(40) * 4, [0, -3, 3, 6, -1, 1, 0.5, -0.5, 2, -2]]
).reshape(2, 5, 5)

POINTWISE = [
    ("relu", {}), ("relu6", {}), ("elu", {}), ("elu", {"alpha": 0.5}), ("selu", {}),
    ("celu", {"alpha": 2.0}), ("silu", {}), ("mish", {}), ("gelu", {}),
    ("gelu", {"approximate": "tanh"}), ("softplus", {}), ("softplus", {"beta": 2, "threshold": 5}),
    ("softsign", {}), ("logsigmoid", {}), ("tanhshrink", {}), ("hardtanh", {}),
    ("hardtanh", {"min_val": -2.0, "max_val": 3.0}), ("hardsigmoid", {}), ("hardswish", {}),
    ("hardshrink", {}), ("hardshrink", {"lambd": 1.0}), ("softshrink", {"lambd": 1.0}),
    ("threshold", {"threshold": 1.0, "value": -2.0}), ("leaky_relu", {"negative_slope": 0.2}),
    ("rrelu", {}), ("sigmoid", {}), ("tanh", {}),
]  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kwargs", POINTWISE, ids=lambda v: str(v))
def test_pointwise_activation_matches_torch(name, kwargs, dtype):
    compare(
        lambda a: getattr(F, name)(a, **kwargs),
        lambda a: getattr(TF, name)(a, **kwargs),
        [X],
        dtype=dtype,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "name, kwargs",
    [("softmax", {"dim": 1}), ("softmin", {"dim": 0}), ("log_softmax", {"dim": -1}),
     ("glu", {"dim": 1}), ("glu", {}), ("softmax", {"dim": 2, "dtype": torch.float64})],
)  # fmt: skip
def test_softmax_family_and_glu_match_torch(name, kwargs, dtype):
    x = np.random.default_rng(1).standard_normal((3, 4, 6)) * 3
    ours = dict(kwargs, dtype=nl.float64) if "dtype" in kwargs else kwargs
    compare(
        lambda a: getattr(F, name)(a, **ours), lambda a: getattr(TF, name)(a, **kwargs), [x], dtype
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, params", [((2, 3, 4), 3), ((2, 3, 4), 1), ((5,), 1), ((4, 3), 3)])
def test_prelu_matches_torch_for_one_or_per_channel_slopes(shape, params, dtype):
    r = np.random.default_rng(2)
    compare(F.prelu, TF.prelu, [r.standard_normal(shape), r.uniform(0, 0.5, params)], dtype)


def test_softmax_without_dim_warns_and_uses_torchs_implicit_dim():
    x = np.random.default_rng(3).standard_normal((2, 3, 4)).astype(np.float32)
    for name in ("softmax", "log_softmax", "softmin"):
        with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name}"):
            ours = getattr(F, name)(nl.tensor(x))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = getattr(TF, name)(torch.tensor(x))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5)  # dim 0 for 3-D
    with pytest.warns(UserWarning, match="Implicit dimension"):
        nn.Softmin()(nl.tensor(x))


def test_softmax2d_normalizes_channels_and_rejects_other_ranks():
    x = np.random.default_rng(4).standard_normal((2, 3, 4, 5)).astype(np.float32)
    for arr in (x, x[0]):
        out = nn.Softmax2d()(nl.tensor(arr))
        np.testing.assert_allclose(out.numpy(), tnn.Softmax2d()(torch.tensor(arr)), rtol=1e-5)
    with pytest.raises(ValueError, match=r"Softmax2d: expected input to be 3D or 4D, got 2D"):
        nn.Softmax2d()(nl.ones(3, 4))


def test_inplace_writes_into_the_input_outside_the_graph():
    for fn, kw in [(F.relu, {}), (F.elu, {}), (F.hardtanh, {}), (F.leaky_relu, {}),
                   (F.threshold, {"threshold": 0.5, "value": 9.0}), (F.silu, {})]:  # fmt: skip
        x = nl.tensor([-1.5, 0.25, 2.0])
        out = fn(x, inplace=True, **kw)
        assert out is x
        expected = getattr(TF, fn.__name__)(torch.tensor([-1.5, 0.25, 2.0]), **kw)
        np.testing.assert_allclose(x.numpy(), expected.numpy(), rtol=1e-6)
    x = nl.tensor([-1.0, 2.0])
    assert F.relu_(x) is x and x.tolist() == [0.0, 2.0]
    assert nl.selu_(nl.tensor([0.0])).tolist() == [0.0]


def test_inplace_in_the_graph_keeps_gradients_and_refuses_leaves():
    a = nl.tensor([-1.0, 2.0, -3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"relu_: a leaf tensor that requires grad"):
        F.relu(a, inplace=True)
    b = a * 2
    c = F.elu(b, inplace=True)
    assert c is b
    c.sum().backward()
    ta = torch.tensor([-1.0, 2.0, -3.0], requires_grad=True)
    TF.elu(ta * 2, inplace=True).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-4)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(inplace=True), nn.Hardswish(inplace=True))
    net(nl.randn(2, 3)).sum().backward()
    assert net[0].weight.grad is not None


def test_rrelu_training_draws_slopes_in_range_and_evaluation_uses_the_mean():
    nl.manual_seed(0)
    x = nl.tensor(-np.ones((200, 50), np.float32), requires_grad=True)
    out = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = -out.numpy()
    assert 0.1 <= slopes.min() and slopes.max() <= 0.3 and abs(slopes.mean() - 0.2) < 0.01
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes)  # the gradient uses the same slopes
    np.testing.assert_allclose(F.rrelu(nl.tensor([-2.0]), 0.1, 0.3).numpy(), [-0.4], rtol=1e-6)
    layer = nn.RReLU(0.1, 0.3).eval()
    np.testing.assert_allclose(layer(nl.tensor([-2.0, 1.0])).numpy(), [-0.4, 1.0], rtol=1e-6)


def test_gumbel_softmax_soft_sums_to_one_and_hard_is_one_hot_with_soft_gradient():
    nl.manual_seed(1)
    logits = nl.tensor(np.random.default_rng(5).standard_normal((4, 6)), requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.sum(-1).numpy(), 1, rtol=1e-5)
    hard = F.gumbel_softmax(logits, hard=True, dim=-1)
    assert set(np.unique(hard.numpy())) == {0.0, 1.0} and (hard.numpy().sum(-1) == 1).all()
    (hard * nl.tensor(np.arange(6.0))).sum().backward()
    assert np.abs(logits.grad.numpy()).sum() > 0


MODULES = [
    (nn.ELU(alpha=0.5), tnn.ELU(alpha=0.5)), (nn.CELU(2.0), tnn.CELU(2.0)), (nn.SELU(), tnn.SELU()),
    (nn.SiLU(), tnn.SiLU()), (nn.Mish(), tnn.Mish()), (nn.Softplus(2, 5), tnn.Softplus(2, 5)),
    (nn.Softsign(), tnn.Softsign()), (nn.Hardtanh(-2, 2), tnn.Hardtanh(-2, 2)),
    (nn.ReLU6(), tnn.ReLU6()), (nn.Hardsigmoid(), tnn.Hardsigmoid()),
    (nn.Hardswish(), tnn.Hardswish()), (nn.LogSigmoid(), tnn.LogSigmoid()),
    (nn.Tanhshrink(), tnn.Tanhshrink()), (nn.Softshrink(1.0), tnn.Softshrink(1.0)),
    (nn.Hardshrink(), tnn.Hardshrink()), (nn.Threshold(0.1, 20), tnn.Threshold(0.1, 20)),
    (nn.GLU(1), tnn.GLU(1)), (nn.Softmin(1), tnn.Softmin(1)), (nn.ReLU(True), tnn.ReLU(True)),
    (nn.LeakyReLU(0.2, True), tnn.LeakyReLU(0.2, True)), (nn.GELU("tanh"), tnn.GELU("tanh")),
    (nn.PReLU(), tnn.PReLU()), (nn.RReLU(), tnn.RReLU()),
]  # fmt: skip


@pytest.mark.parametrize("ours, theirs", MODULES, ids=lambda m: repr(m))
def test_activation_modules_match_torch_in_value_and_repr(ours, theirs):
    assert repr(ours) == repr(theirs)
    ours.eval(), theirs.eval()
    x = X.reshape(1, 10, 5).astype(np.float32)
    out = ours(nl.tensor(x))
    with torch.no_grad():
        ref = theirs(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


def test_prelu_module_has_torchs_parameter_and_learns_it():
    layer = nn.PReLU(num_parameters=3, init=0.1, dtype=nl.float64)
    assert layer.weight.shape == (3,) and layer.weight.dtype == nl.float64
    np.testing.assert_array_equal(layer.weight.numpy(), 0.1)
    assert list(dict(layer.named_parameters())) == ["weight"]
    x = nl.tensor(-np.ones((2, 3, 4)), dtype=nl.float64)
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), -8.0)
    layer.weight.data.fill_(0.5)
    layer.reset_parameters()
    np.testing.assert_array_equal(layer.weight.numpy(), 0.1)
    with pytest.raises(RuntimeError, match="PReLU: device 'cuda' is not available"):
        nn.PReLU(device="cuda")


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: F.glu(nl.ones(2, 3), 1), ValueError, r"glu: dimension 1 of input shape \(2, 3\) must have an even size"),
        (lambda: F.glu(nl.tensor(1.0)), ValueError, r"glu: a 0-d input"),
        (lambda: F.prelu(nl.ones(2, 4), nl.ones(3)), ValueError, r"prelu: weight has 3 parameters but input of shape \(2, 4\) has 4 channels"),
        (lambda: F.prelu(nl.tensor(1.0), nl.ones(1)), ValueError, r"prelu: input must have at least one dimension"),
        (lambda: F.softshrink(nl.ones(2), -1.0), ValueError, r"softshrink: lambd must be non-negative, got -1.0"),
        (lambda: F.elu(nl.tensor([1, 2])), TypeError, r"elu: input must be a floating-point tensor, got dtype int64"),
        (lambda: F.gelu(nl.ones(2), approximate="fast"), ValueError, r"gelu: approximate must be 'none' or 'tanh'"),
        (lambda: F.softmax(nl.ones(2, 3), 2), IndexError, r"softmax: dimension 2 is out of range"),
        (lambda: F.hardtanh(nl.ones(2), 1.0, -1.0), ValueError, r"hardtanh: min_val 1.0 must not exceed max_val -1.0"),
    ],
)  # fmt: skip
def test_bad_arguments_raise_one_clear_line(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_torch_top_level_activation_names_exist_and_agree():
    x = np.random.default_rng(6).standard_normal((3, 4)).astype(np.float32)
    for name in ("relu", "sigmoid", "tanh", "selu", "celu", "hardshrink"):
        np.testing.assert_allclose(
            getattr(nl, name)(nl.tensor(x)).numpy(),
            getattr(torch, name)(torch.tensor(x)),
            rtol=1e-5,
        )
    np.testing.assert_allclose(
        nl.softmax(nl.tensor(x), 1).numpy(), torch.softmax(torch.tensor(x), 1), rtol=1e-5
    )
    np.testing.assert_allclose(
        nl.threshold(nl.tensor(x), 0.1, 5.0).numpy(), torch.threshold(torch.tensor(x), 0.1, 5.0)
    )
    w = np.array([0.3], np.float32)
    np.testing.assert_allclose(
        nl.prelu(nl.tensor(x), nl.tensor(w)).numpy(),
        torch.prelu(torch.tensor(x), torch.tensor(w)),
        rtol=1e-6,
    )
