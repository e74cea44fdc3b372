"""``F.bilinear``: y = x1ᵀ·W·x2 + b, one bilinear form per output feature (nn.Bilinear)."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.ops._util import float_tensor
from neuralab.tensor import Tensor, make

__all__ = ["bilinear"]


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Any = None) -> Tensor:
    """out[..., o] = Σ_ij input1[..., i]·weight[o, i, j]·input2[..., j] + bias[o]."""
    op = "bilinear"
    x1, x2 = float_tensor(input1, op, "input1"), float_tensor(input2, op, "input2")
    w = float_tensor(weight, op, "weight")
    b = None if bias is None else float_tensor(bias, op, "bias")
    if (
        w.ndim != 3
        or x1.shape[:-1] != x2.shape[:-1]
        or (x1.shape[-1], x2.shape[-1]) != w.shape[1:]
        or (b is not None and b.shape != w.shape[:1])
    ):
        raise ValueError(
            f"{op}: expected input1 (..., I), input2 (..., J), weight (O, I, J) and bias (O,), "
            f"got {x1.shape}, {x2.shape}, {w.shape} and {None if b is None else b.shape}"
        )
    a, c, m = x1._data, x2._data, w._data
    out = np.einsum("...i,oij,...j->...o", a, m, c, optimize=True)
    if b is not None:
        out = out + b._data

    def backward(g: np.ndarray) -> tuple:
        return (
            np.einsum("...o,oij,...j->...i", g, m, c, optimize=True),
            np.einsum("...o,...i,oij->...j", g, a, m, optimize=True),
            np.einsum("...o,...i,...j->oij", g, a, c, optimize=True),
            None if b is None else g.reshape(-1, g.shape[-1]).sum(axis=0),
        )

    parents = (x1, x2, w) if b is None else (x1, x2, w, b)
    return make(out, parents, lambda g: backward(g)[: len(parents)])
