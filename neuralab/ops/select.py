"""Reading and writing by index: gather/scatter, index_select/index_add/index_copy/index_fill,
masked_fill/select/scatter, take, take_along_dim, index_put, nonzero. The gradient of a read
is a scatter-add of the output gradient; of a write, the gradient at the written places."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.ops._util import one_dim, scatter_add_rows, to_tensor, unbroadcast
from neuralab.ops._where import where
from neuralab.ops.shape import getitem
from neuralab.tensor import Tensor, _index, constant, make


def _indices(index: Any, op: str) -> np.ndarray:
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got dtype {idx.dtype}")
    return idx


def _in_bounds(idx: np.ndarray, size: int, dim: int, op: str) -> None:
    if idx.size and (idx.min() < -size or idx.max() >= size):
        bad = idx.min() if idx.min() < -size else idx.max()
        raise IndexError(f"{op}: index {bad} is out of bounds for dimension {dim} with size {size}")


def _add_at(shape: tuple[int, ...], where: Any, values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Zeros of ``shape`` with ``values`` added at the positions ``where`` (repeats add up)."""
    if dtype.kind == "f" and values.size:
        flat = np.ravel_multi_index(np.broadcast_arrays(*where), shape)
        weights = np.broadcast_to(values, flat.shape).ravel()
        summed = np.bincount(flat.ravel(), weights, int(np.prod(shape)))
        return summed.reshape(shape).astype(dtype, copy=False)
    out = np.zeros(shape, dtype)
    np.add.at(out, where, values)
    return out


def _along(idx: np.ndarray, ax: int) -> tuple[np.ndarray, ...]:
    """Full index tuple for the elements of ``idx`` read along axis ``ax`` (gather's positions)."""
    where = list(np.indices(idx.shape, sparse=True))
    where[ax] = idx
    return tuple(where)


def _check_gather_shape(op: str, x: np.ndarray, idx: np.ndarray, ax: int, dim: int) -> None:
    if idx.ndim != x.ndim:
        raise ValueError(
            f"{op}: index must have as many dimensions as input ({x.ndim}), got {idx.ndim}"
        )
    for d, (i, s) in enumerate(zip(idx.shape, x.shape)):
        if d != ax and i > s:
            raise ValueError(
                f"{op}: index of shape {idx.shape} is larger than input {x.shape} in dimension {d}"
            )
    _in_bounds(idx, x.shape[ax], dim, op)


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """out[i][j] = input[i][index[i][j]] along ``dim`` (the shape of ``index``)."""
    x = input._data
    ax = one_dim(dim, x.ndim, "gather")
    idx = _indices(index, "gather")
    _check_gather_shape("gather", x, idx, ax, dim)
    where = _along(idx % max(x.shape[ax], 1), ax)
    return make(x[where], (input,), lambda g: (_add_at(x.shape, where, g, g.dtype),))


def _source(src: Any, like: Tensor, op: str) -> tuple[Tensor, bool]:
    """The values to write, as a tensor of ``like``'s dtype, and whether it was a scalar."""
    if isinstance(src, Tensor):
        return src, False
    if np.ndim(src) != 0:
        raise TypeError(f"{op}: src must be a tensor or a number, got {type(src).__name__}")
    return constant(np.asarray(src, like.dtype)), True


