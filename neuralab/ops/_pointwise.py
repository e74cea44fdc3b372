"""Plumbing the pointwise activations share: recording y = f(x) and torch's ``inplace=``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from neuralab.ops.inplace import apply_inplace
from neuralab.tensor import Tensor, make


def unary(a: Tensor, out: np.ndarray, slope: Callable[[], np.ndarray]) -> Tensor:
    """Record ``out = f(a)``; the backward multiplies by f'(a), which ``slope()`` computes then."""
    return make(out, (a,), lambda g: (g * slope(),))


def settle(op: str, a: Tensor, record: Callable[[Tensor], Tensor], inplace: bool) -> Tensor:
    """The op's result: ``record(a)``, which wraps the computed output with parent ``a``.

    With ``inplace`` (torch's ``inplace=True``) ``a`` itself holds the result, as in torch: see
    :func:`neuralab.ops.inplace.apply_inplace` (a leaf that requires grad raises).
    """
    return apply_inplace(a, op + "_", record) if inplace else record(a)
