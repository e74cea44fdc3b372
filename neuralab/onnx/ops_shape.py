"""ONNX converters for shape ops: reshape, permute, expand, indexing, cat, split, pad, ..."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.onnx.graph import Emitter
from neuralab.onnx.registry import arg, axis, converts, sizes
from neuralab.onnx.trace import Call
from neuralab.tensor import Tensor

_END = np.iinfo(np.int64).max


def _other(o: Call | None, key: str) -> Any:
    return None if o is None else o.params[key]


@converts("reshape", "view")
def _reshape(e: Emitter, c: Call, o: Call | None) -> str:
    other = _other(o, "shape")
    target = e.sizes(sizes(c.params["shape"]), None if other is None else sizes(other))
    return e.node("Reshape", [e.value(arg(c, 0)), target])


@converts("view_as", "expand_as", "broadcast_to")
def _like(e: Emitter, c: Call, o: Call | None) -> str:
    """Reshape or broadcast to another tensor's shape (or a given size)."""
    x, y = arg(c, 0), arg(c, 1)
    if c.name == "broadcast_to":
        shape = e.sizes(y, _other(o, "size"))
    else:
        shape = e.node("Shape", [e.value(y)])
    return e.node("Reshape" if c.name == "view_as" else "Expand", [e.value(x), shape])


@converts("flatten")
def _flatten(e: Emitter, c: Call, o: Call | None) -> str:
    x = arg(c, 0)
    start, end = axis(c.params["start_dim"], x.ndim), axis(c.params["end_dim"], x.ndim)
    target = [0] * start + [-1] + list(x.shape[end + 1 :])
    return e.node("Reshape", [e.value(x), e.ints(target)])


@converts("unflatten")
def _unflatten(e: Emitter, c: Call, o: Call | None) -> str:
    out = c.out.shape
    return e.node("Reshape", [e.value(arg(c, 0)), e.sizes(out, None if o is None else o.out.shape)])


def _permuted(e: Emitter, x: Tensor, perm: list[int]) -> str:
    return e.node("Transpose", [e.value(x)], perm=[int(p) for p in perm])


@converts("permute")
def _permute(e: Emitter, c: Call, o: Call | None) -> str:
    x = arg(c, 0)
    return _permuted(e, x, [axis(d, x.ndim) for d in sizes(c.params["dims"])])


@converts("transpose", "swapaxes", "swapdims", "t", "movedim", "moveaxis")
def _transpose(e: Emitter, c: Call, o: Call | None) -> str:
    """Swap two dimensions (``t`` of a 2-D tensor) or move dimensions to new positions."""
    x = arg(c, 0)
    perm = list(range(x.ndim))
    if c.name in ("movedim", "moveaxis"):
        src, dst = arg(c, 1), arg(c, 2)
        src = [axis(d, x.ndim) for d in ([src] if isinstance(src, int) else src)]
        dst = [axis(d, x.ndim) for d in ([dst] if isinstance(dst, int) else dst)]
        rest = iter(d for d in perm if d not in src)
        moved = dict(zip(dst, src))
        perm = [moved[i] if i in moved else next(rest) for i in range(x.ndim)]
    elif x.ndim >= 2:
        a, b = (0, 1) if c.name == "t" else (axis(arg(c, 1), x.ndim), axis(arg(c, 2), x.ndim))
        perm[a], perm[b] = perm[b], perm[a]
    return _permuted(e, x, perm)


@converts("unsqueeze")
def _unsqueeze(e: Emitter, c: Call, o: Call | None) -> str:
    x = arg(c, 0)
    return e.axes_node("Unsqueeze", e.value(x), [axis(arg(c, 1), x.ndim + 1)])


@converts("squeeze")
def _squeeze(e: Emitter, c: Call, o: Call | None) -> str:
    x, dim = arg(c, 0), arg(c, 1)
    dims = range(x.ndim) if dim is None else [dim] if isinstance(dim, int) else dim
    axes = [axis(d, x.ndim) for d in dims if x.shape[axis(d, x.ndim)] == 1]
    if not axes:
        return e.node("Identity", [e.value(x)])
    return e.axes_node("Squeeze", e.value(x), axes)


@converts("expand")
def _expand(e: Emitter, c: Call, o: Call | None) -> str:
    """Broadcast; -1 (keep the size) becomes 1, which Expand broadcasts the same way."""
    target = [1 if s == -1 else s for s in sizes(c.params["sizes"])]
    other = None if o is None else [1 if s == -1 else s for s in sizes(o.params["sizes"])]
    return e.node("Expand", [e.value(arg(c, 0)), e.sizes(target, other)])


@converts("repeat", "tile")
def _repeat(e: Emitter, c: Call, o: Call | None) -> str:
    x = arg(c, 0)
    reps = list(sizes(arg(c, 1) if c.name == "tile" else c.params["reps"]))
    name = e.value(x)
    if c.name == "tile" and len(reps) < x.ndim:
        reps = [1] * (x.ndim - len(reps)) + reps
    if len(reps) > x.ndim:
        name = e.axes_node("Unsqueeze", name, list(range(len(reps) - x.ndim)))
    return e.node("Tile", [name, e.ints(reps)])


@converts("flip")
def _flip(e: Emitter, c: Call, o: Call | None) -> str:
    x, dims = arg(c, 0), arg(c, 1)
    axes = [axis(d, x.ndim) for d in ([dims] if isinstance(dims, int) else dims)]
    n = len(axes)
    return e.node(
        "Slice", [e.value(x), e.ints([-1] * n), e.ints([-_END] * n), e.ints(axes), e.ints([-1] * n)]
    )


