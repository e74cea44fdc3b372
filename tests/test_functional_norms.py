"""Normalization and dropout of ``neuralab.nn.functional`` and ``neuralab.nn`` against torch:
group/instance/RMS/local-response norm values and gradients, the BatchNorm/InstanceNorm modules
through training and evaluation (running statistics, momentum=None, state_dict), and the dropout
family's masks, warnings, scaling and errors."""

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
R = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, groups", [((2, 6, 5), 3), ((2, 6), 2), ((3, 4, 2, 3), 4), ((2, 6, 2, 2), 1)]
)
def test_group_norm_matches_torch(shape, groups, dtype):
    c = shape[1]
    x = R.standard_normal(shape) * 3 + 1
    compare(lambda a, w, b: F.group_norm(a, groups, w, b), lambda a, w, b: TF.group_norm(a, groups, w, b), [x, R.standard_normal(c), R.standard_normal(c)], dtype)  # fmt: skip
    compare(lambda a: F.group_norm(a, groups, eps=1e-3), lambda a: TF.group_norm(a, groups, eps=1e-3), [x], dtype)  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 4), (1, 3, 2, 2, 2)])
def test_instance_norm_matches_torch_and_updates_running_stats(shape, dtype):
    c = shape[1]
    x = R.standard_normal(shape) * 2 + 0.5
    compare(lambda a, w, b: F.instance_norm(a, weight=w, bias=b), lambda a, w, b: TF.instance_norm(a, weight=w, bias=b), [x, R.standard_normal(c), R.standard_normal(c)], dtype)  # fmt: skip
    mean, var = R.standard_normal(c).astype(dtype), R.uniform(0.5, 2, c).astype(dtype)
    ours = [nl.tensor(mean, dtype=dtype), nl.tensor(var, dtype=dtype)]
    theirs = [torch.tensor(mean), torch.tensor(var)]
    compare(lambda a: F.instance_norm(a, *ours, use_input_stats=False), lambda a: TF.instance_norm(a, *theirs, use_input_stats=False), [x], dtype)  # fmt: skip
    F.instance_norm(nl.tensor(x, dtype=dtype), *ours, momentum=0.2)
    TF.instance_norm(torch.tensor(x.astype(dtype)), *theirs, momentum=0.2)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, normalized", [((2, 6), (6,)), ((2, 3, 4), (3, 4)), ((5,), 5)])
def test_rms_norm_matches_torch(shape, normalized, dtype):
    ns = (normalized,) if isinstance(normalized, int) else normalized
    x = R.standard_normal(shape) * 3
    compare(lambda a, w: F.rms_norm(a, ns, w), lambda a, w: TF.rms_norm(a, ns, w), [x, R.standard_normal(ns)], dtype)  # fmt: skip
    compare(lambda a: F.rms_norm(a, normalized, eps=1e-3), lambda a: TF.rms_norm(a, ns, eps=1e-3), [x], dtype)  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 7, 3), (2, 6, 3, 4), (1, 5, 2, 2, 2)])
@pytest.mark.parametrize("size", [1, 2, 5, 9])
def test_local_response_norm_matches_torch(size, shape, dtype):
    compare(
        lambda a: F.local_response_norm(a, size, alpha=0.3, beta=0.6, k=2.0),
        lambda a: TF.local_response_norm(a, size, alpha=0.3, beta=0.6, k=2.0),
        [R.standard_normal(shape) * 3],
        dtype,
    )


