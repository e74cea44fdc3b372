"""Compiled kernels (numba, a core dependency) and their loader.

Some steps are a dozen NumPy passes over small arrays, or strided passes NumPy cannot
vectorise: Adam's update of every parameter, an LSTM or GRU cell's gate math at every time step
(or the whole recurrence, calling NumPy's BLAS without the GIL: :func:`numpy_sgemm`), ReLU, GELU,
SiLU and sigmoid with their slopes, max pooling and 2×2 average pooling, im2col and col2im,
batch and layer norm, the attention softmax, the row scatter-add of an embedding's backward,
the tile transforms of a Winograd convolution, and ``where``'s choice of each element. With
numba they run as one compiled pass each; without it (numba not importable) or with
``NEURALAB_NUMBA=0``, the NumPy path runs, with the same results up to float rounding (both
are checked against torch). A kernel module is imported on first use (numba with it, never at
``import neuralab``), and its compiled code is cached on disk: beside the module when its
directory is writable, else in ``~/.cache/neuralab/numba`` (``NUMBA_CACHE_DIR`` wins when
set). Only the first run compiles, and says so in one line on stderr.

With more than one thread, the element-wise, row-wise and stacked-product kernels' ``*_split``
twins run on numba's thread team (OpenMP), which this module starts on first use and sizes with
``set_num_threads``; :func:`neuralab.parallel.team_parts` decides when a job is worth it.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from neuralab.parallel import attach_team

__all__ = ["KERNELS", "cache_dir", "load", "numba_enabled", "numpy_sgemm", "numpy_sgemv"]

_cache: dict[str, ModuleType | None] = {}
_prepared = False  # numba's cache directory chosen and the compile notice registered
_HERE = Path(__file__).resolve().parent
# What each kernel module prepares: for the one line printed while compiling it, and the
# benchmarks' description of the machine.
KERNELS = {
    "adam": "Adam",
    "rnn_cell": "LSTM and GRU cell",
    "rnn_sequence": "LSTM and GRU",
    "blas": "BLAS-calling",
    "winograd": "Winograd convolution",
    "pool": "pooling",
    "im2col": "im2col and col2im",
    "activation": "activation",
    "scatter": "embedding",
    "batch_norm": "batch-norm",
    "layer_norm": "layer-norm",
    "attention": "attention",
    "fastmath": "float32 exp and erf",
    "where": "selection (where)",
}


def load(module: str) -> ModuleType | None:
    """The kernel module ``module`` (a dotted name), or None: numba missing or turned off."""
    if module not in _cache:
        kernels = None
        if numba_enabled():
            _prepare_numba()
            try:
                kernels = importlib.import_module(module)
            except ImportError:
                kernels = None
        _cache[module] = kernels
    return _cache[module]


def numba_enabled() -> bool:
    """Whether compiled kernels may be used: numba importable and not turned off."""
    if os.environ.get("NEURALAB_NUMBA", "1") == "0":
        return False
    try:
        importlib.import_module("numba")
    except ImportError:
        return False
    return True


def cache_dir(package_dir: Path = _HERE) -> Path | None:
    """Where numba should cache the kernels, or None for its default (beside the modules).

    ``NUMBA_CACHE_DIR`` wins when set; otherwise a read-only ``package_dir`` (a system-wide
    install) sends the cache to ``$XDG_CACHE_HOME/neuralab/numba`` (``~/.cache/...``).
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    pycache = package_dir / "__pycache__"
    writable = os.access(pycache if pycache.is_dir() else package_dir, os.W_OK)
    if writable:
        return None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "neuralab" / "numba"


def _prepare_numba() -> None:
    """Once per process: choose numba's cache directory and listen for compilations."""
    global _prepared
    if _prepared:
        return
    _prepared = True
    directory = cache_dir()
    if directory is not None and not os.environ.get("NUMBA_CACHE_DIR"):
        os.environ["NUMBA_CACHE_DIR"] = str(directory)  # children inherit it
    import numba
    from numba.core import event

    if directory is not None:
        numba.config.CACHE_DIR = str(directory)
    event.register("numba:compile", _announcer(event.Listener)())
    _defer_blas_check()
    attach_team(_team_resize)


# How long numba's OpenMP workers spin for the next job before they sleep (GNU OpenMP's
# GOMP_SPINCOUNT; about 50 µs here, near OpenBLAS's 90, see neuralab.parallel). Asleep,
# a hand-off costs ~40 µs; libgomp's default (300,000, milliseconds) kept the workers spinning
# through the BLAS products that followed: a transformer step went from 12.4 to 20.4 ms.
TEAM_SPIN = "2000"


