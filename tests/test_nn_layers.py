"""Layers against torch.nn: same weights in, same outputs and input/parameter gradients out.

Each parity test copies the torch module's state_dict into ours (so parameter and buffer names
must match too), runs a forward pass, back-propagates the same random upstream gradient and
compares the output, the input's gradient and every parameter's gradient. gradcheck then checks
every layer's backward (inputs and parameters) against finite differences in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn as tnn

import neuralab as nl
import neuralab.nn as nn
import neuralab.nn.functional as F

TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-10)}
RNG = np.random.default_rng(0)


def copy_weights(ours: nn.Module, theirs: tnn.Module) -> None:
    """Load torch's parameters and buffers into ours (strict: the names must agree)."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _outputs(out):
    return list(out) if isinstance(out, tuple | list) else [out]


def assert_same_module(
    ours: nn.Module,
    theirs: tnn.Module,
    *inputs: np.ndarray,
    dtype=np.float32,
    copy: bool = True,
    **kwargs,
) -> None:
    """Forward values, input gradients and parameter gradients of ours agree with torch's."""
    tol = TOL[dtype]
    if dtype == np.float64:
        ours.double()
        theirs.double()
    if copy:
        copy_weights(ours, theirs)
    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in inputs]
    ours_in = [nl.tensor(a, dtype=a.dtype, requires_grad=a.dtype.kind == "f") for a in arrays]
    theirs_in = [torch.tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in arrays]
    out_o, out_t = _outputs(ours(*ours_in, **kwargs)), _outputs(theirs(*theirs_in, **kwargs))
    assert len(out_o) == len(out_t)
    total_o = total_t = None
    for o, t in zip(out_o, out_t):
        expected = t.detach().numpy()
        assert o.shape == expected.shape and o.dtype == expected.dtype, (o, t)
        assert all(a.dtype == dtype for a in ours_in if a.is_floating_point())
        np.testing.assert_allclose(o.numpy(), expected, **tol)
        if o.requires_grad:
            g = RNG.standard_normal(o.shape).astype(dtype)
            term_o, term_t = (o * nl.tensor(g, dtype=dtype)).sum(), (t * torch.tensor(g)).sum()
            total_o = term_o if total_o is None else total_o + term_o
            total_t = term_t if total_t is None else total_t + term_t
    total_o.backward()
    total_t.backward()
    for i, (a, b) in enumerate(zip(ours_in, theirs_in)):
        if b.requires_grad:
            assert a.grad.dtype == a.dtype
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), err_msg=f"input {i}", **tol)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        expected = theirs_params[name].grad
        assert p.grad is not None and expected is not None, name
        assert p.grad.dtype == p.dtype
        np.testing.assert_allclose(p.grad.numpy(), expected.numpy(), err_msg=name, **tol)
    for name, b in theirs.named_buffers():
        np.testing.assert_allclose(ours.state_dict()[name].numpy(), b.numpy(), err_msg=name, **tol)


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def gradcheck_module(module: nn.Module, *inputs: np.ndarray, **kwargs) -> None:
    """nl.gradcheck over the first input AND the parameters of ``module`` (made float64 first).

    Further inputs (targets, indices) are constants.
    """
    module.double()
    owners = [
        (mod, key)
        for _, mod in module.named_modules()
        for key, p in mod._parameters.items()
        if p is not None and p.requires_grad
    ]
    params = [mod._parameters[key] for mod, key in owners]
    tensors = [nl.tensor(a, dtype=nl.float64 if a.dtype.kind == "f" else None) for a in inputs]
    tensors[0].requires_grad = tensors[0].is_floating_point()
    n = len(tensors)

    def fn(*args):
        for (mod, key), value in zip(owners, args[n:]):
            mod._parameters[key] = value  # the float64 copies gradcheck perturbs
        try:
            return module(*args[:n], **kwargs)
        finally:
            for (mod, key), p in zip(owners, params):
                mod._parameters[key] = p

    assert nl.gradcheck(fn, [*tensors, *params])


# ----------------------------------------------------------------------------- linear


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_matches_torch(dtype):
    assert_same_module(nn.Linear(5, 3), tnn.Linear(5, 3), randn(4, 5), dtype=dtype)
    assert_same_module(nn.Linear(5, 3), tnn.Linear(5, 3), randn(2, 3, 5), dtype=dtype)
    assert_same_module(nn.Linear(5, 3, bias=False), tnn.Linear(5, 3, bias=False), randn(4, 5))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(16, 130), (48, 100), (2, 9, 200), (4, 512), (1, 512)])