def _train_then_eval(ours, theirs, shape, steps=3):
    """Run both modules on the same batches in training, then once in eval; compare all."""
    for step in range(steps + 1):
        if step == steps:
            ours.eval(), theirs.eval()
        x = R.standard_normal(shape).astype(np.float32) * 2 + 1
        xo, xt = nl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, ref = ours(xo), theirs(xt)
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-4, atol=1e-5)
        g = R.standard_normal(shape).astype(np.float32)
        out.backward(nl.tensor(g))
        ref.backward(torch.tensor(g))
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (name, buf), (tname, tbuf) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert name == tname
        np.testing.assert_allclose(np.asarray(buf), tbuf.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "cls, shape, kwargs",
    [
        ("BatchNorm1d", (8, 3), {}), ("BatchNorm1d", (4, 3, 5), {"momentum": None}),
        ("BatchNorm2d", (4, 3, 2, 2), {"affine": False}), ("BatchNorm3d", (2, 3, 2, 2, 2), {"eps": 1e-3}),
        ("BatchNorm2d", (4, 3, 2, 2), {"track_running_stats": False}),
        ("InstanceNorm1d", (2, 3, 5), {"affine": True, "track_running_stats": True}),
        ("InstanceNorm1d", (3, 5), {}), ("InstanceNorm2d", (3, 4, 4), {"affine": True}),
        ("InstanceNorm3d", (2, 3, 2, 2, 2), {"track_running_stats": True, "momentum": 0.3}),
        ("GroupNorm", (4, 6, 3), {"num_groups": 3}), ("LayerNorm", (4, 3, 5), {"normalized_shape": (3, 5)}),
        ("RMSNorm", (4, 3, 5), {"normalized_shape": 5}), ("LocalResponseNorm", (2, 6, 3, 3), {"size": 3}),
    ],
)  # fmt: skip
def test_norm_modules_match_torch_through_training_and_eval(cls, shape, kwargs):
    args = (
        () if "num_groups" in kwargs or "normalized_shape" in kwargs or "size" in kwargs else (3,)
    )
    if cls == "GroupNorm":
        args = (kwargs.pop("num_groups"), 6)
    ours, theirs = getattr(nn, cls)(*args, **kwargs), getattr(tnn, cls)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _train_then_eval(ours, theirs, shape)


