"""Sequence models of the zoo: seq2seq on dates, the recurrent sequence classifier on sorted
digit strings and the character language model on the shipped text — the recipes the docs quote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import neuralab as nl
from neuralab import models, nn, optim, train
from neuralab.data.sequences import (
    DATE_SOURCE_VOCAB,
    DATE_TARGET_VOCAB,
    PAD,
    TINY_TEXT,
    CharText,
    dates,
    encode_pairs,
)
from neuralab.models.rnn import CharLM, SequenceClassifier, sequence_cross_entropy
from neuralab.models.rnn import sorted_digits_task as sorted_digits_task
from neuralab.models.seq2seq import EncoderDecoder, exact_match
from neuralab.train import Callback

__all__ = [
    "DATE_RECIPES",
    "LM_SPLIT",
    "MAX_LEN",
    "TEST_SIZE",
    "DateRecipe",
    "date_scores",
    "date_splits",
    "text_losses",
    "train_char_lm",
    "train_on_dates",
    "train_sorted_digits",
    "unigram_entropy",
]

TEST_SIZE = 1000
MAX_LEN = 12  # "YYYY-MM-DD" + EOS is 11 tokens; one spare
LM_SPLIT = int(0.9 * len(TINY_TEXT))


@dataclass(frozen=True)
class DateRecipe:
    """How one zoo model is trained on dates."""

    kwargs: dict[str, Any] = field(default_factory=dict)
    train_size: int = 4000
    epochs: int = 6
    lr: float = 3e-3


DATE_RECIPES = {
    "seq2seq_gru_attention": DateRecipe(),
    "seq2seq_lstm_attention": DateRecipe(),
    "seq2seq_gru": DateRecipe(train_size=10000, epochs=10),
    "seq2seq_lstm": DateRecipe(train_size=10000, epochs=10),
    "transformer_seq2seq": DateRecipe(epochs=10),
}


def date_splits(train_size: int, seed: int = 0) -> tuple[list, list]:
    """Training pairs and TEST_SIZE held-out pairs whose sources never occur in training."""
    training = dates(train_size, seed=seed)
    seen = {source for source, _ in training}
    held_out = [p for p in dates(2 * TEST_SIZE, seed=seed + 1) if p[0] not in seen]
    return training, held_out[:TEST_SIZE]


def date_scores(model: EncoderDecoder, held_out: list) -> dict[str, float]:
    """Exact match of whole outputs on ``held_out`` pairs, greedy and by beam search (width 4)."""
    test_src, test_tgt = encode_pairs(held_out, DATE_SOURCE_VOCAB, DATE_TARGET_VOCAB)
    greedy = model.greedy_decode(test_src, max_len=MAX_LEN)
    beam, _ = model.beam_search(test_src, beam_width=4, max_len=MAX_LEN)
    return {"greedy": exact_match(greedy, test_tgt), "beam": exact_match(beam, test_tgt)}


def train_on_dates(
    name: str,
    verbose: int = 0,
    seed: int = 0,
    callbacks: Sequence[Callback] = (),
    **overrides: Any,
) -> tuple[EncoderDecoder, dict[str, float]]:
    """Build zoo model ``name`` and train it by its recipe (fields replaced by ``overrides``):
    teacher forcing, Adam with a cosine decay, clipping at norm 1, batches of 64.

    Returns the model and its held-out exact match: ``{"greedy": ..., "beam": ...}``.
    """
    recipe = DateRecipe(**{**DATE_RECIPES[name].__dict__, **overrides})
    nl.manual_seed(seed)
    training, held_out = date_splits(recipe.train_size, seed)
    src, tgt = encode_pairs(training, DATE_SOURCE_VOCAB, DATE_TARGET_VOCAB)
    test_src, test_tgt = encode_pairs(held_out, DATE_SOURCE_VOCAB, DATE_TARGET_VOCAB)
    model = models.get_model(name, **recipe.kwargs)
    optimizer = optim.Adam(model.parameters(), lr=recipe.lr)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=recipe.epochs)

    def loss(logits: nl.Tensor, target: nl.Tensor) -> nl.Tensor:
        return sequence_cross_entropy(logits, target, ignore_index=PAD)

    def teacher_forced_exact_match(target: Any, logits: Any) -> float:
        return float(((logits.argmax(-1) == target) | (target == PAD)).all(axis=1).mean())

    train.fit(
        model, loss, optimizer, (src, tgt[:, :-1], tgt[:, 1:]), epochs=recipe.epochs,
        val_data=(test_src, test_tgt[:, :-1], test_tgt[:, 1:]) if verbose else None,
        metrics={"exact_match": teacher_forced_exact_match} if verbose else (),
        scheduler=schedule, clip_grad_norm=1.0, batch_size=64, verbose=verbose,
        callbacks=list(callbacks),
    )  # fmt: skip
    return model, date_scores(model, held_out)


def train_sorted_digits(
    cell: str = "gru",
    epochs: int = 6,
    seed: int = 0,
    verbose: int = 0,
    train_size: int = 3000,
    callbacks: Sequence[Callback] = (),
) -> tuple[SequenceClassifier, float]:
    """Train ``sequence_classifier`` on sorted-or-not digit strings; return it and its accuracy
    on 1,000 other strings (seed 1)."""
    nl.manual_seed(seed)
    X, y = sorted_digits_task(train_size, seed=0)
    X_test, y_test = sorted_digits_task(1000, seed=1)
    model = models.get_model("sequence_classifier", cell=cell)
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss = nn.CrossEntropyLoss()
    train.fit(
        model, loss, optimizer, (X, y), epochs=epochs, val_data=(X_test, y_test),
        scheduler=schedule, batch_size=32, verbose=verbose, callbacks=list(callbacks),
    )  # fmt: skip
    return model, train.evaluate(model, loss, (X_test, y_test))["accuracy"]


def unigram_entropy(ids: np.ndarray, vocab_size: int) -> float:
    """Entropy (nats) of the characters' frequencies: the loss of the best context-free model."""
    p = np.bincount(ids, minlength=vocab_size) / len(ids)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def text_loss(model: CharLM, ids: np.ndarray, skip: int = 0) -> float:
    """Mean next-character loss (nats) over ``ids``, reading them in one pass; the first
    ``skip`` predictions (context only) are left out."""
    with nl.no_grad():
        logits = model(ids[None, :-1])
    return sequence_cross_entropy(logits[:, skip:], ids[None, skip + 1 :]).item()


