"""neuralab.compiled: the numba kernels against the NumPy paths they replace.

Adam's, ReLU's, max pooling's, im2col's and col2im's kernels give the NumPy path's exact bits; the LSTM
and GRU kernels compute tanh by a rational approximation, so they match it to float32 rounding;
the row scatter-add sums in index order, which NumPy's ``reduceat`` may group differently.
"""

import os

import numpy as np
import pytest

import neuralab as nl
from neuralab import compiled

numba = pytest.importorskip("numba", reason="the compiled kernels need numba (neuralab[fast])")
pytestmark = pytest.mark.skipif(
    os.environ.get("NEURALAB_NUMBA") == "0", reason="NEURALAB_NUMBA=0 turns the kernels off"
)


ADAM = "neuralab.compiled.adam"
RNN = "neuralab.compiled.rnn_cell"
SEQUENCE = "neuralab.compiled.rnn_sequence"


@pytest.fixture
def kernel_choice():
    """Run a body with the compiled kernels on or off; the cache is restored afterwards."""
    saved = dict(compiled._cache)

    def choose(use: bool) -> None:
        compiled._cache.clear()
        if not use:
            compiled._cache.update(
                {k: None for k in (ADAM, RNN, SEQUENCE, POOL, CONV, SCATTER, RELU)}
            )

    yield choose
    compiled._cache.clear()
    compiled._cache.update(saved)


def with_and_without(kernel_choice, module: str, run) -> tuple[list, list]:
    """``run()`` with the compiled kernels (``module`` among them), then with NumPy alone."""
    kernel_choice(True)
    assert compiled.load(module) is not None
    fast = run()
    kernel_choice(False)
    return fast, run()


def train(optimizer: type, dtype, steps: int = 6, **options) -> list[np.ndarray]:
    """Parameters after ``steps`` updates from seeded random gradients."""
    rng = np.random.default_rng(0)
    shapes = [(300, 70), (70,), (5, 3, 3), (1,)]
    params = [nl.nn.Parameter(nl.tensor(rng.standard_normal(s), dtype=dtype)) for s in shapes]
    opt = optimizer(params, lr=0.01, **options)
    for _ in range(steps):
        for p in params:
            p.grad = nl.tensor(rng.standard_normal(p.shape), dtype=dtype)
        opt.step()
    return [p.numpy().copy() for p in params] + [opt.state[params[0]]["exp_avg_sq"].numpy().copy()]


@pytest.mark.parametrize("dtype", [nl.float32, nl.float64])
@pytest.mark.parametrize(
    "optimizer, options",
    [
        (nl.optim.Adam, {}),
        (nl.optim.Adam, {"weight_decay": 0.1, "maximize": True, "betas": (0.8, 0.99)}),
        (nl.optim.AdamW, {"weight_decay": 0.1}),
    ],
)
def test_compiled_adam_equals_the_numpy_path_bit_for_bit(kernel_choice, optimizer, options, dtype):
    fast, slow = with_and_without(kernel_choice, ADAM, lambda: train(optimizer, dtype, **options))
    for a, b in zip(fast, slow):
        assert a.dtype == np.dtype(dtype) and np.array_equal(a, b)


def test_the_kernel_runs_on_two_threads_alike(kernel_choice, monkeypatch):
    from neuralab import parallel

    kernel_choice(True)
    one = train(nl.optim.Adam, nl.float32)
    monkeypatch.setattr(parallel, "MIN_CHUNK_WORK", 1)
    monkeypatch.setattr(parallel, "BLAS_THREADING_WORK", 0)
    nl.set_num_threads(2)
    try:
        two = train(nl.optim.Adam, nl.float32)
    finally:
        nl.set_num_threads(1)
    for a, b in zip(one, two):
        assert np.array_equal(a, b)


def test_neuralab_numba_0_turns_the_kernels_off(kernel_choice, monkeypatch):
    kernel_choice(True)
    monkeypatch.setenv("NEURALAB_NUMBA", "0")
    compiled._cache.clear()
    assert compiled.load(ADAM) is None and compiled.load(RNN) is None
    assert not compiled.numba_enabled()


