"""What the loss families share: argument checks, torch's legacy ``size_average``/``reduce``,
and the reduction step ('mean', 'sum' or 'none') with its backward."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from neuralab.ops import reduce
from neuralab.ops._util import float_tensor, to_tensor
from neuralab.tensor import Tensor, make

REDUCTIONS = ("mean", "sum", "none")

PerBackward = Callable[[np.ndarray], tuple[np.ndarray | None, ...]]


def check_reduction(reduction: str, op: str, allowed: tuple[str, ...] = REDUCTIONS) -> None:
    """Raise unless ``reduction`` is one of ``allowed``."""
    if reduction not in allowed:
        names = ", ".join(repr(r) for r in allowed[:-1]) + f" or {allowed[-1]!r}"
        raise ValueError(f"{op}: reduction must be {names}, got {reduction!r}")


def reduction_name(reduction: int, op: str) -> str:
    """The reduction torch's top-level losses (``torch.kl_div``, ...) take as ATen's enum: 0 is
    'none', 1 'mean', 2 'sum' (``torch.nn.functional`` takes the name)."""
    if isinstance(reduction, bool) or not isinstance(reduction, int | np.integer):
        raise TypeError(f"{op}: reduction must be an int (0, 1 or 2), got {reduction!r}")
    if reduction not in (0, 1, 2):
        raise ValueError(f"{op}: reduction must be 0 (none), 1 (mean) or 2 (sum), got {reduction}")
    return ("none", "mean", "sum")[reduction]


def legacy_reduction(
    op: str, size_average: bool | None, reduce: bool | None, reduction: str, stacklevel: int = 3
) -> str:
    """``reduction`` after torch's deprecated ``size_average``/``reduce`` (with torch's warning),
    checked: size_average and reduce default to True, reduce=False wins ('none')."""
    if size_average is not None or reduce is not None:
        average = True if size_average is None else size_average
        reduced = True if reduce is None else reduce
        reduction = "none" if not reduced else "mean" if average else "sum"
        warnings.warn(
            "size_average and reduce args will be deprecated, please use "
            f"reduction='{reduction}' instead.",
            stacklevel=stacklevel,
        )
    check_reduction(reduction, op)
    return reduction


def reduce_loss(
    per: np.ndarray,
    parents: tuple[Tensor, ...],
    backward: PerBackward,
    reduction: str,
    denominator: Any = None,
    broadcasts: bool = False,
) -> Tensor:
    """Reduce the per-element loss ``per`` and record the op.

    ``backward`` maps the gradient of ``per`` (same shape) to one gradient per parent;
    ``denominator`` replaces the element count for 'mean' (weighted class losses).
    ``broadcasts`` says that ``backward`` also takes a 0-d gradient and still returns
    full-shape gradients, which spares a reduced loss the array of equal upstream gradients.
    """
    per = np.asarray(per)  # a reduction over a 1-D array yields a NumPy scalar
    if reduction == "none":
        return make(per, parents, backward)
    shape, dtype = per.shape, per.dtype

    def spread(g: np.ndarray) -> np.ndarray:
        return np.asarray(g, dtype) if broadcasts else np.full(shape, g, dtype)

    if reduction == "sum":
        total = np.asarray(per.sum(), dtype=dtype)
        return make(total, parents, lambda g: backward(spread(g)))
    n = per.size if denominator is None else denominator
    if not n:  # empty or all-ignored: NaN, like torch
        return make(
            np.asarray(np.nan, dtype), parents, lambda g: backward(np.full(shape, np.nan, dtype))
        )
    mean = np.asarray(per.sum() / n, dtype=dtype)
    return make(mean, parents, lambda g: backward(spread(g / n)))


def reduce_tensor(per: Tensor, reduction: str) -> Tensor:
    """'mean', 'sum' or 'none' of a loss built from differentiable ops (composite losses)."""
    if reduction == "none":
        return per
    return reduce.sum(per) if reduction == "sum" else reduce.mean(per)


def target_grad(t: Tensor, grad: Callable[[], np.ndarray]) -> np.ndarray | None:
    """The target's gradient in its own dtype, computed only when the target requires it."""
    return grad().astype(t._data.dtype, copy=False) if t.requires_grad else None


def pair(op: str, input: Any, target: Any) -> tuple[Tensor, Tensor, np.ndarray]:
    """Check an elementwise loss's arguments; also return the target's data in the input dtype."""
    x = float_tensor(input, op)
    t = to_tensor(target)
    if t.shape != x.shape:
        raise ValueError(f"{op}: target shape {t.shape} does not match input shape {x.shape}")
    return x, t, t._data.astype(x._data.dtype, copy=False)


def values(x: Any) -> np.ndarray:
    """The array of a tensor, or of anything array-like as given (no float32 default)."""
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def weight_array(
    op: str, name: str, weight: Any, shape: tuple[int, ...], dtype: np.dtype, exact: bool = False
) -> np.ndarray | int:
    """A weight as an array of ``dtype`` broadcastable to ``shape`` (or of ``shape`` itself when
    ``exact``); 1 when None. Weights are constants: they receive no gradient."""
    if weight is None:
        return 1
    w = values(weight).astype(dtype, copy=False)
    try:
        ok = (w.shape if exact else np.broadcast_shapes(w.shape, shape)) == shape
    except ValueError:
        ok = False
    if not ok:
        fits = "have" if exact else "broadcast to"
        raise ValueError(f"{op}: {name} of shape {w.shape} does not {fits} input shape {shape}")
    return w
