"""Winograd F(2×2, 3×3) convolutions: the forward and both gradients against PyTorch, on the
shapes that take that path (odd sizes, every padding it accepts, a short last block of samples,
unbatched input), against neuralab's own im2col path, at two threads, with NaN where torch puts
it, and only on the shapes where it was measured faster."""

import numpy as np
import pytest
import torch

import neuralab as nl
import neuralab.ops.conv as conv_ops
from neuralab import compiled
from neuralab.ops import winograd

F = nl.nn.functional

pytestmark = pytest.mark.skipif(
    compiled.load("neuralab.compiled.winograd") is None,
    reason="compiled kernels unavailable or turned off (NEURALAB_NUMBA=0)",
)

CASES = [  # (input shape, output channels, padding, bias)
    ((3, 16, 32, 32), 16, 1, True),  # one sample per block
    ((5, 64, 8, 8), 64, 1, True),  # four samples per block, then a short block of one
    ((2, 16, 17, 19), 24, 1, False),  # odd sizes: the last tiles half outside the image
    ((2, 16, 20, 18), 16, 0, True),  # valid: the input gradient pads by 2
    ((2, 16, 16, 16), 16, 2, False),  # the input gradient pads by 0
    ((2, 16, 16, 16), 32, (2, 1), True),
    ((2, 16, 16, 16), 16, "same", True),
    ((32, 16, 16), 16, 1, True),  # unbatched
    ((2, 8, 28, 28), 12, 1, True),  # 8 channels: Winograd on planes from 28×28
]


@pytest.fixture
def calls(monkeypatch):
    """The Winograd functions called during the test (convolutions and weight gradients)."""
    seen = []

    def spying(name):
        real = getattr(winograd, name)

        def spy(*args, **kwargs):
            seen.append(name)
            return real(*args, **kwargs)

        return spy

    for name in ("conv3x3", "weight_grad"):
        monkeypatch.setattr(winograd, name, spying(name))
    return seen


def run(case, lib, seed=0):
    """Output and gradients (input, weight, bias) of one case's conv2d in ``lib``."""
    shape, outs, padding, bias = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape, dtype=np.float32)
    w = rng.standard_normal((outs, shape[-3], 3, 3), dtype=np.float32) * 0.2
    b = rng.standard_normal(outs, dtype=np.float32)
    leaves = [lib.tensor(a, requires_grad=True) for a in (x, w, b)]
    conv = F.conv2d if lib is nl else torch.nn.functional.conv2d
    y = conv(leaves[0], leaves[1], leaves[2] if bias else None, padding=padding)
    g = rng.standard_normal(tuple(y.shape), dtype=np.float32)
    y.backward(lib.tensor(g))
    grads = [t.grad for t in leaves[: 3 if bias else 2]]
    return [np.asarray(t.detach().numpy()) for t in (y, *grads)]


@pytest.mark.parametrize("case", CASES)
def test_winograd_conv_and_its_input_gradient_match_torch(case, calls):
    ours, theirs = run(case, nl), run(case, torch)
    assert sorted(calls) == [
        "conv3x3",
        "conv3x3",
        "weight_grad",
    ]  # forward, input grad, weight grad
    for a, b in zip(ours, theirs):
        assert a.dtype == np.float32 and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-4 * max(1.0, np.abs(b).max()))


def test_winograd_agrees_with_the_im2col_path(monkeypatch, calls):
    case = CASES[1]
    fast = run(case, nl, seed=3)
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 10**6)
    monkeypatch.setattr(winograd, "MIN_CHANNELS_LARGE", 10**6)
    slow = run(case, nl, seed=3)
    assert len(calls) == 3
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(b).max())


def test_two_threads_give_the_one_thread_result(calls):
    case = ((6, 64, 8, 8), 64, 1, True)
    one = run(case, nl, seed=5)
    nl.set_num_threads(2)
    try:
        two = run(case, nl, seed=5)
    finally:
        nl.set_num_threads(1)
    assert len(calls) == 6
    for a, b in zip(one, two):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6 * np.abs(b).max())


def test_weight_tiles_are_g_g_transposed():
    g = np.random.default_rng(1).standard_normal((3, 2, 3, 3)).astype(np.float32)
    G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], np.float32)
    expected = np.einsum("ik,ockl,jl->ijoc", G, g, G).reshape(16, 3, 2)
    np.testing.assert_allclose(winograd.weight_tiles(g), expected, rtol=1e-6, atol=1e-6)
    # flip: the input gradient's kernels, transposed (in, out) and turned by 180°
    turned = g.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]
    expected = np.einsum("ik,ockl,jl->ijoc", G, turned, G).reshape(16, 2, 3)
    np.testing.assert_allclose(winograd.weight_tiles(g, flip=True), expected, rtol=1e-6, atol=1e-6)


def test_nan_reaches_exactly_the_outputs_torch_gives_nan(calls):
    x = np.random.default_rng(2).standard_normal((2, 16, 16, 16), dtype=np.float32)
    for y, xx in [(0, 0), (5, 6), (7, 8), (15, 3)]:
        x[1, 3, y, xx] = np.nan
    w = np.ones((16, 16, 3, 3), np.float32)
    ours = F.conv2d(nl.tensor(x), nl.tensor(w), padding=1).numpy()
    theirs = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy()
    # the windows of a corner pixel (4), an edge pixel (6) and two inner ones sharing one (17)
    assert np.isnan(theirs).sum() == 16 * (4 + 6 + 17)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    assert len(calls) == 1


def test_winograd_only_where_it_was_measured_faster():
    assert winograd.suits(np.dtype(np.float32), 16, 16, (32, 32))
    assert winograd.suits(np.dtype(np.float32), 64, 64, (8, 8))
    assert not winograd.suits(np.dtype(np.float64), 16, 16, (32, 32))
    assert not winograd.suits(np.dtype(np.float32), 3, 16, (32, 32))  # an RGB input
    assert not winograd.suits(np.dtype(np.float32), 16, 16, (8, 8))  # small channels and image
    assert winograd.suits(np.dtype(np.float32), 8, 16, (28, 28))  # 8 channels, a large plane
    assert not winograd.suits(np.dtype(np.float32), 8, 16, (16, 16))  # 8 channels, a small one
    assert not winograd.suits(np.dtype(np.float32), 16, 4, (32, 32))  # a 4-class classifier


@pytest.mark.parametrize(
    "options",
    [dict(stride=2, padding=1), dict(dilation=2, padding=2), dict(groups=2, padding=1),
     dict(padding=3)],
)  # fmt: skip
def test_other_geometries_keep_im2col(options, calls):
    x = nl.randn(2, 16, 16, 16, requires_grad=True)
    w = nl.randn(16, 16 // options.get("groups", 1), 3, 3, requires_grad=True)
    F.conv2d(x, w, **options).sum().backward()
    assert calls == []
    assert conv_ops.winograd is winograd
