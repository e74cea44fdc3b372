"""Train the miniature text-to-image model and measure what its prompts do.

    python examples/train_text_to_image.py                 # 2,000 steps: about 5 CPU seconds idle
    python examples/train_text_to_image.py --steps 4000 --out runs/t2i

Trains ``TextToImage()`` (128 units, 2 residual blocks) with ``diffusion.train`` and a digits
classifier of ours (an MLP, ~97 % on held-out digits). Then, for guidance scales 1, 2, 3 and 5,
it generates ``--n`` images for each prompt "a zero" … "a nine" and reports the share the
classifier labels as the prompted digit. It compares the mean ink of "a seven" with and without
the negative prompt "a thick seven" (same starting noise), the ink of "a thick" against "a thin"
digit and the spread of "a wide" against "a narrow" one. It saves the model and a grid of every
digit in ``--out``. docs/apps/text_to_image.md quotes its results.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import neuralab as nl
from neuralab.apps import diffusion
from neuralab.random import use_generator


def main() -> None:
    """Train, evaluate, and save the model and a picture."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000, help="training steps")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights, batches, samples")
    parser.add_argument("--n", type=int, default=50, help="images per digit for the evaluation")
    parser.add_argument("--out", default="runs/text_to_image", help="folder for model and PNG")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    began = time.process_time()
    with use_generator(np.random.default_rng(args.seed)):
        model = diffusion.TextToImage()
    model = diffusion.train(
        model,
        steps=args.steps,
        seed=args.seed,
        log=lambda step, loss: print(f"step {step:>5}: loss {loss:.4f}", flush=True),
    )
    print(f"trained {model.num_parameters():,} parameters in {time.process_time() - began:.1f} s")
    classifier, accuracy = diffusion.train_digit_classifier(seed=args.seed)
    print(f"digits classifier: {accuracy:.1%} on held-out digits")

    print(f"\nshare of {args.n} images per digit labelled as the prompted digit (DDIM, 50 steps):")
    for guidance in (1.0, 2.0, 3.0, 5.0):
        result = diffusion.evaluate(model, classifier, n=args.n, guidance=guidance, seed=args.seed)
        worst = min(result["per_digit"], key=result["per_digit"].get)
        print(
            f"  guidance {guidance}: {result['accuracy']:.1%} "
            f"(lowest: {worst} {result['per_digit'][worst]:.0%})"
        )

    n, seed = args.n, args.seed
    plain = diffusion.ink(model.generate("a seven", n=n, seed=seed)).mean()
    steered = diffusion.ink(model.generate("a seven", "a thick seven", n=n, seed=seed)).mean()
    print(
        f'\nmean ink of "a seven": {plain:.1f}; with negative prompt "a thick seven": {steered:.1f}'
    )
    every_digit = diffusion.DIGIT_WORDS
    for high, low, measure in (
        ("thick", "thin", diffusion.ink),
        ("wide", "narrow", diffusion.spread),
    ):
        mean = {
            word: measure(
                model.generate([f"a {word} {d}" for d in every_digit], n=n, seed=seed)
            ).mean()
            for word in (high, low)
        }
        print(f"{measure.__name__}, all digits: {high} {mean[high]:.2f}, {low} {mean[low]:.2f}")

    nl.save(model, out / "text_to_image.safetensors")
    grid = model.generate([f"a {d}" for d in diffusion.DIGIT_WORDS], n=10, seed=seed)
    import neuralab.viz as viz

    viz.plot_images(grid, ncols=10, path=out / "digits.png", title='"a zero" … "a nine"')
    print(f"\nsaved {out / 'text_to_image.safetensors'} and {out / 'digits.png'}")


if __name__ == "__main__":
    with threadpool_limits(1):
        main()