def test_linear_of_a_few_rows_computed_weight_first_matches_torch(shape, bias):
    # all but the one-row product go through (W @ xᵀ)ᵀ (neuralab.ops.matmul._weight_first)
    *lead, features = shape
    rows = math.prod(lead)
    assert nl.ops.matmul._weight_first(rows, features, np.dtype(np.float32)) == (rows != 1)
    ours, theirs = nn.Linear(64, features, bias=bias), tnn.Linear(64, features, bias=bias)
    assert_same_module(ours, theirs, randn(*lead, 64))


@pytest.mark.parametrize("bias", [True, False])
def test_linear_of_one_row_is_a_matrix_vector_product_matching_torch(bias):
    ours, theirs = nn.Linear(64, 130, bias=bias), tnn.Linear(64, 130, bias=bias)
    copy_weights(ours, theirs)
    for x in (randn(1, 64), randn(1, 128)[:, ::2], randn(1, 1, 64)):  # a strided row; 3-D
        x = x.astype(np.float32)
        rows = x.reshape(-1, 64)
        direct = nl.ops.matmul._one_row(rows, ours.weight._data, ours.bias)
        expected = theirs(torch.from_numpy(np.ascontiguousarray(rows))).detach().numpy()
        np.testing.assert_allclose(direct, expected, rtol=1e-5, atol=1e-6)
        assert direct.shape == (1, 130) and direct.dtype == np.float32
        assert_same_module(ours, theirs, x)


def test_linear_keeps_float32_and_rejects_wrong_features():
    layer = nn.Linear(3, 2)
    assert layer.weight.dtype == nl.float32 and layer(nl.randn(4, 3)).dtype == nl.float32
    with pytest.raises(ValueError, match="in_features=3"):
        layer(nl.randn(4, 5))
    assert nn.Linear(3, 2, dtype=nl.float64).weight.dtype == nl.float64


def test_neuron_is_sigma_of_affine_score():
    neuron = nn.Neuron(3, activation="sigmoid")
    assert neuron.weight.shape == (3,) and neuron.bias.shape == ()
    x = randn(5, 3)
    y = neuron(nl.tensor(x))
    assert y.shape == (5,)
    w, b = neuron.weight.numpy(), neuron.bias.numpy()
    np.testing.assert_allclose(y.numpy(), 1 / (1 + np.exp(-(x @ w + b))), rtol=1e-6)
    assert neuron(nl.tensor(x[0])).shape == ()
    y.sum().backward()
    assert neuron.weight.grad.shape == (3,) and neuron.bias.grad.shape == ()
    step = nn.Neuron(3, activation="sign")
    assert set(np.unique(step(nl.tensor(x)).numpy())) <= {-1.0, 1.0}
    with pytest.raises(ValueError, match="unknown activation"):
        nn.Neuron(3, activation="swish")
    with pytest.raises(ValueError, match="in_features=3"):
        neuron(nl.randn(5, 4))


def test_neuron_feeds_margin_losses_directly():
    neuron = nn.Neuron(2)
    y = nl.tensor([1.0, -1.0, 1.0])
    loss = nn.HingeLoss()(neuron(nl.randn(3, 2)), y)
    loss.backward()
    assert loss.shape == () and neuron.weight.grad is not None


# ----------------------------------------------------------------------------- convolution

CONV2D_CASES = [
    dict(),
    dict(stride=2, padding=1),
    dict(stride=(2, 1), padding=(1, 2), dilation=2),
    dict(groups=2, padding="same", dilation=(1, 2)),
    dict(padding="valid", bias=False),
    dict(padding=1, padding_mode="reflect"),
    dict(padding="same", padding_mode="replicate", groups=2),
]


@pytest.mark.parametrize("kwargs", CONV2D_CASES)
def test_conv2d_matches_torch(kwargs):
    ours, theirs = nn.Conv2d(4, 6, 3, **kwargs), tnn.Conv2d(4, 6, 3, **kwargs)
    assert_same_module(ours, theirs, randn(2, 4, 7, 8))


