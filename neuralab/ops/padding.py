"""``F.pad`` with all of torch's modes: constant (negative widths crop), reflect, replicate and
circular. Each padded axis is an index map from output to input positions, so the forward is a
gather and the backward adds every copy's gradient back to its source.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neuralab.ops._util import to_tensor
from neuralab.tensor import Tensor, make

__all__ = ["constant_pad_nd", "pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


def _source(n: int, before: int, after: int, mode: str, dim: int) -> np.ndarray:
    """For each output position along an axis of length n, its input position (-1: the fill).

    Negative widths crop first; the positive ones then pad the cropped axis (as torch does).
    """
    start = max(-before, 0)
    m = n - start - max(-after, 0)
    k = np.arange(-max(before, 0), m + max(after, 0))
    if mode == "constant":
        return np.where((k >= 0) & (k < m), k + start, -1)
    widest = max(before, after)
    if m <= 0 or widest > (m - 1 if mode == "reflect" else m):
        need = "larger than" if mode == "reflect" else "at least"
        raise ValueError(
            f"pad: {mode} padding ({before}, {after}) of dimension {dim} needs its size to be "
            f"{need} {widest}, got {n}"
        )
    if mode == "replicate":
        return np.clip(k, 0, m - 1) + start
    if mode == "circular":
        return k % m + start
    k = np.abs(k)  # reflect: ..., 2, 1, 0, 1, 2, ... without repeating the edge
    return np.where(k < m, k, 2 * (m - 1) - k) + start


def _check(x: Tensor, pad: Sequence[int], mode: str) -> int:
    """Raise for a bad ``pad``/``mode`` combination; return the number of padded dimensions."""
    if mode not in _MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if len(pad) % 2:
        raise ValueError(f"pad: the padding {tuple(pad)} must have an even length (pairs)")
    dims = len(pad) // 2
    if dims > x.ndim:
        raise ValueError(
            f"pad: padding {tuple(pad)} names {dims} dimensions but the input has {x.ndim}"
        )
    if mode != "constant" and (dims not in (1, 2, 3) or x.ndim not in (dims + 1, dims + 2)):
        raise ValueError(
            f"pad: {mode} padding of {dims} dimension(s) needs a {dims + 1}-D or {dims + 2}-D "
            f"input, got shape {x.shape}"
        )
    return dims


def pad(
    input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None
) -> Tensor:
    """Pad (or, with negative widths, crop) the last ``len(pad) // 2`` dimensions; ``pad`` lists
    (before, after) pairs starting from the last dimension, as torch's."""
    x = to_tensor(input)
    pad = [int(p) for p in pad]
    dims = _check(x, pad, mode)
    if mode == "constant" and min(pad, default=0) >= 0:
        return _constant(x, pad, 0 if value is None else value)
    maps = []
    for i in range(dims):
        axis = x.ndim - 1 - i
        maps.append((axis, _source(x.shape[axis], pad[2 * i], pad[2 * i + 1], mode, axis)))
    out = x._data
    for axis, src in maps:
        out = np.take(out, np.maximum(src, 0), axis=axis)
        if mode == "constant" and (src < 0).any():
            fill = [slice(None)] * out.ndim
            fill[axis] = src < 0
            out[tuple(fill)] = 0 if value is None else value

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        for axis, src in reversed(maps):
            n = x.shape[axis]
            onehot = (src[:, None] == np.arange(n)).astype(g.dtype)  # fills match no input
            g = np.moveaxis(np.moveaxis(g, axis, -1) @ onehot, -1, axis)
        return (g,)

    return make(out, (x,), backward)


_pad = pad  # constant_pad_nd's argument is called pad too, as torch's


def constant_pad_nd(input: Tensor, pad: Sequence[int], value: float = 0) -> Tensor:
    """torch.constant_pad_nd: :func:`pad` in constant mode (negative widths crop)."""
    return _pad(input, pad, "constant", value)


def _constant(x: Tensor, pad: list[int], value: float) -> Tensor:
    """Constant padding without cropping: NumPy's pad forward, a slice backward."""
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    out = np.pad(x._data, widths, constant_values=value)
    crop = tuple(slice(lo, out.shape[i] - hi) for i, (lo, hi) in enumerate(widths))
    return make(out, (x,), lambda g: (g[crop],))
