"""The rarer torch.nn / F / optim pieces, against torch: fractional max pooling (2-D and 3-D, with
torch's random samples), LPPool3d, 3-D max pooling with indices and MaxUnpool3d, adaptive 3-D
max pooling with indices, CrossMapLRN2d, AdaptiveLogSoftmaxWithLoss and SparseAdam."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from oracle import compare

import neuralab as nl
import neuralab.nn as nn
import neuralab.nn.functional as F

DTYPES = [np.float32, np.float64]
# a tail of hidden size 0 (in_features // div_value**i): torch and neuralab both say so
EMPTY_TAIL = pytest.mark.filterwarnings("ignore:Initializing zero-element tensors is a no-op")


def _torch_dtype(dtype):
    return torch.float32 if dtype == np.float32 else torch.float64


def _ours(array, requires_grad=False):
    return nl.Tensor(array.copy(), dtype=array.dtype, requires_grad=requires_grad)


# ----------------------------------------------------------------------------- fractional max pool

FRACTIONAL = [
    (2, (2, 3, 11, 9), dict(kernel_size=(2, 3), output_size=(5, 4))),
    (2, (2, 3, 25, 40), dict(kernel_size=2, output_size=(13, 21))),
    (2, (3, 10, 10), dict(kernel_size=3, output_size=(4, 6))),  # unbatched
    (2, (2, 2, 9, 9), dict(kernel_size=2, output_ratio=(0.5, 0.7))),
    (2, (1, 2, 9, 9), dict(kernel_size=2, output_size=(1, 8))),
    (3, (2, 3, 7, 11, 9), dict(kernel_size=(2, 3, 2), output_size=(3, 5, 4))),
    (3, (2, 6, 7, 5), dict(kernel_size=2, output_ratio=(0.5, 0.5, 0.6))),  # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd, shape, kw", FRACTIONAL)
def test_fractional_max_pool_matches_torch_given_its_samples(nd, shape, kw, dtype):
    rng = np.random.default_rng(0)
    batch = shape[0] if len(shape) == nd + 2 else 1
    samples = rng.random((batch, shape[-nd - 1], nd)).astype(dtype)
    ours_f, theirs_f = (
        (F.fractional_max_pool2d, TF.fractional_max_pool2d)
        if nd == 2
        else (F.fractional_max_pool3d, TF.fractional_max_pool3d)
    )
    compare(
        lambda t: ours_f(t, return_indices=True, _random_samples=_ours(samples), **kw),
        lambda t: theirs_f(t, return_indices=True, _random_samples=torch.tensor(samples), **kw),
        [rng.standard_normal(shape)],
        dtype,
    )


@pytest.mark.parametrize("nd", [2, 3])
def test_fractional_max_pool_indices_are_exactly_torchs(nd):
    rng = np.random.default_rng(1)
    shape = (2, 3, 8, 12, 10)[: nd + 2]
    x = rng.standard_normal(shape).astype(np.float32)
    samples = rng.random((2, 3, nd)).astype(np.float32)
    kw = dict(kernel_size=2, output_ratio=0.5 if nd == 3 else (0.5, 0.5))
    ours = getattr(F, f"fractional_max_pool{nd}d_with_indices")
    theirs = getattr(TF, f"fractional_max_pool{nd}d_with_indices")
    out, idx = ours(nl.tensor(x), _random_samples=nl.tensor(samples), **kw)
    t_out, t_idx = theirs(torch.tensor(x), _random_samples=torch.tensor(samples), **kw)
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    assert idx.dtype == np.int64
    # and max_unpool puts every maximum back where torch's does
    unpool, t_unpool = getattr(F, f"max_unpool{nd}d"), getattr(TF, f"max_unpool{nd}d")
    size = shape[-nd:]
    np.testing.assert_array_equal(
        unpool(out, idx, 2, output_size=size).numpy(),
        t_unpool(t_out, t_idx, 2, output_size=size).numpy(),
    )


def test_fractional_max_pool_picks_torchs_winner_among_ties_and_nans():
    x = np.zeros((1, 2, 6, 6), np.float32)
    x[0, 0, 1:4, 1:4] = 1.0  # ties: the first maximum wins
    x[0, 1, 2, 2] = x[0, 1, 3, 3] = np.nan  # NaN: the last NaN wins
    samples = np.full((1, 2, 2), 0.3, np.float32)
    out, idx = F.fractional_max_pool2d(
        nl.tensor(x), 2, output_size=4, return_indices=True, _random_samples=nl.tensor(samples)
    )
    t_out, t_idx = TF.fractional_max_pool2d(
        torch.tensor(x),
        2,
        output_size=4,
        return_indices=True,
        _random_samples=torch.tensor(samples),
    )
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())  # NaN in the same places
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())


def test_fractional_max_pool_overlapping_windows_sum_their_gradients():
    x = np.random.default_rng(2).standard_normal((1, 1, 5, 5))
    samples = np.array([[[0.6, 0.2]]])
    # kernel 3 over 5 inputs into 4 outputs: windows overlap, a maximum may win several
    compare(
        lambda t: F.fractional_max_pool2d(t, 3, 3, _random_samples=_ours(samples)),
        lambda t: TF.fractional_max_pool2d(t, 3, 3, _random_samples=torch.tensor(samples)),
        [x],
        np.float64,
    )


def test_fractional_max_pool_draws_its_samples_from_the_seeded_stream():
    x = nl.randn(2, 3, 20, 20)
    nl.manual_seed(0)
    a = F.fractional_max_pool2d(x, 2, output_size=(7, 9))
    nl.manual_seed(0)
    b = F.fractional_max_pool2d(x, 2, output_size=(7, 9))
    assert a.shape == (2, 3, 7, 9) and a.dtype == np.float32
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert F.fractional_max_pool3d(nl.randn(3, 8, 8, 8), 2, output_ratio=0.5).shape == (3, 4, 4, 4)


@pytest.mark.parametrize("nd", [2, 3])
def test_fractional_max_pool_layer_matches_torch(nd):
    rng = np.random.default_rng(3)
    shape = (2, 3, 9, 10, 11)[: nd + 2]
    samples = rng.random((2, 3, nd)).astype(np.float32)
    name = f"FractionalMaxPool{nd}d"
    theirs = getattr(torch.nn, name)(2, output_ratio=0.5, _random_samples=torch.tensor(samples))
    ours = getattr(nn, name)(2, output_ratio=0.5, _random_samples=nl.tensor(samples))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["_random_samples"]
    assert repr(ours) == repr(theirs)
    assert (ours.kernel_size, ours.output_ratio, ours.output_size) == (
        theirs.kernel_size, theirs.output_ratio, theirs.output_size,
    )  # fmt: skip
    compare(ours, theirs, [rng.standard_normal(shape)])
    ours_i = getattr(nn, name)((2,) * nd, output_size=3, return_indices=True)
    assert list(ours_i.state_dict()) == list(getattr(torch.nn, name)(2, 3).state_dict()) == []
    out, idx = ours_i(nl.randn(*shape))
    assert out.shape == idx.shape == shape[:2] + (3,) * nd


def test_fractional_max_pool_errors_say_what_is_wrong():
    x = nl.randn(2, 3, 7, 6)
    with pytest.raises(ValueError, match="requires specifying either an output_size or an output"):
        F.fractional_max_pool2d(x, 2)
    with pytest.raises(RuntimeError, match=r"pool height 5 too large relative to input height 7"):
        F.fractional_max_pool2d(x, 5, output_size=4)
    with pytest.raises(RuntimeError, match=r"pool width 6 too large relative to input width 5"):
        F.fractional_max_pool3d(nl.randn(2, 3, 6, 7, 5), (2, 3, 6), output_size=(3, 3, 3))
    with pytest.raises(RuntimeError, match=r"Expected 3D or 4D tensor, but got: \[1, 2, 3, 7, 6\]"):
        F.fractional_max_pool2d(nl.randn(1, 2, 3, 7, 6), 2, output_size=3)
    with pytest.raises(RuntimeError, match="dimension 2 being empty"):
        F.fractional_max_pool2d(nl.randn(1, 1, 0, 4), 2, output_size=3)
    bad = [
        (nl.rand(2, 3, 3), r"_random_samples.size\(2\) equals to 2"),
        (nl.rand(1, 3, 2), r"_random_samples.size\(0\) no less then input batch size \(2\)"),
        (nl.rand(2, 2, 2), r"_random_samples.size\(1\) equals to input channel size \(3\)"),
        (nl.rand(2, 3, 2, dtype=nl.float64), "same dtype as input"),
    ]
    for samples, message in bad:
        with pytest.raises(RuntimeError, match=message):
            F.fractional_max_pool2d(x, 2, output_size=3, _random_samples=samples)
    with pytest.raises(ValueError, match="kernel_size must be >= 1"):
        F.fractional_max_pool2d(x, 0, output_size=3)
    with pytest.raises(TypeError, match="fractional_max_pool2d: input must be a floating-point"):
        F.fractional_max_pool2d(nl.ones(1, 1, 4, 4, dtype=nl.int64), 2, output_size=2)


def test_fractional_max_pool_layer_checks_its_arguments_as_torch():
    cases = [
        (lambda m: m(2), "FractionalMaxPool2d requires specifying either an output size"),
        (lambda m: m(2, output_size=3, output_ratio=0.5), "only one of output_size and output_ra"),
        (lambda m: m(2, output_ratio=1), re.escape("output_ratio must be between 0 and 1 (got 1)")),
        (lambda m: m(0, output_ratio=0.5), "kernel_size must be greater than 0, but got 0"),
    ]
    for build, message in cases:
        with pytest.raises(ValueError, match=message):
            build(nn.FractionalMaxPool2d)
    with pytest.raises(ValueError, match="kernel_size must be greater than 0, but got 0"):
        torch.nn.FractionalMaxPool3d(0, output_ratio=0.5)
    with pytest.raises(ValueError, match="kernel_size must be greater than 0, but got 0"):
        nn.FractionalMaxPool3d(0, output_ratio=0.5)


# ----------------------------------------------------------------------------- LPPool3d


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "p, kw",
    [
        (2, dict(kernel_size=2)),
        (3, dict(kernel_size=(2, 3, 2), stride=(1, 2, 1))),
        (1.5, dict(kernel_size=3, stride=2, ceil_mode=True)),
        (float("inf"), dict(kernel_size=2, stride=1)),
        (-float("inf"), dict(kernel_size=(1, 2, 2))),
    ],
)
def test_lp_pool3d_matches_torch(p, kw, dtype):
    x = np.random.default_rng(4).uniform(0.1, 2.0, (2, 3, 6, 7, 5))  # p = 1.5 needs x > 0
    compare(lambda t: F.lp_pool3d(t, p, **kw), lambda t: TF.lp_pool3d(t, p, **kw), [x], dtype)
    compare(lambda t: F.lp_pool3d(t, p, **kw), lambda t: TF.lp_pool3d(t, p, **kw), [x[0]], dtype)


@pytest.mark.parametrize("p", [float("inf"), -float("inf")])
def test_lp_pool1d_and_2d_take_infinite_norms_as_torch(p):
    x = np.random.default_rng(5).standard_normal((2, 3, 8, 6))
    compare(lambda t: F.lp_pool2d(t, p, 2), lambda t: TF.lp_pool2d(t, p, 2), [x])
    compare(lambda t: F.lp_pool1d(t, p, 3), lambda t: TF.lp_pool1d(t, p, 3), [x[0]])


def test_lp_pool3d_layer_matches_torch():
    ours, theirs = nn.LPPool3d(2, (2, 2, 3), stride=1), torch.nn.LPPool3d(2, (2, 2, 3), stride=1)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    compare(ours, theirs, [np.random.default_rng(6).standard_normal((1, 2, 4, 5, 6))])
    with pytest.raises(ValueError, match=r"lp_pool3d: expected a 4-D .* got shape \(4, 4, 4\)"):
        F.lp_pool3d(nl.randn(4, 4, 4), 2, 2)
    with pytest.raises(ValueError, match="too small for kernel_size 5"):
        F.lp_pool3d(nl.randn(1, 1, 4, 4, 4), 2, 5)


# ----------------------------------------------------------------------------- 3-D max pooling indices

POOL3D = [
    dict(kernel_size=2),
    dict(kernel_size=(3, 2, 2), stride=(2, 1, 2), padding=1),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=2, dilation=(2, 1, 1)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", POOL3D)
def test_max_pool3d_with_indices_matches_torch(kw, dtype):
    x = np.random.default_rng(7).standard_normal((2, 3, 7, 6, 5))
    x[0, 0, :3, :3, :3] = 1.0  # ties across depth slices: the first wins, and gets the gradient
    compare(
        lambda t: F.max_pool3d_with_indices(t, **kw),
        lambda t: TF.max_pool3d_with_indices(t, **kw),
        [x],
        dtype,
    )
    compare(
        lambda t: F.max_pool3d(t, return_indices=True, **kw),
        lambda t: TF.max_pool3d(t, return_indices=True, **kw),
        [x[1]],  # unbatched
        dtype,
    )


def test_max_pool3d_indices_follow_torchs_nan_rule():
    x = np.random.default_rng(8).standard_normal((1, 2, 4, 4, 4)).astype(np.float32)
    x[0, 0, 0, 1, 1] = x[0, 0, 1, 0, 0] = np.nan
    x[0, 1, 2:, 2:, 2:] = -np.inf
    out, idx = F.max_pool3d(nl.tensor(x), 2, return_indices=True)
    t_out, t_idx = TF.max_pool3d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, kw, size",
    [
        ((2, 3, 6, 4, 8), dict(kernel_size=2), None),
        ((2, 3, 7, 6, 5), dict(kernel_size=2), (7, 6, 5)),
        ((2, 3, 7, 6, 5), dict(kernel_size=3, stride=2, padding=1), (2, 3, 7, 6, 5)),
    ],
)
def test_max_unpool3d_matches_torch(shape, kw, size, dtype):
    x = torch.from_numpy(np.random.default_rng(9).standard_normal(shape).astype(dtype))
    pooled, idx = TF.max_pool3d(x, return_indices=True, **kw)
    compare(
        lambda t: F.max_unpool3d(t, nl.tensor(idx.numpy()), output_size=size, **kw),
        lambda t: TF.max_unpool3d(t, idx, output_size=size, **kw),
        [pooled.numpy()],
        dtype,
    )


def test_max_pool3d_and_unpool3d_layers_round_trip_as_torch():
    x = np.random.default_rng(10).standard_normal((2, 2, 6, 6, 6)).astype(np.float32)
    pool, unpool = nn.MaxPool3d(2, return_indices=True), nn.MaxUnpool3d(2)
    t_pool, t_unpool = torch.nn.MaxPool3d(2, return_indices=True), torch.nn.MaxUnpool3d(2)
    assert repr(unpool) == repr(t_unpool)
    assert list(unpool.state_dict()) == list(t_unpool.state_dict()) == []
    compare(lambda t: unpool(*pool(t)), lambda t: t_unpool(*t_pool(t)), [x])
    up = unpool(*pool(nl.tensor(x[0])))  # unbatched
    assert up.shape == (2, 6, 6, 6)


def test_max_unpool3d_says_what_is_wrong():
    x = nl.randn(1, 1, 2, 2, 2)
    with pytest.raises(ValueError, match=r"max_unpool3d: index 99 .* output plane of size 4x4x4"):
        F.max_unpool3d(x, nl.full((1, 1, 2, 2, 2), 99, dtype=nl.int64), 2)
    with pytest.raises(ValueError, match="indices must be an integer tensor of the input's shape"):
        F.max_unpool3d(x, nl.zeros(1, 1, 2, 2, 3, dtype=nl.int64), 2)
    with pytest.raises(ValueError, match=re.escape("output_size (9, 4, 4) is invalid")):
        F.max_unpool3d(x, nl.zeros(1, 1, 2, 2, 2, dtype=nl.int64), 2, output_size=(9, 4, 4))
    with pytest.raises(ValueError, match="output_size must have 3 or 5 entries"):
        F.max_unpool3d(x, nl.zeros(1, 1, 2, 2, 2, dtype=nl.int64), 2, output_size=(4, 4))
    with pytest.raises(ValueError, match=r"expected a 4-D \(unbatched\) or 5-D \(batched\)"):
        F.max_unpool3d(nl.randn(1, 2, 2), nl.zeros(1, 2, 2, dtype=nl.int64), 2)


@pytest.mark.parametrize("size", [1, (2, 3, 4), (None, 2, 3), (3, 4, 2), (7, 6, 5)])
def test_adaptive_max_pool3d_with_indices_matches_torch(size):
    x = np.random.default_rng(11).standard_normal((2, 3, 7, 6, 5))
    compare(
        lambda t: F.adaptive_max_pool3d_with_indices(t, size),
        lambda t: TF.adaptive_max_pool3d_with_indices(t, size),
        [x],
    )
    ours, theirs = nn.AdaptiveMaxPool3d(size, True), torch.nn.AdaptiveMaxPool3d(size, True)
    compare(ours, theirs, [x[0]])  # unbatched, through the layer


def test_adaptive_max_pool_indices_follow_torchs_nan_rule():
    x = np.random.default_rng(12).standard_normal((1, 1, 4, 4, 4)).astype(np.float32)
    x[0, 0, 0, 0, 1] = x[0, 0, 1, 1, 0] = np.nan
    for nd in (2, 3):
        data = x[0] if nd == 2 else x
        ours = getattr(F, f"adaptive_max_pool{nd}d")(nl.tensor(data), 2, return_indices=True)
        theirs = getattr(TF, f"adaptive_max_pool{nd}d")(torch.tensor(data), 2, return_indices=True)
        np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
        np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())


# ----------------------------------------------------------------------------- CrossMapLRN2d


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [1, 2, 3, 5, 6])
def test_cross_map_lrn2d_is_local_response_norm(size, dtype):
    x = np.random.default_rng(13).standard_normal((2, 9, 3, 4))
    layer = nn.CrossMapLRN2d(size, alpha=0.1, beta=0.75, k=2)
    compare(layer, lambda t: TF.local_response_norm(t, size, 0.1, 0.75, 2), [x], dtype)


@pytest.mark.parametrize("size, channels", [(3, 2), (5, 3), (7, 4)])
def test_cross_map_lrn2d_matches_torchs_values_where_its_loop_is_right(size, channels):
    # torch's CrossMapLRN2d keeps channel 0 in every later window and shifts its backward by
    # one channel (docs/porting.md); with at most (size + 1) // 2 channels its loop never does
    x = np.random.default_rng(14).standard_normal((2, channels, 3, 4)).astype(np.float32)
    ours = nn.CrossMapLRN2d(size, alpha=0.5)(nl.tensor(x))
    theirs = torch.nn.CrossMapLRN2d(size, alpha=0.5)(torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)


def test_cross_map_lrn2d_layer_is_torchs():
    ours, theirs = nn.CrossMapLRN2d(3), torch.nn.CrossMapLRN2d(3)
    assert repr(ours) == repr(theirs) == "CrossMapLRN2d(3, alpha=0.0001, beta=0.75, k=1)"
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    for shape in [(2, 3, 4), (1, 2, 3, 4, 4)]:
        message = f"CrossMapLRN2d: Expected input to be 4D, got {len(shape)}D instead."
        with pytest.raises(ValueError, match=re.escape(message)):
            ours(nl.randn(*shape))
        with pytest.raises(ValueError, match=re.escape(message)):
            theirs(torch.randn(*shape))


# ----------------------------------------------------------------------------- adaptive softmax


def _adaptive_pair(*args, **kwargs):
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(*args, **kwargs)
    ours = nn.AdaptiveLogSoftmaxWithLoss(*args, **kwargs)
    ours.load_state_dict({k: nl.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


@EMPTY_TAIL
@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((16, 20, [4, 10, 15]), dict(div_value=2.0)),
        ((16, 20, [4, 10, 15]), dict(div_value=2.0, head_bias=True)),
        ((8, 10, (3,)), {}),
        ((4, 10, [2, 5]), {}),  # the last tail's hidden size is 4 // 16 = 0
    ],
)
def test_adaptive_log_softmax_matches_torch(args, kwargs):
    torch.manual_seed(0)
    ours, theirs = _adaptive_pair(*args, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(15)
    n_classes = args[1]
    x = rng.standard_normal((12, args[0])).astype(np.float32)
    y = np.concatenate([np.arange(n_classes), rng.integers(0, n_classes, 12)])[:12]
    tx, nx = torch.tensor(x, requires_grad=True), nl.tensor(x, requires_grad=True)
    t_out, out = theirs(tx, torch.tensor(y)), ours(nx, nl.tensor(y))
    assert type(out).__name__ == "_ASMoutput" and out._fields == ("output", "loss")
    np.testing.assert_allclose(out.output.numpy(), t_out.output.detach().numpy(), 1e-5, 1e-6)
    np.testing.assert_allclose(out.loss.item(), t_out.loss.item(), 1e-6)
    (t_out.loss + t_out.output[3]).backward()
    (out.loss + out.output[3]).backward()
    np.testing.assert_allclose(nx.grad.numpy(), tx.grad.numpy(), 1e-5, 1e-7)
    for (name, p), t_p in zip(ours.named_parameters(), theirs.parameters()):
        if t_p.grad is None:  # a cluster no target falls in
            assert p.grad is None, name
            continue
        np.testing.assert_allclose(p.grad.numpy(), t_p.grad.numpy(), 1e-5, 1e-7, err_msg=name)
    log_prob, t_log_prob = ours.log_prob(nl.tensor(x)), theirs.log_prob(torch.tensor(x))
    np.testing.assert_allclose(log_prob.numpy(), t_log_prob.detach().numpy(), 1e-5, 1e-6)
    np.testing.assert_array_equal(
        ours.predict(nl.tensor(x)).numpy(), theirs.predict(torch.tensor(x)).numpy()
    )


def test_adaptive_log_softmax_predicts_like_its_full_distribution():
    torch.manual_seed(1)
    ours, _ = _adaptive_pair(6, 30, [2, 12], div_value=1.0, head_bias=True)
    with nl.no_grad():
        ours.head.bias[2:] = 5.0  # every row's head argmax is a cluster
        x = nl.randn(7, 6)
        np.testing.assert_array_equal(
            ours.predict(x).numpy(), ours.log_prob(x).argmax(dim=1).numpy()
        )
        ours.head.bias[2] = -5.0  # some rows in the shortlist, some in the second cluster
        ours.head.bias[0] = 4.0
        np.testing.assert_array_equal(
            ours.predict(x).numpy(), ours.log_prob(x).argmax(dim=1).numpy()
        )
    assert ours.predict(x).dtype == np.int64


@EMPTY_TAIL
def test_adaptive_log_softmax_takes_one_unbatched_example():
    torch.manual_seed(2)
    ours, theirs = _adaptive_pair(5, 9, [3, 6])
    x = np.random.default_rng(16).standard_normal(5).astype(np.float32)
    for target in (1, 7):
        out = ours(nl.tensor(x), nl.tensor(target))
        t_out = theirs(torch.tensor(x), torch.tensor(target))
        assert out.output.shape == tuple(t_out.output.shape) == ()
        np.testing.assert_allclose(out.output.item(), t_out.output.item(), 1e-6)
        np.testing.assert_allclose(out.loss.item(), t_out.loss.item(), 1e-6)


def test_adaptive_log_softmax_keeps_float64_and_reinitializes():
    layer = nn.AdaptiveLogSoftmaxWithLoss(6, 8, [4], dtype=nl.float64)
    assert {p.dtype for p in layer.parameters()} == {np.dtype(np.float64)}
    before = layer.tail[0][0].weight.numpy().copy()
    layer.reset_parameters()
    assert not np.array_equal(before, layer.tail[0][0].weight.numpy())
    out = layer(nl.randn(3, 6, dtype=nl.float64), nl.tensor([0, 5, 7]))
    assert out.output.dtype == out.loss.dtype == np.float64
    assert nn.AdaptiveLogSoftmaxWithLoss(6, 8, [4]).head.weight.dtype == np.float32


def test_adaptive_log_softmax_errors_match_torchs():
    bad_cutoffs = [([], "cutoffs should be a sequence of length larger than 0"),
                   ([5, 3], "cutoffs should be a sequence of unique, positive integers"),
                   ([0, 3], "cutoffs should be a sequence of unique, positive integers"),
                   ([3, 10], "between 1 and n_classes-1"),
                   ([3, 3], "unique"),
                   ([2.5], "unique, positive integers")]  # fmt: skip
    for cutoffs, message in bad_cutoffs:
        for lib in (nn, torch.nn):
            with pytest.raises(ValueError, match=message):
                lib.AdaptiveLogSoftmaxWithLoss(4, 10, cutoffs)
    ours, theirs = _adaptive_pair(4, 10, [3])
    cases = [
        ((3, 4), [1, 2], "Input and target should have the same size in the batch dimension"),
        ((2, 2, 4), [1, 2], "1D target tensor expects 2D input tensors"),
        ((2, 4), 1, "0D target tensor expects 1D input tensors"),
        ((2, 4), [[1], [2]], "0D or 1D target tensor expected, multi-target not supported"),
        ((2, 4), [1, 10], re.escape("Target values should be in [0, 9], but values in range [1, 10]")),
        ((2, 4), [-1, 3], re.escape("Target values should be in [0, 9], but values in range [-1, 3]")),
    ]  # fmt: skip
    for shape, target, message in cases:
        with pytest.raises(RuntimeError, match=message):
            ours(nl.randn(*shape), nl.tensor(target))
        with pytest.raises(RuntimeError, match=message):
            theirs(torch.randn(*shape), torch.tensor(target))


# ----------------------------------------------------------------------------- SparseAdam


def _same(ours, theirs):
    """Equal in float64; in float32 within an ulp or so: torch's vectorized float32 sqrt is not
    correctly rounded (1 ulp off NumPy's on about one value in six)."""
    if ours.dtype == np.float64:
        np.testing.assert_array_equal(ours, theirs)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def _sparse_rows(dense):
    """torch's sparse gradient of the rows of ``dense`` that are not all zero."""
    rows = np.flatnonzero((dense.reshape(len(dense), -1) != 0).any(axis=1))
    return torch.sparse_coo_tensor(rows[None], torch.tensor(dense[rows]), dense.shape)


@pytest.mark.filterwarnings("ignore:Sparse invariant checks are implicitly disabled")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", [{}, dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, maximize=True)])
def test_sparse_adam_matches_torch_on_the_rows_a_gradient_touches(options, dtype):
    rng = np.random.default_rng(17)
    w = rng.standard_normal((8, 3)).astype(dtype)
    bias = rng.standard_normal(5).astype(dtype)
    ours_p = [nn.Parameter(_ours(w)), nn.Parameter(_ours(bias))]
    theirs_p = [torch.nn.Parameter(torch.tensor(w)), torch.nn.Parameter(torch.tensor(bias))]
    ours, theirs = (
        nl.optim.SparseAdam(ours_p, **options),
        torch.optim.SparseAdam(theirs_p, **options),
    )
    for step in range(8):
        grads = [rng.standard_normal(w.shape).astype(dtype), rng.standard_normal(5).astype(dtype)]
        grads[0][rng.random(8) < 0.5] = 0  # rows this step does not touch
        grads[1][rng.random(5) < 0.3] = 0
        if step == 3:
            grads[0][:] = 0  # a step that touches nothing still counts
        for p, t_p, g in zip(ours_p, theirs_p, grads):
            p.grad = _ours(g)
            t_p.grad = _sparse_rows(g)
        ours.step()
        theirs.step()
        for p, t_p in zip(ours_p, theirs_p):
            _same(p.detach().numpy(), t_p.detach().numpy())
    state, t_state = ours.state_dict(), theirs.state_dict()
    assert state["param_groups"] == [
        {k: (tuple(v) if k == "betas" else v) for k, v in g.items()}
        for g in t_state["param_groups"]
    ]
    for i in (0, 1):
        assert state["state"][i].keys() == t_state["state"][i].keys()
        assert state["state"][i]["step"] == t_state["state"][i]["step"] == 8
        for name in ("exp_avg", "exp_avg_sq"):
            _same(state["state"][i][name].numpy(), t_state["state"][i][name].numpy())


def test_sparse_adam_trains_a_sparse_embedding_as_torch():
    rng = np.random.default_rng(18)
    w = rng.standard_normal((10, 4)).astype(np.float32)
    theirs = torch.nn.Embedding(10, 4, sparse=True)
    ours = nn.Embedding(10, 4, sparse=True)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w))
    ours.load_state_dict({"weight": nl.tensor(w)})
    t_opt = torch.optim.SparseAdam(theirs.parameters(), lr=0.01)
    opt = nl.optim.SparseAdam(ours.parameters(), lr=0.01)
    for _ in range(6):
        ids, target = rng.integers(0, 10, (3, 2)), rng.standard_normal((3, 2, 4))
        target = target.astype(np.float32)
        t_opt.zero_grad()
        opt.zero_grad()
        ((theirs(torch.tensor(ids)) - torch.tensor(target)) ** 2).sum().backward()
        ((ours(nl.tensor(ids)) - nl.tensor(target)) ** 2).sum().backward()
        t_opt.step()
        opt.step()
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), 1e-6)


