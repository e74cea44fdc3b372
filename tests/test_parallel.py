"""neuralab.parallel: ops split their batch over threads and give the same numbers as one thread."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import neuralab as nl
import neuralab.nn.functional as F
import neuralab.ops._pointwise as pointwise
import neuralab.ops.matmul as matmul
from neuralab import parallel


@pytest.fixture
def two_threads():
    """Two threads for the test, back to the suite's one after it."""
    nl.set_num_threads(2)
    yield
    nl.set_num_threads(1)


def blas_threads() -> set[int]:
    return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}


def test_set_num_threads_validates_and_caps_blas():
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="set_num_threads: expected a positive int"):
            nl.set_num_threads(bad)
    try:
        nl.set_num_threads(2)
        assert nl.get_num_threads() == 2 and blas_threads() == {2}
    finally:
        nl.set_num_threads(1)
    assert nl.get_num_threads() == 1 and blas_threads() == {1}


def test_parallel_for_covers_the_range_once_in_chunks_with_single_threaded_blas(two_threads):
    seen, lock = [], threading.Lock()

    def fn(lo: int, hi: int) -> None:
        with lock:
            seen.append((lo, hi, threading.current_thread().name, frozenset(blas_threads())))

    parallel.parallel_for(10, fn, work=1e9)
    seen.sort()
    assert [(lo, hi) for lo, hi, *_ in seen] == [(0, 5), (5, 10)]
    assert len({name for *_, name, _ in seen}) == 2  # really two threads
    assert all(blas == {1} for *_, blas in seen)  # the chunks are the parallelism
    assert blas_threads() == {2}  # restored afterwards


def test_small_or_nested_work_stays_on_the_calling_thread(two_threads):
    calls = []
    parallel.parallel_for(10, lambda lo, hi: calls.append((lo, hi)), work=100)
    assert calls == [(0, 10)]

    inner = []

    def outer(lo: int, hi: int) -> None:
        parallel.parallel_for(4, lambda a, b: inner.append((a, b)), work=1e9)

    parallel.parallel_for(2, outer, work=1e9)
    assert sorted(inner) == [(0, 4), (0, 4)]  # each chunk ran its nested loop whole


def test_errors_in_a_chunk_reach_the_caller(two_threads):
    def fn(lo: int, hi: int) -> None:
        if lo == 0:
            raise ValueError("chunk failed")

    with pytest.raises(ValueError, match="chunk failed"):
        parallel.parallel_for(8, fn, work=1e9)
    assert blas_threads() == {2}


def run_ops(seed: int = 0) -> dict[str, np.ndarray]:
    """Forward values and gradients of the split ops, in float64 (chunked sums reorder terms)."""
    rng = np.random.default_rng(seed)

    def param(*shape: int, scale: float = 1.0) -> nl.Tensor:
        return nl.tensor(rng.standard_normal(shape) * scale, dtype=nl.float64, requires_grad=True)

    x, w, b = param(16, 8, 20, 20), param(16, 8, 3, 3, scale=0.1), param(16)
    y = F.conv2d(x, w, b, padding=1)
    y = F.max_pool2d(F.relu(y), 2) + F.avg_pool2d(y, 2) + F.max_pool2d(y, 3, 1, 1)[..., ::2, ::2]
    lin = param(64, 1600, scale=0.05)
    z = F.linear(y.reshape(16, -1), lin)
    m = param(16, 64, 64)
    loss = (z**2).sum() + (z[:, :, None] * (m @ m)).mean()
    loss.backward()
    params = dict(x=x, w=w, b=b, lin=lin, m=m)
    out = {"loss": loss.numpy(), **{k: t.grad.numpy().copy() for k, t in params.items()}}
    nl.optim.Adam(params.values(), lr=0.1, amsgrad=True).step()
    return {**out, **{f"{k} after Adam": t.numpy() for k, t in params.items()}}


