"""Layer constructors, the layers added for torch parity, nn.init, nn.utils and
nn.utils.rnn (padding, packing, RNNs over PackedSequence), all checked against torch."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.utils.rnn as trnn

import neuralab as nl
import neuralab.nn as nn
import neuralab.nn.utils.rnn as rnn
from neuralab.nn import init

RNG = np.random.default_rng(0)


def copy_weights(ours: nn.Module, theirs: tnn.Module) -> None:
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def check_layer(ours, theirs, *inputs, tol=1e-5, copy=True):
    """Same outputs and same gradients (inputs and parameters) as torch's layer."""
    if copy:
        copy_weights(ours, theirs)
    xo = [nl.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    xt = [torch.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    yo, yt = ours(*xo), theirs(*xt)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    g = RNG.standard_normal(tuple(yt.shape)).astype(np.float32)
    (yo * nl.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    for a, b in zip(xo, xt):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=tol)
    for name, p in theirs.named_parameters():
        got = ours.get_parameter(name).grad.numpy()
        np.testing.assert_allclose(got, p.grad.numpy(), rtol=tol, atol=tol, err_msg=name)


# ----------------------------------------------------------------------------- signatures

SAME_SIGNATURE = [
    "Linear", "Bilinear", "Identity", "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d",
    "Embedding", "EmbeddingBag", "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention",
    "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
    "TransformerDecoder", "Transformer", "Flatten", "Unflatten", "MaxPool1d", "MaxPool2d",
    "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "MaxUnpool2d", "Upsample", "UpsamplingNearest2d",
    "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle", "ZeroPad1d", "ZeroPad2d",
    "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d",
    "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d", "ParameterList", "ParameterDict", "ModuleList", "ModuleDict",
    "DataParallel",
]  # fmt: skip


def _params(fn):
    """(name, default) of each parameter but self; callables as defaults are compared by name."""
    out = []
    for p in inspect.signature(fn).parameters.values():
        if p.name == "self":
            continue
        default = p.default
        if callable(default) and default is not inspect.Parameter.empty:
            default = default.__name__  # torch's activation=F.relu is our "relu"
        out.append((p.name, p.kind, default))
    return out


@pytest.mark.parametrize("name", SAME_SIGNATURE)
def test_constructor_signatures_match_torch(name):
    assert _params(getattr(nn, name).__init__) == _params(getattr(tnn, name).__init__)


@pytest.mark.parametrize(
    "fn",
    ["Embedding.from_pretrained", "EmbeddingBag.from_pretrained", "EmbeddingBag.forward",
     "ConvTranspose2d.forward", "MultiheadAttention.forward", "LSTM.forward"],
)  # fmt: skip
def test_method_signatures_match_torch(fn):
    cls, method = fn.split(".")
    ours, theirs = getattr(getattr(nn, cls), method), getattr(getattr(tnn, cls), method)
    assert [p[0] for p in _params(ours)] == [p[0] for p in _params(theirs)]


def test_recurrent_signatures_follow_torchs_documented_order():
    common = ["input_size", "hidden_size", "num_layers"]
    rest = ["bias", "batch_first", "dropout", "bidirectional"]
    assert [p[0] for p in _params(nn.RNN)] == common + ["nonlinearity"] + rest + ["device", "dtype"]
    assert [p[0] for p in _params(nn.LSTM)] == common + rest + ["proj_size", "device", "dtype"]
    assert [p[0] for p in _params(nn.GRU)] == common + rest + ["device", "dtype"]


@pytest.mark.parametrize(
    "module",
    [
        "nn.init.uniform_", "nn.init.normal_", "nn.init.trunc_normal_", "nn.init.constant_",
        "nn.init.ones_", "nn.init.zeros_", "nn.init.eye_", "nn.init.dirac_",
        "nn.init.xavier_uniform_", "nn.init.xavier_normal_", "nn.init.kaiming_uniform_",
        "nn.init.kaiming_normal_", "nn.init.orthogonal_", "nn.init.sparse_",
        "nn.init.calculate_gain", "nn.utils.clip_grad_norm_", "nn.utils.clip_grad_value_",
        "nn.utils.parameters_to_vector", "nn.utils.vector_to_parameters",
        "nn.utils.rnn.pad_sequence", "nn.utils.rnn.pack_padded_sequence",
        "nn.utils.rnn.pad_packed_sequence", "nn.utils.rnn.pack_sequence",
        "nn.utils.rnn.unpad_sequence", "nn.utils.rnn.unpack_sequence",
    ],
)  # fmt: skip
def test_function_signatures_match_torch(module):
    path = module.split(".")[1:]
    ours, theirs = nn, tnn
    for part in path:
        ours, theirs = getattr(ours, part), getattr(theirs, part)
    assert [(n, d) for n, _, d in _params(ours)] == [(n, d) for n, _, d in _params(theirs)]


# ----------------------------------------------------------------------------- device / dtype

FACTORIES = [
    lambda **kw: nn.Linear(2, 3, **kw),
    lambda **kw: nn.Bilinear(2, 3, 4, **kw),
    lambda **kw: nn.Conv2d(1, 2, 3, **kw),
    lambda **kw: nn.ConvTranspose1d(1, 2, 3, **kw),
    lambda **kw: nn.Embedding(5, 2, **kw),
    lambda **kw: nn.EmbeddingBag(5, 2, **kw),
    lambda **kw: nn.LSTM(2, 3, **kw),
    lambda **kw: nn.GRUCell(2, 3, **kw),
    lambda **kw: nn.MultiheadAttention(4, 2, **kw),
    lambda **kw: nn.TransformerEncoderLayer(4, 2, 8, **kw),
    lambda **kw: nn.Transformer(4, 2, 1, 1, 8, **kw),
]


@pytest.mark.parametrize("make", FACTORIES)
def test_device_and_dtype_keywords(make):
    layer = make(device="cpu", dtype=nl.float64)
    assert all(p.dtype == nl.float64 for p in layer.parameters())
    make(device=nl.device("cpu"))
    with pytest.raises(RuntimeError, match="CPU only"):
        make(device="cuda")
    with pytest.raises(TypeError, match="floating-point"):
        make(dtype=nl.int64)


def test_unsupported_arguments_raise_naming_them():
    with pytest.raises(ValueError, match="padding_mode='circular' is not supported"):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="circular")
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(NotImplementedError, match="antialias=True is not supported"):
        nn.functional.interpolate(
            nl.zeros(1, 1, 4, 4), scale_factor=2, mode="bilinear", antialias=True
        )
    with pytest.raises(ValueError, match="divisor_override"):
        nn.AvgPool2d(2, ceil_mode=True, divisor_override=3)


# ----------------------------------------------------------------------------- layers vs torch


def test_linear_bilinear_and_convolutions_match_torch():
    torch.manual_seed(0)
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    check_layer(nn.Linear(4, 2, bias=False), tnn.Linear(4, 2, bias=False), x)
    x2 = RNG.standard_normal((3, 5)).astype(np.float32)
    check_layer(nn.Bilinear(4, 5, 2), tnn.Bilinear(4, 5, 2), x, x2)
    img = RNG.standard_normal((2, 4, 7, 6)).astype(np.float32)
    for kw in (dict(padding="same", dilation=2, groups=2), dict(stride=2, padding=(1, 0)),
               dict(padding="valid", padding_mode="reflect"),
               dict(padding=(2, 1), padding_mode="circular")):  # fmt: skip
        check_layer(nn.Conv2d(4, 6, 3, **kw), tnn.Conv2d(4, 6, 3, **kw), img, tol=1e-4)
    seq = RNG.standard_normal((2, 4, 9)).astype(np.float32)
    kw = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=2)
    check_layer(nn.ConvTranspose1d(4, 6, 3, **kw), tnn.ConvTranspose1d(4, 6, 3, **kw), seq)
    check_layer(nn.ConvTranspose1d(4, 2, 3), tnn.ConvTranspose1d(4, 2, 3), seq[0])  # unbatched