def scatter(
    input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
    reduce: str | None = None,
) -> Tensor:  # fmt: skip
    """A copy of ``input`` with ``src`` (or ``value``) written at ``index`` along ``dim``;
    ``reduce`` 'add' or 'multiply' combines instead of overwriting."""
    if reduce not in (None, "add", "multiply"):
        raise ValueError(f"scatter: reduce must be None, 'add' or 'multiply', got {reduce!r}")
    if (src is None) == (value is None):
        raise TypeError("scatter: give exactly one of src and value")
    s, scalar = _source(value if src is None else src, input, "scatter")
    x = input._data
    ax = one_dim(dim, x.ndim, "scatter")
    idx = _indices(index, "scatter")
    _check_gather_shape("scatter", x, idx, ax, dim)
    where = _along(idx % max(x.shape[ax], 1), ax)
    part = s._data if scalar else s._data[tuple(slice(0, n) for n in idx.shape)]
    out = x.copy()
    if reduce is None:
        out[where] = part
    else:
        (np.add if reduce == "add" else np.multiply).at(out, where, part.astype(x.dtype))

    def backward(g: np.ndarray) -> tuple:
        if reduce == "multiply":
            raise RuntimeError("scatter: the backward of reduce='multiply' is not implemented")
        gi = g
        if reduce is None:
            gi = g.copy()
            gi[where] = 0
        if scalar or not s.requires_grad:
            return gi, None
        gs = np.zeros(s.shape, g.dtype)
        gs[tuple(slice(0, n) for n in idx.shape)] = g[where]
        return gi, gs

    return make(out, (input, s), backward)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats add up)."""
    return scatter(input, dim, index, src, reduce="add")


_REDUCE_INIT = {"sum": 0, "mean": 0, "prod": 1, "amax": -np.inf, "amin": np.inf}


def scatter_reduce(
    input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """Reduce ``src`` into ``input`` at ``index`` along ``dim``: sum, prod, mean, amax or amin."""
    if reduce not in _REDUCE_INIT:
        raise ValueError(
            f"scatter_reduce: reduce must be one of {list(_REDUCE_INIT)}, got {reduce!r}"
        )
    x, s = input._data, src._data
    ax = one_dim(dim, x.ndim, "scatter_reduce")
    idx = _indices(index, "scatter_reduce")
    _check_gather_shape("scatter_reduce", x, idx, ax, dim)
    where = _along(idx % max(x.shape[ax], 1), ax)
    part = s[tuple(slice(0, n) for n in idx.shape)].astype(x.dtype, copy=False)
    touched = np.zeros(x.shape, bool)
    touched[where] = True
    base = x.copy()
    if not include_self:
        base[touched] = _REDUCE_INIT[reduce]
    ufunc = {"sum": np.add, "mean": np.add, "prod": np.multiply}.get(reduce)
    ufunc = ufunc or (np.maximum if reduce == "amax" else np.minimum)
    ufunc.at(base, where, part)
    count = _add_at(x.shape, where, np.ones(part.shape), np.dtype(np.float64))
    count += include_self
    if reduce == "mean":
        base = np.where(touched, base / np.maximum(count, 1), base).astype(x.dtype)
    out = base

    def backward(g: np.ndarray) -> tuple:
        if reduce == "prod":
            with np.errstate(divide="ignore", invalid="ignore"):
                gi, gs = g * out / x, (g * out)[where] / part
        elif reduce == "mean":
            scale = np.where(touched, g / np.maximum(count, 1), g)
            gi, gs = scale, scale[where]
        elif reduce == "sum":
            gi, gs = g, g[where]
        else:
            ties = _add_at(x.shape, where, part == out[where], np.dtype(np.float64))
            ties += include_self * (x == out)
            share = np.where(touched, g / np.maximum(ties, 1), g)
            gi, gs = share * (x == out), share[where] * (part == out[where])
        if not include_self:
            gi = np.where(touched, 0, gi)
        full = np.zeros(s.shape, g.dtype)
        full[tuple(slice(0, n) for n in idx.shape)] = gs
        return gi.astype(g.dtype, copy=False), full

    return make(out, (input, src), backward)


def index_reduce(
    input: Tensor,
    dim: int,
    index: Tensor,
    source: Tensor,
    reduce: str,
    *,
    include_self: bool = True,
) -> Tensor:
    """A copy of ``input`` with ``source``'s slices reduced (prod, mean, amax or amin) into the
    slices at ``index`` along ``dim``: :func:`scatter_reduce` with each index spread over its
    slice."""
    op = "index_reduce"
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise ValueError(f"{op}: reduce must be 'prod', 'mean', 'amax' or 'amin', got {reduce!r}")
    ax = one_dim(dim, input.ndim, op)
    idx = _indices(index, op)
    expected = input.shape[:ax] + (idx.size,) + input.shape[ax + 1 :]
    if idx.ndim > 1 or source.shape != expected:
        raise ValueError(
            f"{op}: expected a 1-D index and source of shape {expected} for input of shape "
            f"{input.shape}, got index of shape {idx.shape} and source of shape {source.shape}"
        )
    n = input.shape[ax]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"{op}: index {bad} is out of range for dimension {dim} of size {n}")
    along = idx.reshape([-1 if d == ax else 1 for d in range(input.ndim)])
    spread = np.broadcast_to(along, expected)
    return scatter_reduce(input, dim, spread, source, reduce, include_self=include_self)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices at positions ``index`` (1-D) along ``dim``."""
    x = input._data
    ax = one_dim(dim, x.ndim, "index_select")
    idx = _indices(index, "index_select").reshape(-1)
    n = x.shape[ax] if x.ndim else 1
    _in_bounds(idx, n, dim, "index_select")
    idx = idx % max(n, 1)
    out = np.take(x, idx, axis=ax)

    def backward(g: np.ndarray) -> tuple:
        rows = scatter_add_rows(n, idx, np.moveaxis(g, ax, 0))
        return (np.moveaxis(rows, 0, ax),)

    return make(out, (input,), backward)


