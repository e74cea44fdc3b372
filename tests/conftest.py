"""Suite-wide settings (one BLAS thread per test process) and fixtures shared by modules.

pytest-xdist already runs one process per core; letting OpenBLAS start threads of its own in
each would oversubscribe the cores and make small-matrix work many times slower. The limit only
reaches BLAS libraries that are loaded, so NumPy's and SciPy's are imported first. The thread
variables carry the same limit to torch and to the programs tests start (notebook kernels, the
`neuralab` command, ported programs): with them the notebooks' tests took 14% less time.
"""

import contextlib
import io
import os

for _name in ("NEURALAB_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import numpy  # noqa: E402, F401
import scipy.linalg  # noqa: E402, F401
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

threadpool_limits(1)
assert all(pool["num_threads"] == 1 for pool in threadpool_info() if pool["user_api"] == "blas")

import neuralab  # noqa: E402

neuralab.set_num_threads(1)  # likewise for neuralab's own threads (tests of them raise it)


import pytest  # noqa: E402

# The long tests go first: pytest-xdist then hands each worker the next test as it finishes
# (``--dist loadgroup``), so the long ones run beside the thousands of short ones instead of
# leaving one worker busy at the end while the other has nothing left.
LONG_MARKERS = ("quality", "notebooks", "ports")


def pytest_collection_modifyitems(items: list) -> None:
    """Move the tests of :data:`LONG_MARKERS` to the front, keeping every other order."""
    items.sort(key=lambda item: not any(item.get_closest_marker(m) for m in LONG_MARKERS))


class _DemoRuns(dict):
    """{topic: (returned dict, printed text)}, each lecture demo run (quick) on first use."""

    def __init__(self, out):
        super().__init__()
        self.out = out

    def __missing__(self, name: str):
        from neuralab import demos

        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            self[name] = (demos.run(name, self.out, quick=True), text.getvalue())
        return self[name]


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory) -> _DemoRuns:
    """The demo topics, each run once per test process for every test that reads it (the test
    modules that use it share an xdist group, so they run in one process: --dist loadgroup)."""
    return _DemoRuns(tmp_path_factory.mktemp("demos"))