# ----------------------------------------------------------------------------- LSTM and GRU cells


def test_rational_tanh_is_float32_tanh_within_one_ulp():
    kernels = compiled.load(RNN)
    x = np.linspace(-12, 12, 400_001, dtype=np.float32)
    x = np.concatenate([x, np.float32([0, -0.0, 1e-30, -1e-30, 9.1, 50, -50])])
    got = np.empty_like(x)
    kernels.tanh_array(x, got)
    exact = np.tanh(x.astype(np.float64)).astype(np.float32)
    ulps = np.abs(got.view(np.int32).astype(np.int64) - exact.view(np.int32))
    assert ulps.max() <= 1 and (ulps != 0).mean() < 1e-3
    wide = np.linspace(1e-6, 9.1, 200_001)  # the approximation itself, in float64
    approx = np.empty_like(wide)
    kernels.tanh_array(wide, approx)
    assert np.abs(approx / np.tanh(wide) - 1).max() < 5e-11


def test_rational_tanh_lets_nan_through_and_saturates_infinities():
    kernels = compiled.load(RNN)
    got = np.empty(3, np.float32)
    kernels.tanh_array(np.float32([np.nan, np.inf, -np.inf]), got)
    assert np.isnan(got[0]) and got[1] == 1 and got[2] == -1


def rnn_run(
    cell: str, bias: bool, reverse: bool, use_output: bool, batch: int = 5
) -> list[np.ndarray]:
    """Outputs and gradients of lstm_recurrence / gru_recurrence on seeded float32 inputs."""
    from neuralab.ops.recurrent import gru_recurrence, lstm_recurrence

    rng = np.random.default_rng(3)
    steps, hidden = 7, 12
    gates = 4 if cell == "lstm" else 3

    def leaf(*shape):
        data = rng.standard_normal(shape).astype(np.float32)
        return nl.tensor(data, requires_grad=True)

    xg, h0, w = (
        leaf(steps, batch, gates * hidden),
        leaf(batch, hidden),
        leaf(gates * hidden, hidden),
    )
    b = leaf(gates * hidden) if bias else None
    if cell == "lstm":
        c0 = leaf(batch, hidden)
        out, *finals = lstm_recurrence(xg, h0, c0, w, b, reverse=reverse)
    else:
        c0 = None
        out, *finals = gru_recurrence(xg, h0, w, b, reverse=reverse)
    loss = finals[0].sum()
    for t in [*finals[1:], out] if use_output else finals[1:]:
        loss = loss + (t * nl.tensor(rng.standard_normal(t.shape).astype(np.float32))).sum()
    loss.backward()
    leaves = [t for t in (xg, h0, c0, w, b) if t is not None]
    return [out.numpy()] + [f.numpy() for f in finals] + [t.grad.numpy() for t in leaves]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("bias, reverse, use_output", [(True, False, True), (False, True, False)])
def test_compiled_recurrent_cells_match_the_numpy_path(
    kernel_choice, cell, bias, reverse, use_output
):
    fast, slow = with_and_without(
        kernel_choice, RNN, lambda: rnn_run(cell, bias, reverse, use_output)
    )
    for a, b in zip(fast, slow):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


def test_numpy_sgemm_is_numpys_own_product():
    sgemm = compiled.numpy_sgemm()
    if sgemm is None:
        pytest.skip("NumPy's BLAS is not an OpenBLAS (the per-step recurrences run)")
    rng = np.random.default_rng(8)
    a, b = (rng.standard_normal(s).astype(np.float32) for s in [(9, 130), (130, 70)])
    out = np.full((9, 70), np.nan, np.float32)
    m, k, n = 9, 130, 70
    sgemm(101, 111, 111, m, n, k, 1.0, a.ctypes.data, k, b.ctypes.data, n, 0.0, out.ctypes.data, n)
    assert np.array_equal(out, a.dot(b))  # row-major, no transposes: NumPy's kernels, its bits


