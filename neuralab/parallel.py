"""Intra-op parallelism: an op splits its batch over threads, each running NumPy single-threaded.

NumPy releases the GIL inside its loops and BLAS calls, so Python threads that each take a slice
of a convolution's batch really run at once. That beats leaving the cores to BLAS: a batch of
small per-sample GEMMs (a convolution's) runs *slower* when OpenBLAS splits every one of them,
and im2col, col2im, pooling and element-wise work never use more than one core on their own.
So :func:`parallel_for` gives each thread a contiguous chunk and keeps BLAS at one thread while
the chunks run; outside those sections BLAS keeps the thread count set here.

A single large GEMM outside the chunks is the exception: OpenBLAS's own threads split it better
than our chunks do (its idle workers spin, so a hand-off costs a microsecond, ours tens). But
after each threaded call they keep spinning, by default for about 0.1 s, and whatever runs next
fights them for the cores (a CNN step ran 1.8x slower). So the spin is cut to about 90 µs
(:data:`BLAS_SPIN_LOG2`), short enough that :func:`blas_may_thread` lets BLAS thread any such
GEMM, even one right after the pool ran.

Compiled kernels have a cheaper hand-off: numba's OpenMP thread team, whose workers spin
briefly between jobs (a few µs a job, where this pool's Python threads cost tens).
:func:`team_parts` says how many parts a compiled job should run in on it; the kernels' ``*_split``
twins run them (see :mod:`neuralab.compiled`, which starts the team).

``set_num_threads(n)`` is ``torch.set_num_threads``: the number of threads one op may use (the
pool's workers plus the calling thread) and the BLAS limit. The default is the number of cores
this process may run on (``NEURALAB_NUM_THREADS`` or ``OMP_NUM_THREADS`` override it).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from typing import Any

# OpenBLAS's idle workers busy-wait 2^28 cycles (~0.1 s) after each threaded call, taking a core
# from whatever runs next: our chunks, a numba kernel or the next op's Python (a char-LSTM step
# at 2 threads took 10.3 ms with that wait, 7.0 with 2^20 cycles). Interleaved in one process at
# 2 threads, 2^18 cycles (~90 µs) against 2^20 with GEMMs kept off BLAS's threads for 2 ms after
# the pool ran: transformer variants 1.09-1.14x faster, the char-LSTM 1.10x, the CIFAR CNN 1.04x,
# the MLP 0.98x (its back-to-back GEMMs now wake sleeping workers more often; 2^16: 0.94x).
# OpenBLAS reads the variable when NumPy loads it, so it is set before the import below;
# if NumPy came first, the end of this module restarts the workers with it.
BLAS_SPIN_LOG2 = "18"
_BLAS_SPIN_SET = "OPENBLAS_THREAD_TIMEOUT" not in os.environ
_NUMPY_FIRST = "numpy" in sys.modules
if _BLAS_SPIN_SET:
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = BLAS_SPIN_LOG2

import numpy as np  # noqa: E402  (after the OpenBLAS setting above)

__all__ = [
    "attach_team",
    "blas_may_thread",
    "get_num_interop_threads",
    "get_num_threads",
    "map_flat",
    "parallel_for",
    "restart_openblas_workers",
    "serial_section",
    "set_flush_denormal",
    "set_num_interop_threads",
    "set_num_threads",
    "single_threaded_blas",
    "team_parts",
]

_state: dict[str, Any] = {"threads": None, "pool": None, "blas": None, "switches": None}
# numba's thread team (see :func:`team_parts`): ``resize(n)`` sizes it for ``n`` threads and
# returns the parts it can run at once (0: no team safe to use); ``size`` caches that.
_team: dict[str, Any] = {"resize": None, "size": None}
_local = threading.local()  # .busy is set inside a chunk: nested parallel_for runs serially
_blas_lock = threading.Lock()
_blas_users = [0]  # parallel sections running now
_blas_saved: list[int] = []  # BLAS thread counts to restore when the last one ends


def _default_threads() -> int:
    """``NEURALAB_NUM_THREADS`` or ``OMP_NUM_THREADS`` when set (as torch reads the latter), else
    the cores this process may run on."""
    for name in ("NEURALAB_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _forget_threads_after_fork() -> None:
    """A forked child has none of its parent's threads: start a fresh pool when needed, and
    never use numba's team there if the parent started it (GNU OpenMP aborts a forked child
    that uses it)."""
    global _blas_lock
    _state["pool"] = None
    if _team["size"]:
        _team["resize"], _team["size"] = None, 0
    _blas_lock = threading.Lock()
    _blas_users[0] = 0
    _local.busy = False


os.register_at_fork(after_in_child=_forget_threads_after_fork)


def _blas_libraries() -> list:
    """threadpoolctl controllers of the loaded BLAS libraries (found once)."""
    if _state["blas"] is None:
        from threadpoolctl import ThreadpoolController

        _state["blas"] = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
    return _state["blas"]


def _openblas_function(lib: Any, name: str, restype: Any, *argtypes: Any) -> Any:
    """OpenBLAS's function ``name`` in the library ``lib`` controls (whatever prefix or suffix
    its build gave the symbol), or None."""
    import ctypes

    handle = ctypes.CDLL(lib.filepath)
    for prefix in ("", "scipy_"):
        for suffix in ("", "64_", "_64"):
            fn = getattr(handle, f"{prefix}{name}{suffix}", None)
            if fn is not None:
                fn.restype, fn.argtypes = restype, list(argtypes)
                return fn
    return None


def _blas_switches() -> list[tuple[Callable[[], int], Callable[[int], None]]]:
    """(get, set) of each BLAS library's thread count, for the parallel sections: OpenBLAS's
    own functions where it runs its own pthreads (0.3 µs a call, where threadpoolctl's generic
    path took ~3 µs and a section makes three; a GPT's batch-1 forward has 25), else
    threadpoolctl's."""
    if _state["switches"] is None:
        import ctypes

        switches = []
        for lib in _blas_libraries():
            get = put = None
            if lib.internal_api == "openblas" and lib.threading_layer != "openmp":
                get = _openblas_function(lib, "openblas_get_num_threads", ctypes.c_int)
                put = _openblas_function(lib, "openblas_set_num_threads", None, ctypes.c_int)
            if get is None or put is None:
                get, put = lib.get_num_threads, lib.set_num_threads
            switches.append((get, put))
        _state["switches"] = switches
    return _state["switches"]


def restart_openblas_workers() -> None:
    """Make OpenBLAS re-read ``OPENBLAS_THREAD_TIMEOUT`` from the environment and stop its
    workers, which restart with that wait on the next threaded call (``python -m bench settings``
    compares waits this way in one process). Other BLAS libraries are untouched; call it when no
    other thread is inside BLAS."""
    import ctypes

    for lib in _blas_libraries():
        if lib.internal_api != "openblas":
            continue
        read_env = _openblas_function(lib, "openblas_read_env", None)
        shutdown = _openblas_function(lib, "blas_thread_shutdown_", ctypes.c_int)
        if read_env is not None and shutdown is not None:
            read_env()
            shutdown()


def get_num_threads() -> int:
    """Threads one op may use (torch.get_num_threads)."""
    if _state["threads"] is None:
        _state["threads"] = _default_threads()
    return _state["threads"]


def get_num_interop_threads() -> int:
    """torch's inter-op thread count: kept for its API (neuralab runs ops one after another, so
    no thread pool runs independent ops side by side); the number of cores by default."""
    return _state.get("interop") or _default_threads()


def set_num_interop_threads(n: int) -> None:
    """Set the number :func:`get_num_interop_threads` returns (torch.set_num_interop_threads)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_interop_threads: expected a positive int, got {n!r}")
    _state["interop"] = n


def set_flush_denormal(mode: bool) -> bool:
    """torch.set_flush_denormal: False, the answer torch gives on a CPU without the mode, since
    NumPy gives no control over how the CPU treats denormal numbers."""
    return False


def set_num_threads(n: int) -> None:
    """Let each op use ``n`` threads, and cap BLAS at ``n`` (torch.set_num_threads)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    if _state["pool"] is not None:
        _state["pool"].shutdown()
        _state["pool"] = None
    _state["threads"] = n
    for lib in _blas_libraries():
        lib.set_num_threads(n)
    if _team["resize"] is not None and _team["size"] is not None:  # (none after a fork)
        _team["size"] = _team["resize"](n)


class single_threaded_blas:  # noqa: N801  (used as a context manager, like a function)
    """BLAS at one thread inside the block (restored after): the chunks are the parallelism.

    Counted, so ops running parallel sections from several threads at once restore BLAS only
    when the last one leaves. A class rather than a generator: entering and leaving cost half.
    """

    def __enter__(self) -> None:
        switches = _blas_switches()
        with _blas_lock:
            if _blas_users[0] == 0:
                _blas_saved[:] = [get() for get, _ in switches]
                for _, put in switches:
                    put(1)
            _blas_users[0] += 1

    def __exit__(self, *exc: object) -> None:
        with _blas_lock:
            _blas_users[0] -= 1
            if _blas_users[0] == 0:
                for (_, put), n in zip(_blas_switches(), _blas_saved):
                    put(n)


def _run_chunk(fn: Callable[[int, int], None], start: int, stop: int) -> None:
    _local.busy = True
    try:
        fn(start, stop)
    finally:
        _local.busy = False


def blas_may_thread() -> bool:
    """Whether a large GEMM may run on BLAS's own threads now: more than one thread, and not
    inside a parallel section (whose chunks hold BLAS at one thread)."""
    return get_num_threads() > 1 and not getattr(_local, "busy", False)


# ~a million elements or multiply-adds a chunk. A hand-off costs 45-140 µs to start and about
# as much to return here (an idle core sleeps deeply), so ops whose units are cheap ask for
# several per chunk (their ``grain``: products 8, convolutions 2).
MIN_CHUNK_WORK = 1 << 20
BLAS_THREADING_WORK = 1 << 18  # from about here OpenBLAS would start threads of its own


def parallel_for(
    n: int,
    fn: Callable[[int, int], None],
    work: float,
    grain: float = 1.0,
    blas: bool = True,
    team: Callable[[int], None] | None = None,
) -> None:
    """Call ``fn(start, stop)`` on contiguous chunks covering ``range(n)``, one per thread.

    ``work`` estimates the whole job (multiply-adds or elements touched); each chunk gets at
    least ``grain`` × :data:`MIN_CHUNK_WORK` of it, so small ops stay on the calling thread.
    ``fn`` must write only its own chunk's slots. With more than one thread, any job that calls
    BLAS (``blas``) and is big enough for BLAS to thread runs with BLAS at one thread, even as a
    single chunk: OpenBLAS's idle workers busy-wait for a while after each threaded call and
    would steal the chunks' cores. Jobs without BLAS calls skip that bookkeeping.
    ``team(parts)``, a compiled twin of the whole job, runs instead on numba's thread team when
    :func:`team_parts` gives it more than one part.
    """
    parts = 1 if team is None else min(team_parts(work), n)
    if parts > 1:
        team(parts)
        return
    threads = get_num_threads()
    small = work < (BLAS_THREADING_WORK if blas else grain * MIN_CHUNK_WORK * 2)
    if threads == 1 or small or getattr(_local, "busy", False):
        fn(0, n)
        return
    parts = int(max(1, min(threads, n, work // (grain * MIN_CHUNK_WORK))))
    with single_threaded_blas() if blas else nullcontext():
        if parts == 1:
            _run_chunk(fn, 0, n)
            return
        if _state["pool"] is None:
            _state["pool"] = ThreadPoolExecutor(threads - 1, thread_name_prefix="neuralab")
        bounds = [n * k // parts for k in range(parts + 1)]
        futures = [
            _state["pool"].submit(_run_chunk, fn, bounds[k], bounds[k + 1])
            for k in range(parts - 1)
        ]
        try:
            _run_chunk(fn, bounds[-2], bounds[-1])
        finally:
            for f in futures:
                f.result()


# Work (elements × cost, or multiply-adds) per part of a job on numba's thread team. A hand-off
# costs ~2 µs while its workers still spin after the last job (see neuralab.compiled.TEAM_SPIN)
# and ~40 µs once they sleep. From 2^17 a part, the GPT's batch-1 forward at two threads (its
# GELU and per-head products split, far apart) took 3.73 ms against 2.60 without the team; from
# 2^19, 2.75 (no job splits there) while W8's training step kept its gain (50.6 → 45.3 ms).
TEAM_CHUNK_WORK = 1 << 19


def attach_team(resize: Callable[[int], int]) -> None:
    """Register numba's thread team (done by :mod:`neuralab.compiled` when numba loads):
    ``resize(n)`` starts it if need be, sizes it for ``n`` threads and returns the parts it can
    run at once, 0 if it cannot be used."""
    _team["resize"], _team["size"] = resize, None


def team_parts(work: float) -> int:
    """How many parts a compiled job of ``work`` should run in on numba's thread team now: 1
    with one thread, inside a :func:`parallel_for` chunk (no nesting), without a team, or when
    the job is too small to hand off.

    The team is the cheap hand-off for compiled code (a few µs where this module's Python
    threads cost tens): element-wise kernels, row-wise norms and softmaxes, stacked products.
    """
    threads = get_num_threads()
    if threads == 1 or work < 2 * TEAM_CHUNK_WORK or getattr(_local, "busy", False):
        return 1
    if _team["size"] is None:
        if _team["resize"] is None:
            return 1
        _team["size"] = _team["resize"](threads)
    return int(max(1, min(threads, _team["size"], work // TEAM_CHUNK_WORK)))


def map_flat(
    fn: Callable[..., None],
    out: np.ndarray,
    *inputs: np.ndarray,
    cost: int = 4,
    split: Callable[..., None] | None = None,
) -> None:
    """``fn(*inputs, out)`` element-wise, split over threads as flat chunks when it is big.

    ``fn`` must be element-wise (chunk k of ``out`` depends on chunk k of each input only);
    inputs that are not C-contiguous arrays of ``out``'s size are passed whole, on one thread.
    ``cost`` scales the work estimate (element-wise passes are cheap per element). ``split``,
    ``fn``'s compiled twin ``split(*inputs, out, parts)``, runs the parts on numba's team;
    without it (or without a team) big jobs go to :func:`parallel_for`.
    """
    work = cost * out.size
    if (
        work < 2 * (MIN_CHUNK_WORK if split is None else TEAM_CHUNK_WORK)  # small: no threads
        or get_num_threads() == 1
        or not out.flags.c_contiguous
        or any(i.size != out.size or not i.flags.c_contiguous for i in inputs)
    ):
        fn(*inputs, out)
        return
    parts = 1 if split is None else team_parts(work)
    if parts > 1:
        split(*(i.reshape(-1) for i in inputs), out.reshape(-1), parts)
        return
    if work < 2 * MIN_CHUNK_WORK:
        fn(*inputs, out)
        return
    flat_out, flat_in = out.reshape(-1), [i.reshape(-1) for i in inputs]

    def chunk(lo: int, hi: int) -> None:
        fn(*(i[lo:hi] for i in flat_in), flat_out[lo:hi])

    parallel_for(out.size, chunk, work, blas=False)


@contextmanager
def serial_section() -> Iterator[None]:
    """Run a block of many small BLAS calls (a recurrence's time steps) on this thread only."""
    if get_num_threads() == 1 or getattr(_local, "busy", False):
        yield
        return
    with single_threaded_blas():
        _local.busy = True
        try:
            yield
        finally:
            _local.busy = False


if _NUMPY_FIRST and _BLAS_SPIN_SET:  # OpenBLAS already loaded: apply BLAS_SPIN_LOG2 now
    restart_openblas_workers()