def lm_windows(text: str = TINY_TEXT) -> CharText:
    """The training part (first 90 %) of ``text`` as windows of 64 characters, stride 4."""
    return CharText(text[: int(0.9 * len(text))], seq_len=64, stride=4)


def text_losses(model: CharLM, text: str = TINY_TEXT) -> dict[str, float]:
    """Nats per character: ``train`` (the first 90 %), ``held_out`` (the last 10 %, after 64
    characters of context) and ``unigram`` (the training part's character entropy)."""
    windows = lm_windows(text)
    split = int(0.9 * len(text))
    held_out = np.asarray(windows.vocab.encode(text[split - 64 :]))
    return {
        "train": text_loss(model, windows.ids),
        "held_out": text_loss(model, held_out, skip=63),
        "unigram": unigram_entropy(windows.ids, len(windows.vocab)),
    }


def train_char_lm(
    cell: str = "lstm",
    epochs: int = 5,
    seed: int = 0,
    verbose: int = 0,
    text: str = TINY_TEXT,
    callbacks: Sequence[Callback] = (),
) -> tuple[CharLM, dict[str, float]]:
    """Train ``char_lm`` on ``text``'s first 90 % (Adam lr 1e-2, clipping at norm 1, batches
    of 32); return it and :func:`text_losses`."""
    nl.manual_seed(seed)
    windows = lm_windows(text)
    model = models.get_model("char_lm", vocab_size=len(windows.vocab), cell=cell)
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    train.fit(
        model, sequence_cross_entropy, optimizer, windows, epochs=epochs, metrics=(),
        clip_grad_norm=1.0, batch_size=32, verbose=verbose, callbacks=list(callbacks),
    )  # fmt: skip
    return model, text_losses(model, text)
