"""ReLU forward and backward compiled by numba: one vectorised pass each.

Imported only through :func:`neuralab.compiled.load`, so neuralab never needs numba. NumPy's
``maximum`` keeps NaN with a scalar loop, about one element per cycle (0.65 ms for 2 million
float32 here, where a copy takes 0.14 ms), and its backward ``g * (x > 0)`` is two passes. The
same selections written as branch-free element loops vectorise. Results equal NumPy's bit for
bit: NaN passes through, -0.0 becomes +0.0, and the gradient is ``g × 0`` (-0.0, or NaN for an
infinite ``g``) where the input is not positive.
"""

import numba


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def relu(x, out):  # noqa: ANN001, ANN201
    """out = maximum(x, 0) over flat arrays, as NumPy computes it."""
    zero = x.dtype.type(0)
    for i in range(x.size):
        v = x[i]
        out[i] = v if v > zero or v != v else zero


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def relu_backward(g, x, out):  # noqa: ANN001, ANN201
    """out = g · (x > 0) over flat arrays, as NumPy computes it."""
    zero = x.dtype.type(0)
    for i in range(x.size):
        out[i] = g[i] * (x.dtype.type(1) if x[i] > zero else zero)
