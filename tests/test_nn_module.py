"""Module behaviour (registration, modes, state, repr, summary), containers, init and nn.utils."""

from __future__ import annotations

import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn as tnn

import neuralab as nl
import neuralab.nn as nn
from neuralab.nn import init
from neuralab.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)


def mlp() -> nn.Sequential:
    """The 2-8-8-1 network: (2·8+8) + (8·8+8) + (8·1+1) = 105 parameters."""
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))


def cnn(lib) -> object:
    """The same small CNN built from either library."""
    return lib.Sequential(
        lib.Conv2d(1, 4, 3, padding=1),
        lib.BatchNorm2d(4),
        lib.ReLU(),
        lib.MaxPool2d(2),
        lib.Flatten(),
        lib.Dropout(0.25),
        lib.Linear(4 * 2 * 2, 3),
    )


# ----------------------------------------------------------------------------- registration


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.scale = nn.Parameter(nl.ones(2))
        self.register_buffer("steps", nl.zeros(1))
        self.layers = nn.ModuleList([nn.Linear(2, 2), nn.Tanh()])
        self.heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 1)})
        self.note = "plain attribute"

    def forward(self, x):
        x = self.fc(x) * self.scale
        for layer in self.layers:
            x = layer(x)
        return self.heads["a"](x) + self.heads["b"](x)


def test_registration_of_parameters_buffers_and_submodules():
    block = Block()
    names = [n for n, _ in block.named_parameters()]
    assert names == [
        "scale", "fc.weight", "fc.bias", "layers.0.weight", "layers.0.bias",
        "heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias",
    ]  # fmt: skip
    assert [n for n, _ in block.named_buffers()] == ["steps"]
    assert [n for n, _ in block.named_children()] == ["fc", "layers", "heads"]
    assert block.note == "plain attribute" and "note" not in block.state_dict()
    assert block(nl.randn(4, 3)).shape == (4, 1)