def test_conv_transpose_output_size_picks_torchs_output_padding():
    torch.manual_seed(0)
    ours, theirs = nn.ConvTranspose1d(2, 3, 3, stride=3), tnn.ConvTranspose1d(2, 3, 3, stride=3)
    copy_weights(ours, theirs)
    x = RNG.standard_normal((1, 2, 4)).astype(np.float32)
    for size in ([12], [14], [1, 3, 13]):
        got = ours(nl.tensor(x), output_size=size)
        want = theirs(torch.tensor(x), output_size=size)
        np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="valid sizes range"):
        ours(nl.tensor(x), output_size=[20])


def test_embedding_options_match_torch():
    torch.manual_seed(0)
    ids = np.array([[0, 2, 2], [4, 1, 0]])
    check_layer(nn.Embedding(5, 3, padding_idx=0), tnn.Embedding(5, 3, padding_idx=0), ids)
    ours, theirs = nn.Embedding(5, 3, max_norm=0.5), tnn.Embedding(5, 3, max_norm=0.5)
    check_layer(ours, theirs, ids)  # rows renormalized in place, then looked up
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-6)
    table = nl.randn(4, 2)
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and frozen.weight.data[0, 0].item() == table[0, 0].item()
    table.numpy()[0, 0] = 42.0
    assert frozen.weight[0, 0].item() == 42.0  # shares the given table, like torch
    assert nn.Embedding.from_pretrained(table, freeze=False, padding_idx=1).weight.requires_grad
    sparse = nn.Embedding(5, 3, sparse=True)  # accepted; gradients are dense
    sparse(nl.tensor([1, 2])).sum().backward()
    assert sparse.weight.grad.shape == (5, 3)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_matches_torch(mode, padding_idx):
    torch.manual_seed(0)
    ours = nn.EmbeddingBag(6, 3, mode=mode, padding_idx=padding_idx)
    theirs = tnn.EmbeddingBag(6, 3, mode=mode, padding_idx=padding_idx)
    ids, offsets = np.array([1, 2, 4, 5, 4, 3, 2, 2]), np.array([0, 2, 2, 5])  # one empty bag
    check_layer(ours, theirs, ids, offsets)
    check_layer(ours, theirs, np.array([[1, 2, 2], [3, 4, 5]]), copy=False)
    last = tnn.EmbeddingBag(6, 3, mode=mode, padding_idx=padding_idx, include_last_offset=True)
    ours_last = nn.EmbeddingBag(6, 3, mode=mode, padding_idx=padding_idx, include_last_offset=True)
    check_layer(ours_last, last, ids, np.array([0, 3, 8]))