def test_batch_norm_buffers_reset_and_load_like_torch():
    bn = nn.BatchNorm1d(3, dtype=nl.float64)
    assert bn.running_mean.dtype == nl.float64 and bn.num_batches_tracked.dtype == nl.int64
    bn(nl.randn(4, 3, dtype=nl.float64))
    assert bn.num_batches_tracked.item() == 1 and np.abs(bn.running_mean.numpy()).sum() > 0
    bn.reset_running_stats()
    assert bn.num_batches_tracked.item() == 0 and (bn.running_var.numpy() == 1).all()
    state = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    nn.BatchNorm1d(3).load_state_dict(state)  # old checkpoints lack the counter, as in torch
    with pytest.raises(RuntimeError, match="BatchNorm2d: device 'cuda' is not available"):
        nn.BatchNorm2d(3, device="cuda")
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input, got 4D input"):
        nn.BatchNorm1d(3)(nl.ones(2, 3, 4, 5))
    with pytest.raises(
        ValueError,
        match=r"InstanceNorm1d: input's size at dim=1 \(4\) does not match num_features \(3\)",
    ):
        nn.InstanceNorm1d(3, affine=True)(nl.ones(2, 4, 5))  # fmt: skip
    with pytest.warns(UserWarning, match="num_features is unused since affine=False"):
        nn.InstanceNorm1d(3)(nl.randn(2, 4, 5))
    with pytest.raises(
        ValueError, match=r"GroupNorm: num_channels \(6\) must be divisible by num_groups \(4\)"
    ):
        nn.GroupNorm(4, 6)  # fmt: skip


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: F.group_norm(nl.ones(2, 6, 4), 4), r"group_norm: the 6 channels of input shape \(2, 6, 4\) do not split into num_groups=4"),
        (lambda: F.instance_norm(nl.ones(2, 6)), r"instance_norm: expected more than 1 spatial element"),
        (lambda: F.instance_norm(nl.ones(2, 6, 3), use_input_stats=False), r"instance_norm: running_mean and running_var must be given"),
        (lambda: F.rms_norm(nl.ones(2, 6), (5,)), r"rms_norm: normalized_shape \(5,\) does not match the last dimensions of input shape \(2, 6\)"),
        (lambda: F.local_response_norm(nl.ones(2, 6), 3), r"local_response_norm: expected input \(N, C, \*\) with at least 3 dims"),
    ],
)  # fmt: skip
def test_bad_norm_arguments_raise_one_clear_line(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ============================================================================= dropout


def _varying_dims(out: np.ndarray) -> list[int]:
    """The dims along which the keep-mask changes (a channel mask varies along N and C only)."""
    keep = out == out.max()  # ones in: survivors all share the largest value
    return [d for d in range(keep.ndim) if not (keep == keep.take([0], axis=d)).all()]


@pytest.mark.parametrize(
    "fn, shape, dims",
    [
        ("dropout1d", (40, 30), [0]), ("dropout1d", (20, 30, 5), [0, 1]),
        ("dropout2d", (40, 30), [0, 1]), ("dropout2d", (20, 30, 5), [0, 1]),
        ("dropout2d", (20, 30, 4, 4), [0, 1]), ("dropout2d", (4, 30, 3, 3, 3), [0, 1]),
        ("dropout3d", (60,), [0]), ("dropout3d", (40, 30), [0]), ("dropout3d", (20, 30, 4, 4), [0]),
        ("dropout3d", (4, 30, 3, 3, 3), [0, 1]), ("feature_alpha_dropout", (20, 30, 4), [0, 1]),
    ],
)  # fmt: skip
def test_channel_dropout_masks_follow_torchs_reading_of_each_rank(fn, shape, dims):
    nl.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = getattr(F, fn)(nl.ones(*shape), 0.5, training=True).numpy()
        ref = getattr(TF, fn)(torch.ones(*shape), 0.5, training=True).numpy()
    assert _varying_dims(out) == dims == _varying_dims(ref)


def test_channel_dropout_warns_and_errors_as_torch():
    with pytest.warns(UserWarning, match=r"dropout2d: a 3-D input is read as \(N, C, L\)"):
        F.dropout2d(nl.ones(2, 3, 4))
    with pytest.warns(UserWarning, match=r"dropout2d: a 2-D input is deprecated"):
        nn.Dropout2d()(nl.ones(4, 3))
    with pytest.warns(UserWarning, match=r"dropout3d: a 3-D input is deprecated"):
        F.dropout3d(nl.ones(2, 3, 4))
    with pytest.raises(
        ValueError, match=r"dropout1d: expected input \(N, C, L\) or \(C, L\), got 4-D"
    ):
        F.dropout1d(nl.ones(2, 3, 4, 5))  # fmt: skip
    with pytest.raises(ValueError, match=r"dropout2d: channel dropout needs at least 2 dims"):
        F.dropout2d(nl.ones(3))
    for p in (-0.1, 1.5):
        with pytest.raises(
            ValueError, match=rf"dropout probability has to be between 0 and 1, but got {p}"
        ):
            nn.AlphaDropout(p)  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", ["alpha_dropout", "feature_alpha_dropout"])
def test_alpha_dropout_keeps_selu_statistics_and_torchs_values(fn, dtype):
    nl.manual_seed(2)
    x = nl.tensor(R.standard_normal((400, 50, 4)), dtype=dtype, requires_grad=True)
    out = getattr(F, fn)(x, 0.3, training=True)
    assert out.dtype == dtype
    assert abs(out.numpy().mean()) < 0.02 and abs(out.numpy().std() - 1) < 0.02
    alpha = 1.7580993408473766
    a = 1 / np.sqrt((alpha**2 * 0.3 + 1) * 0.7)
    kept = ~np.isclose(out.numpy(), alpha * a * (0.3 - 1), rtol=1e-6, atol=0)
    assert abs(kept.mean() - 0.7) < 0.02
    expected = a * x.numpy() + alpha * a * 0.3
    np.testing.assert_allclose(out.numpy()[kept], expected[kept], rtol=1e-5, atol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, a, 0), rtol=1e-5)
    assert F.alpha_dropout(x, 0.3) is x  # training defaults to False, as in torch
    np.testing.assert_array_equal(getattr(F, fn)(x, 1.0, True).numpy(), 0)


def test_dropout_modules_scale_in_training_and_pass_through_in_eval():
    nl.manual_seed(3)
    for cls in (
        "Dropout",
        "Dropout1d",
        "Dropout2d",
        "Dropout3d",
        "AlphaDropout",
        "FeatureAlphaDropout",
    ):
        layer = getattr(nn, cls)(p=0.25, inplace=False)
        assert repr(layer) == repr(getattr(tnn, cls)(p=0.25))
        x = nl.ones(4, 6, 3) if cls == "Dropout1d" else nl.ones(4, 6, 3, 2, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert not np.array_equal(layer(x).numpy(), x.numpy())
            assert layer.eval()(x) is x
    x = nl.ones(3, 4)
    assert F.dropout(x, 0.5, True, inplace=True) is x and set(np.unique(x.numpy())) <= {0, 2}
