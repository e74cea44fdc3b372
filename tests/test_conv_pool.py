"""Convolution, pooling and resizing kernels against torch.nn.functional (the test oracle).

Each case runs the op in neuralab and in torch on the same random data, compares the outputs,
then backpropagates the same random upstream gradient through both and compares the gradient of
every input (input, weight, bias). float32 must stay float32; float64 must agree to 1e-10.
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import neuralab as nl
from neuralab.ops.conv import conv1d, conv2d, conv_transpose2d
from neuralab.ops.pool import (
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    max_unpool2d,
)
from neuralab.ops.resize import interpolate
from neuralab.tensor import Tensor

DTYPES = [np.float32, np.float64]
TOL = {
    np.float32: dict(rtol=1e-4, atol=1e-5),
    np.float64: dict(rtol=1e-10, atol=1e-10),
}


def check_against_torch(ours, theirs, shapes, kwargs, dtype, seed=0):
    """Compare forward values and every input's gradient under a random upstream gradient."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    saved = [a.copy() for a in arrays]
    nl_in = [Tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = ours(*nl_in, **kwargs)
    ref = theirs(*t_in, **kwargs)
    assert out.shape == tuple(ref.shape)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **TOL[dtype])
    g = rng.standard_normal(ref.shape).astype(dtype)
    g_saved = g.copy()
    out.backward(gradient=g)
    ref.backward(torch.from_numpy(g.copy()))
    np.testing.assert_array_equal(g, g_saved)  # the incoming gradient is never modified
    for t, a, keep, r in zip(nl_in, arrays, saved, t_in):
        np.testing.assert_array_equal(a, keep)  # nor the saved inputs
        assert t.grad.dtype == dtype
        np.testing.assert_allclose(t.grad.numpy(), r.grad.numpy(), **TOL[dtype])


def tensors(*shapes, seed=0):
    """Small float64 leaf tensors for gradcheck."""
    rng = np.random.default_rng(seed)
    return [Tensor(rng.standard_normal(s), dtype=np.float64, requires_grad=True) for s in shapes]


# ----------------------------------------------------------------------------- convolution

