"""Lazy layers (nn.LazyLinear, nn.LazyConv2d, nn.LazyBatchNorm2d, ...) against torch's."""

import copy

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.nn as nn

CASES = [  # (layer name, args, kwargs, input shape)
    ("LazyLinear", (7,), {}, (4, 5)),
    ("LazyLinear", (3,), {"bias": False}, (2, 6, 9)),
    ("LazyConv1d", (4, 3), {"padding": 1}, (2, 3, 10)),
    ("LazyConv2d", (6, 5), {"stride": 2, "groups": 2}, (2, 4, 12, 12)),
    ("LazyConv2d", (6, 3), {}, (3, 9, 9)),  # unbatched
    ("LazyConv3d", (4, 2), {"padding": 1}, (2, 3, 4, 5, 5)),
    ("LazyConvTranspose1d", (2, 4), {"stride": 2}, (2, 3, 6)),
    ("LazyConvTranspose2d", (4, 2), {"stride": 2, "groups": 2}, (2, 6, 5, 5)),
    ("LazyConvTranspose3d", (2, 2), {"stride": 2}, (1, 3, 2, 3, 3)),
    ("LazyBatchNorm1d", (), {}, (8, 5)),
    ("LazyBatchNorm2d", (), {"affine": False}, (4, 3, 5, 5)),
    ("LazyBatchNorm3d", (), {}, (2, 3, 2, 4, 4)),
    ("LazyInstanceNorm1d", (), {"affine": True}, (3, 4, 10)),
    ("LazyInstanceNorm2d", (), {"track_running_stats": True}, (2, 3, 6, 6)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", CASES)
def test_the_first_call_sizes_the_layer_as_torch_does(name, args, kwargs, shape):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert ours.has_uninitialized_params() and theirs.has_uninitialized_params()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    theirs(torch.tensor(x))
    ours.load_state_dict({k: nl.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    out = ours(nl.tensor(x))
    expected = theirs(torch.tensor(x))
    assert type(ours).__name__ == type(theirs).__name__ == name.removeprefix("Lazy")
    assert not any(isinstance(p, nn.UninitializedParameter) for p in ours.parameters())
    shapes = {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == shapes
    size = next(a for a in ("in_features", "in_channels", "num_features") if hasattr(theirs, a))
    assert getattr(ours, size) == getattr(theirs, size)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_an_optimizer_built_before_the_first_call_trains_the_sized_parameters():
    # the d2l book's way: model and optimizer first, then the first batch sizes the layers
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 5)).astype(np.float32), rng.standard_normal((32, 1))
    losses = {}
    for lib in (torch, nl):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.LazyLinear(16), lib.nn.ReLU(), lib.nn.LazyLinear(1))
        opt = lib.optim.SGD(net.parameters(), lr=0.05)
        xs, ys = lib.tensor(x), lib.tensor(y.astype(np.float32))
        net(xs)  # the dry run sizes every layer; now give both the same weights
        if lib is torch:
            start = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
        else:
            net.load_state_dict({k: nl.tensor(v) for k, v in start.items()})
        losses[lib.__name__] = []
        for _ in range(20):
            opt.zero_grad()
            loss = ((net(xs) - ys) ** 2).mean()
            loss.backward()
            opt.step()
            losses[lib.__name__].append(loss.item())
    assert losses["neuralab"] == pytest.approx(losses["torch"], rel=1e-5)
    assert losses["neuralab"][-1] < 0.8 * losses["neuralab"][0]  # 0.95 → 0.59


def test_placeholders_say_what_to_do_until_the_first_call():
    layer = nn.LazyLinear(4)
    assert isinstance(layer.weight, nn.Parameter) and isinstance(
        layer.weight, nn.UninitializedParameter
    )
    assert repr(layer.weight) == "<UninitializedParameter>" and layer.weight.requires_grad
    assert "in_features=0" in repr(layer)
    with pytest.raises(ValueError, match="no shape or values yet: call the layer .* on a batch"):
        _ = layer.weight.shape
    with pytest.raises(ValueError, match="UninitializedParameter of a lazy layer"):
        layer.weight * 2
    state = layer.state_dict()  # as torch: the placeholders themselves
    assert isinstance(state["weight"], nn.UninitializedParameter)
    norm = nn.LazyBatchNorm2d()
    assert isinstance(norm.running_mean, nn.UninitializedBuffer)
    x = np.random.default_rng(1).standard_normal((4, 3, 2, 2)).astype(np.float32)
    norm(nl.tensor(x))  # sized, reset to mean 0 / variance 1, then one update with momentum 0.1
    batch_var = x.transpose(1, 0, 2, 3).reshape(3, -1).var(axis=1, ddof=1)
    np.testing.assert_allclose(norm.running_mean.numpy(), 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(norm.running_var.numpy(), 0.9 + 0.1 * batch_var, rtol=1e-5)


def test_a_state_dict_sizes_a_lazy_model_before_any_call():
    trained = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2))
    lazy = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(2))
    lazy.load_state_dict(trained.state_dict())
    assert lazy[0].weight.shape == (8, 5) and not lazy[0].has_uninitialized_params()
    x = nl.randn(3, 5)
    np.testing.assert_allclose(lazy(x).numpy(), trained(x).numpy(), rtol=1e-6)
    assert type(lazy[0]) is nn.Linear and lazy[0].in_features == 5


def test_a_copied_lazy_model_is_sized_by_its_own_first_call():
    lazy = nn.Sequential(nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d())
    twin = copy.deepcopy(lazy)
    lazy(nl.randn(2, 3, 8, 8))
    twin(nl.randn(2, 5, 8, 8))
    assert lazy[0].weight.shape == (4, 3, 3, 3) and twin[0].weight.shape == (4, 5, 3, 3)
    assert lazy[0].weight is not twin[0].weight


def test_an_unbatched_instance_norm_reads_its_channels_at_dim_0():
    # torch's lazy instance norms read dim 1 here too, then refuse their own input
    norm = nn.LazyInstanceNorm1d()
    x = nl.randn(4, 10)
    out = norm(x)
    assert norm.num_features == 4 and norm.weight.shape == (4,)
    np.testing.assert_allclose(out.numpy().mean(axis=1), 0, atol=1e-6)


def test_channels_that_groups_cannot_split_are_refused():
    with pytest.raises(
        ValueError, match="LazyConv2d: the input's 3 channels are not divisible by groups=2"
    ):
        nn.LazyConv2d(4, 3, groups=2)(nl.randn(1, 3, 5, 5))
