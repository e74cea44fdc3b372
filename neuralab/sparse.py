"""Sparse COO tensors for graph networks: ``sparse_coo_tensor(indices, values, size)``,
``sparse.mm`` / ``spmm`` (sparse @ dense, computed by SciPy) with gradients for the dense
operand and the values, ``to_dense``, ``coalesce``, ``indices()`` / ``values()``.

A :class:`SparseTensor` keeps its indices as an int64 array of shape (sparse_dim, nnz) and its
values as an ordinary (possibly differentiable) :class:`~neuralab.tensor.Tensor`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.device import CPU, require_cpu
from neuralab.dtypes import _Named
from neuralab.ops.elementwise import cast, mul
from neuralab.tensor import Tensor, constant, float32, make

sparse_coo = _Named("sparse_coo")


class SparseTensor:
    """A sparse tensor in coordinate (COO) form: ``values[k]`` sits at ``indices[:, k]``."""

    is_sparse = True
    layout = sparse_coo
    device = CPU
    is_cuda = False

    def __init__(self, indices: np.ndarray, values: Tensor, size: tuple[int, ...],
                 coalesced: bool = False) -> None:  # fmt: skip
        self._indices = indices
        self._values = values
        self._size = tuple(int(s) for s in size)
        self._coalesced = coalesced

    # --- what it is ---------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The dense shape."""
        return self._size

    def size(self, dim: int | None = None) -> Any:
        """The dense shape, or its size along ``dim``."""
        return self._size if dim is None else self._size[dim]

    def dim(self) -> int:
        """The number of dimensions of the dense shape."""
        return len(self._size)

    ndim = property(dim)

    @property
    def dtype(self) -> np.dtype:
        """The values' dtype."""
        return self._values.dtype

    @property
    def requires_grad(self) -> bool:
        """Whether the values record gradients."""
        return self._values.requires_grad

    def requires_grad_(self, requires_grad: bool = True) -> SparseTensor:
        """Make the values (a leaf) record gradients."""
        self._values.requires_grad_(requires_grad)
        return self

    def sparse_dim(self) -> int:
        """How many leading dimensions the indices address."""
        return self._indices.shape[0]

    def dense_dim(self) -> int:
        """How many trailing dimensions each value has."""
        return self._values.ndim - 1

    def _nnz(self) -> int:
        """The number of stored values."""
        return self._indices.shape[1]

    def is_coalesced(self) -> bool:
        """Whether the indices are sorted and unique."""
        return self._coalesced

    def indices(self) -> Tensor:
        """The (sparse_dim, nnz) int64 coordinates."""
        return constant(self._indices)

    def values(self) -> Tensor:
        """The nnz values (in the graph: gradients flow to them)."""
        return self._values

    _values_ = values

    def __repr__(self) -> str:
        return (
            f"tensor(indices={self._indices.tolist()},\n       values={self._values!r},\n"
            f"       size={self._size}, nnz={self._nnz()}, layout=neuralab.sparse_coo)"
        )

    # --- conversions --------------------------------------------------------------------
    def coalesce(self) -> SparseTensor:
        """Sorted coordinates with duplicates summed."""
        if self._coalesced:
            return self
        flat = np.ravel_multi_index(self._indices, self._size[: self.sparse_dim()])
        keys, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
        v = self._values
        summed = np.zeros((len(keys), *v.shape[1:]), v.dtype)
        np.add.at(summed, inverse, v._data)
        values = make(summed, (v,), lambda g: (g[inverse],))
        return SparseTensor(self._indices[:, first], values, self._size, True)

    def to_dense(self) -> Tensor:
        """The dense tensor (gradients flow back to the values)."""
        dense = np.zeros(self._size, self.dtype)
        where = tuple(self._indices)
        np.add.at(dense, where, self._values._data)
        return make(dense, (self._values,), lambda g: (g[where],))

    def to(self, *args: Any, **kwargs: Any) -> SparseTensor:
        """A copy in another dtype; devices other than the CPU are refused."""
        dtype = kwargs.pop("dtype", None)
        for a in (*args, kwargs.pop("device", None)):
            if isinstance(a, np.dtype | type) and dtype is None:
                dtype = a
            elif a is not None and not isinstance(a, bool):
                require_cpu(a, "SparseTensor.to")
        if dtype is None or np.dtype(dtype) == self.dtype:
            return self
        return self._with(cast(self._values, np.dtype(dtype)))

    def cpu(self) -> SparseTensor:
        """Itself: sparse tensors live on the CPU."""
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False) -> SparseTensor:
        """Refused: neuralab runs on the CPU only."""
        require_cpu("cuda", "SparseTensor.cuda")
        return self

    def float(self) -> SparseTensor:
        """A float32 copy of the values."""
        return self.to(float32)

    def double(self) -> SparseTensor:
        """A float64 copy of the values."""
        return self.to(np.float64)

    def detach(self) -> SparseTensor:
        """The same tensor with its values cut from the graph."""
        return self._with(self._values.detach())

    def t(self) -> SparseTensor:
        """The transpose of a 2-D sparse tensor."""
        if self.sparse_dim() != 2:
            raise ValueError(f"t: expected a 2-D sparse tensor, got {self.sparse_dim()} dims")
        return SparseTensor(self._indices[::-1].copy(), self._values, self._size[::-1])

    def _with(self, values: Tensor) -> SparseTensor:
        return SparseTensor(self._indices, values, self._size, self._coalesced)

    # --- arithmetic ---------------------------------------------------------------------
    def __mul__(self, other: Any) -> SparseTensor:
        if isinstance(other, Tensor) and other.ndim != 0:
            raise TypeError("SparseTensor: only multiplication by a number is supported")
        return self._with(mul(self._values, other))

    __rmul__ = __mul__

    def __neg__(self) -> SparseTensor:
        return self * -1

    def __matmul__(self, other: Tensor) -> Tensor:
        return mm(self, other)

    def mm(self, mat2: Tensor) -> Tensor:
        """self @ mat2 (see :func:`mm`)."""
        return mm(self, mat2)

    matmul = mm

    def sum(self, dim: Any = None) -> Tensor:
        """The sum of all values, or over ``dim`` as a dense tensor."""
        from neuralab.ops.reduce import sum as _sum

        return _sum(self._values) if dim is None else _sum(self.to_dense(), dim)