CONV2D_CASES = [
    ((2, 3, 8, 8), (4, 3, 3, 3), {}),
    ((2, 3, 9, 7), (5, 3, 3, 2), dict(stride=2, padding=1)),
    ((1, 4, 10, 11), (6, 2, 3, 3), dict(stride=(2, 3), padding=(2, 1), dilation=(2, 1), groups=2)),
    ((2, 6, 7, 7), (6, 1, 3, 3), dict(padding="same", groups=6)),
    ((2, 3, 8, 9), (4, 3, 4, 2), dict(padding="same")),  # odd total padding: extra row last
    ((2, 3, 8, 9), (4, 3, 3, 2), dict(padding="same", dilation=2)),
    ((2, 3, 6, 6), (4, 3, 1, 1), dict(padding="valid")),
    ((2, 3, 5, 5), (4, 3, 5, 5), {}),
    ((3, 7, 7), (2, 3, 3, 3), dict(stride=2)),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs, ws, kw", CONV2D_CASES)
def test_conv2d_matches_torch(xs, ws, kw, dtype):
    check_against_torch(conv2d, F.conv2d, [xs, ws, (ws[0],)], kw, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_without_bias(dtype):
    check_against_torch(conv2d, F.conv2d, [(2, 4, 6, 7), (6, 2, 3, 3)], dict(groups=2), dtype)


CONV1D_CASES = [
    ((2, 4, 11), (6, 2, 3), dict(stride=2, padding=1, dilation=2, groups=2)),
    ((2, 3, 10), (4, 3, 4), dict(padding="same")),
    ((3, 9), (2, 3, 3), {}),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs, ws, kw", CONV1D_CASES)
def test_conv1d_matches_torch(xs, ws, kw, dtype):
    check_against_torch(conv1d, F.conv1d, [xs, ws, (ws[0],)], kw, dtype)


CONV_T_CASES = [
    ((2, 4, 5, 5), (4, 3, 3, 3), {}),
    ((2, 4, 5, 6), (4, 3, 4, 4), dict(stride=2, padding=1)),
    (
        (2, 4, 5, 6),
        (4, 2, 3, 2),
        dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2, dilation=(1, 2)),
    ),
    ((3, 4, 4), (3, 2, 3, 3), dict(stride=2, output_padding=2, dilation=3)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs, ws, kw", CONV_T_CASES)
def test_conv_transpose2d_matches_torch(xs, ws, kw, dtype):
    groups = kw.get("groups", 1)
    check_against_torch(
        conv_transpose2d, F.conv_transpose2d, [xs, ws, (ws[1] * groups,)], kw, dtype
    )


def test_conv2d_grads_only_for_inputs_that_need_them():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w = Tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    out = conv2d(x, w, padding=1)  # a plain array input: a constant in the graph
    out.backward(gradient=np.ones(out.shape, np.float32))
    ref_w = torch.tensor(w.numpy(), requires_grad=True)
    F.conv2d(torch.tensor(x), ref_w, padding=1).backward(torch.ones(out.shape))
    np.testing.assert_allclose(w.grad.numpy(), ref_w.grad.numpy(), rtol=1e-4, atol=1e-5)
    with nl.no_grad():
        assert not conv2d(Tensor(x, requires_grad=True), w).requires_grad


def test_conv_gradcheck():
    x, w, b = tensors((1, 2, 5, 6), (4, 1, 3, 2), (4,))
    assert nl.gradcheck(
        lambda *a: conv2d(*a, stride=2, padding=1, dilation=(1, 2), groups=2), [x, w, b]
    )
    x, w, b = tensors((2, 2, 7), (3, 2, 3), (3,))
    assert nl.gradcheck(lambda *a: conv1d(*a, stride=2, padding=2), [x, w, b])
    x, w, b = tensors((1, 2, 3, 4), (2, 2, 3, 3), (4,))
    assert nl.gradcheck(
        lambda *a: conv_transpose2d(*a, stride=2, padding=1, output_padding=1, groups=2), [x, w, b]
    )


CONV_ERRORS = [
    (
        conv2d,
        [(2, 3, 8, 8), (4, 5, 3, 3)],
        {},
        "conv2d: input of shape (2, 3, 8, 8) has 3 channels but weight (4, 5, 3, 3) expects 5 "
        "(groups=1)",
    ),
    (conv2d, [(2, 4, 8, 8), (3, 2, 3, 3)], dict(groups=2), "not divisible by groups=2"),
    (conv2d, [(2, 3, 4, 4), (4, 3, 5, 5)], {}, "larger than the padded input (4, 4)"),
    (conv2d, [(2, 3, 4, 4), (4, 3, 3, 3)], dict(dilation=2), "spans (5, 5)"),
    (conv2d, [(1, 2, 3, 4, 4), (4, 2, 3, 3)], {}, "expected a 3-D (unbatched) or 4-D"),
    (conv2d, [(2, 3, 8, 8), (4, 3, 3)], {}, "conv2d: weight must be 4-D"),
    (conv2d, [(2, 3, 8, 8), (4, 3, 3, 3)], dict(stride=2, padding="same"), "strided"),
    (conv2d, [(2, 3, 8, 8), (4, 3, 3, 3)], dict(padding="full"), "'valid' or 'same'"),
    (conv2d, [(2, 3, 8, 8), (4, 3, 3, 3)], dict(stride=0), "stride must be >= 1"),
    (conv2d, [(2, 3, 8, 8), (4, 3, 3, 3), (3,)], {}, "bias of shape (3,)"),
    (conv1d, [(2, 3, 8), (4, 2, 3)], {}, "conv1d: input of shape (2, 3, 8) has 3 channels"),
    (conv1d, [(2, 3, 2), (4, 3, 3)], {}, "conv1d: kernel of size (3,)"),
    (
        conv_transpose2d,
        [(2, 3, 5, 5), (4, 2, 3, 3)],
        {},
        "conv_transpose2d: input of shape (2, 3, 5, 5) has 3 channels but weight (4, 2, 3, 3) "
        "expects 4",
    ),
    (conv_transpose2d, [(2, 4, 5, 5), (4, 2, 3, 3)], dict(output_padding=1), "output_padding"),
    (conv_transpose2d, [(2, 4, 1, 1), (4, 2, 1, 1)], dict(padding=1), "empty output"),
]


@pytest.mark.parametrize("fn, shapes, kw, message", CONV_ERRORS)
def test_conv_errors(fn, shapes, kw, message):
    args = [Tensor(np.zeros(s, np.float32)) for s in shapes]
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(*args, **kw)


def test_conv_dtype_errors():
    x = Tensor(np.zeros((1, 3, 5, 5)), dtype=np.float64)
    with pytest.raises(TypeError, match="conv2d: all tensors must have the same dtype"):
        conv2d(x, Tensor(np.zeros((2, 3, 3, 3), np.float32)))
    with pytest.raises(TypeError, match="conv2d: expected floating-point tensors, got dtype int64"):
        conv2d(np.zeros((1, 3, 5, 5), np.int64), np.zeros((2, 3, 3, 3), np.int64))


# ----------------------------------------------------------------------------- max pooling

MAX_POOL_CASES = [
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((2, 3, 9, 8), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), dilation=(2, 1))),
    ((2, 3, 8, 8), dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)),
    ((2, 2, 5, 5), dict(kernel_size=3, stride=1, padding=1)),
    ((3, 6, 7), dict(kernel_size=2, stride=1)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs, kw", MAX_POOL_CASES)
def test_max_pool2d_matches_torch(xs, kw, dtype):
    check_against_torch(max_pool2d, F.max_pool2d, [xs], kw, dtype)
    x = np.random.default_rng(2).standard_normal(xs).astype(dtype)
    _, idx = max_pool2d(Tensor(x, dtype=dtype), return_indices=True, **kw)
    _, ref_idx = F.max_pool2d(torch.from_numpy(x), return_indices=True, **kw)
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(idx.numpy(), ref_idx.numpy())


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_max_pool2d_ties_nan_and_inf_pick_torchs_index(ceil_mode):
    rng = np.random.default_rng(3)
    for _ in range(10):
        x = rng.integers(-2, 2, (2, 2, 6, 7)).astype(np.float32)  # many ties
        x[rng.random(x.shape) < 0.1] = np.nan
        x[rng.random(x.shape) < 0.3] = -np.inf  # whole windows of -inf next to the padding
        kw = dict(kernel_size=3, stride=2, padding=1, ceil_mode=ceil_mode)
        xn = Tensor(x, requires_grad=True)
        out, idx = max_pool2d(xn, return_indices=True, **kw)
        xt = torch.tensor(x, requires_grad=True)
        ref, ref_idx = F.max_pool2d(xt, return_indices=True, **kw)
        np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
        np.testing.assert_array_equal(idx.numpy(), ref_idx.numpy())
        g = rng.standard_normal(out.shape).astype(np.float32)
        out.backward(gradient=g)
        ref.backward(torch.from_numpy(g))
        np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool1d_matches_torch(dtype):
    kw = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)
    check_against_torch(max_pool1d, F.max_pool1d, [(2, 3, 11)], kw, dtype)
    x = np.random.default_rng(4).standard_normal((2, 3, 11)).astype(dtype)
    _, idx = max_pool1d(Tensor(x, dtype=dtype), return_indices=True, **kw)
    _, ref_idx = F.max_pool1d(torch.from_numpy(x), return_indices=True, **kw)
    np.testing.assert_array_equal(idx.numpy(), ref_idx.numpy())


# ----------------------------------------------------------------------------- average pooling

AVG_POOL_CASES = [
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((2, 3, 7, 9), dict(kernel_size=2)),  # tiles, but the last row and column fall outside
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (
        (2, 3, 7, 9),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    ),
    ((2, 3, 8, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),  # past the pad
    ((2, 3, 8, 10), dict(kernel_size=(2, 4), stride=(3, 1), padding=(1, 2))),
    ((2, 3, 8, 10), dict(kernel_size=(2, 4), padding=(1, 2), count_include_pad=False)),
    ((3, 5, 6), dict(kernel_size=2, stride=1, ceil_mode=True)),
    # every window cut by the padding alike: one divisor, 2·2 = 4, not the kernel's 3·3
    (
        (1, 2, 3, 3),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    ),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs, kw", AVG_POOL_CASES)
def test_avg_pool2d_matches_torch(xs, kw, dtype):
    check_against_torch(avg_pool2d, F.avg_pool2d, [xs], kw, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("include", [True, False])
def test_avg_pool1d_matches_torch(include, dtype):
    kw = dict(kernel_size=4, stride=3, padding=2, ceil_mode=True, count_include_pad=include)
    check_against_torch(avg_pool1d, F.avg_pool1d, [(2, 3, 10)], kw, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "xs, size", [((2, 3, 7, 9), 1), ((2, 3, 7, 9), (3, 4)), ((2, 3, 7, 9), (5, None)),
                 ((2, 3, 7, 9), (10, 13)), ((3, 8, 8), 4)],
)  # fmt: skip
def test_adaptive_avg_pool2d_matches_torch(xs, size, dtype):
    check_against_torch(
        adaptive_avg_pool2d, F.adaptive_avg_pool2d, [xs], dict(output_size=size), dtype
    )


def test_pool_gradcheck():
    (x,) = tensors((1, 2, 5, 6))
    assert nl.gradcheck(lambda t: max_pool2d(t, 3, 2, padding=1, ceil_mode=True), [x])
    assert nl.gradcheck(lambda t: max_pool1d(t[0], 2, 1, dilation=2), [x])
    for include in (True, False):
        assert nl.gradcheck(
            lambda t, inc=include: avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=inc),
            [x],
        )
    assert nl.gradcheck(lambda t: avg_pool1d(t[0], 3, 2, 1), [x])
    assert nl.gradcheck(lambda t: adaptive_avg_pool2d(t, (3, 4)), [x])


POOL_ERRORS = [
    (max_pool2d, (2, 3, 8, 8), dict(kernel_size=3, padding=2), "max_pool2d: padding 2 must be"),
    (max_pool2d, (2, 3, 2, 2), dict(kernel_size=3), "output would be empty"),
    (max_pool2d, (8, 8), dict(kernel_size=2), "expected a 3-D (unbatched) or 4-D (batched)"),
    (max_pool2d, (2, 3, 8, 8), dict(kernel_size=(2, 2, 2)), "kernel_size must be an int or a"),
    (max_pool1d, (2, 3, 8), dict(kernel_size=2, stride=0), "max_pool1d: stride must be >= 1"),
    (avg_pool2d, (2, 3, 8, 8), dict(kernel_size=2, padding=(0, 2)), "avg_pool2d: padding (0, 2)"),
    (avg_pool1d, (2, 3, 2), dict(kernel_size=3), "avg_pool1d: input of shape (2, 3, 2)"),
    (adaptive_avg_pool2d, (2, 3, 8, 8), dict(output_size=(2, 0)), "output_size must be positive"),
    (adaptive_avg_pool2d, (2, 3, 8, 8), dict(output_size=(2, 2, 2)), "an int or a pair"),
]


@pytest.mark.parametrize("fn, xs, kw, message", POOL_ERRORS)
def test_pool_errors(fn, xs, kw, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(Tensor(np.zeros(xs, np.float32)), **kw)


# ----------------------------------------------------------------------------- max unpooling


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "xs, kw, size",
    [
        ((2, 3, 8, 10), dict(kernel_size=2), None),
        ((2, 3, 9, 11), dict(kernel_size=2), (9, 11)),
        ((2, 3, 9, 11), dict(kernel_size=2), (2, 3, 9, 10)),
        ((2, 3, 9, 9), dict(kernel_size=3, stride=2, padding=1), (9, 9)),
        ((3, 6, 6), dict(kernel_size=2), None),
    ],
)
def test_max_unpool2d_matches_torch(xs, kw, size, dtype):
    x = torch.from_numpy(np.random.default_rng(5).standard_normal(xs).astype(dtype))
    pooled, idx = F.max_pool2d(x, return_indices=True, **kw)

    def ours(t):
        return max_unpool2d(t, nl.tensor(idx.numpy()), output_size=size, **kw)

    def theirs(t):
        return F.max_unpool2d(t, idx, output_size=size, **kw)

    check_against_torch(ours, theirs, [tuple(pooled.shape)], {}, dtype)


def test_max_pool_then_unpool_round_trip():
    x = np.random.default_rng(6).standard_normal((2, 3, 8, 8)).astype(np.float32)
    pooled, idx = max_pool2d(Tensor(x), 2, return_indices=True)
    up = max_unpool2d(pooled, idx, 2)
    kept = up.numpy() != 0
    np.testing.assert_array_equal(up.numpy()[kept], x[kept])
    assert kept.sum() == pooled.numpy().size


def test_max_unpool2d_errors():
    x = Tensor(np.zeros((1, 1, 2, 2), np.float32))
    idx = nl.tensor(np.array([[[[0, 1], [4, 99]]]]))
    with pytest.raises(ValueError, match="max_unpool2d: index 99 in indices is out of range"):
        max_unpool2d(x, idx, 2)
    with pytest.raises(ValueError, match=re.escape("output_size (7, 4) is invalid")):
        max_unpool2d(x, nl.tensor(np.zeros((1, 1, 2, 2), np.int64)), 2, output_size=(7, 4))
    with pytest.raises(ValueError, match="indices must be an integer tensor of the input's shape"):
        max_unpool2d(x, nl.tensor(np.zeros((1, 1, 2, 3), np.int64)), 2)


def test_max_unpool2d_gradcheck():
    (x,) = tensors((1, 2, 3, 3))
    idx = nl.tensor(np.random.default_rng(7).permutation(36)[:18].reshape(1, 2, 3, 3))
    assert nl.gradcheck(lambda t: max_unpool2d(t, idx, 2), [x])


# ----------------------------------------------------------------------------- interpolate

INTERP_CASES = [
    dict(size=(5, 13), mode="nearest"),
    dict(scale_factor=2, mode="nearest"),
    dict(scale_factor=(0.6, 1.7), mode="nearest"),
    dict(size=(5, 13), mode="bilinear"),
    dict(size=(5, 13), mode="bilinear", align_corners=True),
    dict(scale_factor=2, mode="bilinear"),
    dict(scale_factor=(0.6, 2.3), mode="bilinear", align_corners=False),
    dict(scale_factor=(1.5, 3), mode="bilinear", align_corners=True),
    dict(size=(1, 1), mode="bilinear", align_corners=True),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", INTERP_CASES)
def test_interpolate_matches_torch(kw, dtype):
    check_against_torch(interpolate, F.interpolate, [(2, 3, 7, 9)], kw, dtype)


def test_interpolate_nearest_indices_match_torch_for_many_sizes():
    x = np.arange(23, dtype=np.float32).reshape(1, 1, 1, 23)
    for size in range(1, 75):
        ours = interpolate(Tensor(x), size=(1, size)).numpy()
        ref = F.interpolate(torch.from_numpy(x), size=(1, size)).numpy()
        np.testing.assert_array_equal(ours, ref)
    for scale in (0.3, 1 / 3, 0.7, 1.05, 1.3, 2.2, 7 / 3):
        ours = interpolate(Tensor(x), scale_factor=(1, scale)).numpy()
        ref = F.interpolate(torch.from_numpy(x), scale_factor=(1, scale)).numpy()
        np.testing.assert_array_equal(ours, ref)


def test_interpolate_gradcheck():
    (x,) = tensors((1, 2, 3, 4))
    assert nl.gradcheck(lambda t: interpolate(t, size=(5, 3)), [x])
    assert nl.gradcheck(lambda t: interpolate(t, scale_factor=(1.7, 0.6), mode="bilinear"), [x])
    assert nl.gradcheck(
        lambda t: interpolate(t, size=(4, 7), mode="bilinear", align_corners=True), [x]
    )


INTERP_ERRORS = [
    ((2, 3, 4, 4), dict(size=2, scale_factor=2), "exactly one of size and scale_factor"),
    ((2, 3, 4, 4), {}, "exactly one of size and scale_factor"),
    ((2, 3, 4, 4), dict(size=2, mode="cubic"), "'trilinear'], got 'cubic'"),
    ((2, 3, 4, 4), dict(size=2, align_corners=True), "align_corners can only be set"),
    ((2, 3), dict(size=2), "expected a 3-D, 4-D or 5-D input (N, C, *spatial), got shape (2, 3)"),
    ((2, 3, 4), dict(size=2, mode="bilinear"), "mode 'bilinear' takes a 4-D input, got shape"),
    ((2, 3, 4, 4), dict(scale_factor=0.1), "to an empty output (0, 0)"),
]


@pytest.mark.parametrize("xs, kw, message", INTERP_ERRORS)
def test_interpolate_errors(xs, kw, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        interpolate(Tensor(np.zeros(xs, np.float32)), **kw)


def test_kernels_do_not_import_torch():
    code = (
        "import sys, neuralab.ops.conv, neuralab.ops.pool, neuralab.ops.resize; "
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("keep", [True, False])
def test_conv_in_blocks_of_samples_gives_the_same_bits(monkeypatch, keep):
    """Samples go through im2col + GEMM a block at a time; the block size changes no result."""
    import neuralab.ops.conv as conv_ops

    if not keep:  # the columns are rebuilt in backward, block by block too
        monkeypatch.setattr(conv_ops, "KEEP_COLUMNS_BYTES", 0)
    rng = np.random.default_rng(5)
    x0 = rng.standard_normal((7, 4, 9, 9)).astype(np.float32)
    w0 = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)

    def run() -> list[np.ndarray]:
        x, w = nl.tensor(x0, requires_grad=True), nl.tensor(w0, requires_grad=True)
        b = nl.tensor(np.arange(6, dtype=np.float32), requires_grad=True)
        y = conv2d(x, w, b, padding=1, groups=2)
        (y * y).sum().backward()
        return [y.numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()]

    whole = run()  # all 7 samples in one block
    monkeypatch.setattr(conv_ops, "BLOCK_BYTES", 1)  # one sample per block
    for a, b in zip(whole, run()):
        assert np.array_equal(a, b)


def test_kept_geometry_never_hides_an_error_or_a_size_given_as_a_list():
    ours = nl.nn.functional
    x, w = nl.randn(1, 2, 8, 8), nl.randn(2, 2, 3, 3)
    assert ours.conv2d(x, w, stride=1).shape == (1, 2, 6, 6)  # now kept for these arguments
    for _ in range(2):  # raised again, not answered from what was kept for stride=1
        with pytest.raises(TypeError, match=r"conv2d: stride must be an int or a tuple of 2 ints"):
            ours.conv2d(x, w, stride=1.0)
        with pytest.raises(ValueError, match="has 2 channels but weight"):
            ours.conv2d(x, nl.randn(2, 3, 3, 3))
    assert ours.conv2d(x, w, stride=[2, 2]).shape == (1, 2, 3, 3)  # a list: computed each time
    assert ours.max_pool2d(x, [2, 2]).shape == ours.max_pool2d(x, 2).shape == (1, 2, 4, 4)
    with pytest.raises(TypeError, match="max_pool2d: kernel_size must be an int"):
        ours.max_pool2d(x, 2.0)