def _rows(op: str, input: Tensor, dim: int, index: Tensor) -> tuple[int, np.ndarray]:
    ax = one_dim(dim, input.ndim, op)
    idx = _indices(index, op).reshape(-1)
    _in_bounds(idx, input.shape[ax], dim, op)
    return ax, idx % max(input.shape[ax], 1)


def index_add(
    input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: float = 1
) -> Tensor:
    """A copy of ``input`` with ``alpha * source``'s slices added at ``index`` along ``dim``."""
    ax, idx = _rows("index_add", input, dim, index)
    x, s = input._data, source._data
    if s.shape[ax] != idx.size:
        raise ValueError(f"index_add: source has {s.shape[ax]} slices for {idx.size} indices")
    out = x.copy()
    added = scatter_add_rows(x.shape[ax], idx, np.moveaxis(s * alpha, ax, 0).astype(x.dtype))
    np.moveaxis(out, ax, 0)[...] += added

    def backward(g: np.ndarray) -> tuple:
        return g, np.take(g, idx, axis=ax) * alpha

    return make(out, (input, source), backward)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` with ``source``'s slices written at ``index`` along ``dim``."""
    ax, idx = _rows("index_copy", input, dim, index)
    out = input._data.copy()
    np.moveaxis(out, ax, 0)[idx] = np.moveaxis(source._data, ax, 0)

    def backward(g: np.ndarray) -> tuple:
        gi = g.copy()
        np.moveaxis(gi, ax, 0)[idx] = 0
        return gi, np.take(g, idx, axis=ax)

    return make(out, (input, source), backward)


def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """A copy of ``input`` with the slices at ``index`` along ``dim`` set to ``value``."""
    ax, idx = _rows("index_fill", input, dim, index)
    out = input._data.copy()
    np.moveaxis(out, ax, 0)[idx] = value._data if isinstance(value, Tensor) else value

    def backward(g: np.ndarray) -> tuple:
        gi = g.copy()
        np.moveaxis(gi, ax, 0)[idx] = 0
        return (gi,)

    return make(out, (input,), backward)


def _mask(mask: Any, op: str) -> np.ndarray:
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"{op}: mask must be a bool tensor, got dtype {m.dtype}")
    return m


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """A copy of ``input`` with ``value`` (a number or 0-d tensor) where ``mask`` is True."""
    m = _mask(mask, "masked_fill")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got {value.shape}")
    x = input._data
    v = value._data if isinstance(value, Tensor) else value
    out = where(m, np.asarray(v).astype(x.dtype), x)
    parents = (input, value) if isinstance(value, Tensor) else (input,)

    def backward(g: np.ndarray) -> tuple:
        gi = unbroadcast(where(m, 0, g), x.shape)
        if len(parents) == 1:
            return (gi,)
        return gi, np.asarray(where(m, g, 0).sum(), g.dtype)

    return make(out, parents, backward)


def fill(input: Tensor, value: Any) -> Tensor:
    """torch.fill: a new tensor of ``input``'s shape and dtype holding ``value``, a number or a
    0-d tensor (which gets the gradient: ``input``'s is zero)."""
    if isinstance(value, Tensor) and value.ndim != 0:
        raise ValueError(f"fill: value must be a number or a 0-d tensor, got shape {value.shape}")
    x = input._data
    v = value._data if isinstance(value, Tensor) else value
    out = np.full(x.shape, v, x.dtype)
    parents = (input, value) if isinstance(value, Tensor) else (input,)

    def backward(g: np.ndarray) -> tuple:
        gv = (np.asarray(g.sum(), value.dtype),) if len(parents) == 2 else ()
        return (np.zeros_like(g), *gv)

    return make(out, parents, backward)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements where ``mask`` (broadcast with ``input``) is True, as a 1-D tensor."""
    m = _mask(mask, "masked_select")
    x = input._data
    shape = np.broadcast_shapes(x.shape, m.shape)
    mb = np.broadcast_to(m, shape)

    def backward(g: np.ndarray) -> tuple:
        full = np.zeros(shape, g.dtype)
        full[mb] = g
        return (unbroadcast(full, x.shape),)

    return make(np.broadcast_to(x, shape)[mb], (input,), backward)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` with ``source``'s elements, in order, where ``mask`` is True."""
    m = _mask(mask, "masked_scatter")
    x, s = input._data, source._data
    shape = np.broadcast_shapes(x.shape, m.shape)
    mb = np.broadcast_to(m, shape)
    k = int(mb.sum())
    if k > s.size:
        raise ValueError(f"masked_scatter: the mask selects {k} elements, source has {s.size}")
    out = np.array(np.broadcast_to(x, shape))
    out[mb] = s.reshape(-1)[:k]

    def backward(g: np.ndarray) -> tuple:
        gs = np.zeros(s.size, g.dtype)
        gs[:k] = g[mb]
        return unbroadcast(where(mb, 0, g), x.shape), gs.reshape(s.shape)

    return make(out, (input, source), backward)