def test_named_parameters_and_state_dict_keys_match_torch():
    ours, theirs = cnn(nn), cnn(tnn)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    shapes = {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert {k: v.shape for k, v in ours.state_dict().items()} == shapes


def test_train_eval_propagate_to_every_submodule():
    model = cnn(nn)
    assert all(m.training for m in model.modules())
    assert model.eval() is model and not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model[5].eval()
    assert model.training and not model[5].training


def test_zero_grad_clears_every_parameter_gradient():
    model = mlp()
    model(nl.randn(4, 2)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_state_dict_round_trip_restores_outputs():
    source, target = cnn(nn), cnn(nn)
    x = nl.randn(2, 1, 4, 4)
    source(x)  # one training step moves BatchNorm's running statistics
    source.eval()
    target.load_state_dict(source.state_dict())
    target.eval()
    np.testing.assert_array_equal(source(x).numpy(), target(x).numpy())
    assert int(target[1].num_batches_tracked.item()) == 1
    state = source.state_dict()
    state["6.bias"].data[0] = 123.0  # state_dict tensors share memory with the model
    assert source[6].bias.numpy()[0] == 123.0


def test_load_state_dict_strict_errors_name_the_keys():
    model = mlp()
    state = model.state_dict()
    missing = {k: v for k, v in state.items() if k != "2.bias"}
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "2.bias"'):
        model.load_state_dict(missing)
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "extra.weight"'):
        model.load_state_dict({**state, "extra.weight": nl.zeros(1)})
    with pytest.raises(RuntimeError, match=r"size mismatch for 0.weight: .* shape \(3, 2\) from"):
        model.load_state_dict({**state, "0.weight": nl.zeros(3, 2)})
    result = model.load_state_dict({**missing, "extra.weight": nl.zeros(1)}, strict=False)
    assert list(result[0]) == ["2.bias"] and list(result[1]) == ["extra.weight"]


def test_apply_visits_every_module():
    model = mlp()

    def reinit(m):
        if isinstance(m, nn.Linear):
            init.zeros_(m.weight)
            init.constant_(m.bias, 0.5)

    assert model.apply(reinit) is model
    for m in (model[0], model[2], model[4]):
        assert np.all(m.weight.numpy() == 0) and np.all(m.bias.numpy() == 0.5)
    visited = []
    model.apply(lambda m: visited.append(type(m).__name__))
    assert visited[-1] == "Sequential" and visited.count("Linear") == 3


def test_to_float64_converts_parameters_buffers_and_outputs():
    model = cnn(nn).to(nl.float64)
    assert all(p.dtype == nl.float64 for p in model.parameters())
    assert model[1].running_mean.dtype == nl.float64
    assert model[1].num_batches_tracked.dtype == nl.int64
    assert model(nl.randn(2, 1, 4, 4, dtype=nl.float64)).dtype == nl.float64
    assert model.float()(nl.randn(2, 1, 4, 4)).dtype == nl.float32


def test_requires_grad_false_freezes_parameters():
    model = mlp()
    model[0].requires_grad_(False)
    model(nl.randn(3, 2)).sum().backward()
    assert model[0].weight.grad is None and model[0].bias.grad is None
    assert model[2].weight.grad is not None
    assert model.num_parameters(trainable_only=True) == 105 - 24


def test_repr_matches_torch():
    def build(lib):
        return lib.Sequential(
            lib.Conv2d(3, 8, 3, stride=2, padding=1, bias=False),
            lib.Conv1d(4, 6, 3, stride=2, dilation=2, groups=2, padding_mode="replicate"),
            lib.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1),
            lib.BatchNorm2d(8, momentum=None),
            lib.BatchNorm1d(4, affine=False),
            lib.LayerNorm((4, 5), elementwise_affine=False),
            lib.ReLU(),
            lib.LeakyReLU(0.2),
            lib.GELU("tanh"),
            lib.Softmax(dim=1),
            lib.LogSoftmax(dim=-1),
            lib.Sigmoid(),
            lib.Tanh(),
            lib.MaxPool2d(3, 2, 1),
            lib.AvgPool2d(2),
            lib.AdaptiveAvgPool2d((1, 1)),
            lib.MaxUnpool2d(2),
            lib.Upsample(scale_factor=2, mode="bilinear"),
            lib.Upsample(size=(4, 4)),
            lib.Dropout(0.1),
            lib.Dropout2d(),
            lib.Embedding(10, 3, padding_idx=0),
            lib.Flatten(),
            lib.Unflatten(1, (2, 5)),
            lib.Identity(),
            lib.Sequential(OrderedDict(fc=lib.Linear(8, 2))),
            lib.ModuleList([lib.Linear(2, 2, bias=False)]),
            lib.CrossEntropyLoss(),
            lib.MSELoss(),
        )

    assert repr(build(nn)) == repr(build(tnn))


def test_neuron_and_positional_reprs():
    assert repr(nn.Neuron(3, "sigmoid")) == "Neuron(in_features=3, activation='sigmoid')"
    text = repr(nn.SinusoidalPositionalEncoding(8, 16, 0.1))
    assert "d_model=8, max_len=16" in text and "(dropout): Dropout(p=0.1, inplace=False)" in text


# ----------------------------------------------------------------------------- summary


def test_summary_of_a_small_mlp(capsys):
    model = mlp()
    result = model.summary((4, 2))
    printed = capsys.readouterr().out
    assert printed.strip() == result.text.strip()
    assert result.total_params == 105 and result.trainable_params == 105
    assert "Total params: 105" in result and isinstance(result, str)
    assert "Trainable params: 105" in result.text
    assert "Non-trainable params: 0" in result.text
    lines = result.text.splitlines()
    row = next(line for line in lines if line.startswith("2 (Linear)"))
    assert row.split()[-1] == "72" and "(4, 8)" in row
    assert next(line for line in lines if line.startswith("4 (Linear)")).split()[-1] == "9"
    assert sum(count or 0 for _, _, count in result.rows) == 105


def test_summary_counts_frozen_parameters_and_changes_no_state():
    model = cnn(nn)
    model[0].requires_grad_(False)
    bn = model[1]
    result = nn.summary(model, (2, 1, 4, 4), print_summary=False)
    assert result.total_params == 40 + 8 + 51
    assert result.non_trainable_params == 40
    assert "Non-trainable params: 40" in result.text
    assert int(bn.num_batches_tracked.item()) == 0 and np.all(bn.running_mean.numpy() == 0)
    assert all(m.training for m in model.modules())
    assert ("3 (MaxPool2d)", "(2, 4, 2, 2)", 0) in result.rows
    assert not model[0]._forward_hooks  # the tracing hooks are removed


def test_summary_with_integer_input_and_tuple_outputs():
    model = nn.Sequential(nn.Embedding(10, 4), nn.Flatten())
    result = nn.summary(model, (2, 3), dtype=nl.int64, print_summary=False)
    assert ("1 (Flatten)", "(2, 12)", 0) in result.rows
    pool = nn.MaxPool2d(2, return_indices=True)
    assert nn.summary(pool, (1, 1, 4, 4), print_summary=False).rows[0][1] == (
        "[(1, 1, 2, 2), (1, 1, 2, 2)]"
    )


# ----------------------------------------------------------------------------- containers


def test_sequential_indexing_slicing_and_mutation():
    model = mlp()
    assert len(model) == 5 and isinstance(model[-1], nn.Linear) and model[-1] is model[4]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is model[0]
    assert [n for n, _ in model[2:].named_children()] == ["2", "3", "4"]
    assert list(model) == list(model.children())
    model.append(nn.Sigmoid())
    assert len(model) == 6 and isinstance(model[5], nn.Sigmoid)
    out = model(nl.randn(3, 2)).numpy()
    assert out.shape == (3, 1) and np.all((out > 0) & (out < 1))
    del model[5]
    assert len(model) == 5
    with pytest.raises(IndexError, match="out of range for 5 modules"):
        model[7]
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.Linear(2, 2), lambda x: x)


