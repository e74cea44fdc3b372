"""Pytrees for :mod:`neuralab.func`: tensors inside dicts, lists and tuples, flattened, rebuilt."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any


def _leaves(tree: Any) -> list:
    """The leaves of ``tree`` (dict values in key order, list and tuple items), depth first."""
    if isinstance(tree, Mapping):
        return [leaf for key in tree for leaf in _leaves(tree[key])]
    if isinstance(tree, list | tuple):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [tree]


def _rebuild(tree: Any, leaves: Iterator) -> Any:
    """``tree``'s structure with its leaves taken in order from ``leaves``."""
    if isinstance(tree, Mapping):
        return type(tree)((key, _rebuild(tree[key], leaves)) for key in tree)
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):  # a namedtuple
        return type(tree)(*(_rebuild(item, leaves) for item in tree))
    if isinstance(tree, list | tuple):
        return type(tree)(_rebuild(item, leaves) for item in tree)
    return next(leaves)


def _map(fn: Callable[[Any], Any], tree: Any) -> Any:
    return _rebuild(tree, iter([fn(leaf) for leaf in _leaves(tree)]))


def _structure(tree: Any) -> str:
    """``tree``'s containers written out, each leaf as ``*``: ``({'w': *}, [*, *])``."""
    if isinstance(tree, Mapping):
        return "{" + ", ".join(f"{key!r}: {_structure(tree[key])}" for key in tree) + "}"
    items = ", ".join(_structure(item) for item in tree) if isinstance(tree, list | tuple) else ""
    if isinstance(tree, list):
        return f"[{items}]"
    if isinstance(tree, tuple):
        if hasattr(tree, "_fields"):
            return f"{type(tree).__name__}({items})"
        return f"({items},)" if len(tree) == 1 else f"({items})"
    return "*"


def _aligned(tree: Any, like: Any) -> list | None:
    """``tree``'s leaves in the order of ``like``'s (dicts matched by key), or None when the
    two differ in structure."""
    if isinstance(like, Mapping):
        if not isinstance(tree, Mapping) or set(tree) != set(like):
            return None
        pairs = [(tree[key], like[key]) for key in like]
    elif isinstance(like, list | tuple):
        if type(tree) is not type(like) or len(tree) != len(like):
            return None
        pairs = list(zip(tree, like))
    else:
        return None if isinstance(tree, Mapping | list | tuple) else [tree]
    leaves: list = []
    for sub, sub_like in pairs:
        found = _aligned(sub, sub_like)
        if found is None:
            return None
        leaves += found
    return leaves


def _matching_leaves(tree: Any, like: Any, what: str, like_what: str, where: str) -> list:
    """``tree``'s leaves paired in order with ``like``'s; a RuntimeError if their structures
    differ (tangents must mirror the primals, cotangents the outputs)."""
    leaves = _aligned(tree, like)
    if leaves is None:
        raise RuntimeError(
            f"{where}: expected the {what} to have the same structure as the {like_what}: "
            f"got {_structure(tree)} for {_structure(like)}"
        )
    return leaves
