"""Ops that move data without changing values: views, indexing, joining, splitting, padding."""

from __future__ import annotations

import builtins
import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuralab.dtypes import as_dtype, bfloat16, promote_types
from neuralab.ops._util import one_dim, scatter_add_rows
from neuralab.tensor import Tensor, _index, constant, make, make_several, make_view


def _sizes(args: tuple) -> tuple[int, ...]:
    """Accept both f(2, 3) and f((2, 3))."""
    if len(args) == 1 and isinstance(args[0], Sequence | np.ndarray):
        return tuple(int(s) for s in args[0])
    return tuple(int(s) for s in args)


def reshape(a: Tensor, *shape: Any) -> Tensor:
    """The same elements in a new shape (one dimension may be -1)."""
    shape = _sizes(shape)
    x = a._data
    try:
        out = x.reshape(shape)
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {shape}"
        ) from None
    src = x.shape
    return make_view(out, a, lambda g: (g.reshape(src),))


def view(a: Tensor, *shape: Any) -> Tensor:
    """Tensor.view: :func:`reshape`, or with one dtype, the same memory read as that dtype (the
    last dimension scaled by the ratio of item sizes, as torch; no gradient flows through it)."""
    if len(shape) == 1 and (isinstance(shape[0], np.dtype | type) or shape[0] is bfloat16):
        dtype = as_dtype(shape[0], "view")
        x = a._data
        if dtype.itemsize != x.dtype.itemsize and (x.ndim == 0 or x.strides[-1] != x.itemsize):
            raise ValueError(
                f"view: a {x.dtype} tensor of shape {x.shape} must have a contiguous last "
                f"dimension (stride 1) to be read as {dtype}, whose elements differ in size"
            )
        try:
            return constant(x.view(dtype))
        except ValueError as err:
            raise ValueError(
                f"view: cannot read shape {x.shape} {x.dtype} as {dtype}: {err}"
            ) from None
    return reshape(a, *shape)


def t(a: Tensor) -> Tensor:
    """torch.t: a matrix's transpose; a 0-D or 1-D tensor as it is."""
    if a.ndim > 2:
        raise ValueError(
            f"t: expected a tensor of at most 2 dimensions, got shape {a.shape}; use "
            "transpose(dim0, dim1), permute or .mT for batches of matrices"
        )
    return transpose(a, 0, 1) if a.ndim == 2 else a


