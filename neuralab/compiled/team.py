"""What the kernels' ``*_split`` twins share: they run a kernel on ``parts`` pieces at once on
numba's thread team (OpenMP), whose hand-off costs a few µs where Python threads cost tens.
:func:`neuralab.parallel.team_parts` says how many parts a job gets; the team is started and
sized by :mod:`neuralab.compiled`."""

import numba

# numba.njit options of a twin: parallel (its prange runs on the team) and cached on disk
TEAM = dict(parallel=True, nogil=True, cache=True, error_model="numpy", boundscheck=False)


@numba.njit(inline="always")
def bounds(n: int, k: int, parts: int) -> tuple[int, int]:
    """The k-th of ``parts`` contiguous ranges (start, stop) covering range(n)."""
    return n * k // parts, n * (k + 1) // parts