def test_conv2d_float64_matches_torch():
    kwargs = dict(stride=2, padding=1, dilation=2, groups=2)
    ours, theirs = nn.Conv2d(4, 6, (3, 2), **kwargs), tnn.Conv2d(4, 6, (3, 2), **kwargs)
    assert_same_module(ours, theirs, randn(2, 4, 9, 8), dtype=np.float64)


@pytest.mark.parametrize(
    "kwargs", [dict(), dict(stride=2, padding=1, dilation=2, groups=2), dict(padding="same")]
)
def test_conv1d_matches_torch(kwargs):
    assert_same_module(nn.Conv1d(4, 6, 3, **kwargs), tnn.Conv1d(4, 6, 3, **kwargs), randn(2, 4, 11))


@pytest.mark.parametrize(
    "kwargs", [dict(), dict(stride=2, padding=1, output_padding=1, groups=2), dict(dilation=2)]
)
def test_conv_transpose2d_matches_torch(kwargs):
    ours, theirs = nn.ConvTranspose2d(4, 6, 3, **kwargs), tnn.ConvTranspose2d(4, 6, 3, **kwargs)
    assert_same_module(ours, theirs, randn(2, 4, 5, 4))


def test_conv_transpose2d_output_size_picks_output_padding():
    ours, theirs = (
        nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1),
        tnn.ConvTranspose2d(3, 2, 3, stride=2, padding=1),
    )
    assert_same_module(ours, theirs, randn(1, 3, 4, 4), output_size=(8, 7))
    with pytest.raises(ValueError, match="valid sizes range from"):
        ours(nl.randn(1, 3, 4, 4), output_size=(10, 10))


def test_conv_argument_errors_name_the_problem():
    with pytest.raises(ValueError, match="divisible by groups=2"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="kernel_size"):
        nn.Conv2d(3, 4, (3, 3, 3))


# ----------------------------------------------------------------------------- pooling


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kernel_size=2),
        dict(kernel_size=3, stride=2, padding=1),
        dict(kernel_size=2, ceil_mode=True),
    ],
)
def test_max_pool2d_matches_torch(kwargs):
    assert_same_module(nn.MaxPool2d(**kwargs), tnn.MaxPool2d(**kwargs), randn(2, 3, 7, 6))


def test_max_pool2d_indices_and_unpool_match_torch():
    x = randn(2, 3, 6, 6)
    _, idx_t = tnn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    _, idx_o = nn.MaxPool2d(2, return_indices=True)(nl.tensor(x))
    np.testing.assert_array_equal(idx_o.numpy(), idx_t.numpy())
    pooled = randn(2, 3, 3, 3)
    indices = idx_t.numpy()
    assert_same_module(nn.MaxUnpool2d(2), tnn.MaxUnpool2d(2), pooled, indices)
    assert_same_module(nn.MaxUnpool2d(2), tnn.MaxUnpool2d(2), pooled, indices, output_size=(7, 7))


@pytest.mark.parametrize(
    "kwargs",
    [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)],
)
def test_avg_pool2d_matches_torch(kwargs):
    assert_same_module(nn.AvgPool2d(**kwargs), tnn.AvgPool2d(**kwargs), randn(2, 3, 7, 6))


def test_pool1d_matches_torch():
    x = randn(2, 3, 9)
    assert_same_module(nn.MaxPool1d(3, 2, 1), tnn.MaxPool1d(3, 2, 1), x)
    assert_same_module(nn.AvgPool1d(3, 2), tnn.AvgPool1d(3, 2), x)


@pytest.mark.parametrize("size", [1, (3, 2), (None, 4)])
def test_adaptive_avg_pool2d_matches_torch(size):
    assert_same_module(nn.AdaptiveAvgPool2d(size), tnn.AdaptiveAvgPool2d(size), randn(2, 3, 7, 5))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(scale_factor=2),
        dict(size=(5, 7)),
        dict(scale_factor=2, mode="bilinear"),
        dict(size=(5, 7), mode="bilinear", align_corners=True),
    ],
)
def test_upsample_matches_torch(kwargs):
    assert_same_module(nn.Upsample(**kwargs), tnn.Upsample(**kwargs), randn(2, 3, 4, 3))


# ----------------------------------------------------------------------------- normalization