def test_compiled_products_of_one_row_are_numpys_bits():
    """One row goes to sgemv (NumPy's choice for a row times a matrix), both layouts, any beta."""
    blas = compiled.load("neuralab.compiled.blas")
    if blas is None or compiled.numpy_sgemv() is None:
        pytest.skip("NumPy's BLAS is not an OpenBLAS")
    rng = np.random.default_rng(9)
    row, w = rng.standard_normal((1, 130), np.float32), rng.standard_normal((70, 200), np.float32)
    w = w[:, :130]  # strided rows, as product_nt allows
    out = np.full((1, 70), np.nan, np.float32)
    blas.product_nt(row, w, out, 0.0)
    assert np.array_equal(out, row @ w.T)
    wt = np.ascontiguousarray(w.T)
    blas.product(row, wt, out, 0.0)
    assert np.array_equal(out, row @ wt)
    before = out.copy()
    blas.product(row, wt, out, 1.0)
    np.testing.assert_allclose(out, before + row @ wt, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("bias, reverse, use_output", [(True, False, True), (False, True, False)])
def test_compiled_whole_recurrence_matches_the_per_step_path_on_any_threads(
    kernel_choice, monkeypatch, cell, bias, reverse, use_output
):
    from neuralab import parallel

    # 21 rows: products on blocks of 8, 8 and 5 rows; on two threads the rows split 10 / 11
    run = lambda: rnn_run(cell, bias, reverse, use_output, batch=21)  # noqa: E731
    kernel_choice(True)
    assert compiled.load(SEQUENCE) is not None
    one = run()
    monkeypatch.setattr(parallel, "MIN_CHUNK_WORK", 1)
    monkeypatch.setattr(parallel, "BLAS_THREADING_WORK", 0)
    ranges = []
    seq = compiled.load(SEQUENCE)
    for name in ("lstm_forward", "gru_backward"):  # record the row ranges each call ran
        kernel = getattr(seq, name)
        monkeypatch.setattr(seq, name, lambda *a, _k=kernel: (ranges.append(a[-2:]), _k(*a))[1])
    nl.set_num_threads(2)
    try:
        two = run()
    finally:
        nl.set_num_threads(1)
    assert sorted(ranges) == [(0, 10), (10, 21)]
    compiled._cache[SEQUENCE] = None  # the compiled cells, stepped from Python
    per_step = run()
    for a, b, c in zip(one, two, per_step):
        assert a.dtype == np.float32 and a.shape == b.shape == c.shape
        # other row blocks (10 + 11 rows, not 8s) may take other BLAS kernels: float32
        # rounding, relative to the array's scale (the weight gradients sum 147 terms)
        scale = np.abs(c).max()
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5 * scale)
        np.testing.assert_allclose(a, c, rtol=2e-5, atol=2e-5 * scale)


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_compiled_recurrence_without_grad_gives_the_same_output(kernel_choice, cell):
    kernel_choice(True)
    layer = getattr(nl.nn, cell)(6, 10, num_layers=2, bidirectional=True)
    x = nl.tensor(np.random.default_rng(7).standard_normal((9, 19, 6)).astype(np.float32))
    out, _ = layer(x)
    with nl.no_grad():  # two alternating state slots instead of one per step
        quiet, _ = layer(x)
    assert np.array_equal(out.numpy(), quiet.numpy())


def test_compiled_lstm_cell_propagates_nan(kernel_choice):
    from neuralab.ops.recurrent import lstm_recurrence

    kernel_choice(True)
    xg = np.zeros((3, 2, 8), np.float32)
    xg[1, 0, 5] = np.nan  # the forget gate of sample 0, unit 1, at step 1
    h0 = c0 = nl.zeros(2, 2)
    out, h_n, c_n = lstm_recurrence(nl.tensor(xg), h0, c0, nl.ones(8, 2))
    assert np.isfinite(out.numpy()[0]).all() and np.isnan(out.numpy()[1, 0]).tolist() == [
        False,
        True,
    ]
    assert np.isnan(out.numpy()[2, 0]).all()  # and through h W_hhᵀ to every unit at the next step
    assert np.isfinite(out.numpy()[:, 1]).all() and np.isnan(c_n.numpy()[0]).all()


