"""Train the zoo's recurrent models and print the quality they reach.

    python examples/train_zoo_rnn.py classifier [--cell gru|lstm|rnn]   # sorted digit strings?
    python examples/train_zoo_rnn.py lm [--cell lstm|gru|rnn]           # character LM, TINY_TEXT

``classifier``: ``sequence_classifier`` learns whether a digit string of 4 to 10 digits is sorted
(``sorted_digits_task``: half sorted, a quarter random, a quarter sorted with one adjacent swap);
3,000 training strings (seed 0), accuracy on 1,000 others (seed 1).

``lm``: ``char_lm`` learns TINY_TEXT's first 90 % from windows of 64 characters (stride 4) and is
scored, in nats per character, on that part and on the held-out last 10 %, against the unigram
entropy of the characters (what a model that ignores context can reach); then it writes.

Adam, batches of 32, seed 0; gradient clipping at norm 1 for the LM.
tests/test_models_seq.py runs the same functions and checks what docs/models/rnn.md quotes.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import neuralab as nl
from neuralab import models, nn, optim, train
from neuralab.data.sequences import TINY_TEXT, CharText
from neuralab.models.rnn import (
    RECURRENT,
    CharLM,
    SequenceClassifier,
    sequence_cross_entropy,
    sorted_digits_task,
)

LM_SPLIT = int(0.9 * len(TINY_TEXT))


def train_sorted_digits(
    cell: str = "gru", epochs: int = 6, seed: int = 0, verbose: int = 0
) -> tuple[SequenceClassifier, float]:
    """Train ``sequence_classifier`` on sorted-or-not digit strings; return it and test accuracy."""
    nl.manual_seed(seed)
    X, y = sorted_digits_task(3000, seed=0)
    X_test, y_test = sorted_digits_task(1000, seed=1)
    model = models.get_model("sequence_classifier", cell=cell)
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss = nn.CrossEntropyLoss()
    train.fit(
        model, loss, optimizer, (X, y), epochs=epochs, val_data=(X_test, y_test),
        scheduler=schedule, batch_size=32, verbose=verbose,
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


def train_char_lm(
    cell: str = "lstm", epochs: int = 5, seed: int = 0, verbose: int = 0
) -> tuple[CharLM, dict[str, float]]:
    """Train ``char_lm`` on TINY_TEXT's first 90 %; return it and losses in nats per character:
    ``train`` (that part), ``held_out`` (the last 10 %, after 64 characters of context from the
    training part) and ``unigram`` (the training part's character entropy)."""
    nl.manual_seed(seed)
    windows = CharText(TINY_TEXT[:LM_SPLIT], seq_len=64, stride=4)
    vocab = windows.vocab
    model = models.get_model("char_lm", vocab_size=len(vocab), cell=cell)
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    train.fit(
        model, sequence_cross_entropy, optimizer, windows, epochs=epochs, metrics=(),
        clip_grad_norm=1.0, batch_size=32, verbose=verbose,
    )  # fmt: skip
    held_out = np.asarray(vocab.encode(TINY_TEXT[LM_SPLIT - 64 :]))
    return model, {
        "train": text_loss(model, windows.ids),
        "held_out": text_loss(model, held_out, skip=63),
        "unigram": unigram_entropy(windows.ids, len(vocab)),
    }


def main() -> None:
    """Command line: which model (and cell); prints its training and the quality reached."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=["classifier", "lm"])
    parser.add_argument("--cell", choices=sorted(RECURRENT))
    args = parser.parse_args()
    start = time.process_time()
    if args.model == "classifier":
        model, accuracy = train_sorted_digits(args.cell or "gru", verbose=2)
        print(
            f"sequence_classifier ({args.cell or 'gru'}): {model.num_parameters():,} parameters, "
            f"test accuracy {accuracy:.1%} on 1,000 digit strings "
            f"({time.process_time() - start:.1f} s CPU)"
        )
        return
    model, losses = train_char_lm(args.cell or "lstm", verbose=2)
    print(
        f"char_lm ({args.cell or 'lstm'}): {model.num_parameters():,} parameters; nats/char: "
        f"train {losses['train']:.3f}, held-out {losses['held_out']:.3f}, unigram entropy "
        f"{losses['unigram']:.3f} ({time.process_time() - start:.1f} s CPU)"
    )
    vocab = CharText(TINY_TEXT[:LM_SPLIT], seq_len=64).vocab
    prompt = vocab.encode("The lamp")
    for temperature, top_k in ((0.0, None), (0.5, None), (1.0, 5)):
        text = vocab.decode(model.sample(prompt, 160, temperature, top_k, generator=0))
        print(f"\n--- temperature {temperature}, top_k {top_k}:\nThe lamp{text}")


if __name__ == "__main__":
    main()