def test_sequential_from_ordered_dict_keeps_names():
    model = nn.Sequential(OrderedDict(hidden=nn.Linear(2, 3), act=nn.ReLU(), out=nn.Linear(3, 1)))
    assert [n for n, _ in model.named_parameters()] == [
        "hidden.weight", "hidden.bias", "out.weight", "out.bias",
    ]  # fmt: skip
    assert model.hidden is model[0]
    assert [n for n, _ in model[1:].named_children()] == ["act", "out"]


def test_module_list_and_module_dict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.ReLU())
    layers.insert(0, nn.Tanh())
    assert len(layers) == 5 and isinstance(layers[0], nn.Tanh)
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2", "3", "4"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    del layers[0]
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2", "3"]
    assert len(list(layers.parameters())) == 6
    heads = nn.ModuleDict({"x": nn.Linear(2, 1)})
    heads["y"] = nn.Linear(2, 3)
    assert list(heads) == ["x", "y"] and "y" in heads and len(heads) == 2
    assert [n for n, _ in heads.named_parameters()][2:] == ["y.weight", "y.bias"]
    assert isinstance(heads.pop("x"), nn.Linear) and list(heads.keys()) == ["y"]


def test_identity_flatten_unflatten():
    x = nl.randn(2, 3, 4)
    assert nn.Identity(54, unused=True)(x) is x
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Unflatten(1, (3, 4))(nn.Flatten()(x)).shape == (2, 3, 4)
    assert nn.Unflatten(-1, (2, -1))(x).shape == (2, 3, 2, 2)


# ----------------------------------------------------------------------------- default init


def test_linear_default_init_statistics():
    nl.manual_seed(0)
    layer = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert abs(w.mean()) < 0.05 * bound
    assert np.abs(b).max() <= bound
    conv = nn.Conv2d(4, 8, 3)
    conv_bound = 1 / math.sqrt(4 * 9)
    assert np.abs(conv.weight.numpy()).max() <= conv_bound
    assert np.abs(conv.bias.numpy()).max() <= conv_bound
    emb = nn.Embedding(1000, 20).weight.numpy()
    assert abs(emb.std() - 1) < 0.05 and abs(emb.mean()) < 0.05
    bn = nn.BatchNorm2d(3)
    assert np.all(bn.weight.numpy() == 1) and np.all(bn.bias.numpy() == 0)
    assert np.all(bn.running_var.numpy() == 1) and bn.num_batches_tracked.dtype == nl.int64


def test_init_is_reproducible_with_manual_seed():
    nl.manual_seed(7)
    first = nn.Linear(4, 3).weight.numpy().copy()
    nl.manual_seed(7)
    np.testing.assert_array_equal(nn.Linear(4, 3).weight.numpy(), first)


# ----------------------------------------------------------------------------- nn.init


@pytest.mark.parametrize(
    "nonlinearity, param",
    [
        ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
        ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None),
    ],
)  # fmt: skip
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        tnn.init.calculate_gain(nonlinearity, param), rel=1e-12
    )


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="swish"):
        init.calculate_gain("swish")


def _expected_std(fn_name: str, shape: tuple[int, ...], **kwargs) -> float:
    """The standard deviation torch's initializer targets, measured on a large torch tensor."""
    t = torch.empty(shape)
    getattr(tnn.init, fn_name)(t, **kwargs)
    return float(t.std())


@pytest.mark.parametrize(
    "fn_name, kwargs",
    [
        ("xavier_uniform_", {}),
        ("xavier_normal_", {"gain": 2.0}),
        ("kaiming_uniform_", {"a": math.sqrt(5)}),
        ("kaiming_uniform_", {"nonlinearity": "relu", "mode": "fan_out"}),
        ("kaiming_normal_", {}),
        ("kaiming_normal_", {"a": 0.1, "mode": "fan_out", "nonlinearity": "leaky_relu"}),
    ],
)
def test_init_statistics_match_torch(fn_name, kwargs):
    shape = (64, 32, 3, 3)
    t = nl.empty(*shape)
    assert getattr(init, fn_name)(t, **kwargs) is t
    expected = _expected_std(fn_name, shape, **kwargs)
    assert abs(float(t.numpy().std()) - expected) < 0.02 * expected
    assert abs(float(t.numpy().mean())) < 0.02 * expected
    if "uniform" in fn_name:  # the bound is sqrt(3)·std for a uniform
        assert np.abs(t.numpy()).max() <= math.sqrt(3) * expected * 1.02
    assert t.dtype == nl.float32


