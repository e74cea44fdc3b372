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

from neuralab.data.sequences import DATE_SOURCE_VOCAB, DATE_TARGET_VOCAB, encode_pairs
from neuralab.recipes.sequences import DATE_RECIPES as RECIPES
from neuralab.recipes.sequences import MAX_LEN, TEST_SIZE, date_splits, train_on_dates

__all__ = ["MAX_LEN", "RECIPES", "TEST_SIZE", "date_splits", "train_on_dates"]


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