# ----------------------------------------------------------------------------- max pooling

POOL = "neuralab.compiled.pool"


def pool_run(x: np.ndarray, dtype) -> list[np.ndarray]:
    """max_pool2d(2) of ``x``: output, indices and input gradient of a weighted sum."""
    t = nl.tensor(x, dtype=dtype, requires_grad=True)
    out, indices = nl.nn.functional.max_pool2d(t, 2, return_indices=True)
    weights = np.random.default_rng(1).standard_normal(out.shape)
    (out * nl.tensor(weights, dtype=dtype)).sum().backward()
    return [out.numpy(), indices.numpy(), t.grad.numpy()]


@pytest.mark.parametrize("dtype", [nl.float32, nl.float64])
@pytest.mark.parametrize("shape", [(3, 4, 8, 8), (2, 3, 7, 9)])
def test_compiled_max_pool_equals_the_numpy_path_bit_for_bit(kernel_choice, shape, dtype):
    rng = np.random.default_rng(0)
    x = rng.integers(-2, 3, shape).astype(np.float64)  # few values: many tied windows
    x[0, 0, 0, 0] = x[0, 1, 2, 3] = x[1, 2, 5, 4] = x[1, 2, 4, 5] = np.nan
    x[0, 2, :2, :2] = -np.inf
    fast, slow = with_and_without(kernel_choice, POOL, lambda: pool_run(x, dtype))
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    assert np.isnan(fast[0][0, 0, 0, 0]) and fast[1][1, 2, 2, 2] == 5 * shape[3] + 4  # last NaN


def test_compiled_max_pool_takes_strided_input_and_no_grad(kernel_choice):
    x = np.random.default_rng(2).standard_normal((4, 3, 10, 12)).astype(np.float32)
    view = nl.tensor(x).permute(0, 1, 3, 2)  # not contiguous
    kernel_choice(True)
    with nl.no_grad():
        fast = nl.nn.functional.max_pool2d(view, 2).numpy()
    kernel_choice(False)
    slow = nl.nn.functional.max_pool2d(view, 2).numpy()
    assert np.array_equal(fast, slow) and fast.shape == (4, 3, 6, 5)


# ----------------------------------------------------------------------------- im2col, col2im

CONV = "neuralab.compiled.im2col"
F = nl.nn.functional

CONV_CASES = [
    ((4, 3, 12, 12), (5, 3, 3, 3), dict(padding=1)),
    ((2, 4, 11, 9), (6, 2, 3, 2), dict(stride=2, padding=(2, 1), dilation=(1, 2), groups=2)),
    ((2, 3, 8, 10), (4, 3, 4, 4), dict(padding="same")),  # asymmetric: 1 before, 2 after
    ((3, 2, 9, 9), (3, 2, 5, 5), dict(stride=3)),
]


def conv_run(case, dtype) -> list[np.ndarray]:
    """conv2d and conv_transpose2d outputs and gradients (im2col and col2im both ways)."""
    xs, ws, options = case
    rng = np.random.default_rng(4)
    x = nl.tensor(rng.standard_normal(xs), dtype=dtype, requires_grad=True)
    w = nl.tensor(rng.standard_normal(ws), dtype=dtype)
    wt = nl.tensor(rng.standard_normal((xs[1], 3, 3, 3)), dtype=dtype, requires_grad=True)
    y = F.conv2d(x, w, **options)
    z = F.conv_transpose2d(x, wt, stride=2, padding=1, output_padding=1)
    ((y * y).sum() + (z * z).sum()).backward()
    return [y.numpy(), z.numpy(), x.grad.numpy(), wt.grad.numpy()]


@pytest.mark.parametrize("dtype", [nl.float32, nl.float64])
@pytest.mark.parametrize("case", CONV_CASES)
def test_compiled_im2col_col2im_equal_the_numpy_path_bit_for_bit(kernel_choice, case, dtype):
    fast, slow = with_and_without(kernel_choice, CONV, lambda: conv_run(case, dtype))
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