def test_simple_initializers_and_dtype():
    t = nl.empty(200, 100, dtype=nl.float64)
    init.uniform_(t, -2, 3)
    assert t.dtype == nl.float64 and t.numpy().min() >= -2 and t.numpy().max() < 3
    init.normal_(t, 1.0, 0.5)
    assert abs(t.numpy().mean() - 1) < 0.01 and abs(t.numpy().std() - 0.5) < 0.01
    init.trunc_normal_(t, std=1.0, a=-1.0, b=1.0)
    assert np.abs(t.numpy()).max() <= 1.0
    assert np.all(init.ones_(t).numpy() == 1) and np.all(init.zeros_(t).numpy() == 0)
    assert np.all(init.constant_(t, 0.25).numpy() == 0.25)
    p = nn.Linear(3, 3).weight  # requires grad: init works on parameters (under no_grad)
    init.zeros_(p)
    assert np.all(p.numpy() == 0) and p.requires_grad
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_uniform_(nl.empty(5))
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(nl.empty(3, 3), mode="fan_avg")


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (4, 2, 3)])
def test_orthogonal_init(shape):
    t = init.orthogonal_(nl.empty(*shape), gain=2.0)
    flat = t.numpy().reshape(shape[0], -1).astype(np.float64) / 2.0
    small = min(flat.shape)
    gram = flat @ flat.T if flat.shape[0] == small else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-5)


# ----------------------------------------------------------------------------- nn.utils


def _twin_params(seed: int = 0) -> tuple[list, list]:
    """The same three parameters with the same gradients, in neuralab and in torch."""
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for shape in [(3, 4), (4,), (2, 2, 2)]:
        value, grad = rng.standard_normal(shape), rng.standard_normal(shape) * 3
        p = nn.Parameter(nl.tensor(value))
        p.grad = nl.tensor(grad)
        q = torch.nn.Parameter(torch.tensor(value, dtype=torch.float32))
        q.grad = torch.tensor(grad, dtype=torch.float32)
        ours.append(p)
        theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _twin_params()
    total_o = clip_grad_norm_(ours, max_norm, norm_type)
    total_t = tnn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total_o, nl.Tensor) and total_o.dtype == nl.float32
    np.testing.assert_allclose(total_o.item(), total_t.item(), rtol=1e-5)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)
        assert p.grad.dtype == nl.float32


def test_clip_grad_norm_edge_cases():
    assert clip_grad_norm_([nn.Parameter(nl.ones(2))], 1.0).item() == 0.0  # no gradients
    p = nn.Parameter(nl.ones(2))
    p.grad = nl.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="total norm"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch():
    ours, theirs = _twin_params(1)
    clip_grad_value_(ours, 0.7)
    tnn.utils.clip_grad_value_(theirs, 0.7)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy())


def test_parameters_to_vector_and_back():
    ours, theirs = _twin_params(2)
    vec = parameters_to_vector(ours)
    np.testing.assert_allclose(vec.numpy(), tnn.utils.parameters_to_vector(theirs).detach().numpy())
    assert vec.shape == (12 + 4 + 8,) and vec.requires_grad
    vector_to_parameters(vec * 2, ours)
    np.testing.assert_allclose(parameters_to_vector(ours).numpy(), 2 * vec.numpy())
    with pytest.raises(ValueError, match="has 3 elements but the parameters need 24"):
        vector_to_parameters(nl.zeros(3), ours)


# ----------------------------------------------------------------------------- loss warnings


def test_cross_entropy_warns_once_on_probabilities():
    loss = nn.CrossEntropyLoss()
    logits = nl.randn(5, 3)
    target = nl.tensor([0, 1, 2, 1, 0])
    probs = nn.Softmax(dim=1)(logits)
    with pytest.warns(UserWarning, match="looks like probabilities"):
        loss(probs, target)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss(probs, target)  # once per instance
    with pytest.warns(UserWarning, match="looks like probabilities"):
        nn.CrossEntropyLoss()(nl.tensor([0.2, 0.8]), nl.tensor(1))  # unbatched (C,) input


def test_cross_entropy_does_not_warn_on_logits_or_one_class():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = nn.CrossEntropyLoss()
        for _ in range(3):
            loss(nl.randn(4, 3), nl.tensor([0, 1, 2, 0]))
        # a first row summing to 1 is not enough: every row must
        logits = nl.tensor([[0.5, 0.5], [2.0, -3.0]])
        loss(logits, nl.tensor([0, 1]))
        # spatial (N, C, H, W) logits
        loss(nl.randn(2, 3, 2, 2), nl.randint(0, 3, (2, 2, 2)))