@pytest.mark.parametrize(
    "cls, tcls, shape",
    [
        (nn.BatchNorm1d, tnn.BatchNorm1d, (6, 4)),
        (nn.BatchNorm1d, tnn.BatchNorm1d, (3, 4, 5)),
        (nn.BatchNorm2d, tnn.BatchNorm2d, (3, 4, 5, 2)),
    ],
)
@pytest.mark.parametrize(
    "kwargs", [dict(), dict(momentum=None), dict(affine=False), dict(momentum=0.3, bias=False)]
)
def test_batch_norm_train_then_eval_matches_torch(cls, tcls, shape, kwargs):
    ours, theirs = cls(4, **kwargs), tcls(4, **kwargs)
    if ours.weight is not None:  # non-trivial affine parameters
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
    for step in range(2):  # running statistics after two training steps
        ours.zero_grad()
        theirs.zero_grad()
        assert_same_module(ours, theirs, randn(*shape) * 2 + 1, copy=step == 0)
    assert int(ours.num_batches_tracked.item()) == 2
    ours.eval()
    theirs.eval()
    ours.zero_grad()
    theirs.zero_grad()
    assert_same_module(ours, theirs, randn(*shape), copy=False)


def test_batch_norm_without_running_stats_uses_batch_statistics():
    ours, theirs = (
        nn.BatchNorm2d(3, track_running_stats=False),
        tnn.BatchNorm2d(3, track_running_stats=False),
    )
    assert ours.running_mean is None and "running_mean" not in ours.state_dict()
    assert_same_module(ours.eval(), theirs.eval(), randn(2, 3, 4, 4))


def test_batch_norm_rejects_wrong_rank():
    with pytest.raises(ValueError, match="expected 4D input, got 2D"):
        nn.BatchNorm2d(3)(nl.randn(4, 3))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(nl.randn(4, 3, 2, 2))


@pytest.mark.parametrize(
    "kwargs", [dict(), dict(elementwise_affine=False), dict(bias=False), dict(eps=1e-3)]
)
def test_layer_norm_matches_torch(kwargs):
    ours, theirs = nn.LayerNorm((4, 5), **kwargs), tnn.LayerNorm((4, 5), **kwargs)
    if theirs.weight is not None:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
    assert_same_module(ours, theirs, randn(3, 4, 5))
    assert_same_module(nn.LayerNorm(5), tnn.LayerNorm(5), randn(2, 3, 5))


# ----------------------------------------------------------------------------- embedding, dropout


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(padding_idx):
    ours, theirs = nn.Embedding(6, 4, padding_idx), tnn.Embedding(6, 4, padding_idx)
    idx = np.array([[0, 2, 5], [2, 2, 1]], dtype=np.int64)
    assert_same_module(ours, theirs, idx)


def test_embedding_padding_row_starts_at_zero_and_stays_there():
    emb = nn.Embedding(5, 3, padding_idx=-2)
    assert emb.padding_idx == 3
    np.testing.assert_array_equal(emb.weight.numpy()[3], 0)
    emb(nl.tensor([[3, 1, 3]])).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[3], 0)
    assert np.all(emb.weight.grad.numpy()[1] == 1)
    frozen = nn.Embedding.from_pretrained(nl.randn(4, 2))
    assert not frozen.weight.requires_grad and frozen.weight.shape == (4, 2)
    assert nn.Embedding.from_pretrained(nl.randn(4, 2, dtype=nl.float64)).weight.dtype == nl.float64


def test_dropout_modes():
    x = nl.ones(200, 50)
    nl.manual_seed(0)
    drop = nn.Dropout(0.3)
    y = drop(x).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.02
    np.testing.assert_array_equal(drop.eval()(x).numpy(), x.numpy())
    channel = nn.Dropout2d(0.5)(nl.ones(8, 16, 3, 3)).numpy()
    per_channel = channel.reshape(8, 16, -1)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))  # whole channels dropped
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


# ----------------------------------------------------------------------------- activations


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (nn.Sigmoid(), tnn.Sigmoid()),
        (nn.Tanh(), tnn.Tanh()),
        (nn.ReLU(), tnn.ReLU()),
        (nn.LeakyReLU(0.2), tnn.LeakyReLU(0.2)),
        (nn.GELU(), tnn.GELU()),
        (nn.GELU("tanh"), tnn.GELU("tanh")),
        (nn.Softmax(dim=1), tnn.Softmax(dim=1)),
        (nn.LogSoftmax(dim=-1), tnn.LogSoftmax(dim=-1)),
        (nn.Identity(), tnn.Identity()),
        (nn.Flatten(), tnn.Flatten()),
        (nn.Flatten(0, 1), tnn.Flatten(0, 1)),
        (nn.Unflatten(1, (2, 3)), tnn.Unflatten(1, (2, 3))),
    ],
)
def test_activation_and_shape_modules_match_torch(ours, theirs):
    assert_same_module(ours, theirs, randn(4, 6, 2))


