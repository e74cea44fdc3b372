"""torch.gradient: a function's derivative estimated from its samples, by central differences
inside and one-sided differences of first or second order at the edges (NumPy's formulas),
on evenly spaced samples or at given coordinates. Differentiable: built from slices and sums."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from neuralab.ops._util import one_dim, to_tensor
from neuralab.ops.elementwise import _to_float
from neuralab.ops.shape import cat, narrow
from neuralab.tensor import Tensor, constant

__all__ = ["gradient"]


def gradient(
    input: Any, *, spacing: Any = 1, dim: int | Sequence[int] | None = None, edge_order: int = 1
) -> tuple[Tensor, ...]:
    """The derivative of ``input`` along each dimension in ``dim`` (all by default), one tensor
    per dimension. ``spacing``: a scalar (the distance between samples), or one per dimension,
    each a scalar or a 1-D tensor of the samples' coordinates."""
    x = _to_float(to_tensor(input))  # integers: the default float dtype, as torch
    dims = (
        list(range(x.ndim))
        if dim is None
        else [one_dim(d, x.ndim, "gradient") for d in ([dim] if isinstance(dim, int) else dim)]
    )
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if any(x.shape[d] < edge_order + 1 for d in dims):
        raise RuntimeError(
            "torch.gradient expected each dimension size to be at least edge_order+1"
        )
    steps = _spacings(spacing, dims, x, given_dims=dim is not None)
    return tuple(_along(x, d, step, edge_order) for d, step in zip(dims, steps))


def _spacings(spacing: Any, dims: list[int], x: Tensor, given_dims: bool) -> list[Any]:
    """One spacing per dimension: a float, or the coordinates as a float64 array."""
    if not isinstance(spacing, list | tuple):
        return [float(spacing)] * len(dims)
    if len(spacing) != len(dims):
        which = "the length of 'dim'" if given_dims else f"'self.dim() = {x.ndim}'"
        reason = "" if given_dims else ", since dim argument was not given"
        raise RuntimeError(
            "torch.gradient expected spacing to be unspecified, a scalar, or a list of length "
            f"equal to {which}{reason}, but got a list of length {len(spacing)}"
        )
    out = []
    for d, s in zip(dims, spacing):
        if isinstance(s, Tensor) and s.ndim == 1:
            if s.shape[0] != x.shape[d]:
                raise RuntimeError(
                    f"torch.gradient expected each tensor to be on the same device and the "
                    f"coordinates of dimension {d} to have {x.shape[d]} values, got {s.shape[0]}"
                )
            out.append(s.numpy().astype(np.float64))
        else:
            out.append(float(s))
    return out


def _along(x: Tensor, d: int, step: Any, edge_order: int) -> Tensor:
    """The derivative along ``d`` with ``step`` (a float or the coordinates)."""
    n = x.shape[d]
    dx = np.full(n - 1, step) if isinstance(step, float) else np.diff(step)
    a, b = dx[:-1], dx[1:]  # the steps before and after each inside sample
    central = [-b / (a * (a + b)), (b - a) / (a * b), a / (b * (a + b))]
    inside = _combine(x, d, [narrow(x, d, k, n - 2) for k in range(3)], central)
    first, last = _edges(x, d, dx, edge_order)
    return cat([first, inside, last], d)


def _edges(x: Tensor, d: int, dx: np.ndarray, edge_order: int) -> tuple[Tensor, Tensor]:
    """The one-sided differences at both ends, of first or second order."""
    n = x.shape[d]
    if edge_order == 1:
        head, tail = [-1 / dx[:1], 1 / dx[:1]], [-1 / dx[-1:], 1 / dx[-1:]]
    else:
        a, b = dx[:1], dx[1:2]
        head = [-(2 * a + b) / (a * (a + b)), (a + b) / (a * b), -a / (b * (a + b))]
        a, b = dx[-2:-1], dx[-1:]
        tail = [b / (a * (a + b)), -(a + b) / (a * b), (2 * b + a) / (b * (a + b))]
    k = len(head)
    first = _combine(x, d, [narrow(x, d, i, 1) for i in range(k)], head)
    last = _combine(x, d, [narrow(x, d, n - k + i, 1) for i in range(k)], tail)
    return first, last


def _combine(x: Tensor, d: int, values: list[Tensor], weights: list[np.ndarray]) -> Tensor:
    """Σ weights[k]·values[k], each weight a vector along ``d`` in x's dtype."""
    shape = [1] * x.ndim
    shape[d] = values[0].shape[d]
    total = None
    for v, w in zip(values, weights):
        term = v * constant(np.broadcast_to(w, shape[d]).reshape(shape).astype(x.dtype))
        total = term if total is None else total + term
    return total
