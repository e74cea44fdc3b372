"""In-place forms of ops (``x.div_(y)``, ``scores.masked_fill_(mask, v)``, ``buf.index_add_(...)``)
with torch's semantics: outside the graph the tensor's array is overwritten (views of it see
the change); when the graph is recorded the tensor becomes the op's output, its former value
kept as a hidden parent, so gradients flow through the update. A leaf that requires grad
cannot be changed in place while recording, as in torch.

An op that read the tensor *before* the update sends its gradient to the value it read, as in
torch. Where torch refuses because such an op saved the old value for its backward ("modified by
an inplace operation"), neuralab's backward still has that value and gives its gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from neuralab.tensor import (
    Tensor,
    is_grad_enabled,
    make,
    make_view,
    no_grad,
    updated_in_place,
)


def _records(self: Tensor, args: tuple, kwargs: dict) -> bool:
    if not is_grad_enabled():
        return False
    values = (*args, *kwargs.values())
    return self.requires_grad or any(isinstance(v, Tensor) and v.requires_grad for v in values)


def _fits(op: str, self: Tensor, arr: np.ndarray) -> None:
    if arr.shape != self._data.shape:
        raise RuntimeError(
            f"{op}: the result of shape {arr.shape} does not fit the tensor's shape "
            f"{self._data.shape} (an in-place op cannot broadcast its target)"
        )
    if not np.can_cast(arr.dtype, self._data.dtype, "same_kind"):
        raise RuntimeError(
            f"{op}: the result's dtype {arr.dtype} cannot be stored in a {self._data.dtype} tensor"
        )


def _snapshot(self: Tensor) -> Tensor:
    """A tensor standing for ``self``'s value and graph position before the update."""
    old = Tensor.__new__(Tensor)
    for slot in Tensor.__slots__:
        if slot != "__weakref__" and hasattr(self, slot):
            setattr(old, slot, getattr(self, slot))
    old._grad = None
    old._retain = False
    return old


def apply_inplace(self: Tensor, op: str, fn: Callable, *args: Any, **kwargs: Any) -> Tensor:
    """Run ``fn(self, *args, **kwargs)`` and make ``self`` hold the result (see the module)."""
    if not _records(self, args, kwargs):
        with no_grad():
            out = fn(self, *args, **kwargs)._data
        _fits(op, self, out)
        if isinstance(self._data, np.ndarray) and self._data.flags.writeable:
            self._data[...] = out
        else:  # a read-only (broadcast) view or a NumPy scalar: take a fresh array
            self._data = np.array(out, self._data.dtype)
        return self
    if self.is_leaf and self.requires_grad:
        raise RuntimeError(
            f"{op}: a leaf tensor that requires grad cannot be changed in place while the graph "
            f"is recorded; use {op.rstrip('_')}() or wrap the update in `with nl.no_grad():`"
        )
    before = _snapshot(self)
    out = fn(before, *args, **kwargs)
    _fits(op, self, out._data)
    if out._data.dtype != self._data.dtype:
        from neuralab.ops.elementwise import cast

        out = cast(out, self._data.dtype)
    root = _viewed_root(self)
    if root is None:
        updated_in_place(self, out, before)
    else:
        _update_through_view(op, self, out, before, root)
    return self


def _viewed_root(view: Tensor) -> Tensor | None:
    """The tensor whose C-contiguous array ``view``'s array is a writable view of (made by
    slicing, reshaping, transposing..., see ``make_view``), or None."""
    root = getattr(view, "_base", None)
    while getattr(root, "_base", None) is not None:
        root = root._base
    if root is None or not isinstance(root._data, np.ndarray) or root._data.size == 0:
        return None
    arr, mine = root._data, view._data
    shared = isinstance(mine, np.ndarray) and np.may_share_memory(mine, arr)
    if not (shared and mine.flags.writeable and arr.flags.c_contiguous):
        return None
    return root


def _region(view: np.ndarray, root: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """A function giving, in any C-contiguous array shaped as ``root``, the elements ``view``
    covers in ``root``."""
    start = (view.__array_interface__["data"][0] - root.__array_interface__["data"][0]) // (
        root.itemsize
    )
    shape, strides = view.shape, view.strides

    def region(arr: np.ndarray) -> np.ndarray:
        flat = arr.reshape(-1)[start:]
        return np.lib.stride_tricks.as_strided(flat, shape, strides, writeable=True)

    return region


def _update_through_view(op: str, view: Tensor, out: Tensor, before: Tensor, root: Tensor) -> None:
    """Write ``out`` into the part of ``root`` that ``view`` shows (torch's CopySlices): ``root``
    becomes a node with the old root and ``out`` as parents, and ``view`` its view again."""
    if root.is_leaf and root.requires_grad:
        raise RuntimeError(
            f"{op}: a view of a leaf tensor that requires grad cannot be changed in place while "
            "the graph is recorded; wrap the update in `with nl.no_grad():`"
        )
    region = _region(view._data, root._data)
    shape, dtype = root._data.shape, root._data.dtype
    new = root._data.copy()
    region(new)[...] = out._data

    def copy_slices_backward(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g_root = np.array(g, dtype=dtype, order="C")  # a copy: the part written is zeroed
        g_out = region(g_root).copy()
        region(g_root)[...] = 0
        return g_root, g_out

    def view_backward(g: np.ndarray) -> tuple[np.ndarray]:
        g_root = np.zeros(shape, dtype)
        region(g_root)[...] = g
        return (g_root,)

    old_root = _snapshot(root)
    updated_in_place(root, make(new, (old_root, out), copy_slices_backward), old_root)
    updated_in_place(view, make_view(region(root._data), root, view_backward), before)


def inplace_method(op: str, fn: Callable) -> Callable:
    """The Tensor method ``op`` (e.g. "div_") that applies ``fn`` in place."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return apply_inplace(self, op, fn, *args, **kwargs)

    method.__name__ = method.__qualname__ = op
    method.__doc__ = f"In-place {fn.__name__}: the tensor itself, holding the result."
    return method