def _team_resize(threads: int) -> int:
    """Start numba's thread team once and size it for ``threads``; the parts it can run at once,
    or 0 when its threading layer is numba's workqueue (which aborts on concurrent jobs)."""
    import numba

    if not _team_launched:
        _launch_team(numba)
    if numba.threading_layer() not in ("omp", "tbb"):
        return 0
    size = min(threads, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(size)
    return size


_team_launched = False


def _launch_team(numba: ModuleType) -> None:
    """Launch numba's threads with this module's OpenMP spin, unless the user set one.

    The settings are in the environment only while numba loads its OpenMP (another library's
    OpenMP, loaded later, reads its own defaults), and numba's threading layer is loaded with
    ``RTLD_DEEPBIND``: otherwise, in a process where torch was imported first, it would run on
    torch's OpenMP library, started with torch's settings. Not with ``LD_PRELOAD`` set: a
    preloaded allocator (jemalloc, tcmalloc) and a deep-bound library would each free the
    other's memory.
    """
    own = "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ
    flags = sys.getdlopenflags()
    if own:
        os.environ["GOMP_SPINCOUNT"] = TEAM_SPIN
    deep = 0 if os.environ.get("LD_PRELOAD") else getattr(os, "RTLD_DEEPBIND", 0)
    sys.setdlopenflags(flags | deep)
    global _team_launched
    try:
        numba.get_num_threads()  # launches the threads (if no one has yet)
        _team_launched = True
    finally:
        sys.setdlopenflags(flags)
        if own:
            del os.environ["GOMP_SPINCOUNT"]


def _defer_blas_check() -> None:
    """Import numba's NumPy support without its start-up check that SciPy's BLAS exists.

    numba imports ``numba.np.arraymath`` before the first kernel loads, and that module imports
    ``scipy.linalg.cython_blas`` only to ask whether ``np.dot`` may use BLAS: 0.14 s of a new
    process's first step, for a call no neuralab kernel makes (they call OpenBLAS directly). With
    SciPy installed (a dependency) the answer is yes, so it is given without the import; numba
    still imports SciPy's BLAS when some code's ``np.dot`` is compiled.
    """
    if "numba.np.arraymath" in sys.modules or importlib.util.find_spec("scipy") is None:
        return
    from numba.np import linalg

    check = linalg.ensure_blas
    linalg.ensure_blas = lambda: None
    try:
        from numba.np import arraymath
    finally:
        linalg.ensure_blas = check
    arraymath.ensure_blas = check


def _announcer(listener: type) -> type:
    """A numba event listener that prints one line when a neuralab kernel is first compiled.

    numba raises its ``numba:compile`` event only when the on-disk cache had no code for the
    call, so a process that finds the cache filled prints nothing; one line per process at most.
    """

    class Announce(listener):
        said = False

        def on_start(self, event: Any) -> None:
            module = getattr(event.data["dispatcher"].py_func, "__module__", None) or ""
            if self.said or not module.startswith(__name__ + "."):
                return
            self.said = True
            name = module.rsplit(".", 1)[1]
            print(
                f"neuralab: compiling the {KERNELS.get(name, name)} kernels once "
                "(cached for later runs)…",
                file=sys.stderr,
                flush=True,
            )

        def on_end(self, event: Any) -> None:
            pass

    return Announce


def numpy_sgemm() -> ctypes._CFuncPtr | None:
    """``cblas_sgemm`` of the OpenBLAS NumPy itself loaded, as a ctypes function that compiled
    code may call without the GIL; None when NumPy's BLAS is another library.

    The same library as NumPy's matmul, so the same kernels and bits; ``argtypes`` are set for
    its integer width (the wheels' ILP64 build exports ``scipy_cblas_sgemm64_``).
    """
    return _numpy_cblas("sgemm", "eeesssrpspsrps")


def numpy_sgemv() -> ctypes._CFuncPtr | None:
    """``cblas_sgemv`` of NumPy's OpenBLAS, as :func:`numpy_sgemm`: NumPy's matmul of one row by
    a matrix calls it (OpenBLAS's sgemm of a single row can be several times slower)."""
    return _numpy_cblas("sgemv", "eessrpspsrps")


def _numpy_cblas(routine: str, signature: str) -> ctypes._CFuncPtr | None:
    """``cblas_<routine>`` of NumPy's OpenBLAS with argtypes from ``signature``: e an enum, s a
    size (the library's integer width), r a float32, p a pointer."""
    import numpy as np
    from threadpoolctl import threadpool_info

    home = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy")
    for info in threadpool_info():
        if info.get("internal_api") != "openblas" or not info["filepath"].startswith(home):
            continue
        lib = ctypes.CDLL(info["filepath"])
        for prefix, suffix in (("scipy_", "64_"), ("", "64_"), ("scipy_", ""), ("", "")):
            fn = getattr(lib, f"{prefix}cblas_{routine}{suffix}", None)
            if fn is None:
                continue
            size = ctypes.c_int64 if suffix else ctypes.c_int
            kinds = {"e": ctypes.c_int, "s": size, "r": ctypes.c_float, "p": ctypes.c_void_p}
            fn.argtypes = [kinds[k] for k in signature]
            fn.restype = None
            return fn
    return None