def test_split_ops_give_the_one_thread_results(two_threads, monkeypatch):
    nl.set_num_threads(1)
    one = run_ops()
    nl.set_num_threads(2)
    # split every op, however small, so each split path runs here
    monkeypatch.setattr(parallel, "MIN_CHUNK_WORK", 1)
    monkeypatch.setattr(parallel, "BLAS_THREADING_WORK", 0)
    monkeypatch.setattr(matmul, "GEMM_SPLIT_FACTOR", 1)
    chunks = []
    real = parallel._run_chunk

    def record(fn, lo, hi):
        chunks.append((fn.__qualname__.split(".<locals>")[0], lo))
        real(fn, lo, hi)

    monkeypatch.setattr(parallel, "_run_chunk", record)
    two = run_ops()
    split = {name for name, lo in chunks if lo > 0}  # ops that ran as more than one chunk
    assert {"_Im2colConv.forward", "_max_pool", "_avg_pool", "pmatmul"} <= split
    assert split & {"_tiled_max_grad", "_tiled_max_grad_2x2"}  # NumPy's or the compiled one
    assert {"map_flat", "_update"} <= split  # ReLU and the Adam update (optim/adam.py)
    for k in one:
        np.testing.assert_allclose(two[k], one[k], rtol=1e-12, atol=1e-12, err_msg=k)


def run_team_ops(seed: int = 0) -> dict[str, np.ndarray]:
    """Values and gradients through every op with a job for numba's team, in float32."""
    rng = np.random.default_rng(seed)
    x = nl.tensor(rng.standard_normal((4, 48, 64), dtype=np.float32), requires_grad=True)
    ln = nl.nn.LayerNorm(64)
    with nl.no_grad():
        ln.weight.copy_(nl.tensor(rng.standard_normal(64, dtype=np.float32)))
    h = ln(x)
    heads = h.reshape(4, 48, 4, 16)
    q, k, v = heads.transpose(1, 2), (heads * 0.5).transpose(1, 2), heads.transpose(1, 2)
    a = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(4, 48, 64)
    acts = [F.relu(a), F.gelu(a), F.gelu(a, approximate="tanh"), F.silu(a), nl.sigmoid(a)]
    loss = sum((t * (i + 1) * a).sum() for i, t in enumerate(acts)) + nl.tanh(a).square().sum()
    loss.backward()
    return {"loss": loss.numpy(), "x.grad": x.grad.numpy(), "w.grad": ln.weight.grad.numpy(),
            "b.grad": ln.bias.grad.numpy(), **{f"act {i}": t.numpy() for i, t in enumerate(acts)}}  # fmt: skip


def test_team_jobs_give_the_one_thread_results(two_threads, monkeypatch):
    """Activations, layer norm, attention's softmax and its stacked products, split on numba's
    team (every job, however small), give the one-thread values: the same bits, but for layer
    norm's parameter gradients, whose float64 sums are grouped by part."""
    nl.set_num_threads(1)
    one = run_team_ops()
    nl.set_num_threads(2)
    monkeypatch.setattr(parallel, "TEAM_CHUNK_WORK", 1)
    jobs = []
    real = parallel.team_parts

    def record(work: float) -> int:
        jobs.append(real(work))
        return jobs[-1]

    for module in (parallel, matmul, pointwise):
        monkeypatch.setattr(module, "team_parts", record)
    two = run_team_ops()
    if parallel._team["size"] != 2:
        pytest.skip("numba has no thread team here (no OpenMP or TBB threading layer)")
    # 18 jobs in two parts: layer norm, softmax and the 6 stacked products (forward and back),
    # GELU (both forms), SiLU and sigmoid, and the slopes' products
    assert jobs.count(2) == 18
    for name in one:
        if name in ("w.grad", "b.grad"):
            np.testing.assert_allclose(two[name], one[name], rtol=1e-6, err_msg=name)
        else:
            np.testing.assert_array_equal(two[name], one[name], err_msg=name)


