"""Datasets (torch.utils.data.dataset): map-style and iterable datasets, and ways to split them.

A map-style dataset is anything with ``__getitem__(i)`` and ``__len__()``; an iterable one
(:class:`IterableDataset`) yields its samples from ``__iter__``. Array-backed datasets also offer
:meth:`Dataset.batch_fetcher`: a function that takes a whole index array and returns the batch
already stacked, so a :class:`~neuralab.data.DataLoader` indexes the arrays once per batch instead
of fetching and stacking samples one by one.
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from neuralab.data.sampler import as_generator
from neuralab.tensor import Tensor, as_array, constant

__all__ = [
    "ChainDataset",
    "ConcatDataset",
    "Dataset",
    "IterableDataset",
    "StackDataset",
    "Subset",
    "TensorDataset",
    "as_generator",
    "batch_fetcher",
    "random_split",
    "train_test_split",
]

T_co = TypeVar("T_co", covariant=True)
Fetcher = Callable[[np.ndarray], Any]


class Dataset(Generic[T_co]):
    """Base class of map-style datasets: subclasses define ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index: Any) -> T_co:
        raise NotImplementedError(f"{type(self).__name__} does not define __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])

    def batch_fetcher(self) -> Fetcher | None:
        """A function mapping an index array to a stacked batch of arrays, or None (per sample)."""
        return None


class IterableDataset(Dataset[T_co], Iterable):
    """Base class of datasets that stream their samples: subclasses define ``__iter__``.

    A DataLoader batches them in the order they come (no sampler, no shuffling).
    """

    def __add__(self, other: Dataset) -> ChainDataset:
        return ChainDataset([self, other])


def _owner(cls: type, name: str) -> type | None:
    """The class in ``cls``'s MRO that defines ``name``, or None."""
    return next((c for c in cls.__mro__ if name in vars(c)), None)


def _fetcher_is_stale(cls: type) -> bool:
    """True if a subclass overrides ``__getitem__``/``__getitems__`` below its batch_fetcher."""
    fetcher_owner = _owner(cls, "batch_fetcher")
    if fetcher_owner is None:
        return False
    for name in ("__getitem__", "__getitems__"):
        owner = _owner(cls, name)
        if owner is not None and owner is not fetcher_owner and issubclass(owner, fetcher_owner):
            return True
    return False


def batch_fetcher(dataset: Any) -> Fetcher | None:
    """The fast batch path of ``dataset``: its own fetcher, plain indexing for arrays, or None.

    None also when a subclass redefines how samples are read (``__getitem__``) below the class
    that defines the fetcher: its samples would no longer match the fetcher's batches.
    """
    if isinstance(dataset, np.ndarray | Tensor):
        return as_array(dataset).__getitem__
    fetcher = getattr(dataset, "batch_fetcher", None)
    if not callable(fetcher) or _fetcher_is_stale(type(dataset)):
        return None
    return fetcher()


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Samples are the i-th rows of equally long tensors or arrays: ``(x[i], y[i], ...)``.

    Arrays follow ``nl.tensor``'s dtype rules (floats become float32, integers int64; a float64
    Tensor stays float64). Each sample is a tuple of Tensors, one per input; ``.tensors`` holds
    the inputs as Tensors (the same objects when Tensors were passed).
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor or array")
        arrays = tuple(as_array(t) for t in tensors)
        for i, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: input {i} is a scalar; each needs a first dim")
        if len({a.shape[0] for a in arrays}) > 1:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(
                f"TensorDataset: all inputs need the same first dimension (number of samples), "
                f"got shapes {shapes}"
            )
        self.arrays = arrays
        self.tensors = tuple(
            t if isinstance(t, Tensor) and t._data is a else constant(a)
            for t, a in zip(tensors, arrays)
        )

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        index = index._data if isinstance(index, Tensor) else index
        return tuple(constant(np.asarray(a[index])) for a in self.arrays)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def batch_fetcher(self) -> Fetcher:
        """Index every array with the batch's index array in one go."""
        arrays = self.arrays
        return lambda idx: tuple(a[idx] for a in arrays)


class StackDataset(Dataset):
    """Samples of equally long datasets side by side: a tuple (positional) or a dict (keywords)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and kwargs:
            raise ValueError("StackDataset: pass datasets either positionally or by keyword")
        if not args and not kwargs:
            raise ValueError("StackDataset: needs at least one dataset")
        self.datasets: tuple | dict = args if args else kwargs
        parts = args if args else tuple(kwargs.values())
        lengths = [len(d) for d in parts]
        if len(set(lengths)) > 1:
            raise ValueError(f"StackDataset: the datasets differ in length: {lengths}")
        self._length = lengths[0]

    def __getitem__(self, index: int) -> tuple | dict:
        if isinstance(self.datasets, dict):
            return {key: d[index] for key, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self) -> int:
        return self._length

    def batch_fetcher(self) -> Fetcher | None:
        """Each part's fetcher, side by side (None if a part has none)."""
        named = isinstance(self.datasets, dict)
        parts = self.datasets if named else dict(enumerate(self.datasets))
        fetchers = {key: batch_fetcher(d) for key, d in parts.items()}
        if any(f is None for f in fetchers.values()):
            return None
        if named:
            return lambda idx: {key: f(idx) for key, f in fetchers.items()}
        return lambda idx: tuple(f(idx) for f in fetchers.values())


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order (``.indices`` as given)."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        raw = indices._data if isinstance(indices, Tensor) else indices
        self._positions = np.asarray(raw, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self._positions.size and (self._positions.min() < -n or self._positions.max() >= n):
            raise IndexError(
                f"Subset: indices must lie in [-{n}, {n}) for a dataset of {n} samples, got "
                f"min {self._positions.min()} and max {self._positions.max()}"
            )

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)

    def batch_fetcher(self) -> Fetcher | None:
        """The parent's fetcher, applied to the mapped indices."""
        inner = batch_fetcher(self.dataset)
        if inner is None:
            return None
        positions = self._positions
        return lambda idx: inner(positions[idx])


