"""The Adam update compiled by numba: one pass over a parameter instead of a dozen NumPy passes.

Imported only through :func:`neuralab.compiled.load`, so neuralab never needs numba.
The arithmetic is NumPy's path (``Adam._update_group``) element by element, in the same order and
the parameter's own precision, without fused multiply-adds: the results are the same bits.
"""

import math

import numba


@numba.njit(nogil=True, cache=True, error_model="numpy")
def adam_update(theta, g, m, v, keep1, keep2, beta2, root_bias, eps, neg_step):  # noqa: ANN001
    """θ, m, v (1-D, same dtype) updated in place; the scalars have that dtype too."""
    for i in range(theta.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * keep1
        vi = v[i] * beta2 + (gi * gi) * keep2
        m[i] = mi
        v[i] = vi
        theta[i] += (mi / (math.sqrt(vi) / root_bias + eps)) * neg_step
