"""The default process group: MPI's world communicator, the rank and size the launcher
(``mpiexec``) gave this process, and bounded waits so a dead or stuck peer ends the job.

mpi4py is imported here only when a group is initialised, never at ``import neuralab``.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from neuralab import parallel

NOT_INITIALIZED = (
    "Default process group has not been initialized, please make sure to call init_process_group."
)
DEFAULT_TIMEOUT = timedelta(minutes=10)
BACKENDS = ("mpi",)
SPIN_S = 2e-3  # waits poll without sleeping this long (a step's all-reduce is often sooner)


class DistributedError(RuntimeError):
    """A collective failed: a peer died, hung past the timeout, or processes disagree."""


class _Group:
    """The live process group: MPI module, communicator, rank, size and wait timeout."""

    def __init__(self, mpi: Any, comm: Any, timeout: float) -> None:
        self.MPI, self.comm, self.timeout = mpi, comm, timeout
        self.rank, self.size = comm.Get_rank(), comm.Get_size()


_group: _Group | None = None


def is_available() -> bool:
    """True when the MPI backend can be used (mpi4py and an MPI library are installed)."""
    from importlib.util import find_spec

    return find_spec("mpi4py") is not None


def is_mpi_available() -> bool:
    """Whether the MPI backend is available (the only backend: same as :func:`is_available`)."""
    return is_available()


def _import_mpi() -> Any:
    if not is_available():
        raise RuntimeError(
            "init_process_group(backend='mpi') needs mpi4py and an MPI library: "
            "pip install 'neuralab[distributed]' (mpi4py + mpich), then launch with "
            "mpiexec -n N python script.py"
        )
    import mpi4py

    mpi4py.rc.initialize = True
    mpi4py.rc.thread_level = "serialized"
    from mpi4py import MPI

    return MPI


def _as_seconds(timeout: Any) -> float:
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
        raise ValueError(
            f"init_process_group: timeout must be a positive timedelta, got {timeout!r}"
        )
    return float(seconds)


_THREAD_VARIABLES = ("NEURALAB_NUM_THREADS", "OMP_NUM_THREADS")


def init_process_group(
    backend: str | None = None,
    init_method: str | None = None,
    timeout: timedelta | None = None,
    world_size: int = -1,
    rank: int = -1,
    **kwargs: Any,
) -> None:
    """Join the default process group (torch's signature): the MPI world of this ``mpiexec``
    launch; ``world_size``/``rank``, if given, must agree with what the launcher assigned."""
    global _group
    if _group is not None:
        raise RuntimeError(
            "init_process_group: trying to initialize the default process group twice!"
        )
    if backend not in (None, *BACKENDS):
        raise ValueError(
            f"init_process_group: backend {backend!r} is not available in neuralab; use "
            f"backend='mpi' (MPI through mpi4py; launch with mpiexec -n N)"
        )
    if init_method not in (None, "env://", "mpi://"):
        raise ValueError(
            f"init_process_group: init_method {init_method!r} is not supported: the MPI launcher "
            "(mpiexec) assigns ranks, so leave init_method unset"
        )
    seconds = _as_seconds(DEFAULT_TIMEOUT if timeout is None else timeout)
    mpi = _import_mpi()
    group = _Group(mpi, mpi.COMM_WORLD, seconds)
    for name, given, actual in (("world_size", world_size, group.size), ("rank", rank, group.rank)):
        if given not in (-1, None) and given != actual:
            raise ValueError(
                f"init_process_group: {name}={given} but mpiexec started this process as "
                f"{name} {actual}; launch with mpiexec -n <world_size> or leave {name} unset"
            )
    _group = group
    _abort_on_uncaught_exceptions()
    _share_cores(mpi, group.comm)


def _share_cores(mpi: Any, comm: Any) -> None:
    """Split this machine's cores between the processes of the group that run on it (op threads
    and BLAS threads; ``NEURALAB_NUM_THREADS`` or ``OMP_NUM_THREADS`` win when set), as torchrun
    does: BLAS threads spinning beside a peer's made a 2-process step 40x slower here."""
    local = comm.Split_type(mpi.COMM_TYPE_SHARED)
    processes = local.Get_size()
    local.Free()
    if processes == 1:
        return
    given = any(os.environ.get(name, "").isdigit() for name in _THREAD_VARIABLES)
    threads = parallel.get_num_threads() if given else parallel.get_num_threads() // processes
    parallel.set_num_threads(max(1, threads))


def destroy_process_group(group: Any = None) -> None:
    """Leave the process group (after a barrier, so no peer is left waiting on this one)."""
    global _group
    current = _get()
    wait([current.comm.Ibarrier()], "destroy_process_group")
    _group = None


def is_initialized() -> bool:
    """Whether :func:`init_process_group` has been called (and not destroyed)."""
    return _group is not None


def _get() -> _Group:
    if _group is None:
        raise ValueError(NOT_INITIALIZED)
    return _group


def get_rank(group: Any = None) -> int:
    """This process's rank in the group, 0 .. world_size - 1."""
    return _get().rank


def get_world_size(group: Any = None) -> int:
    """How many processes the group holds."""
    return _get().size


def get_backend(group: Any = None) -> str:
    """The group's backend: always ``'mpi'``."""
    _get()
    return "mpi"


def wait(requests: Sequence[Any], what: str) -> None:
    """Wait for MPI requests, polling (then sleeping up to 1 ms between polls), and raise
    :class:`DistributedError` once the group's timeout passes (a peer died or stopped taking
    part), instead of blocking forever."""
    group = _get()
    testall = group.MPI.Request.Testall
    start = time.monotonic()
    while not testall(list(requests)):
        waited = time.monotonic() - start
        if waited > group.timeout:
            raise DistributedError(
                f"{what}: process {group.rank} of {group.size} waited {waited:.0f} s for the "
                "other processes (timeout); one of them died, hung, or skipped this step. "
                "The job stops; resume from the last checkpoint."
            )
        time.sleep(0.0 if waited < SPIN_S else min(waited / 10, 1e-3))


def _abort_on_uncaught_exceptions() -> None:
    """Make an uncaught exception in any process stop the whole job (MPI_Abort) after printing
    it, so the peers don't wait for a process that is gone (as mpi4py's ``-m mpi4py`` does)."""
    previous = sys.excepthook

    def hook(kind: type, value: BaseException, tb: Any) -> None:
        group = _group
        if group is None or group.size == 1:
            previous(kind, value, tb)
            return
        # one write, flushed, and a moment for mpiexec to forward it before Abort tears down
        sys.stderr.write(
            "".join(traceback.format_exception(kind, value, tb))
            + f"neuralab.distributed: process {group.rank} failed ({kind.__name__}); "
            "stopping all processes\n"
        )
        sys.stderr.flush()
        time.sleep(0.5)
        group.comm.Abort(1)

    sys.excepthook = hook