def test_sign_is_a_forward_only_step():
    out = nn.Sign()(nl.tensor([-2.0, 0.0, 3.0], requires_grad=True))
    np.testing.assert_array_equal(out.numpy(), [-1.0, 0.0, 1.0])
    assert not out.requires_grad


def test_softmax_without_dim_warns_like_torch():
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = nn.Softmax()(nl.randn(3, 4))
    np.testing.assert_allclose(out.numpy().sum(1), 1, rtol=1e-6)


# ----------------------------------------------------------------------------- losses


def _logits_and_targets():
    return randn(6, 4), RNG.integers(0, 4, 6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_and_binary_losses_match_torch(reduction):
    x, t = randn(5, 3), randn(5, 3)
    p, y = 1 / (1 + np.exp(-x)), (RNG.random((5, 3)) > 0.5).astype(np.float32)
    w = RNG.random(3).astype(np.float32) + 0.5
    cases = [
        (nn.MSELoss(reduction=reduction), tnn.MSELoss(reduction=reduction), x, t),
        (nn.L1Loss(reduction=reduction), tnn.L1Loss(reduction=reduction), x, t),
        (nn.BCELoss(reduction=reduction), tnn.BCELoss(reduction=reduction), p, y),
        (
            nn.BCELoss(w, reduction=reduction),
            tnn.BCELoss(torch.tensor(w), reduction=reduction),
            p,
            y,
        ),
        (
            nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=w),
            tnn.BCEWithLogitsLoss(reduction=reduction, pos_weight=torch.tensor(w)),
            x,
            y,
        ),
    ]
    for ours, theirs, a, b in cases:
        ours_in, theirs_in = nl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        lo, lt = ours(ours_in, nl.tensor(b)), theirs(theirs_in, torch.tensor(b))
        np.testing.assert_allclose(lo.numpy(), lt.detach().numpy(), **TOL[np.float32])
        lo.sum().backward()
        lt.sum().backward()
        np.testing.assert_allclose(ours_in.grad.numpy(), theirs_in.grad.numpy(), **TOL[np.float32])


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(reduction="sum"),
        dict(reduction="none", label_smoothing=0.1),
        dict(ignore_index=2, label_smoothing=0.2),
        dict(weight=[0.5, 1.0, 2.0, 1.5]),
    ],
)
def test_cross_entropy_and_nll_losses_match_torch(kwargs):
    x, y = _logits_and_targets()
    tkw = {k: (torch.tensor(v) if k == "weight" else v) for k, v in kwargs.items()}
    ours_in, theirs_in = nl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo = nn.CrossEntropyLoss(**kwargs)(ours_in, nl.tensor(y))
    lt = tnn.CrossEntropyLoss(**tkw)(theirs_in, torch.tensor(y))
    np.testing.assert_allclose(lo.numpy(), lt.detach().numpy(), **TOL[np.float32])
    lo.sum().backward()
    lt.sum().backward()
    np.testing.assert_allclose(ours_in.grad.numpy(), theirs_in.grad.numpy(), **TOL[np.float32])
    nll_kw = {k: v for k, v in kwargs.items() if k != "label_smoothing"}
    tnll_kw = {k: v for k, v in tkw.items() if k != "label_smoothing"}
    logp = torch.log_softmax(torch.tensor(x), 1).numpy()
    lo = nn.NLLLoss(**nll_kw)(nl.tensor(logp), nl.tensor(y))
    lt = tnn.NLLLoss(**tnll_kw)(torch.tensor(logp), torch.tensor(y))
    np.testing.assert_allclose(lo.numpy(), lt.numpy(), **TOL[np.float32])


def test_class_weights_are_buffers_that_follow_dtype():
    loss = nn.CrossEntropyLoss(weight=[1.0, 2.0, 3.0])
    assert list(loss.state_dict()) == list(tnn.CrossEntropyLoss(torch.ones(3)).state_dict())
    loss.double()
    assert loss.weight.dtype == nl.float64
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


