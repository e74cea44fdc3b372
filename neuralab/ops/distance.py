"""Norms and distances: vector_norm (its own backward, 0 at the origin as in torch),
matrix_norm, torch.norm / Tensor.norm, linalg.norm, dist and cdist."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neuralab.ops._util import norm_dim, one_dim
from neuralab.ops.elementwise import abs as _abs
from neuralab.ops.elementwise import add, cast, clamp, mul, sqrt, sub, where
from neuralab.ops.matmul import matmul
from neuralab.ops.reduce import amax, sum
from neuralab.ops.shape import permute, transpose, unsqueeze
from neuralab.tensor import Tensor, make


def _float_input(op: str, x: Tensor, dtype: Any) -> Tensor:
    if dtype is not None:
        x = cast(x, np.dtype(dtype))
    if x._data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {x.dtype}")
    return x


def vector_norm(
    x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """The ``ord``-norm of the elements over ``dim`` (all when None); ord may be inf, -inf, 0."""
    x = _float_input("vector_norm", x, dtype)
    axes = norm_dim(dim, x.ndim, "vector_norm")
    v = x._data
    a = np.abs(v)
    p = float(ord)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if math.isinf(p):
            full = a.max(axis=axes, keepdims=True) if p > 0 else a.min(axis=axes, keepdims=True)
        elif p == 0:
            full = (v != 0).sum(axis=axes, keepdims=True).astype(v.dtype)
        elif p == 1:
            full = a.sum(axis=axes, keepdims=True)
        elif p == 2:
            full = np.sqrt((v * v).sum(axis=axes, keepdims=True))
        else:
            full = (a**p).sum(axis=axes, keepdims=True) ** (1 / p)

    def backward(g: np.ndarray) -> tuple:
        gk = g if keepdim or axes is None else np.expand_dims(g, axes)
        gk = gk.reshape(full.shape)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if math.isinf(p):
                hit = a == full
                d = np.sign(v) * hit / hit.sum(axis=axes, keepdims=True)
            elif p == 0:
                d = np.zeros_like(v)
            elif p == 1:
                d = np.sign(v)
            elif p == 2:
                d = np.where(full == 0, 0, v / full)
            else:
                d = np.where(full == 0, 0, np.sign(v) * a ** (p - 1) / full ** (p - 1))
        return ((gk * d).astype(v.dtype, copy=False),)

    out = full if keepdim else (full.reshape(()) if axes is None else full.squeeze(axes))
    return make(np.asarray(out, v.dtype), (x,), backward)


def _to_last_two(A: Tensor, dim: Any, op: str) -> tuple[Tensor, tuple[int, int]]:
    d = norm_dim(dim, A.ndim, op)
    if d is None or len(d) != 2 or len(tuple(dim)) != 2:
        raise ValueError(f"{op}: dim must name two different dimensions, got {dim}")
    d0, d1 = (x % A.ndim for x in dim)
    rest = [i for i in range(A.ndim) if i not in (d0, d1)]
    return permute(A, *rest, d0, d1), (d0, d1)


def _singular_norm(A: Tensor, ord: Any) -> Tensor:
    """'nuc' (sum), 2 (largest) or -2 (smallest singular value) of the last two dims."""
    a = A._data
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    pick = {2: np.argmax, -2: np.argmin}.get(ord)
    if pick is None:
        out = s.sum(axis=-1)
        grad = u @ vh
    else:
        k = pick(s, axis=-1)[..., None]
        out = np.take_along_axis(s, k, -1)[..., 0]
        uk = np.take_along_axis(u, k[..., None, :], -1)
        vk = np.take_along_axis(vh, k[..., :, None], -2)
        grad = uk @ vk
    return make(out.astype(a.dtype), (A,), lambda g: (g[..., None, None] * grad,))


def matrix_norm(
    A: Tensor, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """A matrix norm over the two dims ``dim``: 'fro', 'nuc', 1, -1, 2, -2, inf or -inf."""
    A = _float_input("matrix_norm", A, dtype)
    if A.ndim < 2:
        raise ValueError(f"matrix_norm: expected at least 2 dimensions, got shape {A.shape}")
    if ord == "fro":
        return vector_norm(A, 2, dim, keepdim)
    if ord not in ("nuc", 1, -1, 2, -2, math.inf, -math.inf):
        raise ValueError(f"matrix_norm: unsupported ord {ord!r}")
    M, (d0, d1) = _to_last_two(A, dim, "matrix_norm")
    if ord in ("nuc", 2, -2):
        out = _singular_norm(M, ord)
    else:
        sums = sum(_abs(M), -2 if abs(ord) == 1 else -1)
        out = amax(sums, -1) if ord > 0 else -amax(-sums, -1)
    if keepdim:
        for d in sorted((d0, d1)):
            out = unsqueeze(out, d)
    return out


def norm(
    input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> Tensor:
    """torch.norm: the ``p``-norm of the elements over ``dim``, or 'fro' / 'nuc' matrix norms."""
    if p == "nuc":
        return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise ValueError(f"norm: p must be a number, 'fro' or 'nuc', got {p!r}")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


def frobenius_norm(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """torch.frobenius_norm: the 2-norm of the elements over one or two dims (deprecated in
    torch for ``linalg.vector_norm``)."""
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) > 2:
        raise ValueError(f"frobenius_norm: expected at most 2 dimensions, got {len(dims)}")
    return vector_norm(input, 2, dims, keepdim)


def nuclear_norm(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """torch.nuclear_norm: the sum of the singular values over ``dim`` (the last two when None;
    ``nuclear_norm(x, True)`` is torch's overload with keepdim second)."""
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)


def linalg_norm(
    A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """torch.linalg.norm: a vector norm over one dim, a matrix norm over two."""
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise ValueError(f"linalg.norm: with ord and no dim the input must be 1-D or 2-D, got {A.ndim}")


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm of ``input - other``."""
    return vector_norm(sub(input, other), p)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str | None = None) -> Tensor:
    """Pairwise ``p``-norm distances between the rows of (..., P, M) and (..., R, M) tensors."""
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise ValueError(
            f"cdist: expected (..., P, M) and (..., R, M) tensors, got {x1.shape} and {x2.shape}"
        )
    modes = (None, "use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist")
    if compute_mode not in (*modes, "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"cdist: {compute_mode!r} is not a valid compute_mode")
    rows = max(x1.shape[-2], x2.shape[-2])
    if p == 2 and compute_mode in modes and (rows > 25 or compute_mode == modes[2]):
        return _euclidean_by_products(x1, x2)
    return vector_norm(sub(unsqueeze(x1, -2), unsqueeze(x2, -3)), p, -1)


def _euclidean_by_products(x1: Tensor, x2: Tensor) -> Tensor:
    """Euclidean distances as torch computes them past 25 rows: |a|² - 2 a·b + |b|², one
    matrix product instead of a (P, R, M) array of differences, clamped at 1e-30 before the
    root (so coincident rows get distance 1e-15 and a zero gradient, as in torch)."""
    squares = [sum(mul(x, x), -1, keepdim=True) for x in (x1, x2)]
    cross = matmul(x1, transpose(x2, -1, -2))
    d2 = add(sub(squares[0], mul(cross, 2.0)), transpose(squares[1], -1, -2))
    return sqrt(clamp(d2, min=1e-30))


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to that norm
    (torch.renorm: by maxnorm / (norm + 1e-7)); the others unchanged."""
    ax = one_dim(dim, input.ndim, "renorm")
    others = [d for d in range(input.ndim) if d != ax]
    norms = vector_norm(input, p, others, keepdim=True)
    scale = where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return input * scale
