"""Variable-length sequences for recurrent layers: padding and packing (torch.nn.utils.rnn).

A :class:`PackedSequence` holds the valid steps of a batch of sequences sorted by decreasing
length, time-major: first step 0 of every sequence, then step 1 of those at least 2 long, ...
``batch_sizes[t]`` counts the sequences still running at step t. ``RNN``, ``LSTM`` and ``GRU``
take one and skip each sequence's padding. Every conversion is an index gather, so gradients
flow through packing and padding alike.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuralab.ops.shape import cat
from neuralab.tensor import Tensor, constant

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]


def _ints(values: Any) -> np.ndarray:
    arr = values._data if isinstance(values, Tensor) else np.asarray(values)
    return arr.astype(np.int64).reshape(-1)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    perm = _ints(permutation)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size)
    return constant(inverse)


class PackedSequence(
    namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])
):
    """(data, batch_sizes, sorted_indices, unsorted_indices), as torch's PackedSequence.

    ``data`` is (sum of lengths, *); ``sorted_indices`` maps the sorted order back to the
    caller's batch (None when the batch came sorted) and ``unsorted_indices`` is its inverse.
    """

    __slots__ = ()

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """The same sequence with ``data.to(...)`` (a dtype, or the CPU)."""
        return self._replace(data=self.data.to(*args, **kwargs))

    def cpu(self) -> PackedSequence:
        """Everything already lives on the CPU: returns self."""
        return self

    @property
    def is_cuda(self) -> bool:
        """Always False: neuralab runs on the CPU."""
        return False

    def float(self) -> PackedSequence:
        return self._replace(data=self.data.float())

    def double(self) -> PackedSequence:
        return self._replace(data=self.data.double())


def _valid(batch_sizes: np.ndarray) -> np.ndarray:
    """(T, B) mask of the padded positions that hold a step, in sorted batch order."""
    return np.arange(batch_sizes[0])[None, :] < batch_sizes[:, None]


def lengths_of(batch_sizes: np.ndarray) -> np.ndarray:
    """Each sorted sequence's length, from the batch size of every step."""
    return _valid(batch_sizes).sum(axis=0)


def pack_time_major(padded: Tensor, batch_sizes: np.ndarray) -> Tensor:
    """The valid steps of time-major ``padded`` (T, B, *) (sorted batch), in packed order."""
    steps, batch = len(batch_sizes), int(batch_sizes[0])
    rows = np.flatnonzero(_valid(batch_sizes).ravel())
    return padded[:steps, :batch].reshape(steps * batch, *padded.shape[2:])[rows]


def unpack_time_major(data: Tensor, batch_sizes: np.ndarray, padding_value: float) -> Tensor:
    """Packed ``data`` as a time-major (T, B, *) tensor (sorted batch), ``padding_value`` after
    each sequence's end."""
    valid = _valid(batch_sizes)
    source = np.full(valid.size, data.shape[0])  # the padding row, appended below
    source[valid.ravel()] = np.arange(data.shape[0])
    pad_row = constant(np.full((1, *data.shape[1:]), padding_value, data.dtype))
    return cat([data, pad_row])[source].reshape(*valid.shape, *data.shape[1:])


def pack_padded_sequence(
    input: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:  # fmt: skip
    """Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) of sequences of the
    given lengths; unless ``enforce_sorted``, the batch is sorted by decreasing length first."""
    lengths = _ints(lengths)
    batch_dim = 0 if batch_first else 1
    if lengths.size != input.shape[batch_dim]:
        raise ValueError(
            f"pack_padded_sequence: got {lengths.size} lengths for a batch of "
            f"{input.shape[batch_dim]} (input shape {input.shape}, batch_first={batch_first})"
        )
    if lengths.size and lengths.min() <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0"
        )
    if lengths.size and lengths.max() > input.shape[1 - batch_dim]:
        raise ValueError(
            f"pack_padded_sequence: a length of {lengths.max()} exceeds the padded length "
            f"{input.shape[1 - batch_dim]}"
        )
    sorted_indices = None
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."
            )
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices, lengths = constant(order), lengths[order]
        input = input[order] if batch_first else input[:, order]
    if batch_first:
        input = input.transpose(0, 1)
    batch_sizes = (np.arange(lengths.max(initial=0))[:, None] < lengths[None, :]).sum(axis=1)
    data = pack_time_major(input, batch_sizes)
    return PackedSequence(data, constant(batch_sizes.astype(np.int64)), sorted_indices)


def pad_packed_sequence(
    sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:  # fmt: skip
    """The inverse of packing: (padded batch in the caller's order, lengths as int64)."""
    batch_sizes = _ints(sequence.batch_sizes)
    padded = unpack_time_major(sequence.data, batch_sizes, padding_value)
    if total_length is not None:
        if total_length < len(batch_sizes):
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{len(batch_sizes)}"
            )
        fill = np.full((total_length - len(batch_sizes), *padded.shape[1:]), padding_value)
        padded = cat([padded, constant(fill.astype(padded.dtype))])
    lengths = lengths_of(batch_sizes)
    if sequence.unsorted_indices is not None:
        order = _ints(sequence.unsorted_indices)
        padded, lengths = padded[:, order], lengths[order]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, constant(lengths.astype(np.int64))


def pad_sequence(
    sequences: Tensor | Sequence[Tensor], batch_first: bool = False,
    padding_value: float = 0.0, padding_side: str = "right",
) -> Tensor:  # fmt: skip
    """Stack sequences of shape (L_i, *) into (T, B, *) (or (B, T, *) with ``batch_first``),
    T the longest length, padding with ``padding_value`` on ``padding_side`` ('right', 'left')."""
    if padding_side not in ("right", "left"):
        raise ValueError(
            f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}"
        )
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: received an empty list of sequences")
    lengths = np.array([s.shape[0] for s in sequences])
    steps, total = int(lengths.max()), int(lengths.sum())
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    position = np.arange(steps)[None, :]
    if padding_side == "left":
        position = position - (steps - lengths)[:, None]
    valid = (position >= 0) & (position < lengths[:, None])
    source = np.where(valid, starts[:, None] + position, total)  # total: the padding row
    first = sequences[0]
    pad_row = constant(np.full((1, *first.shape[1:]), padding_value, first.dtype))
    padded = cat([*sequences, pad_row])[source]  # (B, T, *)
    return padded if batch_first else padded.transpose(0, 1)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *) directly (sorted by decreasing length, unless
    ``enforce_sorted=False``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(
    padded_sequences: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False
) -> list[Tensor]:
    """The list of sequences (L_i, *) inside a padded batch (the inverse of pad_sequence)."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :n] for i, n in enumerate(_ints(lengths).tolist())]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences (L_i, *) inside a PackedSequence, in the caller's order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