@converts("narrow")
def _narrow(e: Emitter, c: Call, o: Call | None) -> str:
    x = arg(c, 0)
    ax, start = axis(arg(c, 1), x.ndim), int(arg(c, 2))
    start %= max(x.shape[ax], 1)
    return _slice(e, e.value(x), ax, start, start + int(arg(c, 3)), 1)


def _slice(e: Emitter, x: str, ax: int, start: int, stop: int, step: int) -> str:
    ins = [x, e.ints([start]), e.ints([stop]), e.ints([ax]), e.ints([step])]
    return e.node("Slice", ins)


def _index_parts(index: Any, ndim: int) -> list[Any]:
    """The index as a list with Ellipsis expanded into full slices."""
    parts = list(index) if isinstance(index, tuple) else [index]
    used = sum(1 for p in parts if p is not None and p is not Ellipsis)
    if Ellipsis in parts:
        i = parts.index(Ellipsis)
        parts[i : i + 1] = [slice(None)] * (ndim - used)
    return parts


@converts("getitem", "__getitem__")
def _getitem(e: Emitter, c: Call, o: Call | None) -> str:
    """Basic indexing (ints, slices, None, ...) and one integer index array (Gather)."""
    x = arg(c, 0)
    parts = _index_parts(arg(c, 1), x.ndim)
    arrays = [p for p in parts if isinstance(p, Tensor | np.ndarray | list)]
    if len(arrays) > 1:
        raise e.fail("indexing with more than one index array has no ONNX mapping here")
    name, ax, dim = e.value(x), 0, 0  # ax: axis in the result so far, dim: axis of x
    for p in parts:
        if p is None:
            name, ax = e.axes_node("Unsqueeze", name, [ax]), ax + 1
            continue
        size = x.shape[dim]
        if isinstance(p, slice):
            start, stop, step = p.indices(size)
            if (start, stop, step) != (0, size, 1):
                name = _slice(e, name, ax, start, stop if stop >= 0 else -_END, step)
            ax += 1
        elif isinstance(p, int | np.integer):
            name = e.node("Gather", [name, e.scalar(int(p) % size, np.int64)], axis=ax)
        else:
            idx = p if isinstance(p, Tensor) else np.asarray(p)
            if idx.dtype == np.bool_:
                raise e.fail("boolean-mask indexing has a data-dependent shape; use where()")
            name = e.node("Gather", [name, e.value(idx, np.int64)], axis=ax)
            ax += idx.ndim
        dim += 1
    return name


@converts("cat", "concat", "concatenate", "stack")
def _cat(e: Emitter, c: Call, o: Call | None) -> str:
    tensors = [
        t for t in arg(c, 0) if not (isinstance(t, Tensor) and t.numel() == 0 and t.ndim == 1)
    ]
    ndim = tensors[0].ndim + (c.name == "stack")
    ax = axis(c.params.get("dim", 0), ndim)
    names = [e.value(t) for t in tensors]
    if c.name == "stack":
        names = [e.axes_node("Unsqueeze", n, [ax]) for n in names]
    return e.node("Concat", names, axis=ax)


@converts("split", "chunk", "unbind", "tensor_split")
def _split(e: Emitter, c: Call, o: Call | None) -> list[str]:
    """Split along a dimension into the pieces the engine made (sizes read from them)."""
    x = arg(c, 0)
    dim = c.params.get("dim", 0)
    ax = axis(dim, x.ndim)
    outs = list(c.out)
    if c.name == "unbind":
        pieces = e.node("Split", [e.value(x), e.ints([1] * len(outs))], outputs=len(outs), axis=ax)
        pieces = [pieces] if len(outs) == 1 else pieces
        return [e.axes_node("Squeeze", p, [ax]) for p in pieces]
    lengths = [t.shape[ax] for t in outs]
    if len(outs) == 1:
        return [e.node("Identity", [e.value(x)])]
    return e.node("Split", [e.value(x), e.ints(lengths)], outputs=len(outs), axis=ax)


@converts("pad")
def _pad(e: Emitter, c: Call, o: Call | None) -> str:
    """torch's pad list (last dimension first, before/after pairs) as ONNX Pad."""
    x = arg(c, 0)
    widths = list(arg(c, 1))
    before, after = [0] * x.ndim, [0] * x.ndim
    for i in range(len(widths) // 2):
        before[x.ndim - 1 - i], after[x.ndim - 1 - i] = widths[2 * i], widths[2 * i + 1]
    mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
            "circular": "wrap"}.get(c.params.get("mode", "constant"))  # fmt: skip
    if mode is None:
        raise e.fail(f"pad mode {c.params.get('mode')!r} has no ONNX mapping")
    if min(before + after) < 0:
        raise e.fail("negative padding (cropping) is not exported")
    if mode == "wrap" and e.opset < 19:  # Pad's wrap mode is newer: the two ends, concatenated
        return _wrap(e, e.value(x), before, after)
    value = c.params.get("value") or 0.0
    ins = [e.value(x), e.ints(before + after), e.scalar(value, x._data.dtype)]
    return e.node("Pad", ins, mode=mode)


def _wrap(e: Emitter, x: str, before: list[int], after: list[int]) -> str:
    """Circular padding from slices: the last ``before`` rows, x, the first ``after`` rows."""
    for ax, (b, a) in enumerate(zip(before, after)):
        if b or a:
            head = [_slice(e, x, ax, -b, _END, 1)] if b else []
            tail = [_slice(e, x, ax, 0, a, 1)] if a else []
            x = e.node("Concat", [*head, x, *tail], axis=ax)
    return x
