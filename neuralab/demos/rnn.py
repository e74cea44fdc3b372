"""Recurrent networks: one cell read step by step over a sequence, carrying a hidden state.

Two tasks of the zoo, trained by :mod:`neuralab.recipes.sequences`. ``sequence_classifier``
reads digit strings of 4 to 10 digits and says
whether they are sorted — a question about the whole sequence, answered from the last hidden
state; the plain tanh RNN, the GRU and the LSTM are compared. ``char_lm`` learns the next
character of a short English text and then writes, one character at a time, feeding each back
in (greedy and sampled with temperature).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neuralab.demos._common import Figures, fmt_table
from neuralab.demos._zoo import plot_curves

SUMMARY = "RNN, GRU and LSTM classify digit strings; a character LSTM learns to write"

CELLS = ("rnn", "gru", "lstm")


def sorted_strings(cell: str, epochs: int) -> tuple[list[float], float]:
    """Train ``sequence_classifier`` with ``cell`` by the zoo's recipe (3,000 strings); its test
    accuracy after each epoch and at the end."""
    from neuralab import train
    from neuralab.recipes.sequences import train_sorted_digits

    history = train.History()
    _, accuracy = train_sorted_digits(cell, epochs, verbose=2, callbacks=[history])
    return history["val_accuracy"], float(accuracy)


def char_model(epochs: int) -> tuple[list[float], dict[str, float], dict[str, str]]:
    """Train the zoo's character LSTM on ``TINY_TEXT``; its loss per epoch, its losses in nats
    per character (training text, held-out text, unigram entropy) and two samples."""
    from neuralab import train
    from neuralab.recipes.sequences import lm_windows, train_char_lm

    history = train.History()
    model, losses = train_char_lm("lstm", epochs, verbose=2, callbacks=[history])
    vocab = lm_windows().vocab
    prompt = vocab.encode("The lamp")
    samples = {
        f"temperature {t}": "The lamp" + vocab.decode(model.sample(prompt, 120, t, k, 0))
        for t, k in ((0.0, None), (0.7, 5))
    }
    return history["loss"], losses, samples


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Compare the three cells on sorted strings; train and sample the character model."""
    figures = Figures(out)
    epochs = 2 if quick else 6
    print(f"Is a digit string sorted? 3,000 training strings, 1,000 test; {epochs} epochs each.")
    results, curves = {}, {}
    for cell in CELLS:
        print(f"-- {cell}")
        curves[cell], results[cell] = sorted_strings(cell, epochs)
    print(fmt_table(["cell", "test accuracy"], [[c, f"{a:.1%}"] for c, a in results.items()]))
    lm_epochs = 1 if quick else 6
    print(f"Character language model (LSTM), {lm_epochs} epochs over windows of 64 characters:")
    lm_curve, losses, samples = char_model(lm_epochs)
    print(
        f"  nats per character: training text {losses['train']:.3f}, held-out text "
        f"{losses['held_out']:.3f}; a model that ignores context: {losses['unigram']:.3f}"
    )
    for name, text in samples.items():
        print(f"  {name}: {text!r}")
    figures.save(
        "rnn_cells.png",
        lambda p: plot_curves(curves, "Sorted or not: test accuracy by cell", "test accuracy", p),
    )
    return {
        "accuracy": results,
        "lm_loss": lm_curve,
        "lm": losses,
        "samples": samples,
        "figures": figures.paths,
    }