def test_margin_losses_and_their_label_errors():
    scores = nl.tensor([2.0, -0.5, 0.3], requires_grad=True)
    y = nl.tensor([1.0, 1.0, -1.0])
    np.testing.assert_allclose(nn.PerceptronLoss()(scores, y).item(), (0 + 0.5 + 0.3) / 3, 1e-6)
    np.testing.assert_allclose(nn.HingeLoss(reduction="sum")(scores, y).item(), 0 + 1.5 + 1.3, 1e-6)
    expected = np.log1p(np.exp(-np.array([2.0, -0.5, -0.3])))
    np.testing.assert_allclose(nn.LogisticLoss("none")(scores, y).numpy(), expected, rtol=1e-6)
    for loss in (nn.PerceptronLoss(), nn.HingeLoss(), nn.LogisticLoss()):
        with pytest.raises(ValueError, match=r"labels in \{-1, \+1\}"):
            loss(scores, nl.tensor([1.0, 0.0, 1.0]))


# ----------------------------------------------------------------------------- positional


def test_sinusoidal_positional_encoding_formula_and_shape():
    pe = nn.SinusoidalPositionalEncoding(d_model=6, max_len=10, dropout=0.0)
    x = nl.zeros(2, 4, 6)
    out = pe(x).numpy()
    pos, i = 3, 1
    np.testing.assert_allclose(out[1, pos, 2 * i], math.sin(pos / 10000 ** (2 * i / 6)), 1e-6)
    np.testing.assert_allclose(out[0, pos, 2 * i + 1], math.cos(pos / 10000 ** (2 * i / 6)), 1e-6)
    assert "pe" not in pe.state_dict() and list(pe.parameters()) == []
    assert nn.SinusoidalPositionalEncoding(5, 4)(nl.zeros(1, 4, 5)).shape == (1, 4, 5)
    with pytest.raises(ValueError, match="max_len=10"):
        pe(nl.zeros(1, 11, 6))


def test_learned_positional_encoding_adds_trainable_rows():
    pe = nn.LearnedPositionalEncoding(max_len=8, d_model=4)
    assert pe.weight.shape == (8, 4) and abs(float(pe.weight.numpy().std()) - 0.02) < 0.01
    x = nl.randn(3, 5, 4, requires_grad=True)
    out = pe(x)
    expected = x.numpy() + pe.weight.numpy()[:5]
    np.testing.assert_array_equal(out.numpy(), expected)
    out.sum().backward()
    np.testing.assert_array_equal(pe.weight.grad.numpy()[:5], 3)
    np.testing.assert_array_equal(pe.weight.grad.numpy()[5:], 0)


# ----------------------------------------------------------------------------- gradcheck


class Reseed(nn.Module):
    """Identity that reseeds the generator, so a following Dropout draws the same mask on
    every one of gradcheck's forward passes."""

    def forward(self, x):
        nl.manual_seed(0)
        return x


