"""DataLoader: batches of a dataset as neuralab Tensors, shuffled reproducibly, one epoch per iter.

Batches come from one of two paths. The fast path, used when no ``collate_fn`` is given and the
dataset is array-backed (a TensorDataset, a Subset or ConcatDataset of array-backed datasets, an
ndarray, or any dataset whose ``batch_fetcher()`` returns a function), indexes the arrays with
the batch's index array in one go. Otherwise each sample is fetched with ``dataset[i]`` and the
list is handed to ``collate_fn`` (by default :func:`default_collate`, which stacks). Both paths
give the same batches.

Batch transforms (augmentation) follow a small protocol: ``transform`` is a callable taking the
batch's inputs (the first element of a tuple batch, else the whole batch) as a Tensor and
returning the new inputs (a Tensor or an array). If it has a parameter named ``rng`` it is called
as ``transform(x, rng=generator)`` with the loader's NumPy Generator, so random augmentation is
reproducible under ``nl.manual_seed``; otherwise as ``transform(x)``.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from neuralab.data.dataset import as_generator, batch_fetcher
from neuralab.random import generator as global_generator
from neuralab.tensor import Tensor, as_array, constant


def default_collate(samples: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, field by field.

    Tensors and arrays are stacked along a new first dim; Python/NumPy numbers become a 1-D
    Tensor (ints int64, floats float32, bools bool); tuples, lists, named tuples and dicts are
    collated per field and keep their type; strings and bytes stay a list.
    """
    if not samples:
        raise ValueError("default_collate: got an empty list of samples")
    first = samples[0]
    if isinstance(first, Tensor | np.ndarray):
        arrays = [s._data if isinstance(s, Tensor) else np.asarray(s) for s in samples]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ValueError(
                f"default_collate: cannot stack samples of different shapes {sorted(shapes)}; "
                "pad them or pass a collate_fn"
            )
        stacked = np.stack(arrays)
        return constant(stacked if isinstance(first, Tensor) else as_array(stacked))
    if isinstance(first, numbers.Number | np.generic):
        return constant(as_array(np.asarray(samples)))
    if isinstance(first, str | bytes):
        return list(samples)
    if isinstance(first, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, tuple | list):
        if any(len(s) != len(first) for s in samples):
            raise ValueError("default_collate: samples have different numbers of fields")
        fields = [default_collate(list(field)) for field in zip(*samples)]
        if hasattr(first, "_fields"):  # named tuple
            return type(first)(*fields)
        return type(first)(fields) if isinstance(first, list) else tuple(fields)
    raise TypeError(
        f"default_collate: cannot batch samples of type {type(first).__name__}; pass a collate_fn"
    )


def _to_tensors(batch: Any) -> Any:
    """Wrap the arrays of a fast-path batch (an array or a tuple of arrays) as Tensors."""
    if isinstance(batch, tuple | list):
        return type(batch)(_to_tensors(b) for b in batch)
    if isinstance(batch, Tensor):
        return batch
    return constant(as_array(batch))


def accepts_rng(transform: Callable) -> bool:
    """True if ``transform`` has a parameter named ``rng`` that can be passed by keyword."""
    try:
        parameter = inspect.signature(transform).parameters.get("rng")
    except (TypeError, ValueError):  # builtins without a signature
        return False
    return parameter is not None and parameter.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )


class DataLoader:
    """Iterate over ``dataset`` in batches of Tensors; each ``iter(loader)`` is one epoch.

    ``batch_size``: ``None`` gives the whole dataset as one batch (full-batch gradient descent;
    note torch's ``None`` means "no batching" instead), ``1`` one sample at a time (stochastic),
    ``n`` mini-batches of n (the last one smaller unless ``drop_last``). ``len(loader)`` is the
    number of batches per epoch.

    ``shuffle`` draws a new permutation at every ``iter(loader)`` from the loader's own NumPy
    Generator, ``loader.generator``: the one passed as ``generator`` (a Generator or an int
    seed), else one seeded from the global generator when the loader is built, so
    ``nl.manual_seed`` before building it makes every epoch's order reproducible. A loader that
    neither shuffles nor transforms draws nothing from the global generator.

    ``transform`` is applied to each batch's inputs (see the module docstring for the protocol:
    ``transform(x, rng=loader.generator)`` if it has an ``rng`` parameter, else ``transform(x)``).
    ``num_workers`` and ``pin_memory`` are accepted for torch code and ignored: loading runs in
    the calling process.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        generator: np.random.Generator | int | None = None,
        transform: Callable | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
    ) -> None:
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
        ):
            raise ValueError(
                f"DataLoader: batch_size must be a positive int or None (whole dataset), "
                f"got {batch_size!r}"
            )
        if transform is not None and not callable(transform):
            raise TypeError(f"DataLoader: transform must be callable, got {type(transform)}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.transform = transform
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.generator: np.random.Generator | None = None
        if generator is not None:
            self.generator = as_generator(generator)
        elif shuffle or transform is not None:
            self._rng()

    def _rng(self) -> np.random.Generator:
        """The loader's generator, seeded from the global one the first time it is needed."""
        if self.generator is None:
            self.generator = np.random.default_rng(global_generator().integers(2**63))
        return self.generator

    def _batch_size(self) -> int:
        return len(self.dataset) if self.batch_size is None else self.batch_size

    def __len__(self) -> int:
        n = len(self.dataset)
        if n == 0:
            return 0
        size = self._batch_size()
        return n // size if self.drop_last else math.ceil(n / size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = self._rng().permutation(n) if self.shuffle else np.arange(n)
        size = self._batch_size()
        fetch = batch_fetcher(self.dataset) if self.collate_fn is None else None
        collate = self.collate_fn or default_collate
        for b in range(len(self)):
            idx = order[b * size : (b + 1) * size]
            if fetch is not None:
                batch = _to_tensors(fetch(idx))
            else:
                batch = collate([self.dataset[int(i)] for i in idx])
            yield batch if self.transform is None else self._apply_transform(batch)

    def _apply_transform(self, batch: Any) -> Any:
        """Run the transform on the batch's inputs (first field of a tuple/list batch)."""
        is_fields = isinstance(batch, tuple | list)
        x = batch[0] if is_fields else batch
        if accepts_rng(self.transform):
            out = self.transform(x, rng=self._rng())
        else:
            out = self.transform(x)
        out = out if isinstance(out, Tensor) else constant(as_array(out))
        if not is_fields:
            return out
        fields = [out, *batch[1:]]
        return type(batch)(*fields) if hasattr(batch, "_fields") else type(batch)(fields)