def test_big_gemms_use_blas_threads_except_inside_chunks(two_threads, monkeypatch):
    monkeypatch.setattr(matmul, "GEMM_SPLIT_FACTOR", 1)
    chunks, inside = [], []
    real = parallel._run_chunk

    def record(fn, lo, hi):
        chunks.append(fn.__qualname__.split(".<locals>")[0])
        real(fn, lo, hi)

    monkeypatch.setattr(parallel, "_run_chunk", record)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((256, 512)), rng.standard_normal((512, 300))
    assert parallel.blas_may_thread()
    native = matmul.pmatmul(x, y)  # BLAS's own threads: no chunks of ours
    assert chunks == [] and blas_threads() == {2}
    split: list[np.ndarray] = []
    parallel.parallel_for(
        2, lambda lo, hi: (inside.append(parallel.blas_may_thread()), split.append(x @ y)), 1e9
    )
    assert inside == [False, False]  # never from inside a chunk, where BLAS is at one thread
    assert parallel.blas_may_thread() and blas_threads() == {2}  # right after the pool: again
    assert matmul.pmatmul(x, y) is not None and chunks.count("pmatmul") == 0
    np.testing.assert_allclose(split[0], native, rtol=1e-12)
    monkeypatch.setattr(matmul, "NATIVE_THREADING_WORK", 10**12)  # too small for BLAS's threads
    assert matmul.pmatmul(x, y) is not None and chunks.count("pmatmul") == 2
    nl.set_num_threads(1)
    assert not parallel.blas_may_thread()


def test_a_one_chunk_product_runs_here_with_blas_at_one_thread(two_threads, monkeypatch):
    chunks, during = [], []
    monkeypatch.setattr(parallel, "_run_chunk", lambda fn, lo, hi: chunks.append(lo))

    class Recorded(parallel.single_threaded_blas):
        def __enter__(self) -> None:
            super().__enter__()
            during.append(blas_threads())

    monkeypatch.setattr(matmul, "single_threaded_blas", Recorded)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 64)), rng.standard_normal((64, 512))  # 1M multiply-adds
    np.testing.assert_allclose(matmul.pmatmul(x, y), x @ y, rtol=1e-12)
    assert chunks == [] and during == [{1}] and blas_threads() == {2}
    parallel._local.busy = True  # inside a chunk BLAS is at one thread already: no switching
    try:
        np.testing.assert_allclose(matmul.pmatmul(x, y), x @ y, rtol=1e-12)
    finally:
        parallel._local.busy = False
    assert during == [{1}]