def test_embedding_bag_per_sample_weights_match_torch():
    torch.manual_seed(0)
    ours, theirs = nn.EmbeddingBag(6, 3, mode="sum"), tnn.EmbeddingBag(6, 3, mode="sum")
    copy_weights(ours, theirs)
    ids, offsets = np.array([1, 2, 4, 5, 0]), np.array([0, 3])
    w = RNG.standard_normal(5).astype(np.float32)
    wo, wt = nl.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    yo = ours(nl.tensor(ids), nl.tensor(offsets), per_sample_weights=wo)
    yt = theirs(torch.tensor(ids), torch.tensor(offsets), per_sample_weights=wt)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-5)
    yo.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(wo.grad.numpy(), wt.grad.numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="only supported for mode='sum'"):
        nn.EmbeddingBag(6, 3)(nl.tensor(ids), nl.tensor(offsets), per_sample_weights=wo)


POOL_CASES = [
    ("AdaptiveMaxPool2d", ((3, 2), True), (2, 3, 7, 5)),
    ("AdaptiveMaxPool2d", ((None, 2),), (2, 3, 7, 5)),
    ("AdaptiveMaxPool2d", (1,), (3, 4, 5)),
    ("AdaptiveMaxPool1d", (4, True), (2, 3, 10)),
    ("AdaptiveAvgPool1d", (4,), (2, 3, 10)),
    ("AdaptiveAvgPool1d", (3,), (3, 10)),
    ("AvgPool2d", (3, 2, 1, False, True, 4), (2, 3, 7, 5)),
    ("AvgPool1d", (3, 2, 1, True, False), (2, 3, 10)),
    ("PixelShuffle", (2,), (2, 8, 3, 4)),
    ("PixelUnshuffle", (2,), (2, 3, 4, 6)),
    ("Upsample", (None, 2.0), (2, 3, 5)),
    ("Upsample", (7, None, "linear"), (2, 3, 5)),
    ("Upsample", (None, 3.0, "linear", True), (2, 3, 5)),
    ("UpsamplingBilinear2d", (None, 2), (1, 2, 3, 4)),
    ("UpsamplingNearest2d", ((5, 7),), (1, 2, 3, 4)),
    ("ZeroPad2d", ((1, 0, 2, 1),), (2, 3, 4, 5)),
    ("ConstantPad1d", ((1, 2), 3.5), (2, 3, 4)),
    ("ConstantPad3d", (1, -1.0), (1, 2, 3, 4, 5)),
    ("ReflectionPad1d", (2,), (2, 3, 5)),
    ("ReflectionPad2d", ((1, 2, 0, 1),), (2, 3, 4, 5)),
    ("ReflectionPad3d", (1,), (1, 2, 3, 4, 5)),
    ("ReplicationPad1d", (3,), (2, 3, 5)),
    ("ReplicationPad2d", (2,), (2, 3, 4, 5)),
    ("ReplicationPad3d", (1,), (1, 2, 3, 4, 5)),
    ("CircularPad1d", (2,), (2, 3, 5)),
    ("CircularPad2d", ((1, 2, 0, 1),), (2, 3, 4, 5)),
    ("CircularPad3d", (1,), (1, 2, 3, 4, 5)),
]


