"""Where trials run: local joblib processes (the default) or a Ray cluster.

A backend is a context manager whose ``imap_unordered(calls)`` runs :func:`run_trial` for each
dict of keyword arguments and yields the records as the trials finish.

- :class:`LocalBackend`: joblib's process pool (loky) with ``n_jobs`` workers (-1: one per
  CPU); ``n_jobs=1`` runs the trials one after another in this process. joblib limits each
  worker's BLAS threads so that workers do not oversubscribe the cores.
- :class:`RayBackend`: one Ray task per trial (1 CPU each). With ``address`` it joins that
  cluster (``"auto"``, ``"ray://host:10001"``, ...); with a Ray already initialized in this
  process it uses it; otherwise it starts a single-node Ray that listens on 127.0.0.1 only —
  Ray listens on every interface by default — with usage reporting off and no dashboard, and
  shuts it down at the end. Install it with ``pip install 'neuralab[ray]'``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from neuralab.tune.trial import run_trial

__all__ = ["LocalBackend", "RayBackend", "make_backend", "resolve_n_jobs"]

# Set while neuralab starts Ray: single-node mode binds every Ray listener to 127.0.0.1, and
# usage statistics are not reported. Read by `ray` at import and by the processes it starts.
RAY_LOCAL_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}


def resolve_n_jobs(n_jobs: int | None) -> int:
    """The number of parallel trials: ``n_jobs``, or the CPU count for None or -1 (joblib's
    convention: -2 is all CPUs but one)."""
    cpus = os.cpu_count() or 1
    if n_jobs is None:
        return cpus
    if n_jobs == 0 or not isinstance(n_jobs, int):
        raise ValueError(f"n_jobs must be a non-zero int (-1: every CPU), got {n_jobs!r}")
    return n_jobs if n_jobs > 0 else max(1, cpus + 1 + n_jobs)


class LocalBackend:
    """Trials in joblib worker processes on this machine (or in this process for n_jobs=1)."""

    def __init__(self, n_jobs: int | None = -1) -> None:
        self.n_jobs = resolve_n_jobs(n_jobs)
        self._parallel: Any = None

    def __enter__(self) -> LocalBackend:
        from joblib import Parallel

        self._parallel = Parallel(n_jobs=self.n_jobs, return_as="generator_unordered")
        self._parallel.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._parallel.__exit__(*exc)
        self._parallel = None

    def imap_unordered(self, calls: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Run ``run_trial(**kw)`` for each ``kw``; yield the records in order of completion."""
        from joblib import delayed

        yield from self._parallel(delayed(run_trial)(**kw) for kw in calls)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as err:
        raise ImportError(
            "backend='ray' needs Ray: pip install 'neuralab[ray]' (or ray>=2.9)"
        ) from err
    return ray


class RayBackend:
    """Trials as Ray tasks: on the cluster at ``address``, on the Ray this process already
    initialized, or on a local Ray started (on 127.0.0.1 only) with ``num_cpus`` CPUs."""

    def __init__(self, n_jobs: int | None = -1, address: str | None = None) -> None:
        self.num_cpus = resolve_n_jobs(n_jobs)
        self.address = address
        self._ray: Any = None
        self._started = False
        self._saved_env: dict[str, str | None] = {}

    def __enter__(self) -> RayBackend:
        if "ray" not in sys.modules and self.address is None:
            self._set_env()  # before the import: ray reads RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER then
        ray = self._ray = _import_ray()
        if ray.is_initialized():
            return self
        if self.address is not None:
            ray.init(address=self.address, log_to_driver=False)
        else:
            self._set_env()
            self._start_local(ray)
        self._started = True
        return self

    def _set_env(self) -> None:
        for key, value in RAY_LOCAL_ENV.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _restore_env(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}

    def _start_local(self, ray: Any) -> None:
        """``ray.init`` in single-node mode (every listener on 127.0.0.1), even when ray was
        imported before the environment was set."""
        from ray._private import ray_constants

        was = ray_constants.ENABLE_RAY_CLUSTER
        ray_constants.ENABLE_RAY_CLUSTER = False
        try:
            ray.init(num_cpus=self.num_cpus, include_dashboard=False, log_to_driver=False)
        finally:
            ray_constants.ENABLE_RAY_CLUSTER = was

    def __exit__(self, *exc: Any) -> None:
        try:
            if self._started:
                self._ray.shutdown()
        finally:
            self._started = False
            self._restore_env()

    def imap_unordered(self, calls: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Submit one task per call; yield the records in order of completion."""
        ray = self._ray
        remote = ray.remote(num_cpus=1)(run_trial)
        shared: dict[int, Any] = {}  # the trial function, put in the object store once
        pending = []
        for kw in calls:
            kw = dict(kw)
            fn = kw.pop("fn")
            if id(fn) not in shared:
                shared[id(fn)] = ray.put(fn)
            pending.append(remote.remote(shared[id(fn)], **kw))
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                try:
                    record = ray.get(done[0])
                except ray.exceptions.TaskCancelledError as e:  # a KeyboardInterrupt in a task
                    raise KeyboardInterrupt(f"a trial was interrupted on Ray: {e}") from e
                yield record
        finally:
            for ref in pending:  # interrupted: do not leave trials running on a cluster
                ray.cancel(ref, force=True)


def make_backend(backend: str, n_jobs: int | None, address: str | None) -> Any:
    """The backend named ``backend`` ('local' or 'ray')."""
    if backend == "local":
        if address is not None:
            raise ValueError("address= joins a Ray cluster; it needs backend='ray'")
        return LocalBackend(n_jobs)
    if backend == "ray":
        return RayBackend(n_jobs, address)
    raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