def test_lstm_trains_alike_on_two_threads(two_threads):
    def grads() -> list[np.ndarray]:
        nl.manual_seed(0)
        lstm = nl.nn.LSTM(8, 16, batch_first=True)
        x = nl.randn(4, 12, 8)
        out, _ = lstm(x)
        out.sum().backward()
        return [p.grad.numpy() for p in lstm.parameters()]

    two = grads()
    nl.set_num_threads(1)
    for a, b in zip(grads(), two):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_default_thread_count_follows_the_environment():
    code = "import neuralab as nl; print(nl.get_num_threads())"
    unset = ("OMP_NUM_THREADS", "NEURALAB_NUM_THREADS")  # the suite sets both (conftest.py)
    env = {k: v for k, v in os.environ.items() if k not in unset}
    for extra, expected in (({"NEURALAB_NUM_THREADS": "3"}, "3"), ({"OMP_NUM_THREADS": "1"}, "1")):
        done = subprocess.run(
            [sys.executable, "-c", code], env={**env, **extra}, capture_output=True, text=True
        )
        assert done.stdout.strip() == expected, done.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_a_working_pool(two_threads, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_CHUNK_WORK", 1)
    parallel.parallel_for(4, lambda lo, hi: None, work=1e9)  # the parent's pool exists now
    code = """
import os, signal, sys
import numpy as np
import neuralab as nl
from neuralab import parallel
nl.set_num_threads(2)
parallel.MIN_CHUNK_WORK = 1
parallel.parallel_for(4, lambda lo, hi: None, work=1e9)
pid = os.fork()
if pid == 0:
    signal.alarm(20)  # a pool whose threads stayed in the parent would hang here
    hits = []
    parallel.parallel_for(4, lambda lo, hi: hits.append(lo), work=1e9)
    os._exit(0 if sorted(hits) == [0, 2] else 1)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_keeps_off_the_parents_team():
    """GNU OpenMP kills a forked child that uses the team its parent started: a DataLoader
    worker must compute on one thread instead, and get the same values."""
    code = """
import os, signal, sys
import numpy as np
import neuralab as nl
import neuralab.nn.functional as F
from neuralab import parallel
nl.set_num_threads(2)
x = nl.tensor(np.random.default_rng(0).standard_normal((512, 1024), dtype=np.float32))
y = F.gelu(x).numpy()  # 8 million units of work: split on the team
if parallel._team["size"] != 2:
    print("no team"); sys.exit(0)
pid = os.fork()
if pid == 0:
    signal.alarm(20)
    nl.set_num_threads(2)  # no team to resize in the child
    same = np.array_equal(F.gelu(x).numpy(), y)
    os._exit(0 if same and parallel._team["size"] == 0 else 1)
_, status = os.waitpid(pid, 0)
print("child", os.waitstatus_to_exitcode(status))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    if done.stdout.strip() == "no team":
        pytest.skip("numba has no thread team here (no OpenMP or TBB threading layer)")
    assert done.stdout.strip() == "child 0", done.stderr


# CPU seconds this process burns during a 0.3 s sleep right after threaded GEMMs: OpenBLAS's idle
# workers busy-wait for up to 2^28 cycles (~0.1 s) unless told otherwise.
SPIN_PROBE = """
import os, time
{before}
import numpy as np
{after}
a = np.ones((512, 512), np.float32)
for _ in range(5):
    a @ a
before = time.process_time()
time.sleep(0.3)
print(time.process_time() - before, os.environ.get("OPENBLAS_THREAD_TIMEOUT"))
"""


def spin_seconds(before: str = "", after: str = "", **env: str) -> tuple[float, str]:
    """The probe's spinning CPU seconds and its OPENBLAS_THREAD_TIMEOUT, two BLAS threads."""
    clean = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    clean.update(OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2", **env)
    code = SPIN_PROBE.format(before=before, after=after)
    done = subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    cpu, timeout = done.stdout.split()
    return float(cpu), timeout


openblas_threads = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2
    or not any(p["internal_api"] == "openblas" for p in threadpool_info()),
    reason="needs OpenBLAS and two cores",
)


# A wait of 2^30 cycles (OpenBLAS's longest) outlasts the probe's 0.3 s sleep: a spinning worker
# burns ~0.3 s of CPU, still well above 0.05 s when the other core is busy with a test of its
# own (the default 2^28, ~0.1 s, measured 0.039 s there).
LONG_SPIN = "30"


@openblas_threads
def test_openblas_workers_stop_spinning_soon_after_a_gemm():
    assert spin_seconds(OPENBLAS_THREAD_TIMEOUT=LONG_SPIN)[0] > 0.05  # the probe sees a spin
    # imported before NumPy, neuralab sets the wait before OpenBLAS loads; imported after, it
    # restarts OpenBLAS's workers with the new wait
    for order in ({"before": "import neuralab"}, {"after": "import neuralab"}):
        cpu, timeout = spin_seconds(**order)
        assert cpu < 0.02 and timeout == parallel.BLAS_SPIN_LOG2, order


@openblas_threads
def test_a_users_own_openblas_thread_timeout_is_kept():
    cpu, timeout = spin_seconds(after="import neuralab", OPENBLAS_THREAD_TIMEOUT=LONG_SPIN)
    assert cpu > 0.05 and timeout == LONG_SPIN


def test_blas_libraries_without_openblas_functions_switch_through_threadpoolctl(monkeypatch):
    class Controller:  # a BLAS that threadpoolctl controls, e.g. MKL
        internal_api, threading_layer, threads = "mkl", "openmp", 2

        def get_num_threads(self) -> int:
            return self.threads

        def set_num_threads(self, n: int) -> None:
            self.threads = n

    lib = Controller()
    monkeypatch.setattr(parallel, "_blas_libraries", lambda: [lib])
    monkeypatch.setitem(parallel._state, "switches", None)
    with parallel.single_threaded_blas():
        assert lib.threads == 1
        with parallel.single_threaded_blas():  # nested sections: restored by the last only
            pass
        assert lib.threads == 1
    assert lib.threads == 2