@pytest.mark.parametrize(("name", "args", "shape"), POOL_CASES)
def test_pooling_padding_and_resampling_layers_match_torch(name, args, shape):
    ours, theirs = getattr(nn, name)(*args), getattr(tnn, name)(*args)
    assert repr(ours) == repr(theirs)
    x = RNG.standard_normal(shape).astype(np.float32)
    xo, xt = nl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    if isinstance(yt, tuple):
        np.testing.assert_array_equal(yo[1].numpy(), yt[1].numpy())  # argmax positions
        yo, yt = yo[0], yt[0]
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = RNG.standard_normal(tuple(yt.shape)).astype(np.float32)
    (yo * nl.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_identity_ignores_its_arguments():
    x = nl.randn(2, 3)
    assert nn.Identity(54, unused="argument")(x) is x


# ----------------------------------------------------------------------------- nn.init


def test_calculate_gain_matches_torch():
    for name in ("linear", "conv2d", "sigmoid", "tanh", "relu", "selu", "leaky_relu"):
        assert init.calculate_gain(name) == pytest.approx(tnn.init.calculate_gain(name))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(
        tnn.init.calculate_gain("leaky_relu", 0.2)
    )
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


def _draw(fn, shape, *args, **kwargs):
    nl.manual_seed(0)
    t = nl.zeros(*shape, requires_grad=True)  # initializers work on parameters under no_grad
    assert fn(t, *args, **kwargs) is t
    return t.numpy().astype(np.float64)


def test_random_initializers_have_torchs_moments():
    shape = (400, 500)  # 200k samples: sample std within ~0.3% of the true one
    fan_in, fan_out = 500, 400
    cases = [
        (init.uniform_, (-2.0, 4.0), {}, 1.0, math.sqrt(36 / 12)),
        (init.normal_, (0.5, 2.0), {}, 0.5, 2.0),
        (init.xavier_uniform_, (), {"gain": 2.0}, 0.0, 2 * math.sqrt(2 / (fan_in + fan_out))),
        (init.xavier_normal_, (), {}, 0.0, math.sqrt(2 / (fan_in + fan_out))),
        (init.kaiming_uniform_, (), {"mode": "fan_out", "nonlinearity": "relu"}, 0.0,
         math.sqrt(2 / fan_out)),
        (init.kaiming_normal_, (0.1,), {}, 0.0, math.sqrt(2 / (1 + 0.01)) / math.sqrt(fan_in)),
    ]  # fmt: skip
    for fn, args, kwargs, mean, std in cases:
        values = _draw(fn, shape, *args, **kwargs)
        assert abs(values.mean() - mean) < 0.01 * std + 1e-9, fn.__name__
        assert values.std() == pytest.approx(std, rel=0.01), fn.__name__


def test_trunc_normal_stays_in_bounds_with_the_truncated_moments():
    values = _draw(init.trunc_normal_, (200, 1000), mean=1.0, std=2.0, a=0.0, b=3.0)
    assert values.min() >= 0.0 and values.max() <= 3.0
    # N(1, 2²) truncated to [0, 3]: α = -0.5, β = 1 in standard units
    alpha, beta = -0.5, 1.0
    pdf = [math.exp(-z * z / 2) / math.sqrt(2 * math.pi) for z in (alpha, beta)]
    mass = (math.erf(beta / math.sqrt(2)) - math.erf(alpha / math.sqrt(2))) / 2
    shift = (pdf[0] - pdf[1]) / mass
    var = 4 * (1 + (alpha * pdf[0] - beta * pdf[1]) / mass - shift**2)
    assert values.mean() == pytest.approx(1.0 + 2 * shift, abs=0.01)
    assert values.std() == pytest.approx(math.sqrt(var), rel=0.01)


def test_deterministic_initializers_match_torch():
    for shape, groups in (((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 2, 1, 3, 3), 1)):
        ours, theirs = nl.zeros(*shape), torch.zeros(*shape)
        init.dirac_(ours, groups)
        tnn.init.dirac_(theirs, groups)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    for shape in ((3, 5), (5, 3)):
        ours, theirs = nl.zeros(*shape), torch.zeros(*shape)
        np.testing.assert_array_equal(init.eye_(ours).numpy(), tnn.init.eye_(theirs).numpy())
    t = nl.zeros(2, 3)
    assert np.all(init.constant_(t, 0.25).numpy() == 0.25) and np.all(init.ones_(t).numpy() == 1)
    assert np.all(init.zeros_(t).numpy() == 0)
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(nl.zeros(2, 2, 2))
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(nl.zeros(3, 2, 3), groups=2)


def test_orthogonal_sparse_and_generators():
    for shape in ((3, 5), (6, 2, 2)):
        q = _draw(init.orthogonal_, shape, gain=2.0).reshape(shape[0], -1)
        small = q @ q.T if q.shape[0] <= q.shape[1] else q.T @ q
        np.testing.assert_allclose(small, 4 * np.eye(len(small)), atol=1e-5)
    values = _draw(init.sparse_, (10, 40), 0.3)
    assert np.all((values == 0).sum(axis=0) == 3)  # ceil(0.3 · 10) zeros in every column
    a, b = nl.zeros(3, 4), nl.zeros(3, 4)
    init.kaiming_uniform_(a, generator=np.random.default_rng(5))
    init.kaiming_uniform_(b, generator=np.random.default_rng(5))
    assert np.array_equal(a.numpy(), b.numpy())
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_normal_(nl.zeros(0, 3))


# ----------------------------------------------------------------------------- nn.utils


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_matches_torch(norm_type):
    grads = [RNG.standard_normal(s).astype(np.float32) for s in ((3, 4), (5,))]
    ours = [nl.zeros(*g.shape, requires_grad=True) for g in grads]
    theirs = [torch.zeros(*g.shape, requires_grad=True) for g in grads]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = nl.tensor(g), torch.tensor(g)
    total_o = nn.utils.clip_grad_norm_(ours, 0.5, norm_type, foreach=True)
    total_t = tnn.utils.clip_grad_norm_(theirs, 0.5, norm_type)
    assert isinstance(total_o, nl.Tensor) and total_o.dtype == nl.float32
    assert total_o.item() == pytest.approx(total_t.item(), rel=1e-5)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5)


