"""The fast paths of the CNN ops against PyTorch and against each other.

Compiled batch norm (training mode) and the NumPy path both match torch, in float32 and float64,
for every input rank, with and without the affine parameters and running buffers. The compiled
im2col/col2im's flat paths (stride 1, output as wide as the input) give the NumPy path's exact
bits; pointwise (1×1) convolutions skip im2col; global average pooling is a mean; max pooling
of any geometry (compiled or NumPy) matches torch, NaN and ties included; 2×2 average pooling's
compiled pass gives the NumPy path's exact bits.
"""

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import compiled

F = nl.nn.functional
BATCH_NORM = "neuralab.compiled.batch_norm"
CONV = "neuralab.compiled.im2col"
WINOGRAD = "neuralab.compiled.winograd"
DTYPES = [(nl.float32, torch.float32, 2e-5), (nl.float64, torch.float64, 1e-10)]


@pytest.fixture(params=["compiled", "numpy"])
def path(request):
    """Run the test with the compiled kernels, then with NumPy alone (the NEURALAB_NUMBA=0 path)."""
    saved = dict(compiled._cache)
    if request.param == "compiled":
        pytest.importorskip("numba")
        if compiled.load(BATCH_NORM) is None:
            pytest.skip("compiled kernels are turned off (NEURALAB_NUMBA=0)")
    else:
        compiled._cache.update(
            {BATCH_NORM: None, CONV: None, "neuralab.compiled.pool": None, WINOGRAD: None}
        )
    yield request.param
    compiled._cache.clear()
    compiled._cache.update(saved)


def both(array: np.ndarray, dtype, torch_dtype) -> tuple[nl.Tensor, torch.Tensor]:
    """The same values as a neuralab and a torch leaf requiring grad."""
    ours = nl.tensor(array, dtype=dtype, requires_grad=True)
    theirs = torch.tensor(array, dtype=torch_dtype, requires_grad=True)
    return ours, theirs


