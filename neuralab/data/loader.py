"""DataLoader (torch.utils.data.dataloader): a dataset's batches as neuralab Tensors, one epoch per
``iter``.

The loader follows torch's plan: a sampler picks indices (sequential, or a new random order each
epoch), a batch sampler groups them, and ``collate_fn`` turns the fetched samples into a batch.
Iterable datasets are batched in the order they stream. The fast path, used when no custom
``collate_fn`` is given and the dataset is array-backed (a TensorDataset, a Subset, ConcatDataset
or StackDataset of array-backed datasets, an ndarray, or any dataset whose ``batch_fetcher()``
returns a function), indexes the arrays with each batch's index array in one go; it gives the
same batches as fetching and collating samples one by one.

Loading always runs in the calling process: ``num_workers > 0`` is accepted (and checked as
torch checks it) but starts no workers, so ``get_worker_info()`` is None and ``worker_init_fn``
is never called.

Batch transforms (augmentation, a neuralab extension) follow a small protocol: ``transform`` is a
callable taking the batch's inputs (the first element of a list/tuple batch, else the whole
batch) as a Tensor and returning the new inputs (a Tensor or an array). If it has a parameter
named ``rng`` it is called as ``transform(x, rng=generator)`` with a NumPy Generator (the
loader's ``generator``, else the global one), so random augmentation is reproducible under
``nl.manual_seed``; otherwise as ``transform(x)``.
"""

from __future__ import annotations

import inspect
import itertools
import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from neuralab.data.dataset import IterableDataset, batch_fetcher
from neuralab.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    as_generator,
    check_positive_int,
    index_batches,
)
from neuralab.random import generator as global_generator
from neuralab.tensor import Tensor, as_array, constant

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]


def _tensor_array(data: Any, where: str) -> np.ndarray:
    """``data`` as an array with ``nl.tensor``'s dtype rules; TypeError naming the field if not."""
    try:
        return as_array(data)
    except TypeError:
        kind = np.asarray(data).dtype
        raise TypeError(
            f"default_collate: cannot batch values of dtype {kind}{where}; pass a collate_fn"
        ) from None


def _field(where: str) -> str:
    return f" (field {where})" if where else ""


def _stack(samples: Sequence[Any], where: str) -> Tensor:
    """Stack Tensors/arrays along a new first dim; RuntimeError naming the first misfit."""
    arrays = [s._data if isinstance(s, Tensor) else np.asarray(s) for s in samples]
    shape = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != shape:
            raise RuntimeError(
                f"default_collate: sample {i} has shape {a.shape} but sample 0 has {shape}"
                f"{_field(where)}; pad them or pass a collate_fn"
            )
    stacked = np.stack(arrays)
    if isinstance(samples[0], Tensor):
        return constant(stacked)
    return constant(_tensor_array(stacked, _field(where)))


def _collate_fields(samples: Sequence[Any], where: str) -> Any:
    """Collate tuples/lists/named tuples field by field (plain tuples become lists, as torch)."""
    first = samples[0]
    for i, s in enumerate(samples):
        if len(s) != len(first):
            raise RuntimeError(
                f"default_collate: sample {i} has {len(s)} fields but sample 0 has "
                f"{len(first)}{_field(where)}"
            )
    fields = [_collate(f, f"{where}[{j}]") for j, f in enumerate(zip(*samples))]
    return type(first)(*fields) if hasattr(first, "_fields") else fields


def _collate(samples: Sequence[Any], where: str) -> Any:
    first = samples[0]
    if isinstance(first, str | bytes):
        return samples  # as torch: the list given (a field's strings come as a tuple)
    if isinstance(first, Tensor | np.ndarray):
        return _stack(samples, where)
    if isinstance(first, numbers.Number | np.generic):
        return constant(_tensor_array(np.asarray(samples), _field(where)))
    if isinstance(first, Mapping):
        out = {key: _collate([s[key] for s in samples], f"{where}[{key!r}]") for key in first}
        return _same_mapping_type(first, out)
    if isinstance(first, Sequence):
        return _collate_fields(samples, where)
    raise TypeError(
        f"default_collate: cannot batch samples of type {type(first).__name__}{_field(where)}; "
        "samples must hold Tensors, arrays, numbers, strings, dicts or sequences, or pass a "
        "collate_fn"
    )


