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

from neuralab.data.sequences import TINY_TEXT, CharText
from neuralab.models.rnn import RECURRENT
from neuralab.recipes.sequences import LM_SPLIT, train_char_lm, train_sorted_digits

__all__ = ["train_char_lm", "train_sorted_digits"]


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
