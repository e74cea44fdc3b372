"""Starting N training processes under ``mpiexec`` (MPICH's Hydra, from this environment's
``bin/``): the command and environment for one machine or several (a hostfile), and a launcher
that turns a dead process into a clear error and a non-zero exit status."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

# One machine: the processes reach each other through shared memory only (UCX's shared-memory
# transports), and MPI opens no network socket of its own. libfabric's shm provider, used
# before, failed to start when the processes' ids had different numbers of digits (9999 and
# 10000: "Message truncated" in MPI_Init); UCX starts there and all-reduces as fast.
LOCAL_ENV = {"MPIR_CVAR_CH4_NETMOD": "ucx", "UCX_TLS": "self,sm"}
LAUNCHER_VARIABLES = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK")


def under_mpiexec() -> bool:
    """Whether this process was started by an MPI launcher (so it should join, not launch)."""
    return any(name in os.environ for name in LAUNCHER_VARIABLES)


def mpiexec() -> str:
    """The ``mpiexec`` next to this Python (``pip install mpich`` puts it there), else PATH's."""
    beside = Path(sys.executable).parent / "mpiexec"
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        raise RuntimeError(
            "mpiexec not found: pip install 'neuralab[distributed]' (mpi4py + mpich) installs "
            "it next to this Python"
        )
    return found


def command(
    processes: int, argv: Sequence[str], hostfile: str | os.PathLike | None = None
) -> list[str]:
    """``mpiexec`` running ``python argv...`` as ``processes`` processes, on this machine or
    on the hosts listed in ``hostfile`` (Hydra's format: ``host[:slots]`` per line)."""
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise ValueError(f"processes must be a positive int, got {processes!r}")
    hosts = [] if hostfile is None else ["-f", str(hostfile)]
    return [mpiexec(), *hosts, "-n", str(processes), sys.executable, *argv]


def environment(processes: int, local: bool = True) -> dict[str, str]:
    """The processes' environment: shared-memory transport on one machine, and the cores
    split between the processes (``NEURALAB_NUM_THREADS``) unless already set."""
    env = dict(os.environ)
    if local:
        for name, value in LOCAL_ENV.items():
            env.setdefault(name, value)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        env.setdefault("NEURALAB_NUM_THREADS", str(max(1, (cores or 1) // processes)))
    return env


def run(processes: int, argv: Sequence[str], hostfile: str | os.PathLike | None = None) -> int:
    """Run ``python argv...`` on ``processes`` processes and wait; if any process fails, Hydra
    stops the others and this reports it and returns the non-zero status."""
    cmd = command(processes, argv, hostfile)
    status = subprocess.run(cmd, env=environment(processes, hostfile is None)).returncode
    if status != 0:
        sys.stderr.write(
            f"neuralab: a training process failed (mpiexec exit status {status}); the other "
            "processes were stopped. Run the same command with --resume to continue from the "
            "last checkpoint.\n"
        )
    return status