def _same_mapping_type(like: Mapping, out: dict) -> Mapping:
    """``out`` in ``like``'s mapping type when that type can be built from a dict."""
    if type(like) is dict:
        return out
    try:
        return type(like)(out)
    except TypeError:
        return out


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, field by field (torch's default_collate).

    Tensors are stacked keeping their dtype; arrays and Python/NumPy numbers follow
    ``nl.tensor``'s rules (floats float32, integers int64, bools bool); dicts and named tuples
    are collated per field and keep their type, tuples and lists become lists of batched
    fields; strings and bytes stay a list. Samples of different shapes raise a RuntimeError.
    """
    if len(batch) == 0:
        raise ValueError("default_collate: got an empty batch")
    return _collate(batch, "")


def default_convert(data: Any) -> Any:
    """Turn arrays and NumPy scalars inside ``data`` into Tensors without batching them.

    What a DataLoader with ``batch_size=None`` applies to each sample: tuples become lists,
    dicts and named tuples keep their type, Python numbers and strings stay as they are.
    """
    if isinstance(data, np.ndarray | np.generic):
        return data if data.dtype.kind in "USOV" else constant(as_array(data))
    if isinstance(data, Tensor | str | bytes):
        return data
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple | list):
        return [default_convert(d) for d in data]
    if isinstance(data, Mapping):
        return _same_mapping_type(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, Sequence):
        return [default_convert(d) for d in data]
    return data


def get_worker_info() -> None:
    """Information about the current loading worker: always None, since neuralab loads every
    batch in the calling (main) process, as torch reports for the main process."""
    return None


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


def _check_worker_options(
    num_workers: int, timeout: float, prefetch_factor: int | None, persistent: bool, context: Any
) -> None:
    """torch's checks on the multiprocessing options (which neuralab accepts and ignores)."""
    if num_workers < 0:
        raise ValueError(
            f"DataLoader: num_workers must be >= 0 (0 = no workers), got {num_workers}"
        )
    if timeout < 0:
        raise ValueError(f"DataLoader: timeout must be >= 0, got {timeout}")
    if num_workers == 0:
        for name, value in (
            ("prefetch_factor", prefetch_factor),
            ("multiprocessing_context", context),
        ):
            if value is not None:
                raise ValueError(f"DataLoader: {name} needs num_workers > 0, got {name}={value!r}")
        if persistent:
            raise ValueError("DataLoader: persistent_workers=True needs num_workers > 0")
    elif prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError(f"DataLoader: prefetch_factor must be >= 0, got {prefetch_factor}")


def _check_sampling_options(
    dataset: Any,
    batch_size: int | None,
    shuffle: Any,
    sampler: Any,
    batch_sampler: Any,
    drop_last: bool,
) -> None:
    """torch's mutual-exclusion rules between shuffle, sampler, batch_sampler and batch_size."""
    if isinstance(dataset, IterableDataset):
        for name, value in (
            ("shuffle", None if shuffle is False else shuffle),
            ("sampler", sampler),
            ("batch_sampler", batch_sampler),
        ):
            if value is not None:
                raise ValueError(
                    f"DataLoader: an IterableDataset sets its own order; {name} must be left "
                    f"unset, got {name}={value!r}"
                )
    if sampler is not None and shuffle:
        raise ValueError("DataLoader: sampler and shuffle=True exclude each other")
    if batch_sampler is not None and (
        batch_size != 1 or shuffle or sampler is not None or drop_last
    ):
        raise ValueError(
            "DataLoader: batch_sampler excludes batch_size, shuffle, sampler and drop_last"
        )
    if batch_sampler is None and batch_size is None and drop_last:
        raise ValueError("DataLoader: batch_size=None (no batching) excludes drop_last=True")
    if batch_sampler is None and batch_size is not None:
        check_positive_int("DataLoader", "batch_size", batch_size)


_FIXED_AFTER_INIT = frozenset(
    {"batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers"}
)


class DataLoader:
    """Iterate over ``dataset`` in batches of Tensors; each ``iter(loader)`` is one epoch.

    torch's signature and rules: ``batch_size=None`` turns batching off (each sample is passed
    through ``default_convert``); ``shuffle=True`` draws a new order every epoch from the global
    generator (``nl.manual_seed`` governs it) or from ``generator`` (a NumPy Generator, an int
    seed, or an object with ``initial_seed()``); ``sampler``/``batch_sampler`` replace the
    default ones; ``len(loader)`` is the number of batches per epoch. ``num_workers``,
    ``pin_memory`` and the other worker options are accepted and loading stays in this process.
    ``transform`` (keyword-only, a neuralab extension) augments each batch's inputs (see the
    module docstring).
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Any = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
        transform: Callable | None = None,
    ) -> None:
        _check_worker_options(
            num_workers, timeout, prefetch_factor, persistent_workers, multiprocessing_context
        )
        _check_sampling_options(dataset, batch_size, shuffle, sampler, batch_sampler, drop_last)
        if transform is not None and not callable(transform):
            raise TypeError(f"DataLoader: transform must be callable, got {type(transform)}")
        iterable = isinstance(dataset, IterableDataset)
        if batch_sampler is not None:
            batch_size, drop_last = None, False
        self._rng = None if generator is None else as_generator(generator)
        if sampler is None and not iterable:
            if shuffle:
                sampler = RandomSampler(dataset, generator=self._rng)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, bool(drop_last)
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        batched = batch_size is not None or batch_sampler is not None
        self.collate_fn = collate_fn or (default_collate if batched else default_convert)
        self.num_workers, self.prefetch_factor, self.timeout = num_workers, prefetch_factor, timeout
        self.pin_memory, self.pin_memory_device = pin_memory, pin_memory_device
        self.worker_init_fn, self.multiprocessing_context = worker_init_fn, multiprocessing_context
        self.persistent_workers, self.in_order = persistent_workers, in_order
        self.transform = transform
        self._initialized = True

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FIXED_AFTER_INIT and getattr(self, "_initialized", False):
            raise ValueError(
                f"DataLoader: {name} cannot change after the loader is built; make a new one"
            )
        super().__setattr__(name, value)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n, size = len(self.dataset), self.batch_size
            if size is None:
                return n
            return n // size if self.drop_last else math.ceil(n / size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def __iter__(self) -> Iterator[Any]:
        if isinstance(self.dataset, IterableDataset):
            batches = self._stream_batches()
        elif self.batch_sampler is None:
            batches = (self.collate_fn(self.dataset[i]) for i in self.sampler)
        else:
            batches = self._indexed_batches()
        if self.transform is None:
            return iter(batches)
        return (self._apply_transform(b) for b in batches)

    def _indexed_batches(self) -> Iterator[Any]:
        """Map-style batches: one fancy index per batch on the fast path, else fetch + collate."""
        dataset = self.dataset
        fetch = batch_fetcher(dataset) if self.collate_fn is default_collate else None
        getitems = getattr(dataset, "__getitems__", None)
        for idx in index_batches(self.batch_sampler):
            if fetch is not None:
                yield default_convert(fetch(np.asarray(idx, dtype=np.int64)))
                continue
            idx = idx.tolist() if isinstance(idx, np.ndarray) else idx
            samples = getitems(idx) if callable(getitems) else [dataset[i] for i in idx]
            yield self.collate_fn(samples)

    def _stream_batches(self) -> Iterator[Any]:
        """IterableDataset batches: consecutive samples, the short last one unless drop_last."""
        stream = iter(self.dataset)
        if self.batch_size is None:
            yield from (self.collate_fn(sample) for sample in stream)
            return
        while chunk := list(itertools.islice(stream, self.batch_size)):
            if len(chunk) < self.batch_size and self.drop_last:
                return
            yield self.collate_fn(chunk)

    def _apply_transform(self, batch: Any) -> Any:
        """Run the transform on the batch's inputs (first field of a list/tuple batch)."""
        is_fields = isinstance(batch, tuple | list)
        x = batch[0] if is_fields else batch
        if accepts_rng(self.transform):
            rng = global_generator() if self._rng is None else self._rng
            out = self.transform(x, rng=rng)
        else:
            out = self.transform(x)
        out = out if isinstance(out, Tensor) else constant(as_array(out))
        if not is_fields:
            return out
        fields = [out, *batch[1:]]
        return type(batch)(*fields) if hasattr(batch, "_fields") else type(batch)(fields)
