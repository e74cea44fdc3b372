"""3-D convolution and pooling (F.conv3d, max/avg/adaptive pooling, nn.Conv3d, ...) against
torch: values and gradients, float32 and float64."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from oracle import compare

import neuralab as nl
import neuralab.nn.functional as F

CONV_CASES = [
    ((2, 4, 5, 6, 7), (6, 4, 3, 3, 3), {}),
    (
        (2, 4, 5, 6, 7),
        (6, 2, 2, 3, 1),
        dict(stride=(2, 1, 2), padding=1, dilation=(1, 2, 1), groups=2),
    ),
    ((4, 5, 6, 6), (3, 4, 3, 3, 3), dict(padding="same")),  # unbatched
    ((2, 3, 6, 5, 5), (2, 3, 2, 2, 2), dict(padding="valid", stride=2)),
    ((1, 2, 4, 5, 6), (3, 2, 2, 2, 2), dict(padding="same", dilation=(2, 1, 1))),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs, ws, kw", CONV_CASES)
def test_conv3d_matches_torch(xs, ws, kw, dtype):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])]
    compare(
        lambda x, w, b: F.conv3d(x, w, b, **kw),
        lambda x, w, b: TF.conv3d(x, w, b, **kw),
        arrays,
        dtype,
    )


@pytest.mark.parametrize(
    "xs, ws, kw",
    [
        ((2, 4, 3, 4, 5), (4, 3, 2, 2, 2), {}),
        ((2, 4, 3, 4, 5), (4, 2, 3, 3, 2), dict(stride=2, padding=1, output_padding=1, groups=2)),
        (
            (4, 3, 3, 3),
            (4, 2, 3, 3, 3),
            dict(stride=(1, 2, 3), dilation=(2, 1, 1), padding=(2, 1, 0)),
        ),
    ],
)
def test_conv_transpose3d_matches_torch(xs, ws, kw):
    rng = np.random.default_rng(5)
    bias = rng.standard_normal(ws[1] * kw.get("groups", 1))
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws), bias]
    compare(
        lambda x, w, b: F.conv_transpose3d(x, w, b, **kw),
        lambda x, w, b: TF.conv_transpose3d(x, w, b, **kw),
        arrays,
    )


def test_conv_transpose3d_layer_sizes_its_output_as_torch():
    theirs = torch.nn.ConvTranspose3d(3, 2, 3, stride=2, padding=1)
    ours = nl.nn.ConvTranspose3d(3, 2, 3, stride=2, padding=1)
    ours.load_state_dict({k: nl.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(6).standard_normal((1, 3, 3, 4, 4)).astype(np.float32)
    out = ours(nl.tensor(x), output_size=(6, 8, 8))
    expected = theirs(torch.tensor(x), output_size=(6, 8, 8))
    assert out.shape == tuple(expected.shape) == (1, 2, 6, 8, 8)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert repr(ours) == repr(theirs)


POOL_KW = [
    dict(kernel_size=2),
    dict(kernel_size=(3, 2, 2), stride=(2, 1, 2), padding=1),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
]


@pytest.mark.parametrize("kw", [*POOL_KW, dict(kernel_size=2, dilation=(2, 1, 1))])
def test_max_pool3d_matches_torch(kw):
    x = np.random.default_rng(1).standard_normal((2, 3, 7, 6, 5))
    compare(lambda t: F.max_pool3d(t, **kw), lambda t: TF.max_pool3d(t, **kw), [x])


@pytest.mark.parametrize("kw", [*POOL_KW, dict(kernel_size=2, dilation=(2, 1, 1))])
def test_max_pool3d_without_gradients_gives_torch_values(kw):
    """Inference takes a values-only path (no winners tracked): the same maxima, NaN too."""
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 6, 5)).astype(np.float32)
    x[0, 1, 2, 3, 4] = np.nan
    expected = TF.max_pool3d(torch.from_numpy(x), **kw).numpy()
    with nl.no_grad():
        graded = F.max_pool3d(nl.tensor(x, requires_grad=True), **kw)
    for y in (F.max_pool3d(nl.tensor(x), **kw), graded):
        assert not y.requires_grad
        np.testing.assert_array_equal(y.numpy(), expected)
    np.testing.assert_array_equal(F.max_pool3d(nl.tensor(x[1]), **kw).numpy(), expected[1])


@pytest.mark.parametrize(
    "kw",
    [
        *POOL_KW,
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
        dict(kernel_size=2, divisor_override=3),
    ],
)
def test_avg_pool3d_matches_torch(kw):
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 6, 5))
    compare(lambda t: F.avg_pool3d(t, **kw), lambda t: TF.avg_pool3d(t, **kw), [x])


@pytest.mark.parametrize("size", [1, (2, 3, 4), (None, 2, 3), (3, 4, 2)])
def test_adaptive_pool3d_matches_torch(size):
    x = np.random.default_rng(3).standard_normal((2, 3, 7, 6, 5))
    compare(
        lambda t: F.adaptive_avg_pool3d(t, size), lambda t: TF.adaptive_avg_pool3d(t, size), [x]
    )
    compare(
        lambda t: F.adaptive_max_pool3d(t, size), lambda t: TF.adaptive_max_pool3d(t, size), [x]
    )


def test_a_3d_network_matches_torch_layer_by_layer():
    x = np.random.default_rng(4).standard_normal((2, 2, 8, 8, 8)).astype(np.float32)
    nets = []
    for lib in (torch, nl):
        lib.manual_seed(0)
        m = lib.nn
        nets.append(
            m.Sequential(
                m.Conv3d(2, 4, 3, padding=1, padding_mode="reflect"),
                m.BatchNorm3d(4),
                m.ReLU(),
                m.MaxPool3d(2),
                m.Conv3d(4, 6, 3, padding="same"),
                m.AvgPool3d(2, ceil_mode=True),
                m.AdaptiveMaxPool3d((1, 2, 2)),
                m.AdaptiveAvgPool3d(1),
                m.Flatten(),
                m.Linear(6, 3),
            )  # fmt: skip
        )
    theirs, ours = nets
    ours.load_state_dict({k: nl.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    assert [repr(a) for a in ours] == [repr(b) for b in theirs]
    tx, nx = torch.tensor(x, requires_grad=True), nl.tensor(x, requires_grad=True)
    theirs(tx).square().sum().backward()
    ours(nx).square().sum().backward()
    np.testing.assert_allclose(nx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        ours[0].weight.grad.numpy(), theirs[0].weight.grad.numpy(), rtol=1e-4, atol=1e-5
    )


def test_3d_ops_say_what_they_expect():
    with pytest.raises(
        ValueError, match=r"conv3d: expected a 4-D .* or 5-D .* got shape \(2, 3, 4\)"
    ):
        F.conv3d(nl.randn(2, 3, 4), nl.randn(1, 3, 1, 1, 1))
    with pytest.raises(ValueError, match="has 3 channels but weight .* expects 2"):
        F.conv3d(nl.randn(1, 3, 4, 4, 4), nl.randn(1, 2, 1, 1, 1))
    with pytest.raises(ValueError, match=r"max_pool3d: expected a 4-D .* got shape \(4, 4, 4\)"):
        F.max_pool3d(nl.randn(4, 4, 4), 2, return_indices=True)