def test_clip_grad_errors_values_and_vectors():
    p = nl.zeros(3, requires_grad=True)
    p.grad = nl.tensor([1.0, float("inf"), -2.0])
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    nn.utils.clip_grad_value_([p], 1.5, foreach=None)
    assert p.grad.numpy().tolist() == [1.0, 1.5, -1.5]
    assert nn.utils.clip_grad_norm_([nl.zeros(2, requires_grad=True)], 1.0).item() == 0.0
    model = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (8,)
    nn.utils.vector_to_parameters(vec * 0 + 1, model.parameters())
    assert np.all(model.weight.numpy() == 1) and np.all(model.bias.numpy() == 1)


# ----------------------------------------------------------------------------- nn.utils.rnn


def _sequences(lengths, features=3, dtype=np.float32):
    return [RNG.standard_normal((n, features)).astype(dtype) for n in lengths]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, padding_side):
    seqs = _sequences([2, 5, 3])
    ours = rnn.pad_sequence([nl.tensor(s) for s in seqs], batch_first, -1.0, padding_side)
    theirs = trnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first, -1.0, padding_side)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_pack_and_pad_round_trip_like_torch_with_gradients():
    seqs = _sequences([2, 5, 3, 5])
    ours = [nl.tensor(s, requires_grad=True) for s in seqs]
    theirs = [torch.tensor(s, requires_grad=True) for s in seqs]
    po, pt = rnn.pack_sequence(ours, enforce_sorted=False), trnn.pack_sequence(theirs, False)
    np.testing.assert_array_equal(po.data.numpy(), pt.data.detach().numpy())
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        assert getattr(po, field).numpy().tolist() == getattr(pt, field).tolist(), field
    for batch_first in (False, True):
        out_o, len_o = rnn.pad_packed_sequence(po, batch_first, 9.0, total_length=7)
        out_t, len_t = trnn.pad_packed_sequence(pt, batch_first, 9.0, total_length=7)
        np.testing.assert_array_equal(out_o.numpy(), out_t.detach().numpy())
        assert len_o.numpy().tolist() == len_t.tolist() and len_o.dtype == nl.int64
    g = RNG.standard_normal(tuple(out_t.shape)).astype(np.float32)
    (out_o * nl.tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    assert [s.shape for s in rnn.unpack_sequence(po)] == [s.shape for s in seqs]
    padded = rnn.pad_sequence(ours, batch_first=True)
    assert [s.shape for s in rnn.unpad_sequence(padded, [2, 5, 3, 5], batch_first=True)] == [
        s.shape for s in seqs
    ]


def test_packing_errors_match_torch():
    padded = nl.zeros(4, 2, 3)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        rnn.pack_padded_sequence(padded, [2, 4])
    with pytest.raises(RuntimeError, match="greater than 0"):
        rnn.pack_padded_sequence(padded, [2, 0], enforce_sorted=False)
    packed = rnn.pack_padded_sequence(padded, nl.tensor([4, 2]))
    assert packed.sorted_indices is None and packed.batch_sizes.numpy().tolist() == [2, 2, 1, 1]
    with pytest.raises(ValueError, match="total_length"):
        rnn.pad_packed_sequence(packed, total_length=3)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(("layers", "bidirectional"), [(1, False), (2, True)])
def test_recurrent_layers_over_packed_sequences_match_torch(kind, layers, bidirectional):
    """Each sequence stops at its own length: outputs, last valid states and all gradients."""
    torch.manual_seed(0)
    theirs = getattr(tnn, kind)(3, 4, layers, bidirectional=bidirectional).double()
    ours = getattr(nn, kind)(3, 4, layers, bidirectional=bidirectional, dtype=nl.float64)
    copy_weights(ours, theirs)
    lengths, directions = [3, 5, 1, 4], 2 if bidirectional else 1
    x = RNG.standard_normal((5, 4, 3))
    h0 = RNG.standard_normal((layers * directions, 4, 4))
    xo, xt = nl.tensor(x, dtype=nl.float64, requires_grad=True), torch.tensor(x, requires_grad=True)
    ho, ht = nl.tensor(h0, dtype=nl.float64), torch.tensor(h0)
    if kind == "LSTM":
        ho, ht = (ho, ho * 0.5), (ht, ht * 0.5)
    yo, so = ours(rnn.pack_padded_sequence(xo, lengths, enforce_sorted=False), ho)
    yt, st = theirs(trnn.pack_padded_sequence(xt, lengths, enforce_sorted=False), ht)
    assert isinstance(yo, rnn.PackedSequence)
    out_o, _ = rnn.pad_packed_sequence(yo)
    out_t, _ = trnn.pad_packed_sequence(yt)
    so, st = (so, st) if kind == "LSTM" else ((so,), (st,))
    np.testing.assert_allclose(out_o.numpy(), out_t.detach().numpy(), atol=1e-12)
    for a, b in zip(so, st):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), atol=1e-12)
    weights = np.cos(np.arange(out_t.numel())).reshape(tuple(out_t.shape))
    loss_o = (out_o * nl.tensor(weights, dtype=nl.float64)).sum() + sum((s * s).sum() for s in so)
    loss_t = (out_t * torch.tensor(weights)).sum() + sum((s * s).sum() for s in st)
    loss_o.backward()
    loss_t.backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), atol=1e-12)
    for name, p in theirs.named_parameters():
        got = ours.get_parameter(name).grad.numpy()
        np.testing.assert_allclose(got, p.grad.numpy(), atol=1e-12, err_msg=name)