def take(input: Tensor, index: Tensor) -> Tensor:
    """Elements of the flattened input at ``index`` (the result has index's shape)."""
    x = input._data
    idx = _indices(index, "take")
    _in_bounds(idx, x.size, 0, "take")
    flat = idx % max(x.size, 1)
    out = x.reshape(-1)[flat]
    return make(
        out, (input,), lambda g: (_add_at((x.size,), (flat,), g, g.dtype).reshape(x.shape),)
    )


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """Values at ``indices`` along ``dim`` (input and indices broadcast elsewhere)."""
    if dim is None:
        return take(input, indices.reshape(-1) if isinstance(indices, Tensor) else indices)
    x = input._data
    ax = one_dim(dim, x.ndim, "take_along_dim")
    idx = _indices(indices, "take_along_dim")
    _in_bounds(idx, x.shape[ax], dim, "take_along_dim")
    lead = list(
        np.broadcast_shapes(
            x.shape[:ax] + (1,) + x.shape[ax + 1 :], idx.shape[:ax] + (1,) + idx.shape[ax + 1 :]
        )
    )
    xs, ids = lead.copy(), lead.copy()
    xs[ax], ids[ax] = x.shape[ax], idx.shape[ax]
    xb = np.broadcast_to(x, xs)
    where = _along(np.broadcast_to(idx % max(x.shape[ax], 1), ids), ax)

    def backward(g: np.ndarray) -> tuple:
        return (unbroadcast(_add_at(tuple(xs), where, g, g.dtype), x.shape),)

    return make(xb[where], (input,), backward)