def flatten(a: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one."""
    if a.ndim == 0:
        return reshape(a, 1)
    s, e = one_dim(start_dim, a.ndim, "flatten"), one_dim(end_dim, a.ndim, "flatten")
    shape = a.shape[:s] + (-1,) + a.shape[e + 1 :]
    return reshape(a, shape)


def permute(a: Tensor, *dims: Any) -> Tensor:
    """Reorder dimensions."""
    dims = _sizes(dims)
    if sorted(d % builtins.max(a.ndim, 1) for d in dims) != list(range(a.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of the {a.ndim} dimensions")
    inverse = np.argsort([d % a.ndim for d in dims])
    return make_view(np.transpose(a._data, dims), a, lambda g: (np.transpose(g, inverse),))


def transpose(a: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    d0, d1 = one_dim(dim0, a.ndim, "transpose"), one_dim(dim1, a.ndim, "transpose")
    return make_view(np.swapaxes(a._data, d0, d1), a, lambda g: (np.swapaxes(g, d0, d1),))


def adjoint(input: Tensor) -> Tensor:
    """The last two dimensions swapped, a view: the conjugate transpose of real matrices."""
    if input.ndim < 2:
        raise ValueError(
            f"adjoint: expected a matrix or a batch of matrices, got a {input.ndim}-D tensor"
        )
    return transpose(input, -2, -1)


def unsqueeze(a: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim``."""
    d = one_dim(dim, a.ndim + 1, "unsqueeze")
    return make_view(np.expand_dims(a._data, d), a, lambda g: (np.squeeze(g, d),))


def squeeze(a: Tensor, dim: Any = None) -> Tensor:
    """Drop dimensions of size 1 (all, or those in ``dim`` that have size 1)."""
    if dim is None:
        axes = tuple(i for i, s in enumerate(a.shape) if s == 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        axes = tuple(
            i for i in (one_dim(d, a.ndim, "squeeze") for d in dims) if a.ndim and a.shape[i] == 1
        )
    src = a.shape
    return make_view(np.squeeze(a._data, axes), a, lambda g: (g.reshape(src),))


def expand(a: Tensor, *sizes: Any) -> Tensor:
    """Broadcast to a larger shape without copying; -1 keeps a dimension's size."""
    sizes = _sizes(sizes)
    lead = len(sizes) - a.ndim
    if lead < 0:
        raise ValueError(f"expand: cannot expand shape {a.shape} to fewer dimensions {sizes}")
    target = tuple(a.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    try:
        out = np.broadcast_to(a._data, target)
    except ValueError:
        raise ValueError(f"expand: cannot expand shape {a.shape} to {sizes}") from None
    from neuralab.ops._util import unbroadcast

    src = a.shape
    return make(out, (a,), lambda g: (unbroadcast(g, src),))


def repeat(a: Tensor, *reps: Any) -> Tensor:
    """Tile the tensor ``reps`` times along each dimension (torch's repeat)."""
    reps = _sizes(reps)
    if len(reps) < a.ndim:
        raise ValueError(f"repeat: {len(reps)} repeat counts for a tensor with {a.ndim} dimensions")
    src = (1,) * (len(reps) - a.ndim) + a.shape
    out = np.tile(a._data.reshape(src), reps)

    def backward(g: np.ndarray) -> tuple:
        split = []
        for r, s in zip(reps, src):
            split += [r, s]
        summed = g.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return (summed.reshape(a.shape),)

    return make(out, (a,), backward)


def flip(a: Tensor, dims: Any) -> Tensor:
    """Reverse the order of elements along ``dims``."""
    axes = tuple(one_dim(d, a.ndim, "flip") for d in ((dims,) if isinstance(dims, int) else dims))
    return make(np.flip(a._data, axes), (a,), lambda g: (np.flip(g, axes),))


def getitem(a: Tensor, index: Any) -> Tensor:
    """Index like NumPy; gradients scatter-add back (repeated integer indices accumulate)."""
    idx = _index(index)
    x = a._data
    try:
        out = x[idx]
    except IndexError as e:
        raise IndexError(f"index {index!r} on a tensor of shape {x.shape}: {e}") from None
    parts = idx if isinstance(idx, tuple) else (idx,)
    repeats_possible = any(
        isinstance(p, list) or (isinstance(p, np.ndarray) and p.dtype != np.bool_) for p in parts
    )

    if repeats_possible and isinstance(idx, np.ndarray) and idx.ndim == 1:
        repeats_possible = np.unique(idx % max(len(x), 1)).size != idx.size  # one index array

    def backward(g: np.ndarray) -> tuple:
        if repeats_possible and isinstance(idx, np.ndarray) and idx.ndim == 1:
            return (scatter_add_rows(len(x), idx % max(len(x), 1), g),)
        gx = np.zeros_like(x)
        if repeats_possible:  # np.add.at accumulates repeated indices (slow, so only then)
            np.add.at(gx, idx, g)
        else:
            gx[idx] = g
        return (gx,)

    return make_view(np.asarray(out), a, backward)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    from neuralab.ops.elementwise import cast, operand

    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    first = next(t for t in tensors if isinstance(t, Tensor))
    tensors = tuple(operand(t, first) for t in tensors)
    dtypes = {t._data.dtype for t in tensors}
    if len(dtypes) > 1:  # torch's promotion, not NumPy's
        dtype = functools.reduce(promote_types, dtypes)
        tensors = tuple(cast(t, dtype) for t in tensors)
    ax = one_dim(dim, first.ndim, "cat")
    try:
        out = np.concatenate([t._data for t in tensors], axis=ax)
    except ValueError:
        shapes = [t.shape for t in tensors]
        raise ValueError(f"cat: shapes {shapes} differ outside dimension {dim}") from None
    bounds = np.cumsum([t.shape[ax] for t in tensors])[:-1]
    return make(out, tensors, lambda g: tuple(np.split(g, bounds, axis=ax)))


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension."""
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    ax = one_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, ax) for t in tensors], ax)


def split(a: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> list[Tensor]:
    """Cut into pieces of a given size (the last may be smaller) or of the given sizes."""
    ax = one_dim(dim, a.ndim, "split")
    n = a.shape[ax]
    if isinstance(split_size_or_sections, int):
        sizes = [split_size_or_sections] * (n // split_size_or_sections)
        if n % split_size_or_sections:
            sizes.append(n % split_size_or_sections)
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n} along dimension {dim}")
    starts = np.cumsum([0, *sizes]).tolist()
    lead = (slice(None),) * ax
    indices = [(*lead, slice(lo, hi)) for lo, hi in zip(starts, starts[1:])]
    return list(pieces(a, indices, tiles=True))


def pieces(a: Tensor, indices: Sequence[tuple], tiles: bool = False) -> tuple[Tensor, ...]:
    """``a[index]`` for each basic index (slices and ints), as one op with several outputs
    (split, chunk, unbind): its backward writes every piece's gradient into one array, where
    an op per piece would allocate and sum a whole-sized gradient for each (nanoGPT's q, k, v
    split: three such arrays and two whole-sized additions per block). ``tiles``: the pieces
    cover ``a`` without overlapping, so when all have gradients nothing needs zeroing first."""
    if len(indices) < 2:
        return tuple(getitem(a, index) for index in indices)
    x = a._data
    outs = [np.asarray(x[index]) for index in indices]

    def backward(grads: list) -> tuple:
        if tiles and all(part is not None for part in grads):
            gx = np.empty_like(x)
            for index, part in zip(indices, grads):
                gx[index] = part
            return (gx,)
        gx = np.zeros_like(x)
        for index, part in zip(indices, grads):
            if part is not None:
                gx[index] += part  # added: tensor_split's pieces may overlap
        return (gx,)

    return make_several(outs, (a,), backward)


def chunk(a: Tensor, chunks: int, dim: int = 0) -> list[Tensor]:
    """Cut into ``chunks`` nearly equal pieces (like torch.chunk)."""
    n = a.shape[one_dim(dim, a.ndim, "chunk")]
    return split(a, -(-n // chunks), dim)


def pad(a: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad the last dimensions; ``pad`` lists (left, right) pairs from the last dimension back."""
    if len(pad) % 2 or len(pad) // 2 > a.ndim:
        raise ValueError(f"pad: {pad} must hold (before, after) pairs for at most {a.ndim} dims")
    widths = [(0, 0)] * a.ndim
    for i in range(len(pad) // 2):
        widths[a.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}.get(mode)
    if np_mode is None:
        raise ValueError(f"pad: mode must be constant, reflect or replicate, got {mode!r}")
    if builtins.min(builtins.min(w) for w in widths) < 0:
        raise ValueError(f"pad: negative padding {pad} is not supported")
    kwargs = {"constant_values": value} if np_mode == "constant" else {}
    out = np.pad(a._data, widths, mode=np_mode, **kwargs)
    crop = tuple(slice(lo, out.shape[i] - hi) for i, (lo, hi) in enumerate(widths))
    if np_mode == "constant":
        return make(out, (a,), lambda g: (g[crop],))

    def backward(g: np.ndarray) -> tuple:
        # reflect / replicate copy input elements outward: route each copy's gradient back.
        positions = np.arange(a._data.size).reshape(a.shape)
        source = np.pad(positions, widths, mode=np_mode)
        gx = np.zeros(a._data.size, dtype=g.dtype)
        np.add.at(gx, source.reshape(-1), g.reshape(-1))
        return (gx.reshape(a.shape),)

    return make(out, (a,), backward)


# ----------------------------------------------------------------------------- rearranging


def _axes(dims: Any, ndim: int, op: str) -> tuple[int, ...]:
    return tuple(one_dim(d, ndim, op) for d in ((dims,) if isinstance(dims, int) else dims))


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    """Move dimensions ``source`` to positions ``destination`` (ints or sequences)."""
    src, dst = _axes(source, input.ndim, "movedim"), _axes(destination, input.ndim, "movedim")
    if len(src) != len(dst):
        raise ValueError(f"movedim: source {source} and destination {destination} differ in length")
    out = np.moveaxis(input._data, src, dst)
    return make_view(out, input, lambda g: (np.moveaxis(g, dst, src),))


moveaxis = movedim


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """Swap two dimensions (torch.swapaxes, the same as transpose)."""
    return transpose(input, axis0, axis1)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions (torch.swapdims, the same as transpose)."""
    return transpose(input, dim0, dim1)


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Shift elements circularly by ``shifts`` along ``dims`` (the flattened tensor if None)."""
    axes = None if dims is None else _axes(dims, input.ndim, "roll")
    if axes is not None and np.ndim(shifts) != 0 and len(shifts) != len(axes):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    back = -np.asarray(shifts)
    out = np.roll(input._data, shifts, axes)
    return make(out, (input,), lambda g: (np.roll(g, back, axes),))


def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:
    """``length`` elements along ``dim`` from ``start`` (which may be negative)."""
    ax = one_dim(dim, input.ndim, "narrow")
    n = input.shape[ax]
    start = int(start)
    begin = start + n if start < 0 else start
    if not 0 <= begin <= n or length < 0 or begin + length > n:
        raise IndexError(
            f"narrow: start {start} and length {length} are out of range for dimension {dim} "
            f"of size {n}"
        )
    return getitem(input, (slice(None),) * ax + (slice(begin, begin + length),))


def slice_copy(
    input: Tensor, dim: int = 0, start: int | None = None, end: int | None = None, step: int = 1
) -> Tensor:
    """torch.slice_copy: elements ``start:end:step`` along ``dim`` (step positive), a copy."""
    ax = one_dim(dim, input.ndim, "slice_copy")
    if step <= 0:
        raise ValueError(f"slice_copy: slice step must be positive, got {step}")
    return getitem(input, (slice(None),) * ax + (slice(start, end, step),)).clone()


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one of them may be -1)."""
    ax = one_dim(dim, input.ndim, "unflatten")
    return reshape(input, input.shape[:ax] + tuple(sizes) + input.shape[ax + 1 :])


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    """Repeat the tensor ``dims`` times along each dimension (ones are prepended as needed)."""
    dims = tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def repeat_interleave(
    input: Tensor, repeats: Any = None, dim: int | None = None, *, output_size: int | None = None
) -> Tensor:
    """Repeat each element (or slice along ``dim``) ``repeats`` times, in place of the original;
    with one 1-D integer tensor, repeat each index by its value."""
    if repeats is None:
        counts = input._data
        return constant(np.repeat(np.arange(len(counts)), counts).astype(np.int64))
    t = reshape(input, -1) if dim is None else input
    ax = 0 if dim is None else one_dim(dim, input.ndim, "repeat_interleave")
    reps = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    n = t.shape[ax]
    if reps.ndim and reps.size not in (1, n) or (reps < 0).any():
        raise ValueError(f"repeat_interleave: repeats must be non-negative, one or {n} of them")
    reps = np.broadcast_to(reps.reshape(-1) if reps.ndim else reps, (n,))
    source = np.repeat(np.arange(n), reps)
    out = np.take(t._data, source, axis=ax)

    def backward(g: np.ndarray) -> tuple:
        return (np.moveaxis(scatter_add_rows(n, source, np.moveaxis(g, ax, 0)), 0, ax),)

    return make(out, (t,), backward)


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first toward the
    second)."""
    axes = _axes(dims, input.ndim, "rot90")
    if len(axes) != 2 or axes[0] == axes[1]:
        raise ValueError(f"rot90: dims must name two different dimensions, got {dims}")
    out = np.rot90(input._data, k, axes)
    return make(out, (input,), lambda g: (np.rot90(g, -k, axes),))


def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:
    """The tensor broadcast to ``size`` (-1 keeps a dimension)."""
    return expand(input, tuple(size))


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C·r², H, W) → (*, C, H·r, W·r): sub-pixel convolution's upsampling."""
    r = int(upscale_factor)
    if input.ndim < 3 or r < 1 or input.shape[-3] % (r * r):
        raise ValueError(
            f"pixel_shuffle: input of shape {tuple(input.shape)} needs at least 3 dimensions and "
            f"channels divisible by upscale_factor²={r * r}"
        )
    *batch, c, h, w = input.shape
    n = len(batch)
    x = reshape(input, *batch, c // (r * r), r, r, h, w)
    x = permute(x, *range(n), n, n + 3, n + 1, n + 4, n + 2)
    return reshape(x, *batch, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H·r, W·r) → (*, C·r², H, W): the inverse of :func:`pixel_shuffle`."""
    r = int(downscale_factor)
    if input.ndim < 3 or r < 1 or input.shape[-2] % r or input.shape[-1] % r:
        raise ValueError(
            f"pixel_unshuffle: input of shape {tuple(input.shape)} needs at least 3 dimensions "
            f"and height and width divisible by downscale_factor={r}"
        )
    *batch, c, hr, wr = input.shape
    n = len(batch)
    x = reshape(input, *batch, c, hr // r, r, wr // r, r)
    x = permute(x, *range(n), n, n + 2, n + 4, n + 1, n + 3)
    return reshape(x, *batch, c * r * r, hr // r, wr // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """(N, C, *) with its channels in ``groups`` interleaved (ShuffleNet's channel shuffle:
    channel g·(C/groups) + k moves to k·groups + g)."""
    g = int(groups)
    if input.ndim < 3 or g < 1 or input.shape[1] % g:
        raise ValueError(
            f"channel_shuffle: input of shape {tuple(input.shape)} needs at least 3 dimensions and "
            f"a channel count divisible by groups={groups}"
        )
    n, c, *rest = input.shape
    x = reshape(input, n, g, c // g, *rest)
    return reshape(transpose(x, 1, 2), n, c, *rest)


def unfold_dim(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``Tensor.unfold``: every window of ``size`` elements along ``dimension``, ``step``
    apart, as a new last dimension (that dimension becomes the window count); a view."""
    ax = one_dim(dimension, max(input.ndim, 1), "unfold")
    x = input._data if input.ndim else input._data.reshape(1)
    n = x.shape[ax]
    if size < 0 or size > n or step <= 0:
        raise ValueError(
            f"unfold: size {size} must be in 0..{n} (dimension {dimension}'s length) and step "
            f"{step} positive"
        )
    count = (n - size) // step + 1
    windows = np.lib.stride_tricks.sliding_window_view(x, size, axis=ax)
    out = windows[(slice(None),) * ax + (slice(0, (count - 1) * step + 1, step),)]

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        gx = np.zeros(x.shape, g.dtype)
        for j in range(size):  # window offset j: a strided slice, no two windows overlap there
            gx[(slice(None),) * ax + (slice(j, j + (count - 1) * step + 1, step),)] += g[..., j]
        return (gx.reshape(input.shape),)

    return make_view(out, input, backward)


def as_strided(
    input: Tensor, size: Sequence[int], stride: Sequence[int], storage_offset: int | None = None
) -> Tensor:
    """The elements at ``storage_offset`` + Σ iₖ·strideₖ of a contiguous tensor's elements, in
    the shape ``size`` (torch.as_strided; here a copy, and elements read more than once get
    every contribution to their gradient)."""
    x = input._data
    if not x.flags.c_contiguous:
        raise ValueError(
            "as_strided: the tensor is not contiguous; call .contiguous() first (its strides "
            "would then be those of the copy)"
        )
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    offset = 0 if storage_offset is None else int(storage_offset)
    if len(size) != len(stride) or min(stride, default=0) < 0 or offset < 0:
        raise ValueError(f"as_strided: size {size} and stride {stride} must pair up, non-negative")
    positions = offset + sum(
        (np.arange(n) * s).reshape([-1 if d == k else 1 for d in range(len(size))])
        for k, (n, s) in enumerate(zip(size, stride))
    ) * np.ones(size, np.int64)
    if positions.size and positions.max() >= x.size:
        raise ValueError(
            f"as_strided: size {size}, stride {stride} and offset {offset} reach element "
            f"{positions.max()} of a tensor of {x.size}"
        )
    flat = x.reshape(-1)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        gx = np.zeros(x.size, g.dtype)
        np.add.at(gx, positions.reshape(-1), g.reshape(-1))
        return (gx.reshape(x.shape),)

    return make(flat[positions], (input,), backward)
