"""Convolutions on small planes as one product over the batch (``neuralab.ops._conv_wide``).

Every geometry that takes the path (3×3 with padding, strided, dilated, pointwise, conv1d, with
and without bias, float32 and float64, either gradient alone) matches torch in the output and
both gradients, on the compiled and the NumPy path; two threads give the one-thread values; the
columns kept from the forward give the same gradients as rebuilt ones; and the path is taken
exactly where its rule says. Transposed convolutions of small inputs with a large weight (a
DCGAN generator's first layers) likewise match torch.
"""

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import compiled
from neuralab.ops import _conv_wide
from neuralab.ops import conv as conv_ops

F = nl.nn.functional
TF = torch.nn.functional

CASES = [  # (input, weight, options): each takes the batch-wide path
    ((3, 64, 4, 4), (128, 64, 3, 3), dict(padding=1)),
    ((2, 64, 8, 8), (128, 64, 3, 3), dict(padding=1, stride=2)),  # 8×8 -> 4×4
    ((2, 64, 4, 4), (128, 64, 3, 3), dict(padding=2, dilation=2)),
    ((5, 256, 2, 2), (256, 256, 1, 1), dict()),  # pointwise: the input is the columns
    ((3, 64, 3, 5), (192, 64, 2, 3), dict(padding=(1, 0))),  # odd sizes, a 2×3 kernel
    ((2, 128, 16, 16), (256, 128, 3, 3), dict(padding=1, stride=2)),  # 8×8, a large weight
]


@pytest.fixture(params=["compiled", "numpy"])
def path(request):
    """Run with the compiled im2col/col2im, then with NumPy alone."""
    saved = dict(compiled._cache)
    if request.param == "numpy":
        compiled._cache.update({"neuralab.compiled.im2col": None})
    yield request.param
    compiled._cache.clear()
    compiled._cache.update(saved)


@pytest.fixture
def calls(monkeypatch):
    """How many convolution calls built a WideConv."""
    made = []
    real = _conv_wide.WideConv

    def spy(*args, **kwargs):
        made.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(_conv_wide, "WideConv", spy)
    return made


def run(case, dtype, need=(True, True), seed=0, conv=F.conv2d, tconv=TF.conv2d):
    """Output, input gradient and weight gradient (None where not needed) of ours and torch's."""
    xs, ws, options = case
    rng = np.random.default_rng(seed)
    x_np, w_np = rng.standard_normal(xs), rng.standard_normal(ws)
    b_np = rng.standard_normal(ws[1] if conv is F.conv_transpose2d else ws[0])  # out channels
    tdtype = torch.float32 if dtype == nl.float32 else torch.float64
    x = nl.tensor(x_np, dtype=dtype, requires_grad=need[0])
    w = nl.tensor(w_np, dtype=dtype, requires_grad=need[1])
    xt = torch.tensor(x_np, dtype=tdtype, requires_grad=need[0])
    wt = torch.tensor(w_np, dtype=tdtype, requires_grad=need[1])
    y = conv(x, w, nl.tensor(b_np, dtype=dtype), **options)
    yt = tconv(xt, wt, torch.tensor(b_np, dtype=tdtype), **options)
    g = rng.standard_normal(yt.shape)
    y.backward(nl.tensor(g, dtype=dtype))
    yt.backward(torch.tensor(g, dtype=tdtype))
    ours = [y.numpy(), *(t.grad.numpy() if t.requires_grad else None for t in (x, w))]
    theirs = [yt.detach().numpy(), *(t.grad.numpy() if t.requires_grad else None for t in (xt, wt))]
    return ours, theirs


def assert_match(ours, theirs, tol):
    """Each of ours equals torch's to ``tol`` in dtype, shape and values (None where torch's is)."""
    for a, b in zip(ours, theirs):
        if b is None:
            assert a is None
            continue
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("dtype, tol", [(nl.float32, 2e-5), (nl.float64, 1e-10)])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("need", [(True, True), (True, False), (False, True)])
def test_batch_wide_conv_matches_torch(path, calls, dtype, tol, case, need):
    ours, theirs = run(case, dtype, need)
    assert len(calls) == 1
    assert_match(ours, theirs, tol)


def test_conv1d_on_a_short_sequence_takes_the_path_and_matches_torch(calls):
    case = ((4, 256, 10), (256, 256, 3), dict(padding=1))
    ours, theirs = run(case, nl.float32, conv=F.conv1d, tconv=TF.conv1d)
    assert len(calls) == 1
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-4)