def _as_indices(indices: Any) -> np.ndarray:
    idx = np.asarray(indices._data if isinstance(indices, Tensor) else indices)
    if idx.dtype.kind not in "iu" and idx.size:
        raise TypeError(f"sparse_coo_tensor: indices must be integers, got dtype {idx.dtype}")
    idx = idx.astype(np.int64).reshape(idx.shape[0] if idx.ndim else 0, -1)
    if idx.size and idx.min() < 0:
        raise ValueError(f"sparse_coo_tensor: indices must be non-negative, got {idx.min()}")
    return idx


def sparse_coo_tensor(
    indices: Any, values: Any, size: Any = None, *, dtype: Any = None, device: Any = None,
    requires_grad: bool = False, check_invariants: bool | None = None,
    is_coalesced: bool | None = None,
) -> SparseTensor:  # fmt: skip
    """A COO sparse tensor with ``values[k]`` at ``indices[:, k]`` (size inferred if None)."""
    require_cpu(device, "sparse_coo_tensor")
    idx = _as_indices(indices)
    if isinstance(values, Tensor):
        vals = values if dtype is None else cast(values, np.dtype(dtype))
    else:
        vals = Tensor(values, dtype=dtype) if dtype is not None else Tensor(values)
    if vals.ndim == 0 or vals.shape[0] != idx.shape[1]:
        raise ValueError(
            f"sparse_coo_tensor: {idx.shape[1]} coordinates but values of shape {vals.shape}"
        )
    inferred = tuple(int(m) + 1 for m in idx.max(axis=1)) if idx.size else (0,) * len(idx)
    size = inferred + tuple(vals.shape[1:]) if size is None else tuple(int(s) for s in size)
    if len(size) != len(idx) + vals.ndim - 1:
        raise ValueError(f"sparse_coo_tensor: size {size} does not fit {len(idx)} sparse dims")
    if any(m > s for m, s in zip(inferred, size)):
        raise ValueError(f"sparse_coo_tensor: an index is out of range for size {size}")
    if requires_grad:
        vals.requires_grad_()
    return SparseTensor(idx, vals, size, bool(is_coalesced))


def FloatTensor(indices: Any, values: Any, size: Any = None) -> SparseTensor:  # noqa: N802
    """The legacy ``torch.sparse.FloatTensor(indices, values, size)`` constructor."""
    return sparse_coo_tensor(indices, values, size, dtype=float32)


def mm(mat1: SparseTensor, mat2: Tensor) -> Tensor:
    """sparse (n, m) @ dense (m, p) -> dense (n, p); gradients reach mat2 and mat1's values."""
    if not isinstance(mat1, SparseTensor):
        from neuralab.ops.linalg import mm as dense_mm

        return dense_mm(mat1, mat2)
    if mat1.sparse_dim() != 2 or mat1.dense_dim() != 0:
        raise ValueError(f"sparse.mm: expected a 2-D sparse matrix, got size {mat1.shape}")
    if not isinstance(mat2, Tensor) or mat2.ndim not in (1, 2) or mat2.shape[0] != mat1.shape[1]:
        shape = getattr(mat2, "shape", type(mat2).__name__)
        raise ValueError(f"sparse.mm: shapes {mat1.shape} and {shape} cannot be multiplied")
    rows, cols = mat1._indices
    values = mat1._values
    v, d = values._data, mat2._data
    from scipy.sparse import csr_matrix  # imported on first use: it costs 0.1 s at startup

    matrix = csr_matrix((v, (rows, cols)), shape=mat1.shape)
    out = np.asarray(matrix @ d)

    def backward(g: np.ndarray) -> tuple:
        gv = None
        if values.requires_grad:
            gv = (g[rows] * d[cols]).sum(axis=-1) if d.ndim == 2 else g[rows] * d[cols]
        gd = np.asarray(matrix.T @ g) if mat2.requires_grad else None
        return gv, gd

    return make(out.astype(np.result_type(v, d), copy=False), (values, mat2), backward)


spmm = mm


def sum(input: SparseTensor, dim: Any = None) -> Tensor:  # noqa: A001
    """The sum of a sparse tensor's values, or over ``dim`` (returned dense)."""
    return input.sum(dim)


def to_sparse(input: Tensor, sparse_dim: int | None = None) -> SparseTensor:
    """The COO form of a dense tensor (its nonzero elements; gradients flow back)."""
    from neuralab.ops.shape import getitem

    x = input._data
    where = np.nonzero(x)
    values = getitem(input, tuple(constant(w) for w in where))
    return SparseTensor(np.stack(where).astype(np.int64), values, x.shape, True)
