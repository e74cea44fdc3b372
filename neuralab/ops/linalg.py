"""Matrix and vector products with torch's shape rules: mm, bmm, mv, dot, outer, the fused
add-products (addmm, baddbmm, ...), tensordot, kron and cross. Most check shapes and then reuse
the differentiable :func:`~neuralab.ops.matmul.matmul`, :func:`einsum` or elementwise ops."""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from neuralab.ops._util import one_dim, unbroadcast
from neuralab.ops.einsum import einsum
from neuralab.ops.elementwise import add, cast, coerce, mul, pow
from neuralab.ops.matmul import matmul as _dense_matmul
from neuralab.ops.reduce import sum as _sum
from neuralab.ops.shape import reshape
from neuralab.tensor import Tensor, constant, int64, make


def _need(op: str, t: Any, ndim: int, what: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a Tensor for {what}, got {type(t).__name__}")
    if t.ndim != ndim:
        raise ValueError(f"{op}: {what} must be {ndim}-D, got shape {tuple(t.shape)}")


def matmul(input: Any, other: Any) -> Tensor:
    """input @ other with NumPy's broadcasting rules (a sparse first operand: ``sparse.mm``)."""
    if getattr(input, "is_sparse", False):
        from neuralab.sparse import mm as sparse_mm

        return sparse_mm(input, other)
    return _dense_matmul(input, other)


def mm(input: Any, mat2: Tensor) -> Tensor:
    """The product of two matrices (a sparse first operand goes to ``sparse.mm``)."""
    if getattr(input, "is_sparse", False):
        from neuralab.sparse import mm as sparse_mm

        return sparse_mm(input, mat2)
    _need("mm", input, 2, "input")
    _need("mm", mat2, 2, "mat2")
    if input.shape[1] != mat2.shape[0]:
        raise ValueError(
            f"mm: shapes {tuple(input.shape)} and {tuple(mat2.shape)} cannot be multiplied"
        )
    return _dense_matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of (b, n, m) and (b, m, p) tensors."""
    _need("bmm", input, 3, "input")
    _need("bmm", mat2, 3, "mat2")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise ValueError(
            f"bmm: shapes {tuple(input.shape)} and {tuple(mat2.shape)} cannot be multiplied "
            "(batch sizes must be equal and inner dimensions match)"
        )
    return _dense_matmul(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix (n, m) times vector (m,)."""
    _need("mv", input, 2, "input")
    _need("mv", vec, 1, "vec")
    if input.shape[1] != vec.shape[0]:
        raise ValueError(f"mv: shapes {tuple(input.shape)} and {tuple(vec.shape)} do not align")
    return _dense_matmul(input, vec)


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of the same length."""
    _need("dot", input, 1, "input")
    _need("dot", tensor, 1, "tensor")
    if input.shape != tensor.shape:
        raise ValueError(
            f"dot: the vectors have different lengths {input.shape[0]} and {tensor.shape[0]}"
        )
    return _dense_matmul(input, tensor)


vdot = dot


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dimension of both (a scalar factor multiplies)."""
    if input.ndim == 0 or other.ndim == 0:
        return mul(input, other)
    la = string.ascii_lowercase[: input.ndim - 1]
    lb = string.ascii_uppercase[: other.ndim - 1]
    return einsum(f"{la}z,{lb}z->{la}{lb}", input, other)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two vectors: (n,) x (m,) -> (n, m)."""
    _need("outer", input, 1, "input")
    _need("outer", vec2, 1, "vec2")
    return mul(reshape(input, -1, 1), reshape(vec2, 1, -1))


ger = outer


def _scaled_sum(input: Any, product: Tensor, beta: float, alpha: float) -> Tensor:
    """beta * input + alpha * product; with beta == 0 the input is ignored (even NaN)."""
    if alpha != 1:
        product = mul(product, alpha)
    if beta == 0:
        return product
    return add(input if beta == 1 else mul(input, beta), product)


def addmm(input: Any, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2)."""
    return _scaled_sum(input, mm(mat1, mat2), beta, alpha)


def addmv(input: Any, mat: Tensor, vec: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """beta * input + alpha * (mat @ vec)."""
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


def addr(input: Any, vec1: Tensor, vec2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2)."""
    return _scaled_sum(input, outer(vec1, vec2), beta, alpha)


def baddbmm(
    input: Any, batch1: Tensor, batch2: Tensor, *, beta: float = 1, alpha: float = 1
) -> Tensor:
    """beta * input + alpha * bmm(batch1, batch2)."""
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


def addbmm(
    input: Any, batch1: Tensor, batch2: Tensor, *, beta: float = 1, alpha: float = 1
) -> Tensor:
    """beta * input + alpha * (the sum over the batch of bmm(batch1, batch2))."""
    return _scaled_sum(input, _sum(bmm(batch1, batch2), 0), beta, alpha)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Contract the last ``dims`` axes of ``a`` with the first of ``b`` (or the listed pairs)."""
    if isinstance(dims, int | np.integer):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: dims must be in [0, {min(a.ndim, b.ndim)}], got {dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
        if len(da) != len(db):
            raise ValueError(f"tensordot: dims {dims} must list as many axes for a as for b")
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(da, db):
        sb[one_dim(j, b.ndim, "tensordot")] = sa[one_dim(i, a.ndim, "tensordot")]
    shared = {sa[one_dim(i, a.ndim, "tensordot")] for i in da}
    out = [c for c in sa if c not in shared] + [c for c in sb if c not in shared]
    return einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(out)}", a, b)


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: every element of ``input`` times a block ``other``."""
    a, b = coerce(input, other)
    nd = max(a.ndim, b.ndim)
    sa, sb = (1,) * (nd - a.ndim) + a.shape, (1,) * (nd - b.ndim) + b.shape
    left = reshape(a, [s for d in sa for s in (d, 1)])
    right = reshape(b, [s for d in sb for s in (1, d)])
    return reshape(mul(left, right), [x * y for x, y in zip(sa, sb)])


def cross(input: Any, other: Any, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (default: the first dimension of size 3)."""
    a, b = coerce(input, other)
    x, y = a._data, b._data
    shape = np.broadcast_shapes(x.shape, y.shape)
    if dim is None:
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise ValueError(f"cross: no dimension of size 3 in shape {shape}")
    ax = one_dim(dim, len(shape), "cross")
    if shape[ax] != 3:
        raise ValueError(f"cross: dimension {dim} has size {shape[ax]}, expected 3")

    def backward(g: np.ndarray) -> tuple:
        return (
            unbroadcast(np.cross(y, g, axis=ax), x.shape) if a.requires_grad else None,
            unbroadcast(np.cross(g, x, axis=ax), y.shape) if b.requires_grad else None,
        )

    x3, y3 = np.broadcast_to(x, shape), np.broadcast_to(y, shape)
    return make(np.cross(x3, y3, axis=ax), (a, b), backward)


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of a chain of 2-D matrices (torch.chain_matmul)."""
    if not matrices:
        raise ValueError("chain_matmul: expected at least one matrix")
    out = matrices[0]
    for m in matrices[1:]:
        out = mm(out, m)
    return out


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803
    """The Vandermonde matrix of a 1-D tensor: column j is x^(N-1-j), or x^j when ``increasing``
    (torch.vander; N defaults to len(x)); differentiable."""
    _need("vander", x, 1, "x")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise ValueError(f"vander: N must be non-negative, got {N}")
    powers = np.arange(n) if increasing else np.arange(n - 1, -1, -1)
    kind = x._data.dtype.kind
    base = x if kind in "fc" else cast(x, int64)  # integers (and bools) as int64, as torch
    return pow(reshape(base, -1, 1), constant(powers.astype(base._data.dtype)))
