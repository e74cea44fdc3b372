"""The model zoo, part A (MLP, LeNet-5, AlexNet, ResNet): layouts, parameter counts against the
published ones, torch parity of the blocks, save/load round trips, the quality each reaches on
the digits (by the recipes of examples/train_zoo_digits.py, which docs/models/*.md quote) and the
point of residual connections. BLAS runs on one thread: the CPU budget is ~150 s on one core.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import threadpoolctl
import torch

import neuralab as nl
from neuralab import models
from neuralab.models.alexnet import LocalResponseNorm, local_response_norm
from neuralab.models.resnet import BasicBlock, Bottleneck

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Tiny GEMMs on two contended BLAS threads burn CPU spinning: run on one."""
    with threadpoolctl.threadpool_limits(1):
        yield


def _example(name: str):
    """Import examples/<name>.py as a module (examples are scripts, not a package)."""
    key = f"neuralab_examples.{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, EXAMPLES / f"{name}.py")
        sys.modules[key] = importlib.util.module_from_spec(spec)  # dataclasses look it up
        spec.loader.exec_module(sys.modules[key])
    return sys.modules[key]


def _count(model: nl.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------------------- registry, counts


def test_every_builder_is_registered_by_name():
    names = {"mlp", "lenet5", "alexnet", "alexnet_paper", "alexnet_small"}
    names |= {"resnet18", "resnet34", "resnet50", "resnet_cifar"}
    assert names <= set(models.list_models())
    assert isinstance(models.get_model("lenet5", num_classes=5), models.LeNet5)


@pytest.mark.parametrize(
    "name, count",
    [("resnet18", 11_689_512), ("resnet34", 21_797_672), ("resnet50", 25_557_032)],
)
def test_resnet_parameter_counts_match_torchvision(name, count):
    model = models.get_model(name)
    assert _count(model) == count
    model.eval()
    with nl.no_grad():
        assert model(nl.zeros(1, 3, 64, 64)).shape == (1, 1000)


def test_alexnet_parameter_counts_and_the_papers_60_million():
    assert _count(models.alexnet()) == 61_100_840  # torchvision's single-tower layout
    paper = models.alexnet_paper()  # 96-256-384-384-256, two towers (groups=2), LRN
    assert _count(paper) == 60_965_224
    assert math.isclose(_count(paper), 60e6, rel_tol=0.02)  # "60 million parameters"
    summary = paper.summary((1, 3, 224, 224), print_summary=False)
    shapes = {label: shape for label, shape, _ in summary.rows}
    assert shapes["features.4 (Conv2d)"] == "(1, 256, 27, 27)"  # the paper's 27×27×256
    assert shapes["features (Sequential)"] == "(1, 256, 6, 6)"  # 6×6×256 into fc6
    assert shapes["AlexNet"] == "(1, 1000)"


def test_lenet5_layout_and_count():
    summary = models.lenet5().summary((1, 1, 32, 32), print_summary=False)
    assert summary.total_params == 61_706
    shapes = {label.split()[0]: shape for label, shape, _ in summary.rows}
    expected = {"features.c1": (6, 28), "features.s2": (6, 14), "features.c3": (16, 10)}
    expected |= {"features.s4": (16, 5), "features.c5": (120, 1)}
    for layer, (c, hw) in expected.items():
        assert shapes[layer] == str((1, c, hw, hw))
    assert shapes["classifier.f6"] == "(1, 84)"


def test_lenet5_rejects_other_image_sizes():
    with pytest.raises(ValueError, match=r"32, 32.*\(2, 1, 28, 28\)"):
        models.lenet5()(nl.zeros(2, 1, 28, 28))


def test_mlp_depth_width_activation_dropout_batch_norm():
    model = models.mlp(in_features=64, num_classes=10, width=32, depth=3, activation="tanh",
                       dropout=0.2, batch_norm=True)  # fmt: skip
    kinds = [type(m).__name__ for m in model.layers]
    assert kinds == ["Flatten"] + ["Linear", "BatchNorm1d", "Tanh", "Dropout"] * 3 + ["Linear"]
    assert _count(model) == (64 * 32 + 32 * 32 * 2 + 3 * 32) + 3 * 64 + (32 * 10 + 10)
    assert model(nl.zeros(4, 1, 8, 8)).shape == (4, 10)  # images are flattened
    uneven = models.MLP(5, [7, 3], 2, activation="identity")
    assert [m.out_features for m in uneven.layers if isinstance(m, nl.nn.Linear)] == [7, 3, 2]
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        models.mlp(activation="swish")


def test_configuration_errors_name_the_value():
    with pytest.raises(ValueError, match="6n \\+ 2.*got 21"):
        models.resnet_cifar(21)
    with pytest.raises(ValueError, match="'basic' or 'bottleneck', got 'wide'"):
        models.ResNet("wide")
    with pytest.raises(ValueError, match="5 conv widths"):
        models.AlexNet(channels=[8, 8, 8, 8])
    with pytest.raises(ValueError, match="pooling must be 'avg' or 'max', got 'sum'"):
        models.lenet5(pooling="sum")


# ----------------------------------------------------------------------------- torch parity


@pytest.mark.parametrize("size", [5, 4, 1])
@pytest.mark.parametrize("shape", [(2, 7, 3, 4), (2, 6, 5)])
def test_local_response_norm_matches_torch(size, shape):
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32) * 3
    kwargs = {"alpha": 5e-2, "beta": 0.75, "k": 2.0}
    xt = torch.tensor(x, requires_grad=True)
    expected = torch.nn.LocalResponseNorm(size, **kwargs)(xt)
    expected.backward(torch.ones_like(expected) * torch.arange(expected.numel()).reshape(shape))
    xn = nl.tensor(x, requires_grad=True)
    out = LocalResponseNorm(size, **kwargs)(xn)
    assert out.dtype == nl.float32
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.backward(nl.tensor(np.arange(out.numel(), dtype=np.float32).reshape(shape)))
    np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match=r"at least 3 dims, got shape \(4, 5\)"):
        local_response_norm(nl.zeros(4, 5), size)


