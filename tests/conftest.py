"""Suite-wide settings: one BLAS thread per test process.

pytest-xdist already runs one process per core; letting OpenBLAS start threads of its own in
each would oversubscribe the cores and make small-matrix work many times slower. The limit only
reaches BLAS libraries that are loaded, so NumPy's and SciPy's are imported first.
"""

import numpy  # noqa: F401
import scipy.linalg  # noqa: F401
from threadpoolctl import threadpool_info, threadpool_limits

threadpool_limits(1)
assert all(pool["num_threads"] == 1 for pool in threadpool_info() if pool["user_api"] == "blas")

import neuralab  # noqa: E402

neuralab.set_num_threads(1)  # likewise for neuralab's own threads (tests of them raise it)
