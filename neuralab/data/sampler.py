"""Samplers (torch.utils.data.sampler): which indices a DataLoader visits, in which order.

A sampler is an iterable of dataset indices; a batch sampler one of index lists. The built-in
samplers also draw a whole pass as one int64 array (:meth:`ArraySampler.epoch_indices`), so the
DataLoader's fast path slices batches out of it instead of iterating Python ints.

Randomness: a sampler built with ``generator=None`` draws from the global generator each time it
is iterated (so ``nl.manual_seed`` governs it and every epoch gets a new order); with a
``generator`` (a NumPy Generator, an int seed, or an object with ``initial_seed()``) it draws
from that generator's own stream.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any, Generic, TypeVar

import numpy as np

from neuralab.random import generator as global_generator
from neuralab.tensor import Tensor

T_co = TypeVar("T_co", covariant=True)


def as_generator(generator: Any) -> np.random.Generator:
    """A NumPy Generator from ``generator``: itself, an int seed, or ``initial_seed()``'s seed.

    ``None`` gives the global generator as it is now. An object with an ``initial_seed()``
    method (a torch-style Generator) is read once: its seed starts a new NumPy stream.
    """
    if generator is None:
        return global_generator()
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, int | np.integer) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    if callable(getattr(generator, "initial_seed", None)):
        return np.random.default_rng(int(generator.initial_seed()))
    raise TypeError(
        "generator must be a numpy Generator, an int seed, an object with initial_seed() or "
        f"None, got {type(generator).__name__}"
    )


def _check_bool(owner: str, name: str, value: Any, error: type[Exception] = ValueError) -> None:
    if not isinstance(value, bool):
        raise error(f"{owner}: {name} must be a bool, got {name}={value!r}")


def check_positive_int(owner: str, name: str, value: Any) -> None:
    """Raise ValueError unless ``value`` is a positive int (bools and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive int, got {name}={value!r}")


class Sampler(Generic[T_co]):
    """Base class of samplers: subclasses define ``__iter__`` (and usually ``__len__``)."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass  # torch accepts and ignores a data source here

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} does not define __iter__")


class ArraySampler(Sampler[int]):
    """A sampler that draws a whole pass at once: ``epoch_indices()`` as an int64 array."""

    generator: Any = None
    _rng: np.random.Generator | None = None

    def _set_generator(self, generator: Any) -> None:
        self.generator = generator
        self._rng = None if generator is None else as_generator(generator)

    def _draw_rng(self) -> np.random.Generator:
        """The sampler's own generator, or the global one as it is at this draw."""
        return global_generator() if self._rng is None else self._rng

    def epoch_indices(self) -> np.ndarray:
        """Every index of one pass, in order, as an int64 array (a fresh draw for random ones)."""
        raise NotImplementedError(f"{type(self).__name__} does not define epoch_indices")

    def chunks(self) -> Iterator[np.ndarray]:
        """One pass as consecutive int64 arrays (one array, unless the pass is huge)."""
        yield self.epoch_indices()

    def __iter__(self) -> Iterator[int]:
        for chunk in self.chunks():
            yield from chunk.tolist()


WHOLE_PASS = 1 << 22  # at most this many indices (32 MiB) are drawn as one array


def fast_indices(sampler: Any) -> np.ndarray | None:
    """One pass of ``sampler`` as an array if it is a built-in one (``__iter__`` not overridden)
    and not huge (``RandomSampler(num_samples=10**10)`` streams instead)."""
    if (
        isinstance(sampler, ArraySampler)
        and type(sampler).__iter__ is ArraySampler.__iter__
        and len(sampler) <= WHOLE_PASS
    ):
        return sampler.epoch_indices()
    return None


class SequentialSampler(ArraySampler):
    """Indices 0, 1, ..., len(data_source) - 1, in order."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def epoch_indices(self) -> np.ndarray:
        """0 .. n-1."""
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(ArraySampler):
    """Random indices: a permutation per pass, or ``num_samples`` draws with replacement.

    Without replacement and ``num_samples`` > n it chains whole permutations, then part of one.
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Any = None,
    ) -> None:
        _check_bool("RandomSampler", "replacement", replacement, TypeError)
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self._set_generator(generator)
        check_positive_int("RandomSampler", "num_samples", self.num_samples)

    @property
    def num_samples(self) -> int:
        """How many indices a pass yields (the dataset's length unless given)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def epoch_indices(self) -> np.ndarray:
        """A fresh draw: uniform with replacement, else chained permutations."""
        return np.concatenate(list(self.chunks()))

    def chunks(self) -> Iterator[np.ndarray]:
        """The draw in pieces: at most :data:`WHOLE_PASS` indices, or one permutation, each."""
        n, k, rng = len(self.data_source), self.num_samples, self._draw_rng()
        while k > 0:
            if self.replacement:
                part = rng.integers(0, n, size=min(k, WHOLE_PASS), dtype=np.int64)
            else:
                part = rng.permutation(n)[:k].astype(np.int64, copy=False)
            k -= part.size
            yield part

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(ArraySampler):
    """The given indices in a new random order each pass (no replacement)."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = indices
        self._set_generator(generator)

    def epoch_indices(self) -> np.ndarray:
        """The indices, permuted."""
        indices = np.asarray(self.indices, dtype=np.int64).reshape(-1)
        return indices[self._draw_rng().permutation(indices.size)]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(ArraySampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``."""

    def __init__(
        self,
        weights: Sequence[float],
        num_samples: int,
        replacement: bool = True,
        generator: Any = None,
    ) -> None:
        check_positive_int("WeightedRandomSampler", "num_samples", num_samples)
        _check_bool("WeightedRandomSampler", "replacement", replacement)
        w = weights._data if isinstance(weights, Tensor) else weights
        self.weights = np.asarray(w, dtype=np.float64)
        if self.weights.ndim != 1:
            raise ValueError(
                f"WeightedRandomSampler: weights must be 1-D, got shape {self.weights.shape}"
            )
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self._set_generator(generator)

    def _probabilities(self) -> np.ndarray:
        """The weights normalised to sum 1; RuntimeError (as torch's multinomial) if invalid."""
        w = self.weights
        if not np.isfinite(w).all() or (w < 0).any():
            raise RuntimeError("WeightedRandomSampler: weights must be finite and non-negative")
        if w.sum() <= 0:
            raise RuntimeError("WeightedRandomSampler: weights must not all be zero")
        if not self.replacement and self.num_samples > np.count_nonzero(w):
            raise RuntimeError(
                f"WeightedRandomSampler: cannot draw {self.num_samples} samples without "
                f"replacement from {np.count_nonzero(w)} non-zero weights"
            )
        return w / w.sum()

    def epoch_indices(self) -> np.ndarray:
        """A fresh weighted draw."""
        p = self._probabilities()
        rng = self._draw_rng()
        return rng.choice(p.size, size=self.num_samples, replace=self.replacement, p=p)

    def __len__(self) -> int:
        return self.num_samples


class DistributedSampler(ArraySampler):
    """This process's share of a dataset in data-parallel training (torch's): each pass is
    one order (shuffled with ``seed + epoch``, see :meth:`set_epoch`), padded by repeating
    its start so every one of ``num_replicas`` processes gets the same count (or cut, with
    ``drop_last``), and process ``rank`` takes every ``num_replicas``-th index from ``rank``."""

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from neuralab import distributed

            if not distributed.is_initialized():
                raise RuntimeError(
                    "DistributedSampler: pass num_replicas and rank, or call "
                    "neuralab.distributed.init_process_group() first"
                )
            num_replicas = distributed.get_world_size() if num_replicas is None else num_replicas
            rank = distributed.get_rank() if rank is None else rank
        check_positive_int("DistributedSampler", "num_replicas", num_replicas)
        if isinstance(rank, bool) or not isinstance(rank, int | np.integer):
            raise ValueError(f"DistributedSampler: rank must be an int, got rank={rank!r}")
        if not 0 <= rank < num_replicas:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        _check_bool("DistributedSampler", "shuffle", shuffle)
        _check_bool("DistributedSampler", "drop_last", drop_last)
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, int(seed), drop_last, 0
        n = len(dataset)
        if drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Use the order of pass ``epoch`` (call it before each epoch, on every process, so the
        shuffle changes between epochs and stays the same across processes)."""
        self.epoch = int(epoch)

    def epoch_indices(self) -> np.ndarray:
        """This process's indices of the current epoch."""
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n, dtype=np.int64)
        order = np.resize(order.astype(np.int64, copy=False), self.total_size)  # pads cyclically
        return order[self.rank : self.total_size : self.num_replicas]

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Group another sampler's indices into lists of ``batch_size`` (the last one shorter
    unless ``drop_last``)."""

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int, drop_last: bool):
        check_positive_int("BatchSampler", "batch_size", batch_size)
        _check_bool("BatchSampler", "drop_last", drop_last)
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.index_batches():
            yield batch.tolist() if isinstance(batch, np.ndarray) else batch

    def index_batches(self) -> Iterator[np.ndarray | list[int]]:
        """The batches, as slices of one array for a built-in sampler, else as lists."""
        size, order = self.batch_size, fast_indices(self.sampler)
        if order is not None:
            stop = order.size - order.size % size if self.drop_last else order.size
            for start in range(0, stop, size):
                yield order[start : start + size]
            return
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


def index_batches(batch_sampler: Any) -> Iterator[np.ndarray | list[int]]:
    """Iterate ``batch_sampler``; a built-in BatchSampler yields arrays (no Python-int lists)."""
    if isinstance(batch_sampler, BatchSampler) and type(batch_sampler).__iter__ is (
        BatchSampler.__iter__
    ):
        return batch_sampler.index_batches()
    return iter(batch_sampler)
