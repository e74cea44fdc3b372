"""Suite-wide settings: one BLAS thread per test process.

pytest-xdist already runs one process per core; letting OpenBLAS start threads of its own in
each would oversubscribe the cores and make small-matrix work many times slower.
"""

from threadpoolctl import threadpool_limits

threadpool_limits(1)