# ----------------------------------------------------------------------------- row scatter-add

SCATTER = "neuralab.compiled.scatter"


@pytest.mark.parametrize("dtype", [nl.float32, nl.float64])
@pytest.mark.parametrize("shape", [(300, 40), (50, 3, 2), (9,)])
def test_compiled_scatter_add_sums_rows_in_index_order(kernel_choice, shape, dtype):
    from neuralab.ops._util import scatter_add_rows

    rng = np.random.default_rng(5)
    rows = 12  # row 11 is never named
    idx = rng.integers(0, rows - 1, shape[0])
    values = rng.standard_normal(shape).astype(dtype)
    values[idx == 3] = -0.0  # a row of negative zeros stays -0.0, as reduceat leaves it
    fast, slow = with_and_without(
        kernel_choice, SCATTER, lambda: scatter_add_rows(rows, idx, values)
    )
    expected = np.zeros((rows, *shape[1:]), dtype)
    for r in range(rows - 1):  # left to right, starting from the first value
        for k in np.flatnonzero(idx == r):
            expected[r] = values[k] if k == np.flatnonzero(idx == r)[0] else expected[r] + values[k]
    assert fast.dtype == dtype and np.array_equal(fast, expected)
    assert np.signbit(fast[3]).all() and not fast[rows - 1].any()
    np.testing.assert_allclose(slow, fast, rtol=1e-5 if dtype == nl.float32 else 1e-12, atol=1e-6)


# ----------------------------------------------------------------------------- ReLU

RELU = "neuralab.compiled.activation"


@pytest.mark.parametrize("dtype", [nl.float32, nl.float64])
def test_compiled_relu_equals_the_numpy_path_bit_for_bit(kernel_choice, dtype):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 50, 7))
    x.flat[:6] = [-0.0, 0.0, np.nan, np.inf, -np.inf, -1.0]
    g = rng.standard_normal(x.shape)
    g.flat[:6] = [-1.0, -2.0, -3.0, 1.0, np.inf, np.nan]

    def run() -> list[np.ndarray]:
        t = nl.tensor(x, dtype=dtype, requires_grad=True)
        y = nl.nn.functional.relu(t)
        z = nl.nn.functional.relu(t.permute(2, 0, 1))  # not contiguous: NumPy's path
        (y * nl.tensor(g, dtype=dtype)).sum().backward()
        (z * 2).sum().backward()
        return [y.numpy(), z.numpy(), t.grad.numpy()]

    with np.errstate(invalid="ignore"):  # inf × 0 in NumPy's backward
        fast, slow = with_and_without(kernel_choice, RELU, run)
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()  # NaNs and signed zeros too
    assert not np.signbit(fast[0].flat[0]) and np.isnan(fast[0].flat[2])  # relu(-0.0) = +0.0


_LSTM_STEP = """
import neuralab as nl
from neuralab.compiled import load
nl.set_num_threads(1)
lstm = nl.nn.LSTM(8, 16, batch_first=True)
out, _ = lstm(nl.randn(4, 5, 8))
out.sum().backward()
seq = load("neuralab.compiled.rnn_sequence")
kernels = [seq.lstm_forward, seq.lstm_backward]
print(sum(len(k.stats.cache_hits) for k in kernels), sum(len(k.stats.cache_misses) for k in kernels))
"""


def test_whole_recurrences_are_loaded_from_the_disk_cache_by_a_new_process():
    import subprocess
    import sys

    if compiled.load("neuralab.compiled.rnn_sequence") is None:
        pytest.skip("NumPy's BLAS is not an OpenBLAS the recurrences can call")
    runs = [
        subprocess.run([sys.executable, "-c", _LSTM_STEP], capture_output=True, text=True)
        for _ in range(2)
    ]
    assert all(r.returncode == 0 for r in runs), runs[-1].stderr
    hits, misses = map(int, runs[1].stdout.split())
    assert hits == 2 and misses == 0  # the second process compiled nothing
