"""neuralab.optim.compiled: the numba Adam update gives the NumPy path's exact bits."""

import numpy as np
import pytest

import neuralab as nl
from neuralab.optim import compiled

numba = pytest.importorskip("numba", reason="the compiled kernels need numba (neuralab[fast])")


@pytest.fixture
def kernel_choice():
    """Run a body with the compiled kernel on or off; the cache is restored afterwards."""
    saved = dict(compiled._cache)

    def choose(use: bool) -> None:
        compiled._cache.clear()
        if not use:
            compiled._cache["adam"] = None

    yield choose
    compiled._cache.clear()
    compiled._cache.update(saved)


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
    return [p.data.copy() for p in params] + [opt.state[params[0]]["exp_avg_sq"].data.copy()]


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
    kernel_choice(True)
    assert compiled.adam_kernel() is not None
    fast = train(optimizer, dtype, **options)
    kernel_choice(False)
    slow = train(optimizer, dtype, **options)
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
    assert compiled.adam_kernel() is None and not compiled.numba_enabled()
