"""Sequence to sequence: an encoder reads a date in one of ten human formats, a decoder writes it
in ISO form — the encoder–decoder the lecture shows for machine translation.

``models.seq2seq_gru_attention`` (a GRU encoder and decoder with attention over the encoder's
states) learns "Wed 3 Mar 2021", "03/03/21", "march 03 2021", ... → "2021-03-03" by teacher
forcing, and is scored by the exact match of whole outputs on dates whose source strings it never
saw, decoded greedily and with beam search. The same budget is then given to ``seq2seq_gru``,
whose decoder sees only the encoder's final state: squeezing the whole source into one vector
learns more slowly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neuralab.demos._common import Figures, fmt_table
from neuralab.demos._zoo import plot_curves

SUMMARY = "an encoder-decoder translates dates into ISO form, with and without attention"


def train_translator(name: str, train_size: int, epochs: int) -> tuple[list[float], dict, list]:
    """Train zoo model ``name`` by the recipe of :mod:`neuralab.recipes.sequences` on
    ``train_size`` pairs; its loss per epoch, held-out exact match (greedy and beam) and five
    held-out (pair, greedy output) examples."""
    from neuralab import train
    from neuralab.data.sequences import DATE_SOURCE_VOCAB, DATE_TARGET_VOCAB, encode_pairs
    from neuralab.recipes.sequences import MAX_LEN, date_splits, train_on_dates

    history = train.History()
    model, scores = train_on_dates(
        name, verbose=2, callbacks=[history], train_size=train_size, epochs=epochs
    )
    _, held_out = date_splits(train_size)
    src, _ = encode_pairs(held_out[:5], DATE_SOURCE_VOCAB, DATE_TARGET_VOCAB)
    guesses = [DATE_TARGET_VOCAB.decode(ids) for ids in model.greedy_decode(src, MAX_LEN)]
    return history["loss"], scores, list(zip(held_out[:5], guesses))


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Train with and without attention on the same pairs; print scores and translations."""
    figures = Figures(out)
    train_size, epochs = (1500, 3) if quick else (4000, 6)
    print(
        f"{train_size} training pairs such as ('Wed 3 Mar 2021', '2021-03-03'), 1,000 held-out "
        f"pairs with unseen sources; {epochs} epochs."
    )
    scores, curves, examples = {}, {}, []
    for name in ("seq2seq_gru_attention", "seq2seq_gru"):
        print(f"-- {name}")
        curves[name], scores[name], shown = train_translator(name, train_size, epochs)
        examples = examples or shown
    print("Held-out exact match (the whole date right):")
    print(
        fmt_table(
            ["model", "greedy", "beam (width 4)"],
            [[n, f"{s['greedy']:.1%}", f"{s['beam']:.1%}"] for n, s in scores.items()],
        )
    )
    for (source, target), guess in examples:
        print(f"  {source!r:>28} → {guess}  (true {target})")
    figures.save(
        "seq2seq_loss.png",
        lambda p: plot_curves(
            curves, "Dates to ISO: training loss", "cross-entropy per token", p, log=True
        ),
    )
    return {
        "scores": scores,
        "examples": examples,
        "figures": figures.paths,
    }