def test_two_threads_and_rebuilt_columns_give_the_same_values(monkeypatch):
    case = ((16, 64, 4, 4), (128, 64, 3, 3), dict(padding=1))  # enough work for two chunks
    nl.set_num_threads(1)
    one, _ = run(case, nl.float32, seed=3)
    try:
        nl.set_num_threads(2)
        two, _ = run(case, nl.float32, seed=3)
    finally:
        nl.set_num_threads(1)
    monkeypatch.setattr(conv_ops, "KEEP_COLUMNS_BYTES", 0)  # columns rebuilt in backward
    rebuilt, _ = run(case, nl.float32, seed=3)
    for a, b, c in zip(one, two, rebuilt):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)  # the chunks' sums differ


def test_a_retained_graph_gives_the_same_gradients_twice(calls):
    rng = np.random.default_rng(5)
    x = nl.tensor(rng.standard_normal((4, 64, 4, 4)), dtype=nl.float32, requires_grad=True)
    w = nl.tensor(rng.standard_normal((128, 64, 3, 3)), dtype=nl.float32, requires_grad=True)
    y = F.conv2d(x, w, padding=1).square().sum()
    assert len(calls) == 1
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy(), w.grad.numpy().copy()
    x.grad = w.grad = None
    y.backward()
    np.testing.assert_array_equal(first[0], x.grad.numpy())
    np.testing.assert_array_equal(first[1], w.grad.numpy())


@pytest.mark.parametrize(
    "xs, ws, stride, wide",
    [
        ((8, 64, 4, 4), (128, 64, 3, 3), 1, True),  # 4×4 planes, a 288 KB weight
        ((8, 64, 4, 4), (64, 64, 3, 3), 1, False),  # a weight under 256 KB
        ((8, 512, 2, 2), (512, 512, 3, 3), 1, True),
        ((8, 256, 8, 8), (256, 256, 3, 3), 1, True),  # 8×8 with 256 channels
        ((8, 256, 16, 16), (512, 256, 3, 3), 2, True),  # strided to 8×8, a large weight
        ((8, 32, 16, 16), (64, 32, 3, 3), 2, False),  # strided to 8×8, a small weight
        ((1, 64, 4, 4), (128, 64, 3, 3), 1, False),  # one sample: nothing to batch
        ((8, 64, 16, 16), (64, 64, 3, 3), 1, False),  # larger planes
        ((8, 1024, 8, 8), (32, 1024, 3, 3), 1, False),  # fewer output channels than pixels
        ((8, 256, 4, 4), (512, 64, 3, 3), 1, False),  # grouped
    ],
)
def test_the_path_is_taken_where_its_rule_says(calls, xs, ws, stride, wide):
    x = nl.zeros(xs)
    F.conv2d(x, nl.zeros(ws), padding=1, stride=stride, groups=xs[1] // ws[1])
    assert len(calls) == int(wide)


def test_winograd_keeps_8x8_planes_of_fewer_channels(calls):
    if compiled.load("neuralab.compiled.winograd") is None:
        pytest.skip("compiled kernels are turned off (NEURALAB_NUMBA=0)")
    F.conv2d(nl.zeros((8, 128, 8, 8)), nl.zeros((128, 128, 3, 3)), padding=1)
    assert calls == []


TRANSPOSED = [  # (input, weight (in, out, kh, kw), options): each takes the batch-wide products
    ((4, 100, 1, 1), (100, 512, 4, 4), dict()),  # DCGAN's first layer: noise to 4×4
    ((3, 256, 4, 4), (256, 128, 4, 4), dict(stride=2, padding=1)),
    ((2, 128, 3, 2), (128, 96, 3, 3), dict(stride=2, padding=1, output_padding=1, dilation=2)),
]


@pytest.mark.parametrize("dtype, tol", [(nl.float32, 2e-5), (nl.float64, 1e-10)])
@pytest.mark.parametrize("case", TRANSPOSED)
@pytest.mark.parametrize("need", [(True, True), (True, False), (False, True)])
def test_batch_wide_transposed_conv_matches_torch(monkeypatch, dtype, tol, case, need):
    used = []
    real = _conv_wide.product_per_sample
    monkeypatch.setattr(_conv_wide, "product_per_sample", lambda *a: used.append(1) or real(*a))
    ours, theirs = run(case, dtype, need, conv=F.conv_transpose2d, tconv=TF.conv_transpose2d)
    assert len(used) == 1 + need[0]  # the forward, and the input gradient when asked
    assert_match(ours, theirs, tol)


def test_transposed_conv_of_one_sample_or_a_small_weight_stays_per_sample(monkeypatch):
    monkeypatch.setattr(_conv_wide, "product_per_sample", None)  # would fail if called
    F.conv_transpose2d(nl.zeros((1, 100, 1, 1)), nl.zeros((100, 512, 4, 4)))
    F.conv_transpose2d(nl.zeros((8, 16, 4, 4)), nl.zeros((16, 8, 4, 4)), stride=2, padding=1)
