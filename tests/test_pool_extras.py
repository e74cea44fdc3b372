"""Smaller pieces of torch.nn.functional and their layers, against torch: conv_transpose1d,
lp_pool1d/2d, channel_shuffle, max_pool*_with_indices, the deprecated upsample functions, and
the Fold / Unfold / LPPool / ChannelShuffle layers, nn.Buffer and the deprecated nn.init names."""

import warnings

import numpy as np
import pytest
import torch
from oracle import compare

import neuralab as nl
import neuralab.nn as nn
import neuralab.nn.functional as F


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "xs, ws, kw",
    [
        ((2, 4, 7), (4, 3, 3), {}),
        ((2, 4, 7), (4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
        ((2, 4, 7), (4, 3, 3), dict(groups=2, dilation=2, stride=3)),
        ((4, 7), (4, 2, 2), dict(stride=2)),  # unbatched
    ],
)
def test_conv_transpose1d_matches_torch(xs, ws, kw, dtype):
    rng = np.random.default_rng(0)
    bias = rng.standard_normal(ws[1] * kw.get("groups", 1))
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws), bias]
    compare(
        lambda x, w, b: F.conv_transpose1d(x, w, b, **kw),
        lambda x, w, b: torch.nn.functional.conv_transpose1d(x, w, b, **kw),
        arrays,
        dtype,
    )


def test_conv_transpose1d_says_which_shapes_it_takes():
    with pytest.raises(ValueError, match=r"conv_transpose1d: expected a 2-D .* \(2, 4, 7\)"):
        F.conv_transpose1d(nl.randn(2, 4, 7), nl.randn(4, 2, 3, 3))


@pytest.mark.parametrize("p", [1, 2, 3.5])
@pytest.mark.parametrize(
    "kw", [dict(kernel_size=2), dict(kernel_size=(3, 2), stride=2, ceil_mode=True)]
)
def test_lp_pool2d_matches_torch(p, kw):
    x = np.abs(np.random.default_rng(1).standard_normal((2, 3, 7, 8))) + 0.1
    compare(
        lambda t: F.lp_pool2d(t, p, **kw), lambda t: torch.nn.functional.lp_pool2d(t, p, **kw), [x]
    )
    layer, theirs = nn.LPPool2d(p, **kw), torch.nn.LPPool2d(p, **kw)
    assert repr(layer) == repr(theirs)
    x32 = nl.tensor(x.astype(np.float32))
    np.testing.assert_allclose(
        layer(x32).numpy(), theirs(torch.tensor(x.astype(np.float32))).numpy(), rtol=1e-5
    )


def test_lp_pool1d_matches_torch():
    x = np.abs(np.random.default_rng(2).standard_normal((2, 3, 9))) + 0.1
    compare(lambda t: F.lp_pool1d(t, 2, 3), lambda t: torch.nn.functional.lp_pool1d(t, 2, 3), [x])
    np.testing.assert_allclose(
        nn.LPPool1d(3, 2)(nl.tensor(x.astype(np.float32))).numpy(),
        torch.nn.LPPool1d(3, 2)(torch.tensor(x.astype(np.float32))).numpy(),
        rtol=1e-5,
    )


def test_channel_shuffle_interleaves_groups_as_torch():
    x = np.arange(2 * 6 * 2 * 2, dtype=np.float32).reshape(2, 6, 2, 2)
    ours = F.channel_shuffle(nl.tensor(x), 3).numpy()
    np.testing.assert_array_equal(ours, torch.nn.functional.channel_shuffle(torch.tensor(x), 3))
    np.testing.assert_array_equal(nn.ChannelShuffle(3)(nl.tensor(x)).numpy(), ours)
    assert ours[0, :, 0, 0].tolist() == [0, 8, 16, 4, 12, 20]  # channels 0, 2, 4, 1, 3, 5
    with pytest.raises(ValueError, match="divisible by groups=4"):
        F.channel_shuffle(nl.tensor(x), 4)


def test_max_pool_with_indices_gives_torch_s_values_and_indices():
    x = np.random.default_rng(3).standard_normal((2, 3, 6, 7)).astype(np.float32)
    for ours, theirs, arr in (
        (F.max_pool2d_with_indices, torch.nn.functional.max_pool2d_with_indices, x),
        (F.max_pool1d_with_indices, torch.nn.functional.max_pool1d_with_indices, x[:, :, 0]),
    ):
        out, idx = ours(nl.tensor(arr), 2, stride=2, ceil_mode=True)
        t_out, t_idx = theirs(torch.tensor(arr), 2, stride=2, ceil_mode=True)
        np.testing.assert_array_equal(out.numpy(), t_out.numpy())
        np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())