def _torch_block(block, x: torch.Tensor) -> torch.Tensor:
    """The block's computation written with torch.nn.functional on the block's own weights."""
    tf = torch.nn.functional

    def conv_bn(conv, bn, h):
        w = torch.tensor(conv.weight.numpy())
        h = tf.conv2d(h, w, stride=conv.stride, padding=conv.padding)
        gamma, beta = torch.tensor(bn.weight.numpy()), torch.tensor(bn.bias.numpy())
        return tf.batch_norm(h, None, None, gamma, beta, training=True, eps=bn.eps)

    n = 3 if isinstance(block, Bottleneck) else 2
    h = x
    for i in range(1, n + 1):
        h = conv_bn(getattr(block, f"conv{i}"), getattr(block, f"bn{i}"), h)
        h = h.relu() if i < n else h
    shortcut = x if block.downsample is None else conv_bn(*block.downsample, x)
    return (h + shortcut).relu()


@pytest.mark.parametrize(
    "block",
    [BasicBlock(4, 4), BasicBlock(4, 8, stride=2), Bottleneck(8, 2), Bottleneck(4, 4, stride=2)],
    ids=["basic-identity", "basic-projection", "bottleneck-identity", "bottleneck-projection"],
)
def test_blocks_match_torch(block):
    nl.manual_seed(0)
    for p in block.parameters():  # non-trivial batch-norm scales and shifts
        p.data[...] = np.random.default_rng(p.numel()).normal(size=p.shape).astype(np.float32)
    x = np.random.default_rng(1).normal(size=(3, block.conv1.in_channels, 6, 6)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    expected = _torch_block(block, xt)
    expected.sum().backward()
    xn = nl.tensor(x, requires_grad=True)
    out = block(xn)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-4, atol=1e-4)
    out.sum().backward()
    np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-3, atol=1e-4)


def test_bottleneck_strides_in_its_3x3_conv_like_torchvision():
    block = Bottleneck(16, 4, stride=2)
    assert block.conv1.stride == (1, 1) and block.conv2.stride == (2, 2)
    assert block.conv3.out_channels == 16 and block.downsample[0].stride == (2, 2)


