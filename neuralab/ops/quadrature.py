"""Numerical integration along a dimension by the trapezoidal rule (torch.trapezoid, trapz,
cumulative_trapezoid), composed from differentiable ops: gradients reach y and x."""

from __future__ import annotations

from typing import Any

from neuralab.ops._util import one_dim, to_tensor
from neuralab.ops.elementwise import mul, sub
from neuralab.ops.reduce import cumsum
from neuralab.ops.reduce import sum as _sum
from neuralab.ops.shape import narrow, reshape
from neuralab.tensor import Tensor


def _areas(op: str, y: Any, x: Any, dx: Any, dim: int) -> tuple[Tensor, int]:
    """Each interval's trapezoid, (y[i] + y[i+1]) / 2 · width, along ``dim``."""
    y = to_tensor(y)
    ax = one_dim(dim, y.ndim, op)
    n = y.shape[ax]
    if n == 0:
        return narrow(y, ax, 0, 0), ax
    pairs = narrow(y, ax, 1, n - 1) + narrow(y, ax, 0, n - 1)
    if x is None:
        return mul(pairs, 0.5 * (1.0 if dx is None else dx)), ax
    if dx is not None:
        raise ValueError(f"{op}: give x or dx, not both")
    x = to_tensor(x)
    if x.ndim == 1:
        if x.shape[0] != n:
            raise ValueError(f"{op}: x has {x.shape[0]} points for {n} values of y along dim {dim}")
        x = reshape(x, *[n if d == ax else 1 for d in range(y.ndim)])
        widths = sub(narrow(x, ax, 1, n - 1), narrow(x, ax, 0, n - 1))
    else:
        widths = sub(narrow(x, ax, 1, n - 1), narrow(x, ax, 0, n - 1))
    return mul(mul(pairs, widths), 0.5), ax


def trapezoid(y: Any, x: Any = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """∫ y along ``dim`` by trapezoids: at the points ``x`` (1-D, or y's shape), else spaced
    ``dx`` (default 1)."""
    areas, ax = _areas("trapezoid", y, x, dx, dim)
    return _sum(areas, ax)


def trapz(y: Any, x: Any = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """torch.trapz: :func:`trapezoid`."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(
    y: Any, x: Any = None, *, dx: float | None = None, dim: int = -1
) -> Tensor:
    """The running trapezoidal integral along ``dim`` (one fewer value than y there)."""
    areas, ax = _areas("cumulative_trapezoid", y, x, dx, dim)
    return cumsum(areas, ax)