def index_put(input: Tensor, indices: tuple, values: Any, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``values`` written (or with ``accumulate`` added) at ``indices``."""
    x = input._data
    where = _index(tuple(indices))
    v, _ = _source(values, input, "index_put")
    out = x.copy()
    if accumulate:
        np.add.at(out, where, v._data)
    else:
        out[where] = v._data

    def backward(g: np.ndarray) -> tuple:
        gi = g
        if not accumulate:
            gi = g.copy()
            gi[where] = 0
        return gi, unbroadcast(g[where], v.shape)

    return make(out, (input, v), backward)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """The indices of the nonzero elements: an (n, ndim) tensor, or one 1-D tensor per dim."""
    x = input._data
    if as_tuple:
        return tuple(constant(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(x)))
    return constant(np.argwhere(x).astype(np.int64))


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """:func:`nonzero`'s (n, ndim) indices cut or padded with ``fill_value`` to ``size`` rows:
    an output shape known before the values are."""
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 0:
        raise ValueError(f"nonzero_static: size must be a non-negative integer, got {size!r}")
    found = np.argwhere(input._data)[:size]
    out = np.full((size, input.ndim), fill_value, np.int64)
    out[: len(found)] = found
    return constant(out)


def argwhere(input: Tensor) -> Tensor:
    """The (n, ndim) indices of the nonzero elements."""
    return nonzero(input)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at position ``index`` along ``dim`` (that dimension removed)."""
    ax = one_dim(dim, input.ndim, "select")
    n = input.shape[ax]
    if not -n <= index < n:
        raise IndexError(f"select: index {index} is out of range for dimension {dim} of size {n}")
    return getitem(input, (slice(None),) * ax + (index,))


def unravel_index(indices: Any, shape: Any) -> tuple[Tensor, ...]:
    """The coordinates, one int64 tensor per dimension of ``shape``, of flat ``indices`` into a
    C-ordered array of that shape (torch.unravel_index)."""
    idx = _indices(indices, "unravel_index")
    dims = (int(shape),) if isinstance(shape, int | np.integer) else tuple(int(d) for d in shape)
    size = int(np.prod(dims))
    if idx.size and (idx.min() < -size or idx.max() >= size):
        raise RuntimeError(
            f"unravel_index: indices must be in [{-size}, {size}) for shape {dims}, got "
            f"values from {idx.min()} to {idx.max()}"
        )
    coords = np.unravel_index(np.where(idx < 0, idx + size, idx), dims)
    return tuple(constant(np.asarray(c, np.int64)) for c in coords)


def _scatter_into(op: str, input: Tensor, src: Any, where: tuple) -> Tensor:
    """``input`` with the basic-indexed region ``where`` replaced by ``src``: the gradient
    outside the region goes to input, the region's to src."""
    s = to_tensor(src)
    x = input._data
    out = x.copy()
    if out[where].shape != s._data.shape:
        raise RuntimeError(
            f"{op}: src of shape {s._data.shape} does not fit the region of shape "
            f"{out[where].shape} it replaces"
        )
    out[where] = s._data

    def backward(g: np.ndarray) -> tuple:
        gx = None
        if input.requires_grad:
            gx = g.copy()
            gx[where] = 0
        return gx, (np.array(g[where]) if s.requires_grad else None)

    return make(out, (input, s), backward)


def slice_scatter(
    input: Tensor, src: Any, dim: int = 0, start: int | None = None, end: int | None = None,
    step: int = 1,
) -> Tensor:  # fmt: skip
    """``input`` with ``input[..., start:end:step, ...]`` (along ``dim``) replaced by ``src``."""
    ax = one_dim(dim, input.ndim, "slice_scatter")
    where = (slice(None),) * ax + (slice(start, end, step),)
    return _scatter_into("slice_scatter", input, src, where)


def select_scatter(input: Tensor, src: Any, dim: int, index: int) -> Tensor:
    """``input`` with its slice at ``index`` along ``dim`` replaced by ``src``."""
    ax = one_dim(dim, input.ndim, "select_scatter")
    n = input.shape[ax]
    if not -n <= index < n:
        raise IndexError(f"select_scatter: index {index} is out of range for dim {dim} of size {n}")
    return _scatter_into("select_scatter", input, src, (slice(None),) * ax + (index,))


def put(input: Tensor, index: Any, source: Any, accumulate: bool = False) -> Tensor:
    """``input`` with the elements at flat ``index`` (as if 1-D) set to (or, with
    ``accumulate``, increased by) ``source``."""
    idx = _indices(index, "put").reshape(-1)
    s = to_tensor(source)
    n = input.numel()
    _in_bounds(idx, n, 0, "put")
    if s.numel() != idx.size:
        raise RuntimeError(f"put: {idx.size} indices but a source of {s.numel()} elements")
    flat_idx = np.where(idx < 0, idx + n, idx)
    out = input._data.copy().reshape(-1)
    values = s._data.reshape(-1).astype(out.dtype)
    if accumulate:
        np.add.at(out, flat_idx, values)
    else:
        out[flat_idx] = values

    def backward(g: np.ndarray) -> tuple:
        flat = g.reshape(-1)
        gx = None
        if input.requires_grad:
            gx = flat.copy()
            if not accumulate:
                gx[flat_idx] = 0
            gx = gx.reshape(input.shape)
        return gx, (flat[flat_idx].reshape(s.shape) if s.requires_grad else None)

    return make(out.reshape(input.shape), (input, s), backward)