def test_the_deprecated_upsample_functions_warn_and_interpolate_as_torch():
    x = np.random.default_rng(4).standard_normal((1, 2, 4, 5)).astype(np.float32)
    cases = [
        (F.upsample, torch.nn.functional.upsample, dict(scale_factor=2)),
        (F.upsample_nearest, torch.nn.functional.upsample_nearest, dict(size=(7, 9))),
        (F.upsample_bilinear, torch.nn.functional.upsample_bilinear, dict(size=(8, 10))),
    ]
    for ours, theirs, kw in cases:
        with pytest.warns(UserWarning, match=f"{ours.__name__} is deprecated"):
            out = ours(nl.tensor(x), **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = theirs(torch.tensor(x), **kw)
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


def test_fold_and_unfold_layers_match_torch():
    x = np.random.default_rng(5).standard_normal((2, 4, 6, 6)).astype(np.float32)
    unfold, t_unfold = nn.Unfold(3, padding=1, stride=2), torch.nn.Unfold(3, padding=1, stride=2)
    fold, t_fold = (
        nn.Fold((6, 6), 3, padding=1, stride=2),
        torch.nn.Fold((6, 6), 3, padding=1, stride=2),
    )
    assert (repr(unfold), repr(fold)) == (repr(t_unfold), repr(t_fold))
    cols, t_cols = unfold(nl.tensor(x)), t_unfold(torch.tensor(x))
    np.testing.assert_allclose(cols.numpy(), t_cols.numpy())
    np.testing.assert_allclose(fold(cols).numpy(), t_fold(t_cols).numpy(), rtol=1e-6)


def test_a_buffer_assigned_to_a_module_registers_as_torch_s_does():
    class Counter(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.steps = nn.Buffer(nl.zeros(3))
            self.scratch = nn.Buffer(nl.ones(2), persistent=False)

    m = Counter()
    assert [name for name, _ in m.named_buffers()] == ["steps", "scratch"]
    assert list(m.state_dict()) == ["steps"]  # the non-persistent one is left out
    m.steps = nl.ones(3)  # a plain tensor assigned to a buffer's name stays a buffer
    assert m.state_dict()["steps"].tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(TypeError, match="Buffer: expected a Tensor, got list"):
        nn.Buffer([1, 2])


def test_the_deprecated_init_names_warn_and_fill():
    t = nl.empty(4, 4)
    with pytest.warns(
        FutureWarning, match="`nn.init.constant` is deprecated; use `nn.init.constant_`"
    ):
        nn.init.constant(t, 2.0)
    assert t.tolist() == [[2.0] * 4] * 4
    for name in (
        "uniform",
        "normal",
        "xavier_uniform",
        "xavier_normal",
        "kaiming_uniform",
        "kaiming_normal",
        "orthogonal",
        "eye",
    ):
        with pytest.warns(FutureWarning, match=f"nn.init.{name}_"):
            getattr(nn.init, name)(t)


INTERPOLATE_CASES = [
    ((2, 3, 7), dict(scale_factor=2, mode="linear")),
    ((2, 3, 7), dict(size=12, mode="linear", align_corners=True)),
    ((2, 3, 7), dict(size=11, mode="nearest-exact")),
    ((2, 3, 7), dict(size=3, mode="area")),
    ((2, 3, 5, 6), dict(scale_factor=2, mode="bicubic")),
    ((2, 3, 5, 6), dict(size=(9, 4), mode="bicubic", align_corners=True)),
    ((2, 3, 5, 6), dict(size=(3, 8), mode="bicubic")),
    ((2, 3, 5, 6), dict(scale_factor=1.7, mode="nearest-exact")),
    ((2, 3, 8, 6), dict(size=(3, 4), mode="area")),
    ((2, 3, 5, 6), dict(scale_factor=(1.5, 2.5), mode="bilinear", recompute_scale_factor=True)),
    ((1, 2, 4, 5, 6), dict(scale_factor=2, mode="trilinear")),
    ((1, 2, 4, 5, 6), dict(size=(3, 7, 5), mode="trilinear", align_corners=True)),
    ((1, 2, 4, 5, 6), dict(scale_factor=2, mode="nearest")),
    ((1, 2, 4, 5, 6), dict(size=(2, 3, 3), mode="area")),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kw", INTERPOLATE_CASES)
def test_interpolate_modes_and_ranks_match_torch(shape, kw, dtype):
    x = np.random.default_rng(13).standard_normal(shape)
    compare(
        lambda t: F.interpolate(t, **kw),
        lambda t: torch.nn.functional.interpolate(t, **kw),
        [x],
        dtype,
    )


def test_upsample_layers_of_every_rank_match_torch():
    x = np.random.default_rng(14).standard_normal((1, 2, 3, 4, 5)).astype(np.float32)
    for shape, kw in (
        ((1, 2, 5), dict(scale_factor=2, mode="linear")),
        ((1, 2, 3, 4, 5), dict(size=(4, 6, 7), mode="trilinear")),
    ):
        arr = x.reshape(-1)[: int(np.prod(shape))].reshape(shape)
        ours, theirs = nn.Upsample(**kw), torch.nn.Upsample(**kw)
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(
            ours(nl.tensor(arr)).numpy(), theirs(torch.tensor(arr)).numpy(), rtol=1e-5, atol=1e-6
        )
    with pytest.raises(ValueError, match="mode 'bicubic' takes a 4-D input"):
        F.interpolate(nl.zeros(1, 1, 4), scale_factor=2, mode="bicubic")
    with pytest.raises(
        ValueError, match="align_corners can only be set with the interpolating modes"
    ):
        F.interpolate(nl.zeros(1, 1, 4, 4), scale_factor=2, mode="nearest", align_corners=True)