def test_plain_variant_has_no_shortcuts_and_no_batch_norm_gives_biases():
    plain = models.resnet_cifar(20, residual=False, batch_norm=False)
    assert all(not b.residual and b.downsample is None for b in plain.layer2)
    assert plain.layer2[0].conv1.bias is not None
    assert not any(isinstance(m, nl.nn.BatchNorm2d) for m in plain.modules())
    assert _count(plain) < _count(models.resnet_cifar(20, batch_norm=False))


def test_models_compute_in_float32_and_in_float64_on_request():
    nl.manual_seed(0)
    alex = models.AlexNet(7, 3, [8, 16, 24, 24, 16], 32, small_input=True, groups=2, lrn=True)
    resnet = models.resnet_cifar(8, width=4)
    for model in (alex, resnet, models.lenet5(in_channels=3), models.mlp(in_features=3 * 32 * 32)):
        size = 8 if model is resnet else 32
        assert model(nl.randn(2, 3, size, size)).dtype == nl.float32
    for model in (alex.double(), resnet.double()):
        size = 8 if model is resnet else 32
        assert model(nl.randn(2, 3, size, size, dtype=nl.float64)).dtype == nl.float64


# ----------------------------------------------------------------------------- save / load


@pytest.mark.parametrize(
    "build, shape",
    [
        (lambda: models.mlp(in_features=64, width=16, depth=2, batch_norm=True), (4, 64)),
        (lambda: models.lenet5(activation="relu", pooling="max"), (2, 1, 32, 32)),
        (lambda: models.alexnet_small(in_channels=1, width=4), (2, 1, 32, 32)),
        (
            lambda: models.AlexNet(
                7, 3, [8, 16, 24, 24, 16], 32, small_input=True, groups=2, lrn=True
            ),
            (2, 3, 32, 32),
        ),
        (lambda: models.resnet_cifar(8, in_channels=1, width=4), (2, 1, 8, 8)),
        (lambda: models.ResNet("bottleneck", [1, 1], [4, 8], num_classes=5), (2, 3, 32, 32)),
    ],
    ids=["mlp", "lenet5", "alexnet_small", "alexnet_lrn_groups", "resnet_cifar", "bottleneck"],
)
def test_save_load_round_trip_gives_identical_outputs(tmp_path, build, shape):
    nl.manual_seed(0)
    model = build()
    x = nl.randn(*shape)
    model(x)  # one training step's forward: batch norms get non-trivial running statistics
    model.eval()
    with nl.no_grad():
        expected = model(x).numpy()
    nl.save(model, tmp_path / "model.safetensors")
    loaded = nl.load(tmp_path / "model.safetensors")
    assert type(loaded) is type(model) and not loaded.training
    with nl.no_grad():
        np.testing.assert_array_equal(loaded(x).numpy(), expected)


# ----------------------------------------------------------------------------- quality


@pytest.mark.quality
@pytest.mark.parametrize(
    "name, at_least",
    [("mlp", 0.97), ("lenet5", 0.97), ("alexnet_small", 0.96), ("resnet_cifar", 0.97)],
)
def test_reaches_the_documented_accuracy_on_digits(name, at_least):
    """Seed 0 reaches 98.9 / 98.9 / 98.6 / 98.3 %: thresholds sit 1.3 to 2.6 points below."""
    _, accuracy = _example("train_zoo_digits").train_on_digits(name)
    assert accuracy >= at_least


def test_residual_net_trains_where_the_plain_net_of_the_same_depth_stalls():
    example = _example("residual_vs_plain")
    residual, residual_grad = example.training_losses(residual=True)
    plain, plain_grad = example.training_losses(residual=False)
    chance = math.log(10)
    assert np.mean(plain[-20:]) > chance - 0.05  # still at chance after 100 SGD steps
    assert np.mean(residual[-20:]) < chance - 1.0  # observed ~0.6
    assert residual_grad > 30 * plain_grad  # observed ~160×: the plain net's gradient vanishes
