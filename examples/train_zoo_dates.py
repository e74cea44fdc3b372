"""Train a sequence-to-sequence model of the zoo to translate dates and print its exact match.

    python examples/train_zoo_dates.py seq2seq_gru_attention   # or seq2seq_lstm_attention,
                                                               # seq2seq_gru, seq2seq_lstm,
                                                               # transformer_seq2seq

The task (``neuralab.data.dates``): a date in one of ten human formats ("Wed 3 Mar 2021",
"03/03/21", "march 03 2021", ...) → its ISO form "2021-03-03". Training pairs come from
``dates(train_size, seed=0)``; the 1,000 held-out pairs from ``dates(seed=1)`` keep only sources
that never occur in training. Teacher forcing with Adam, a cosine learning-rate decay, gradient
clipping at norm 1 and batches of 64, seed 0; each model's recipe is in RECIPES. The score is the
exact match of the whole output string, greedy and with beam search (width 4).
tests/test_models_seq.py runs the same function and checks what docs/models/*.md quote.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from typing import Any

import neuralab as nl
from neuralab import models, optim, train
from neuralab.data.sequences import DATE_SOURCE_VOCAB, DATE_TARGET_VOCAB, PAD, dates, encode_pairs
from neuralab.models.rnn import sequence_cross_entropy
from neuralab.models.seq2seq import EncoderDecoder, exact_match

TEST_SIZE = 1000
MAX_LEN = 12  # "YYYY-MM-DD" + EOS is 11 tokens; one spare


@dataclass(frozen=True)
class Recipe:
    """How one zoo model is trained on dates."""

    kwargs: dict[str, Any] = field(default_factory=dict)
    train_size: int = 4000
    epochs: int = 6
    lr: float = 3e-3


RECIPES = {
    "seq2seq_gru_attention": Recipe(),
    "seq2seq_lstm_attention": Recipe(),
    "seq2seq_gru": Recipe(train_size=10000, epochs=10),
    "seq2seq_lstm": Recipe(train_size=10000, epochs=10),
    "transformer_seq2seq": Recipe(epochs=10),
}


def date_splits(train_size: int, seed: int = 0) -> tuple[list, list]:
    """Training pairs and TEST_SIZE held-out pairs whose sources never occur in training."""
    training = dates(train_size, seed=seed)
    seen = {source for source, _ in training}
    held_out = [p for p in dates(2 * TEST_SIZE, seed=seed + 1) if p[0] not in seen]
    return training, held_out[:TEST_SIZE]


def train_on_dates(
    name: str, verbose: int = 0, seed: int = 0, **overrides: Any
) -> tuple[EncoderDecoder, dict[str, float]]:
    """Build zoo model ``name`` and train it by its recipe (fields replaced by ``overrides``).

    Returns the model and its held-out exact match: ``{"greedy": ..., "beam": ...}``.
    """
    recipe = Recipe(**{**RECIPES[name].__dict__, **overrides})
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
    )  # fmt: skip
    greedy = model.greedy_decode(test_src, max_len=MAX_LEN)
    beam, _ = model.beam_search(test_src, beam_width=4, max_len=MAX_LEN)
    return model, {"greedy": exact_match(greedy, test_tgt), "beam": exact_match(beam, test_tgt)}


def main() -> None:
    """Command line: the model's name; prints each epoch, then the held-out exact match."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=sorted(RECIPES))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.process_time()
    model, score = train_on_dates(args.model, verbose=2, seed=args.seed)
    print(
        f"{args.model}: {model.num_parameters():,} parameters, held-out exact match "
        f"{score['greedy']:.1%} greedy, {score['beam']:.1%} beam (width 4) on {TEST_SIZE} dates "
        f"({time.process_time() - start:.1f} s CPU)"
    )
    _, held_out = date_splits(RECIPES[args.model].train_size, args.seed)
    test_src, _ = encode_pairs(held_out[:5], DATE_SOURCE_VOCAB, DATE_TARGET_VOCAB)
    for (source, target), ids in zip(held_out, model.greedy_decode(test_src, max_len=MAX_LEN)):
        print(f"  {source!r:>30} -> {DATE_TARGET_VOCAB.decode(ids)}  (true {target})")


if __name__ == "__main__":
    main()