@pytest.mark.parametrize("dtype, torch_dtype, tol", DTYPES)
@pytest.mark.parametrize("shape", [(16, 5), (8, 3, 10), (6, 4, 7, 9), (3, 2, 3, 4, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_training_batch_norm_matches_torch(path, dtype, torch_dtype, tol, shape, affine):
    rng = np.random.default_rng(1)
    c = shape[1]
    x, xt = both(rng.standard_normal(shape) * 3 + 200, dtype, torch_dtype)  # far from zero mean
    w, wt = both(rng.standard_normal(c), dtype, torch_dtype)
    b, bt = both(rng.standard_normal(c), dtype, torch_dtype)
    rm, rv = rng.standard_normal(c), rng.random(c) + 0.5
    running = [nl.tensor(rm.copy(), dtype=dtype), nl.tensor(rv.copy(), dtype=dtype)]
    running_t = [torch.tensor(rm, dtype=torch_dtype), torch.tensor(rv, dtype=torch_dtype)]
    params, params_t = ((w, b), (wt, bt)) if affine else ((None, None), (None, None))
    y = F.batch_norm(x, *running, *params, training=True, momentum=0.3, eps=1e-3)
    yt = torch.nn.functional.batch_norm(xt, *running_t, *params_t, True, 0.3, 1e-3)
    g = rng.standard_normal(shape)
    y.backward(nl.tensor(g, dtype=dtype))
    yt.backward(torch.tensor(g, dtype=torch_dtype))
    assert y.dtype == dtype and x.grad.dtype == dtype and running[1].dtype == dtype
    pairs = [(y, yt), (x.grad, xt.grad), (running[0], running_t[0]), (running[1], running_t[1])]
    if affine:
        pairs += [(w.grad, wt.grad), (b.grad, bt.grad)]
    for ours, theirs in pairs:
        expected = theirs.detach().numpy()
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(ours.numpy(), expected, rtol=tol, atol=tol * scale)


def test_batch_norm_takes_a_strided_input_and_grads_for_some_parents(path):
    rng = np.random.default_rng(2)
    base = rng.standard_normal((4, 6, 5, 8)).astype(np.float32)
    x, xt = both(base, nl.float32, torch.float32)
    w = nl.tensor(rng.standard_normal(5).astype(np.float32))  # no grad
    b, bt = both(rng.standard_normal(5).astype(np.float32), nl.float32, torch.float32)
    view, view_t = x.transpose(1, 2), xt.transpose(1, 2)  # (4, 5, 6, 8), not contiguous
    y = F.batch_norm(view, None, None, w, b, training=True)
    yt = torch.nn.functional.batch_norm(view_t, None, None, torch.tensor(w.numpy()), bt, True)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    assert w.grad is None
    for ours, theirs in ((y, yt), (x.grad, xt.grad), (b.grad, bt.grad)):
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-4, atol=1e-4)


def test_batch_norm_on_two_threads_gives_the_one_thread_result(path, monkeypatch):
    import neuralab.parallel as parallel

    rng = np.random.default_rng(3)
    x0 = rng.standard_normal((8, 6, 5, 5)).astype(np.float32)

    def run() -> list[np.ndarray]:
        x = nl.tensor(x0, requires_grad=True)
        w = nl.tensor(np.linspace(0.5, 2, 6, dtype=np.float32), requires_grad=True)
        y = F.batch_norm(x, None, None, w, None, training=True)
        (y * y * y).sum().backward()
        return [y.numpy(), x.grad.numpy(), w.grad.numpy()]

    one = run()
    monkeypatch.setattr(parallel, "MIN_CHUNK_WORK", 1)  # split even this small op
    threads = nl.get_num_threads()
    nl.set_num_threads(2)
    try:
        two = run()
    finally:
        nl.set_num_threads(threads)
    for a, b in zip(one, two):
        assert np.array_equal(a, b)


def test_batch_norm_still_rejects_a_single_value_per_channel(path):
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(nl.ones(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.batch_norm(nl.ones(2, 3), None, None, nl.ones(4), training=True)


CONV_CASES = [  # (input, weight, options): stride 1 with outputs as wide as the inputs, mostly
    ((2, 3, 7, 5), (4, 3, 3, 3), dict(padding=1)),
    ((2, 2, 6, 9), (3, 2, 3, 3), dict(padding=2, dilation=2)),
    ((1, 4, 1, 11), (2, 4, 3, 5), dict(padding=(1, 2))),  # a one-row image
    ((2, 2, 5, 4), (2, 2, 5, 7), dict(padding=(2, 3))),  # kernel wider than the image
    ((2, 3, 8, 8), (6, 1, 3, 3), dict(padding=1, groups=3)),
    ((2, 3, 9, 10), (5, 3, 3, 3), dict(padding=1, stride=2)),
    ((3, 2, 12, 11), (3, 2, 5, 5), dict()),  # valid: narrower output, per-row path
]


def conv_both(case, dtype, torch_dtype, seed: int = 0):
    """conv2d outputs and gradients from neuralab and from torch."""
    xs, ws, options = case
    rng = np.random.default_rng(seed)
    x, xt = both(rng.standard_normal(xs), dtype, torch_dtype)
    w, wt = both(rng.standard_normal(ws), dtype, torch_dtype)
    g = rng.standard_normal(torch.nn.functional.conv2d(xt, wt, **options).shape)
    y = F.conv2d(x, w, **options)
    y.backward(nl.tensor(g, dtype=dtype))
    yt = torch.nn.functional.conv2d(xt, wt, **options)
    yt.backward(torch.tensor(g, dtype=torch_dtype))
    return [y.numpy(), x.grad.numpy(), w.grad.numpy()], [
        t.detach().numpy() for t in (yt, xt.grad, wt.grad)
    ]


@pytest.mark.parametrize("dtype, torch_dtype, tol", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_paths_match_torch(path, dtype, torch_dtype, tol, case):
    ours, theirs = conv_both(case, dtype, torch_dtype)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("case", CONV_CASES)
def test_compiled_flat_im2col_col2im_equal_the_numpy_path_bit_for_bit(case):
    pytest.importorskip("numba")
    if compiled.load(CONV) is None:
        pytest.skip("compiled kernels are turned off (NEURALAB_NUMBA=0)")
    fast, _ = conv_both(case, nl.float32, torch.float32, seed=7)
    saved = dict(compiled._cache)
    compiled._cache[CONV] = None
    try:
        slow, _ = conv_both(case, nl.float32, torch.float32, seed=7)
    finally:
        compiled._cache.clear()
        compiled._cache.update(saved)
    for a, b in zip(fast, slow):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("weight_grad", [True, False])
def test_pointwise_conv_matches_torch_without_im2col(monkeypatch, groups, weight_grad):
    import neuralab.ops.conv as conv_ops

    def no_im2col(*args, **kwargs):
        raise AssertionError("a 1x1 convolution with stride 1 needs no columns")

    monkeypatch.setattr(conv_ops, "im2col", no_im2col)
    monkeypatch.setattr(conv_ops, "col2im", no_im2col)
    rng = np.random.default_rng(4)
    x, xt = both(rng.standard_normal((3, 4, 5, 6)), nl.float32, torch.float32)
    w, wt = both(rng.standard_normal((6, 4 // groups, 1, 1)), nl.float32, torch.float32)
    w.requires_grad = weight_grad
    y = F.conv2d(x, w, groups=groups)
    yt = torch.nn.functional.conv2d(xt, wt, groups=groups)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    pairs = [(y, yt), (x.grad, xt.grad)] + ([(w.grad, wt.grad)] if weight_grad else [])
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype, torch_dtype, tol", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (4, 1, 1), (3, 2, 8, 8)])
def test_global_average_pooling_matches_torch(dtype, torch_dtype, tol, shape):
    rng = np.random.default_rng(5)
    x, xt = both(rng.standard_normal(shape), dtype, torch_dtype)
    y = F.adaptive_avg_pool2d(x, 1)
    yt = torch.nn.functional.adaptive_avg_pool2d(xt, 1)
    g = rng.standard_normal(yt.shape)
    y.backward(nl.tensor(g, dtype=dtype))
    yt.backward(torch.tensor(g, dtype=torch_dtype))
    assert y.shape == tuple(yt.shape) and y.dtype == dtype and x.grad.dtype == dtype
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)


POOL = "neuralab.compiled.pool"
POOL_CASES = [  # (kernel, stride, padding, dilation, ceil_mode)
    (3, 2, 1, 1, False),
    (3, 1, 1, 1, False),
    ((2, 3), None, 0, 1, False),  # tiles, but not 2×2
    (3, 2, 1, 2, True),
    (2, 1, 0, 1, False),
]


def pool_run(case, dtype, nan: bool) -> list[np.ndarray]:
    """max_pool2d output, indices and input gradient on an input with ties (and a NaN)."""
    kernel, stride, padding, dilation, ceil_mode = case
    rng = np.random.default_rng(6)
    xs = rng.standard_normal((2, 3, 9, 11))
    xs[1, 2, 4:6, 4:6] = 1.5  # a tie: the first position in kernel order wins
    if nan:
        xs[0, 0, 2, 3] = np.nan
    x = nl.tensor(xs, dtype=dtype, requires_grad=True)
    options = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    y, index = F.max_pool2d(x, kernel, return_indices=True, **options)
    (y * y).sum().backward()
    xt = torch.tensor(xs, requires_grad=True)
    yt, it = torch.nn.functional.max_pool2d(xt, kernel, return_indices=True, **options)
    (yt * yt).sum().backward()
    ours = [y.numpy(), index.numpy(), x.grad.numpy()]
    return ours, [yt.detach().numpy().astype(ours[0].dtype), it.numpy(), xt.grad.numpy()]


@pytest.mark.parametrize("dtype", [nl.float32, nl.float64])
@pytest.mark.parametrize("case", POOL_CASES)
def test_max_pool_of_any_geometry_matches_torch_on_both_paths(path, case, dtype):
    ours, theirs = pool_run(case, dtype, nan=True)
    assert np.array_equal(ours[0], theirs[0], equal_nan=True)
    assert np.array_equal(ours[1], theirs[1])
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-6)  # NaN where torch has NaN only


@pytest.mark.parametrize("case", POOL_CASES)
def test_compiled_max_pool_of_any_geometry_equals_the_numpy_path_bit_for_bit(case):
    pytest.importorskip("numba")
    if compiled.load(POOL) is None:
        pytest.skip("compiled kernels are turned off (NEURALAB_NUMBA=0)")
    fast, _ = pool_run(case, nl.float32, nan=False)
    saved = dict(compiled._cache)
    compiled._cache[POOL] = None
    try:
        slow, _ = pool_run(case, nl.float32, nan=False)
    finally:
        compiled._cache.clear()
        compiled._cache.update(saved)
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def avg_pool_run(shape, dtype, broadcast_grad):
    """2×2 average pooling's output and input gradient: ours, torch's."""
    xs = np.random.default_rng(6).standard_normal(shape)
    x, xt = both(xs, dtype, {nl.float32: torch.float32, nl.float64: torch.float64}[dtype])
    y, yt = F.avg_pool2d(x, 2), torch.nn.functional.avg_pool2d(xt, 2)
    if broadcast_grad:  # sum's backward hands over a stride-0 gradient
        y.sum().backward(), yt.sum().backward()
    else:
        (y * y).sum().backward(), (yt * yt).sum().backward()
    return [y.numpy(), x.grad.numpy()], [yt.detach().numpy(), xt.grad.numpy()]


@pytest.mark.parametrize("dtype", [nl.float32, nl.float64])
@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (64, 6, 28, 28), (2, 2, 7, 9), (3, 5, 6)])
@pytest.mark.parametrize("broadcast_grad", [False, True])
def test_avg_pool_2x2_matches_torch_and_the_numpy_path_bit_for_bit(
    path, dtype, shape, broadcast_grad
):
    ours, theirs = avg_pool_run(shape, dtype, broadcast_grad)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    if path == "compiled":
        saved = dict(compiled._cache)
        compiled._cache[POOL] = None
        try:
            slow, _ = avg_pool_run(shape, dtype, broadcast_grad)
        finally:
            compiled._cache.clear()
            compiled._cache.update(saved)
        for a, b in zip(ours, slow):
            assert np.array_equal(a, b)
