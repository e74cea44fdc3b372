"""``vmap``: a function mapped over a dimension of its arguments, one call per slice, stacked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from neuralab.func._trees import _leaves, _map, _rebuild
from neuralab.ops.shape import stack
from neuralab.tensor import Tensor


def vmap(
    func: Callable,
    in_dims: int | None | tuple = 0,
    out_dims: int | tuple[int, ...] = 0,
    randomness: str = "error",
    *,
    chunk_size: int | None = None,
) -> Callable:
    """``func`` mapped over dimension ``in_dims`` of its arguments (one per argument, None for
    an argument passed whole; an argument may be a dict, list or tuple of tensors), the results
    stacked along ``out_dims``."""

    def mapped(*args: Any, **kwargs: Any) -> Any:
        dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(
                f"vmap: in_dims has {len(dims)} entries for {len(args)} positional argument(s)"
            )
        size = _batch_size(args, dims)
        results = [
            func(*(_slice(a, d, i) for a, d in zip(args, dims)), **kwargs) for i in range(size)
        ]
        return _stack_results(results, out_dims)

    return mapped


def _batch_size(args: Sequence, dims: Sequence) -> int:
    """The one size of every mapped dimension."""
    sizes = {
        leaf.shape[d]
        for a, d in zip(args, dims)
        if d is not None
        for leaf in _leaves(a)
        if isinstance(leaf, Tensor)
    }
    if len(sizes) != 1:
        raise ValueError(
            "vmap: expected the mapped dimensions of the tensors to have one size, got "
            f"{sorted(sizes) or 'no mapped tensor'}"
        )
    return sizes.pop()


def _slice(arg: Any, dim: int | None, i: int) -> Any:
    if dim is None:
        return arg
    return _map(lambda t: t.select(dim, i) if isinstance(t, Tensor) else t, arg)


def _stack_results(results: list, out_dims: int | tuple) -> Any:
    """The per-slice results (tensors, or dicts/lists/tuples of them) stacked leaf by leaf."""
    leaves = [_leaves(r) for r in results]
    count = len(leaves[0])
    dims = out_dims if isinstance(out_dims, tuple) else (out_dims,) * count
    stacked = []
    for k in range(count):
        column = [row[k] for row in leaves]
        if not all(isinstance(t, Tensor) for t in column):
            raise ValueError("vmap: the function must return tensors (or containers of them)")
        stacked.append(stack(column, dim=dims[k]))
    return _rebuild(results[0], iter(stacked))