GRADCHECK_CASES: list[tuple[str, Callable[[], nn.Module], tuple]] = [
    ("linear", lambda: nn.Linear(3, 2), (randn(2, 3),)),
    ("neuron", lambda: nn.Neuron(3, "tanh"), (randn(2, 3),)),
    ("conv1d", lambda: nn.Conv1d(2, 2, 2, stride=2, padding=1, groups=2), (randn(1, 2, 5),)),
    ("conv2d", lambda: nn.Conv2d(2, 2, 2, padding=1, dilation=(1, 2)), (randn(1, 2, 3, 3),)),
    (
        "conv2d-reflect",
        lambda: nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect"),
        (randn(1, 1, 3, 3),),
    ),
    ("conv_t2d", lambda: nn.ConvTranspose2d(2, 1, 2, stride=2, padding=1), (randn(1, 2, 2, 2),)),
    ("maxpool", lambda: nn.MaxPool2d(2, 1), (randn(1, 2, 3, 3),)),
    ("maxpool1d", lambda: nn.MaxPool1d(2, 1, padding=1), (randn(1, 2, 3),)),
    ("avgpool1d", lambda: nn.AvgPool1d(2, 1), (randn(1, 2, 3),)),
    ("upsample-nearest", lambda: nn.Upsample(size=(3, 2)), (randn(1, 1, 2, 2),)),
    ("dropout", lambda: nn.Sequential(Reseed(), nn.Dropout(0.5)), (randn(2, 3),)),
    ("dropout2d", lambda: nn.Sequential(Reseed(), nn.Dropout2d(0.5)), (randn(2, 3, 1, 2),)),
    ("avgpool", lambda: nn.AvgPool2d(2, 1, padding=1), (randn(1, 1, 3, 3),)),
    ("adaptive", lambda: nn.AdaptiveAvgPool2d((2, 2)), (randn(1, 1, 3, 3),)),
    ("unpool", lambda: nn.MaxUnpool2d(2), (randn(1, 1, 2, 2), np.array([[[[0, 3], [9, 14]]]]))),
    ("upsample", lambda: nn.Upsample(scale_factor=2, mode="bilinear"), (randn(1, 1, 2, 2),)),
    ("batchnorm1d", lambda: nn.BatchNorm1d(2), (randn(4, 2),)),
    ("batchnorm2d-eval", lambda: nn.BatchNorm2d(2).eval(), (randn(2, 2, 2, 1),)),
    ("batchnorm2d", lambda: nn.BatchNorm2d(2), (randn(2, 2, 2, 1),)),
    ("layernorm", lambda: nn.LayerNorm(3), (randn(2, 3),)),
    ("embedding", lambda: nn.Embedding(4, 2, padding_idx=0), (np.array([[1, 2, 1]]),)),
    ("gelu", lambda: nn.GELU(), (randn(2, 3),)),
    ("leaky", lambda: nn.LeakyReLU(0.1), (randn(2, 3),)),
    ("softmax", lambda: nn.Softmax(1), (randn(2, 3),)),
    ("logsoftmax", lambda: nn.LogSoftmax(1), (randn(2, 3),)),
    ("sigmoid-tanh", lambda: nn.Sequential(nn.Sigmoid(), nn.Tanh()), (randn(2, 3),)),
    ("learned-pe", lambda: nn.LearnedPositionalEncoding(3, 2), (randn(1, 2, 2),)),
    ("sinusoidal-pe", lambda: nn.SinusoidalPositionalEncoding(2, 3, 0.0), (randn(1, 2, 2),)),
    ("flatten", lambda: nn.Sequential(nn.Flatten(), nn.Unflatten(1, (2, 2))), (randn(1, 2, 2),)),
    ("mlp", lambda: nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)), (randn(2, 2),)),
]


@pytest.mark.parametrize(
    "make, inputs", [c[1:] for c in GRADCHECK_CASES], ids=[c[0] for c in GRADCHECK_CASES]
)
def test_gradcheck_every_layer(make, inputs):
    gradcheck_module(make(), *inputs)


def test_gradcheck_losses():
    x, y = _logits_and_targets()
    labels = np.where(RNG.random(6) > 0.5, 1.0, -1.0)
    gradcheck_module(nn.CrossEntropyLoss(label_smoothing=0.1), x[:3], y[:3])
    gradcheck_module(nn.BCEWithLogitsLoss(), x[:2], (x[:2] > 0).astype(np.float64))
    gradcheck_module(nn.MSELoss(), x[:2], x[2:4])
    gradcheck_module(nn.LogisticLoss(), x[:, 0], labels)


def test_functional_namespace_reexports_the_ops():
    import neuralab.ops.conv
    import neuralab.ops.loss

    assert (
        F.conv2d is neuralab.ops.conv.conv2d and F.cross_entropy is neuralab.ops.loss.cross_entropy
    )
    for name in F.__all__:
        assert callable(getattr(F, name)), name


def test_whole_network_matches_torch():
    def build(lib):
        return lib.Sequential(
            lib.Conv2d(1, 4, 3, padding=1),
            lib.BatchNorm2d(4),
            lib.LeakyReLU(0.1),
            lib.MaxPool2d(2),
            lib.Conv2d(4, 4, 3, padding="same", groups=2),
            lib.AdaptiveAvgPool2d((2, 2)),
            lib.Flatten(),
            lib.Linear(16, 8),
            lib.LayerNorm(8),
            lib.GELU(),
            lib.Linear(8, 3),
            lib.LogSoftmax(dim=1),
        )

    assert_same_module(build(nn), build(tnn), randn(3, 1, 6, 6))
