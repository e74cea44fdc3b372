"""Recurrent models: a sequence classifier and a character-level language model.

Both embed token ids, run a recurrent stack (``cell`` = ``'rnn'``, ``'lstm'`` or ``'gru'``, one
fused recurrence per layer) and finish with a linear layer:

- :class:`SequenceClassifier` reads a right-padded batch of id sequences and classifies each from
  the hidden state at its last real token (PAD positions after it never reach the prediction).
  :func:`sorted_digits_task` generates the task it is trained on in the docs: is a digit string
  sorted?
- :class:`CharLM` predicts the next character at every position. :meth:`CharLM.sample` continues a
  prompt one character at a time, carrying the recurrent state, with a temperature and top-k
  filter (:func:`sample_next`).

See docs/models/rnn.md for the layouts, parameter counts and the quality they reach.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from neuralab import nn
from neuralab.data.sequences import DIGITS, PAD, TINY_TEXT, pad
from neuralab.models.registry import register_model
from neuralab.nn.utils import eval_mode
from neuralab.ops.loss import cross_entropy
from neuralab.random import generator as global_generator
from neuralab.tensor import Tensor, constant

__all__ = [
    "RECURRENT",
    "CharLM",
    "SequenceClassifier",
    "as_ids",
    "char_lm",
    "inference",
    "last_step",
    "recurrent_layer",
    "sample_next",
    "sequence_classifier",
    "sequence_cross_entropy",
    "sorted_digits_task",
]

RECURRENT: dict[str, type[nn.Module]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
"""The recurrent layer behind each ``cell`` name."""

TINY_TEXT_VOCAB_SIZE = len(set(TINY_TEXT))  # CharText's vocabulary: the distinct characters


def recurrent_layer(
    cell: str, input_size: int, hidden_size: int, num_layers: int, dropout: float
) -> nn.Module:
    """A batch-first ``nn.RNN``/``nn.LSTM``/``nn.GRU`` named by ``cell``."""
    if cell not in RECURRENT:
        raise ValueError(f"cell must be one of {sorted(RECURRENT)}, got {cell!r}")
    return RECURRENT[cell](
        input_size, hidden_size, num_layers=num_layers, batch_first=True, dropout=dropout
    )


def as_ids(ids: Any) -> Tensor:
    """Token ids as an int64 Tensor (from a Tensor, an array or nested lists)."""
    arr = np.asarray(ids.numpy() if isinstance(ids, Tensor) else ids)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"token ids must be integers, got dtype {arr.dtype}")
    return constant(arr.astype(np.int64, copy=False))


def last_step(outputs: Tensor, ids: Tensor) -> Tensor:
    """Each sequence's output (B, T, H) at its last non-PAD position of ``ids`` (B, T): (B, H).

    An all-PAD row takes position 0.
    """
    lengths = (ids.numpy() != PAD).sum(axis=1)
    return outputs[np.arange(len(lengths)), np.maximum(lengths, 1) - 1]


def sequence_cross_entropy(logits: Tensor, target: Any, ignore_index: int = -100) -> Tensor:
    """Mean cross-entropy of logits (B, T, V) against ids (B, T) over all positions.

    Pass ``ignore_index=PAD`` to skip padding (seq2seq targets); character ids have no PAD.
    """
    target = as_ids(target)
    return cross_entropy(
        logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=ignore_index
    )


def inference(model: nn.Module) -> Any:
    """Eval mode and no graph for decoding/sampling; every module's own mode comes back after
    (:func:`neuralab.nn.utils.eval_mode`)."""
    return eval_mode(model)


class SequenceClassifier(nn.Module):
    """Embedding → recurrent stack → Linear on the hidden state at each sequence's last token.

    Input: int64 ids (B, T), right-padded with PAD (0); output: logits (B, num_classes).
    """

    def __init__(
        self,
        vocab_size: int = len(DIGITS),
        num_classes: int = 2,
        embed_dim: int = 16,
        hidden_size: int = 48,
        cell: str = "gru",
        num_layers: int = 1,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.rnn = recurrent_layer(cell, embed_dim, hidden_size, num_layers, dropout)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, ids: Any) -> Tensor:
        ids = as_ids(ids)
        outputs, _ = self.rnn(self.embed(ids))
        return self.head(last_step(outputs, ids))


class CharLM(nn.Module):
    """Embedding → recurrent stack → Linear: next-character logits at every position.

    ``forward(ids (B, T))`` returns the logits (B, T, vocab_size); :meth:`forward_with_state`
    also takes and returns the recurrent state, to continue a sequence (as :meth:`sample` does).
    """

    def __init__(
        self,
        vocab_size: int = TINY_TEXT_VOCAB_SIZE,
        embed_dim: int = 32,
        hidden_size: int = 128,
        cell: str = "lstm",
        num_layers: int = 1,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = recurrent_layer(cell, embed_dim, hidden_size, num_layers, dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids: Any) -> Tensor:
        return self.forward_with_state(ids)[0]

    def forward_with_state(self, ids: Any, state: Any = None) -> tuple[Tensor, Any]:
        """(logits (B, T, vocab_size), final state), starting from ``state`` (None: zeros)."""
        outputs, state = self.rnn(self.embed(as_ids(ids)), state)
        return self.head(outputs), state

    def sample(
        self,
        prompt: Sequence[int] | np.ndarray,
        length: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: np.random.Generator | int | None = None,
    ) -> np.ndarray:
        """``length`` ids continuing the ids of ``prompt``, drawn one at a time (see sample_next).

        ``generator`` is a NumPy Generator or a seed; by default the global one (nl.manual_seed).
        """
        ids = np.asarray(prompt, dtype=np.int64).reshape(-1)
        if length < 0:
            raise ValueError(f"CharLM.sample: length must be >= 0, got {length}")
        if ids.size == 0:
            raise ValueError("CharLM.sample: the prompt needs at least one id")
        if ids.min() < 0 or ids.max() >= self.vocab_size:
            raise ValueError(
                f"CharLM.sample: prompt ids must be in [0, {self.vocab_size}), got "
                f"{ids.min()}..{ids.max()}"
            )
        rng = _generator(generator)
        out = np.empty(length, dtype=np.int64)
        with inference(self):
            logits, state = self.forward_with_state(ids[None])
            for i in range(length):
                out[i] = sample_next(logits.numpy()[0, -1], temperature, top_k, rng)
                if i + 1 < length:
                    logits, state = self.forward_with_state(out[None, i : i + 1], state)
        return out


def _generator(generator: np.random.Generator | int | None) -> np.random.Generator:
    if generator is None:
        return global_generator()
    if isinstance(generator, np.random.Generator):
        return generator
    return np.random.default_rng(generator)


def sample_next(
    logits: np.ndarray,
    temperature: float = 1.0,
    top_k: int | None = None,
    rng: np.random.Generator | None = None,
) -> int:
    """Draw one id from softmax(logits / temperature), restricted to the ``top_k`` largest logits.

    ``temperature=0`` (or ``top_k=1``) is greedy: the argmax, with no randomness.
    """
    logits = np.asarray(logits, dtype=np.float64).reshape(-1)
    if temperature < 0:
        raise ValueError(f"sample_next: temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"sample_next: top_k must be >= 1 or None, got {top_k}")
    if temperature == 0 or top_k == 1:
        return int(logits.argmax())
    candidates = np.arange(logits.size)
    if top_k is not None and top_k < logits.size:
        candidates = np.argpartition(-logits, top_k - 1)[:top_k]
    z = logits[candidates] / temperature
    p = np.exp(z - z.max())
    return int((rng or global_generator()).choice(candidates, p=p / p.sum()))


def sorted_digits_task(
    n: int = 2000, length: tuple[int, int] = (4, 10), seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Digit strings labelled 1 if their digits never decrease (sorted), else 0.

    Half the strings are sorted; a quarter are random; a quarter are sorted strings with one
    adjacent pair swapped (so a single descent somewhere must be spotted). Returns ids (n, max
    length) int64 over ``DIGITS``, right-padded with PAD, and labels (n,) int64 — each label is
    computed from its string, never assumed.
    """
    if not 2 <= length[0] <= length[1]:
        raise ValueError(
            f"sorted_digits_task: length must be a range (min, max), 2 <= min <= max, got {length}"
        )
    rng = np.random.default_rng(seed)
    strings = []
    for kind in rng.integers(0, 4, n):  # 0, 1 sorted; 2 random; 3 one adjacent swap
        digits = rng.integers(0, 10, rng.integers(length[0], length[1] + 1))
        if kind != 2:
            digits.sort()
        if kind == 3:
            i = rng.integers(0, len(digits) - 1)
            digits[[i, i + 1]] = digits[[i + 1, i]]
        strings.append("".join(map(str, digits)))
    ids = pad([DIGITS.encode(s) for s in strings], length[1])
    labels = np.array([s == "".join(sorted(s)) for s in strings], dtype=np.int64)
    return ids, labels


@register_model("sequence_classifier", task="sequence_classification", data="sorted_digits")
def sequence_classifier(**kwargs: Any) -> SequenceClassifier:
    """A GRU classifier of digit sequences (sorted or not); any SequenceClassifier argument."""
    return SequenceClassifier(**kwargs)


@register_model("char_lm", task="language_model", data="text")
def char_lm(**kwargs: Any) -> CharLM:
    """An LSTM character-level language model sized for TINY_TEXT; any CharLM argument."""
    return CharLM(**kwargs)