class ConcatDataset(Dataset):
    """Several map-style datasets, one after the other (``cumulative_sizes`` holds the ends)."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: needs at least one dataset")
        for i, d in enumerate(self.datasets):
            if isinstance(d, IterableDataset):
                raise TypeError(
                    f"ConcatDataset: dataset {i} is an IterableDataset; use ChainDataset"
                )
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def _locate(self, index: int) -> tuple[int, int]:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} out of range for {n} samples")
        index %= n
        part = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[part - 1] if part else 0
        return part, index - start

    def __getitem__(self, index: int) -> Any:
        part, local = self._locate(int(index))
        return self.datasets[part][local]

    def batch_fetcher(self) -> Fetcher | None:
        """Fetch each part's share of the batch in one go, then restore the batch's order."""
        fetchers = [batch_fetcher(d) for d in self.datasets]
        if any(f is None for f in fetchers):
            return None
        bounds = np.asarray([0, *self.cumulative_sizes])

        def fetch(idx: np.ndarray) -> Any:
            idx = np.asarray(idx) % bounds[-1]
            part = np.searchsorted(bounds, idx, side="right") - 1
            pieces, positions = [], []
            for p in np.unique(part):
                where = np.flatnonzero(part == p)
                pieces.append(fetchers[p](idx[where] - bounds[p]))
                positions.append(where)
            inverse = np.argsort(np.concatenate(positions), kind="stable")
            if isinstance(pieces[0], tuple):
                return tuple(np.concatenate(field)[inverse] for field in zip(*pieces))
            return np.concatenate(pieces)[inverse]

        return fetch


class ChainDataset(IterableDataset):
    """Several iterable datasets, streamed one after the other."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = datasets

    def _parts(self) -> Iterator[IterableDataset]:
        for i, d in enumerate(self.datasets):
            if not isinstance(d, IterableDataset):
                raise TypeError(
                    f"ChainDataset: dataset {i} is a {type(d).__name__}, not an IterableDataset"
                )
            yield d

    def __iter__(self) -> Iterator[Any]:
        for d in self._parts():
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self._parts())


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Integer lengths summing to ``n`` from counts or fractions (torch's rule and rounding)."""
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:  # fractions: floors, remainder round-robin
        for i, f in enumerate(lengths):
            if not 0 <= f <= 1:
                raise ValueError(f"random_split: fraction {i} is {f}, not in [0, 1]")
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"random_split: split {i} is empty", UserWarning, stacklevel=3)
        return counts
    counts = [int(c) for c in lengths]
    if counts != list(lengths) or any(c < 0 for c in counts) or sum(counts) != n:
        raise ValueError(
            f"random_split: lengths {list(lengths)} must be non-negative counts summing to the "
            f"dataset's {n} samples, or fractions summing to 1"
        )
    return counts


def random_split(dataset: Any, lengths: Sequence[float], generator: Any = None) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping Subsets of the given sizes or fractions.

    ``lengths`` are counts summing to ``len(dataset)`` or fractions summing to 1 (floors, then
    the remainder one by one from the first split on, like torch). The permutation comes from
    ``generator`` (a NumPy Generator, an int seed or an object with ``initial_seed()``), else
    from the global generator, so ``nl.manual_seed`` makes it reproducible.
    """
    n = len(dataset)
    counts = _split_lengths(n, lengths)
    order = as_generator(generator).permutation(n).tolist()
    ends = np.cumsum(counts).tolist()
    return [Subset(dataset, order[end - c : end]) for c, end in zip(counts, ends)]


def train_test_split(
    *arrays: Any, ratio: float = 0.5, seed: int | None = 0, shuffle: bool = True
) -> list[np.ndarray]:
    """Split equally long arrays into a training part (``ratio`` of the rows) and a test part.

    Returns ``[a_train, a_test, b_train, b_test, ...]`` like scikit-learn. The Playground's
    default ratio is 50 %. With ``shuffle`` the rows are permuted by ``seed`` first (the same
    seed gives the same split); without it the first rows train.
    """
    if not arrays:
        raise ValueError("train_test_split: needs at least one array")
    if not 0 < ratio < 1:
        raise ValueError(f"train_test_split: ratio must lie strictly between 0 and 1, got {ratio}")
    arrays_np = [np.asarray(a) for a in arrays]
    n = len(arrays_np[0])
    if any(len(a) != n for a in arrays_np):
        raise ValueError(
            "train_test_split: arrays need the same length, got "
            + ", ".join(str(len(a)) for a in arrays_np)
        )
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    n_train = round(n * ratio)
    train, test = order[:n_train], order[n_train:]
    return [part for a in arrays_np for part in (a[train], a[test])]
