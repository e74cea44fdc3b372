"""Map-style datasets (torch.utils.data's shapes) and deterministic ways to split them.

A dataset is anything with ``__getitem__(i)`` and ``__len__()``. Array-backed datasets also offer
:meth:`Dataset.batch_fetcher`: a function that takes a whole index array and returns the batch
already stacked, so a :class:`~neuralab.data.DataLoader` indexes the arrays once per batch instead
of fetching and stacking samples one by one.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from neuralab.random import generator as global_generator
from neuralab.tensor import Tensor, as_array, constant

Fetcher = Callable[[np.ndarray], Any]


def as_generator(generator: np.random.Generator | int | None) -> np.random.Generator:
    """A NumPy Generator: the one given, one seeded by an int, or the global one for ``None``."""
    if generator is None:
        return global_generator()
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, int | np.integer):
        return np.random.default_rng(int(generator))
    raise TypeError(
        f"generator must be a numpy Generator, an int seed or None, got {type(generator).__name__}"
    )


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} does not define __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])

    def batch_fetcher(self) -> Fetcher | None:
        """A function mapping an index array to a stacked batch of arrays, or None (per sample)."""
        return None


def batch_fetcher(dataset: Any) -> Fetcher | None:
    """The fast batch path of ``dataset``: its own fetcher, plain indexing for arrays, or None."""
    if isinstance(dataset, np.ndarray | Tensor):
        array = as_array(dataset)
        return array.__getitem__
    fetcher = getattr(dataset, "batch_fetcher", None)
    return fetcher() if callable(fetcher) else None


class TensorDataset(Dataset):
    """Samples are the i-th rows of equally long tensors or arrays: ``(x[i], y[i], ...)``.

    Arrays follow ``nl.tensor``'s dtype rules (floats become float32, integers int64; a float64
    Tensor stays float64). Each sample is a tuple of Tensors, one per input.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor or array")
        arrays = tuple(as_array(t) for t in tensors)
        for i, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: input {i} is a scalar; each needs a first dim")
        sizes = [a.shape[0] for a in arrays]
        if len(set(sizes)) > 1:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(
                f"TensorDataset: all inputs need the same first dimension (number of samples), "
                f"got shapes {shapes}"
            )
        self.arrays = arrays
        self.tensors = tuple(constant(a) for a in arrays)

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(constant(np.asarray(a[index])) for a in self.arrays)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def batch_fetcher(self) -> Fetcher:
        """Index every array with the batch's index array in one go."""
        arrays = self.arrays
        return lambda idx: tuple(a[idx] for a in arrays)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(
                f"Subset: indices must lie in [-{n}, {n}) for a dataset of {n} samples, got "
                f"min {self.indices.min()} and max {self.indices.max()}"
            )

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return self.indices.size

    def batch_fetcher(self) -> Fetcher | None:
        """The parent's fetcher, applied to the mapped indices."""
        inner = batch_fetcher(self.dataset)
        if inner is None:
            return None
        indices = self.indices
        return lambda idx: inner(indices[idx])


class ConcatDataset(Dataset):
    """Several datasets, one after the other."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: needs at least one dataset")
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


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Integer lengths summing to ``n`` from counts or fractions (torch's rounding rule)."""
    if all(isinstance(x, int | np.integer) for x in lengths):
        counts = [int(x) for x in lengths]
        if any(c < 0 for c in counts) or sum(counts) != n:
            raise ValueError(
                f"random_split: lengths {counts} must be non-negative and sum to the dataset's "
                f"{n} samples"
            )
        return counts
    if any(x < 0 or x > 1 for x in lengths) or not math.isclose(sum(lengths), 1.0, abs_tol=1e-6):
        raise ValueError(f"random_split: fractions {list(lengths)} must lie in [0, 1] and sum to 1")
    counts = [math.floor(n * f) for f in lengths]
    for i in range(n - sum(counts)):  # hand out the remainder round-robin
        counts[i % len(counts)] += 1
    return counts


def random_split(
    dataset: Any,
    lengths: Sequence[float],
    generator: np.random.Generator | int | None = None,
) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping Subsets of the given sizes or fractions.

    ``lengths`` are counts summing to ``len(dataset)`` or fractions summing to 1 (floors, then
    the remainder one by one from the first split on, like torch). The permutation comes from
    ``generator`` (a NumPy Generator or an int seed), else from the global generator, so
    ``nl.manual_seed`` makes it reproducible.
    """
    n = len(dataset)
    counts = _split_lengths(n, lengths)
    order = as_generator(generator).permutation(n)
    ends = np.cumsum(counts)
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