def test_sparse_adam_leaves_rows_with_a_zero_gradient_alone():
    p = nn.Parameter(nl.ones(4, 2))
    opt = nl.optim.SparseAdam([p], lr=0.1)
    p.grad = nl.tensor([[1.0, 1.0], [0.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    opt.step()
    moved = (p.detach().numpy() != 1).any(axis=1)
    np.testing.assert_array_equal(moved, [True, False, True, False])
    np.testing.assert_array_equal(opt.state[p]["exp_avg"].numpy()[[1, 3]], 0)
    scalar = nn.Parameter(nl.tensor(1.0))  # a 0-d parameter is one row
    opt = nl.optim.SparseAdam([scalar], lr=0.1)
    scalar.grad = nl.tensor(0.5)
    opt.step()
    np.testing.assert_allclose(scalar.item(), 0.9, 1e-6)
    assert scalar.dtype == np.float32


def test_sparse_adam_checks_its_options_as_torch():
    params = [nn.Parameter(nl.ones(2))]
    cases = [
        (dict(lr=0.0), "Invalid learning rate: 0.0"),
        (dict(lr=-1), "Invalid learning rate: -1"),
        (dict(eps=0.0), "Invalid epsilon value: 0.0"),
        (dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
        (dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    ]
    for options, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            nl.optim.SparseAdam(params, **options)
        with pytest.raises(ValueError, match=re.escape(message)):
            torch.optim.SparseAdam([torch.nn.Parameter(torch.ones(2))], **options)


def test_new_names_are_where_torch_has_them():
    import neuralab.nn.modules as modules

    for name in ("FractionalMaxPool2d", "FractionalMaxPool3d", "LPPool3d", "MaxUnpool3d"):
        assert getattr(nn, name) is getattr(modules.pooling, name)
    assert nn.CrossMapLRN2d is modules.normalization.CrossMapLRN2d
    assert nn.AdaptiveLogSoftmaxWithLoss is modules.adaptive.AdaptiveLogSoftmaxWithLoss
    for name in (
        "fractional_max_pool2d", "fractional_max_pool2d_with_indices", "fractional_max_pool3d",
        "fractional_max_pool3d_with_indices", "lp_pool3d", "max_unpool3d",
        "max_pool3d_with_indices", "adaptive_max_pool3d_with_indices",
    ):  # fmt: skip
        assert name in F.__all__ and callable(getattr(F, name))
    assert "SparseAdam" in nl.optim.__all__


def test_the_new_ops_pass_gradcheck():
    rng = np.random.default_rng(19)

    def t(*shape):
        return nl.tensor(rng.standard_normal(shape), dtype=nl.float64, requires_grad=True)

    samples2 = nl.tensor(rng.random((1, 2, 2)), dtype=nl.float64)
    samples3 = nl.tensor(rng.random((1, 2, 3)), dtype=nl.float64)
    indices = F.max_pool3d(nl.randn(1, 2, 4, 4, 4), 2, return_indices=True)[1]
    checks = [
        (lambda x: F.fractional_max_pool2d(x, 2, 3, _random_samples=samples2), t(1, 2, 6, 5)),
        (lambda x: F.fractional_max_pool3d(x, 2, 3, _random_samples=samples3), t(1, 2, 5, 4, 5)),
        (lambda x: F.max_pool3d(x, 3, 2, 1), t(1, 2, 5, 4, 5)),
        (lambda x: F.adaptive_max_pool3d(x, (2, 3, 2)), t(1, 2, 5, 4, 5)),
        (lambda x: F.max_unpool3d(x, indices, 2), t(1, 2, 2, 2, 2)),
        (lambda x: F.lp_pool3d(x.abs() + 0.5, 3, 2), t(1, 2, 4, 4, 4)),  # p-th roots of > 0
        (nn.CrossMapLRN2d(3, alpha=0.5), t(2, 4, 3, 3)),
    ]
    for fn, x in checks:
        assert nl.gradcheck(fn, [x])