def test_sequence_classifier_training_step_matches_torch():
    """The tutorial pattern: Embedding → pack → LSTM → last hidden state → Linear, float32."""

    def build(lib):
        return lib.ModuleDict(
            {"emb": lib.Embedding(20, 6, padding_idx=0), "lstm": lib.LSTM(6, 5, batch_first=True),
             "head": lib.Linear(5, 3)}
        )  # fmt: skip

    def step(lib, utils, model, ids, lengths, labels):
        packed = utils.pack_padded_sequence(
            model["emb"](ids), lengths, batch_first=True, enforce_sorted=False
        )
        _, (h_n, _) = model["lstm"](packed)
        loss = lib.nn.functional.cross_entropy(model["head"](h_n[-1]), labels)
        loss.backward()
        return loss.item()

    torch.manual_seed(0)
    theirs, ours = build(tnn), build(nn)
    copy_weights(ours, theirs)
    lengths = [4, 2, 6, 1]
    ids = np.zeros((4, 6), np.int64)
    for row, n in enumerate(lengths):
        ids[row, :n] = RNG.integers(1, 20, n)
    labels = np.array([0, 2, 1, 2])
    loss_t = step(torch, trnn, theirs, torch.tensor(ids), torch.tensor(lengths),
                  torch.tensor(labels))  # fmt: skip
    loss_o = step(nl, rnn, ours, nl.tensor(ids), nl.tensor(lengths), nl.tensor(labels))
    assert loss_o == pytest.approx(loss_t, rel=1e-5)
    for name, p in theirs.named_parameters():
        got = ours.get_parameter(name).grad.numpy()
        np.testing.assert_allclose(got, p.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)
