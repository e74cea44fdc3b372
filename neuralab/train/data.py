"""The data side of training: any accepted form of data as batches, and a batch's parts.

Data is a :class:`~neuralab.data.loader.DataLoader` (used as is), a dataset (batched with
``batch_size``, shuffled with ``shuffle``), an iterable of batches that can be iterated again,
or arrays: ``(X, y)`` of NumPy arrays, Tensors or pandas objects (anything with
``.to_numpy()``), or ``X`` alone. A batch is ``x``, ``(x,)``, ``(x, y)`` or
``(x1, ..., xk, y)``; the model is called as ``model(x1, ..., xk)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from neuralab.data.dataset import TensorDataset
from neuralab.data.loader import DataLoader
from neuralab.tensor import Tensor

__all__ = ["align_target", "as_loader", "length", "scalar_loss", "split_batch"]


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray | Tensor) or (hasattr(x, "to_numpy") and hasattr(x, "shape"))


def _numpy(x: Any) -> Any:
    """pandas objects (``DataFrame``, ``Series``) as NumPy arrays; others unchanged."""
    return x.to_numpy() if hasattr(x, "to_numpy") and not isinstance(x, Tensor) else x


def as_loader(
    name: str, data: Any, batch_size: int | None, shuffle: bool, stream: bool = False
) -> Iterable:
    """An iterable of batches, one pass per epoch, from any of the accepted forms of data.

    A one-shot iterator (a generator) is refused, as it would be empty after the first epoch,
    unless ``stream``: then batches are drawn from it continuously (``steps_per_epoch``).
    """
    if isinstance(data, DataLoader):
        return data
    if _is_array(data):
        data = (data,)
    if isinstance(data, tuple | list) and data and all(_is_array(a) for a in data):
        try:
            data = TensorDataset(*(_numpy(a) for a in data))
        except (ValueError, TypeError) as e:
            raise type(e)(f"{name}: {e}") from e
    if hasattr(data, "__getitem__") and hasattr(data, "__len__"):
        size = max(1, len(data)) if batch_size is None else batch_size  # None: one full batch
        return DataLoader(data, batch_size=size, shuffle=shuffle)
    if isinstance(data, Iterator) and not stream:
        raise TypeError(
            f"{name}: got a one-shot iterator ({type(data).__name__}), which would be empty "
            "after the first epoch; pass a DataLoader, a dataset or (X, y) arrays, or "
            "steps_per_epoch to draw batches from it continuously"
        )
    if isinstance(data, Iterable):
        return data
    raise TypeError(
        f"{name}: expected a DataLoader, a dataset, (X, y) arrays or an iterable of batches, "
        f"got {type(data).__name__}"
    )


def split_batch(batch: Any) -> tuple[tuple[Any, ...], Any]:
    """(inputs, target) of a batch; target is None for ``x`` and ``(x,)``."""
    if isinstance(batch, tuple | list):
        if len(batch) == 1:
            return tuple(batch), None
        return tuple(batch[:-1]), batch[-1]
    return (batch,), None


def align_target(output: Any, target: Any) -> Any:
    """Give a 1-D target of N values the (N, 1) shape of a single-column output."""
    if (
        isinstance(output, Tensor)
        and isinstance(target, Tensor)
        and target.ndim == 1
        and output.shape == (*target.shape, 1)
    ):
        return target.reshape(-1, 1)
    return target


def scalar_loss(name: str, value: Any) -> float:
    """The Python float of a scalar loss Tensor, or a TypeError saying what came back."""
    if not isinstance(value, Tensor) or value.numel() != 1:
        got = f"a Tensor of shape {value.shape}" if isinstance(value, Tensor) else repr(value)
        raise TypeError(f"{name}: the loss must return a scalar Tensor, got {got}")
    return float(value.item())


def length(loader: Iterable) -> int | None:
    """The number of batches of ``loader``, or None when it has no length."""
    try:
        return len(loader)  # type: ignore[arg-type]
    except TypeError:
        return None
