"""Stable Diffusion's idea in miniature: a diffusion model draws 8×8 digits from a prompt.

The lecture shows Stable Diffusion turning a prompt and a negative prompt ("low quality, ugly")
into pictures. :mod:`neuralab.apps.diffusion` is the same machinery at toy scale: a denoising
diffusion model over 8×8 digits, conditioned on prompts such as "a thick seven", sampled with
classifier-free guidance, where a negative prompt takes the place of the empty prompt. This demo
trains one (or reuses the model it saved in the output folder), draws 16 images for the prompt,
and lets a digits classifier of ours say what they show. With a negative prompt it also draws
the same 16 starting noises without it, to show what the negative prompt changed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from neuralab.apps import diffusion
from neuralab.demos._common import Figures

SUMMARY = "a miniature Stable Diffusion: 8×8 digits drawn from a prompt (and a negative prompt)"

PROMPT = "a seven"
N_IMAGES = 16
GUIDANCE = 3.0
SHADES = " ░▒▓█"


def _ascii(images: np.ndarray, count: int = 6) -> str:
    """The first ``count`` images side by side as text, one character pair per pixel."""
    tiles = (images[:count, 0] * (len(SHADES) - 1)).round().astype(int)
    return "\n".join(
        "  " + "   ".join("".join(SHADES[v] * 2 for v in tile[row]) for tile in tiles)
        for row in range(tiles.shape[1])
    )


def _model(out: Path, quick: bool) -> tuple[diffusion.TextToImage, Any, float, Path]:
    """The model and classifier saved in ``out`` if there are any, else newly trained ones
    (saved there for next time): (model, classifier, classifier accuracy, file)."""
    import neuralab as nl
    import neuralab.models  # noqa: F401  (the classifier's class must be known to nl.load)
    from neuralab.io import LoadError
    from neuralab.random import use_generator

    path = out / f"text_to_image{'_quick' if quick else ''}.safetensors"
    if path.exists():
        try:
            saved = nl.load(path)
            print(f"reusing the model saved in {path} (delete the file to train a new one)")
            return saved["model"], saved["classifier"], saved["classifier_accuracy"], path
        except (LoadError, KeyError, TypeError) as e:
            print(f"cannot reuse {path} ({e}); training a new model")
    steps, depth = (800, 1) if quick else (2000, 2)
    with use_generator(np.random.default_rng(0)):
        model = diffusion.TextToImage(depth=depth)
    print(
        f"training a denoiser ({model.num_parameters():,} parameters, {depth} residual "
        f"block{'s' * (depth > 1)}) "
        f"for {steps} steps on the 1,797 digits, each captioned like "
        f"{diffusion.captions([7], [('thick', 'narrow')])[0]!r}:"
    )
    began = time.process_time()
    model = diffusion.train(
        model,
        steps=steps,
        log=lambda step, loss: print(f"  step {step:>5}: noise-prediction loss {loss:.4f}"),
        log_every=steps // 4,
    )
    classifier, accuracy = diffusion.train_digit_classifier(epochs=10 if quick else 30)
    print(
        f"trained in {time.process_time() - began:.0f} CPU seconds, with a digits classifier "
        f"to check the images ({accuracy:.1%} on held-out digits); saved to {path}"
    )
    out.mkdir(parents=True, exist_ok=True)
    nl.save({"model": model, "classifier": classifier, "classifier_accuracy": accuracy}, path)
    return model, classifier, accuracy, path


def _describe(images: np.ndarray, classifier: Any) -> tuple[np.ndarray, str]:
    """The classifier's digit for each image, and a summary such as 'seven ×15, one ×1'."""
    from neuralab.tensor import constant, no_grad

    with no_grad():
        labels = classifier(constant(images.reshape(len(images), -1))).numpy().argmax(1)
    counts = np.bincount(labels, minlength=10)
    order = np.argsort(-counts, kind="stable")
    return labels, ", ".join(f"{diffusion.DIGIT_WORDS[d]} ×{counts[d]}" for d in order if counts[d])


def run(
    out: Path, quick: bool = False, prompt: str = PROMPT, negative: str | None = None
) -> dict[str, Any]:
    """Draw images for ``prompt`` (steering away from ``negative``); print and plot them."""
    import neuralab.viz as viz

    words = diffusion.tokenize(prompt)  # an unknown word fails here, before any training
    if negative is not None:
        diffusion.tokenize(negative)
    figures = Figures(out)
    model, classifier, accuracy, path = _model(out, quick)
    print(
        f"\nprompt {prompt!r} → words {words} → a bag of words, the text encoder's input; "
        + (f"negative prompt {negative!r}" if negative else "no negative prompt (the empty one)")
    )
    print(
        f"sampling {N_IMAGES} images: DDIM, 50 of {model.schedule.timesteps} timesteps, "
        f"guidance scale {GUIDANCE} (ε̂ = ε(negative) + {GUIDANCE}·(ε(prompt) − ε(negative)))"
    )
    images = model.generate(prompt, negative, n=N_IMAGES, guidance=GUIDANCE, seed=0)
    print(_ascii(images))
    labels, summary = _describe(images, classifier)
    digits = [diffusion.DIGIT_WORDS.index(w) for w in words if w in diffusion.DIGIT_WORDS]
    as_prompted = float(np.mean(labels == digits[0])) if len(set(digits)) == 1 else None
    ink = float(diffusion.ink(images).mean())
    print(f"the classifier reads them as: {summary}; mean ink {ink:.1f} (pixel sum)")
    title = f"{prompt!r}" + (f", negative prompt {negative!r}" if negative else "")
    names = [diffusion.DIGIT_WORDS[d] for d in labels]
    figures.save(
        "text_to_image.png",
        lambda p: viz.plot_images(images, names, ncols=8, path=p, title=title),
    )
    result: dict[str, Any] = {
        "prompt": prompt,
        "negative": negative,
        "words": words,
        "images": images,
        "labels": labels,
        "as_prompted": as_prompted,
        "ink": ink,
        "classifier_accuracy": accuracy,
        "model_path": path,
    }
    if negative is not None:
        result["without_negative"] = _without_negative(model, classifier, prompt, ink, figures)
    result["figures"] = figures.paths
    return result


def _without_negative(
    model: Any, classifier: Any, prompt: str, ink: float, figures: Figures
) -> dict[str, Any]:
    """The same starting noise sampled without the negative prompt: printed, plotted, returned."""
    import neuralab.viz as viz

    plain = model.generate(prompt, n=N_IMAGES, guidance=GUIDANCE, seed=0)
    plain_labels, plain_summary = _describe(plain, classifier)
    plain_ink = float(diffusion.ink(plain).mean())
    print(
        f"the same starting noise without the negative prompt: {plain_summary}; mean ink "
        f"{plain_ink:.1f} (the negative prompt changed it by {ink - plain_ink:+.1f})"
    )
    plain_names = [diffusion.DIGIT_WORDS[d] for d in plain_labels]
    figures.save(
        "text_to_image_without_negative.png",
        lambda p: viz.plot_images(
            plain, plain_names, ncols=8, path=p, title=f"{prompt!r}, no negative prompt"
        ),
    )
    return {"images": plain, "labels": plain_labels, "ink": plain_ink}
