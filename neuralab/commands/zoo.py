"""``neuralab train --model NAME`` for the zoo's models that are not image classifiers.

Each task (``neuralab.models.TASKS``) has a :class:`TaskRunner` in ``RUNNERS``: how to train a
model by its recipe (``neuralab.recipes``) on its natural data, how to score it, how to use it
on new inputs, and what to draw. ``train`` saves ``{"model": ..., "meta": ...}`` where ``meta``
records the task, so ``neuralab evaluate`` and ``neuralab predict`` find the runner again.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import neuralab.recipes  # noqa: F401  (registers the zoo's own datasets)
from neuralab.registry import Registry
from neuralab.train import Callback

Scores = dict[str, float]


class UsageError(ValueError):
    """A bad argument or file: reported as one line, exit status 2."""


@dataclass(frozen=True)
class TaskRunner:
    """What the command line does with the models of one task.

    ``train(spec, options, callbacks) -> (model, scores, meta)``; ``evaluate(model, meta)``;
    ``predict(model, meta, source) -> (header, rows, array or None)``; ``figure(model, meta,
    path)``; ``data`` names the datasets it accepts (its models' defaults if empty).
    """

    train: Callable[..., tuple[Any, Scores, dict[str, Any]]]
    evaluate: Callable[[Any, dict[str, Any]], Scores]
    predict: Callable[[Any, dict[str, Any], str], tuple[str, list[str], Any]]
    figure: Callable[[Any, dict[str, Any], Path], None]
    inputs: str  # what predict reads, for help and errors


RUNNERS: Registry[TaskRunner] = Registry("task")

QUICK_EPOCHS = {
    "segnet_scenes": 15, "segnet": 2, "conv_autoencoder": 20, "mlp_gan": 40, "digits_gan": 60,
    "seq2seq_gru_attention": 3, "seq2seq_lstm_attention": 3, "seq2seq_gru": 3,
    "seq2seq_lstm": 3, "transformer_seq2seq": 3, "sequence_classifier": 4, "char_lm": 2,
}  # fmt: skip
"""Default ``--epochs`` of each model: about a minute on 2 cores (the docs' recipes run longer)."""


@dataclass(frozen=True)
class Options:
    """The train options a task runner uses."""

    epochs: int
    samples: int | None
    seed: int
    verbose: int
    data: str


def options(args: argparse.Namespace, spec: Any) -> Options:
    """The runner's options from the command line (defaults: the model's quick recipe)."""
    return Options(
        epochs=args.epochs or QUICK_EPOCHS.get(spec.name, 5),
        samples=args.samples,
        seed=args.seed,
        verbose=args.verbose,
        data=args.data or spec.data,
    )


class Recorder(Callback):
    """A ``fit`` callback keeping each epoch's logs, for the learning-curve figure."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Append this epoch's numbers."""
        for key, value in (logs or {}).items():
            if isinstance(value, (int, float)):
                self.history.setdefault(key, []).append(float(value))


# ----------------------------------------------------------------------------- segmentation


def _train_segmentation(spec: Any, opt: Options, callbacks: list) -> tuple:
    from neuralab.data import SCENE_CLASSES
    from neuralab.recipes.pixels import train_segnet_scenes

    model, ious = train_segnet_scenes(
        opt.epochs, opt.samples or 128, seed=opt.seed, verbose=opt.verbose, name=spec.name,
        callbacks=callbacks,
    )  # fmt: skip
    return model, _iou_scores(ious, SCENE_CLASSES), {"classes": list(SCENE_CLASSES)}


def _iou_scores(ious: np.ndarray, classes: tuple[str, ...]) -> Scores:
    return {"mean_iou": float(ious.mean()), **{f"iou_{c}": float(v) for c, v in zip(classes, ious)}}


def _evaluate_segmentation(model: Any, meta: dict[str, Any]) -> Scores:
    from neuralab.recipes.pixels import segmentation_iou

    return _iou_scores(segmentation_iou(model), tuple(meta["classes"]))


def _predict_segmentation(model: Any, meta: dict[str, Any], source: str) -> tuple:
    images, names = read_images(source, (3, 32, 32))
    masks = np.asarray(model.predict(images))
    classes = meta["classes"]
    rows = []
    for name, mask in zip(names, masks):
        shares = np.bincount(mask.ravel(), minlength=len(classes)) / mask.size
        rows.append(f"{name}," + ",".join(f"{s:.3f}" for s in shares))
    return "input," + ",".join(f"share_{c}" for c in classes), rows, masks


def _figure_segmentation(model: Any, meta: dict[str, Any], path: Path) -> None:
    from neuralab.recipes.pixels import held_out_scenes

    images, masks = held_out_scenes(6)
    predicted = np.asarray(model.predict(images))
    tiles: list[np.ndarray] = []
    for image, mask, pred in zip(images.numpy(), masks, predicted):
        tiles += [image, mask / 3.0, pred / 3.0]
    _plot(tiles, ["scene", "true", "predicted"] * 6, 6, path, "held-out scenes")


# ----------------------------------------------------------------------------- denoising


def _train_denoising(spec: Any, opt: Options, callbacks: list) -> tuple:
    from neuralab.recipes.pixels import train_denoiser

    model, errors = train_denoiser(
        opt.epochs, seed=opt.seed, verbose=opt.verbose, limit=opt.samples, callbacks=callbacks
    )
    return model, errors, {"noise": 0.5}


def _evaluate_denoising(model: Any, meta: dict[str, Any]) -> Scores:
    from neuralab.recipes.pixels import denoising_errors

    return denoising_errors(model, meta["noise"])


def _predict_denoising(model: Any, meta: dict[str, Any], source: str) -> tuple:
    from neuralab import train

    images, names = read_images(source, (1, 8, 8))
    out = train.predict(model, images)
    rows = [f"{n},{float(np.abs(o - i).mean()):.4f}" for n, o, i in zip(names, out, images)]
    return "input,mean_change", rows, out


def _figure_denoising(model: Any, meta: dict[str, Any], path: Path) -> None:
    from neuralab import train
    from neuralab.recipes.pixels import add_noise, digit_split

    clean = digit_split()[1][:8]
    noisy = add_noise(clean, meta["noise"], np.random.default_rng(1))
    out = train.predict(model, noisy)
    tiles = [*noisy, *out, *clean]
    labels = ["noisy"] * 8 + ["denoised"] * 8 + ["clean"] * 8
    _plot(tiles, labels, 8, path, "held-out digits")


# ----------------------------------------------------------------------------- generation


def _gan_data(opt: Options) -> np.ndarray:
    from neuralab.data import digits
    from neuralab.models.gan import ring_of_gaussians
    from neuralab.recipes.pixels import RING_STD

    if opt.data == "ring":
        return ring_of_gaussians(opt.samples or 20_000, std=RING_STD, seed=opt.seed)
    return digits(layout="image")[0][: opt.samples]


def _train_generation(spec: Any, opt: Options, callbacks: list) -> tuple:
    import neuralab as nl
    from neuralab.models.gan import train_gan

    data = _gan_data(opt)
    ring = opt.data == "ring"
    batch = 512 if ring else 64
    steps = opt.epochs * max(1, math.ceil(len(data) / batch))
    nl.manual_seed(opt.seed)
    gan = spec.build()
    print(f"{steps} alternating steps of {batch} ({opt.epochs} passes over {len(data)} samples)")
    history = train_gan(
        gan, data, steps, batch_size=batch, lr=1e-3 if ring else 3e-3, cosine=not ring,
        seed=opt.seed,
    )  # fmt: skip
    meta = {"data": "ring" if ring else "digits", "steps": steps}
    scores = _evaluate_generation(gan, meta)
    scores["final_d_loss"], scores["final_g_loss"] = history["d_loss"][-1], history["g_loss"][-1]
    return gan, scores, meta


def _evaluate_generation(gan: Any, meta: dict[str, Any]) -> Scores:
    """Ring: the share of samples near a mode and of the emptiest mode. Digits: the distance of
    samples to their nearest training digit, beside that of real held-out digits."""
    import neuralab as nl

    nl.manual_seed(1)
    if meta["data"] == "ring":
        from neuralab.recipes.pixels import ring_modes

        counts = ring_modes(gan)
        return {"near_a_mode": counts.sum() / 1000, "emptiest_mode": counts.min() / 1000}
    from neuralab.recipes.pixels import digit_split

    train_images, held_out = digit_split()
    reference = train_images.reshape(len(train_images), -1)
    samples = gan.sample(500).numpy().reshape(500, -1)
    return {
        "sample_nn_mse": _nearest_mse(samples, reference),
        "real_nn_mse": _nearest_mse(held_out.reshape(len(held_out), -1), reference),
    }


def _nearest_mse(points: np.ndarray, reference: np.ndarray) -> float:
    d = (points**2).sum(1)[:, None] - 2 * points @ reference.T + (reference**2).sum(1)[None]
    return float(np.maximum(d.min(axis=1), 0).mean() / points.shape[1])


def _predict_generation(gan: Any, meta: dict[str, Any], source: str) -> tuple:
    if not source.isdigit() or int(source) < 1:
        raise UsageError(f"a GAN's input is how many samples to draw (a number), not {source!r}")
    samples = gan.sample(int(source)).numpy()
    flat = samples.reshape(len(samples), -1)
    if meta["data"] == "ring":
        return "sample,x1,x2", [f"{i},{a:.4f},{b:.4f}" for i, (a, b) in enumerate(flat)], samples
    return "sample,mean_pixel", [f"{i},{row.mean():.4f}" for i, row in enumerate(flat)], samples


def _figure_generation(gan: Any, meta: dict[str, Any], path: Path) -> None:
    import neuralab as nl

    nl.manual_seed(2)
    samples = gan.sample(500 if meta["data"] == "ring" else 32).numpy()
    if meta["data"] != "ring":
        _plot(list(samples), None, 8, path, "generated digits")
        return
    from neuralab.models.gan import ring_centres
    from neuralab.viz._figure import finish, pyplot

    fig, ax = pyplot().subplots(figsize=(5, 5), layout="constrained")
    ax.scatter(samples[:, 0], samples[:, 1], s=4, alpha=0.5, label="samples")
    centres = ring_centres()
    ax.scatter(centres[:, 0], centres[:, 1], marker="x", color="k", label="modes")
    ax.set_aspect("equal")
    ax.legend()
    ax.set_title("500 generated points")
    _close(finish(fig, path))


# ----------------------------------------------------------------------------- sequences


def _train_translation(spec: Any, opt: Options, callbacks: list) -> tuple:
    from neuralab.recipes.sequences import DATE_RECIPES, train_on_dates

    size = opt.samples or DATE_RECIPES[spec.name].train_size
    model, score = train_on_dates(
        spec.name, verbose=opt.verbose, seed=opt.seed, callbacks=callbacks, epochs=opt.epochs,
        train_size=size,
    )  # fmt: skip
    return model, {f"exact_match_{k}": v for k, v in score.items()}, {"train_size": size}


def _evaluate_translation(model: Any, meta: dict[str, Any]) -> Scores:
    from neuralab.recipes.sequences import date_scores, date_splits

    held_out = date_splits(meta["train_size"], meta["seed"])[1]
    return {f"exact_match_{k}": v for k, v in date_scores(model, held_out).items()}


def _predict_translation(model: Any, meta: dict[str, Any], source: str) -> tuple:
    from neuralab.data.sequences import DATE_SOURCE_VOCAB, DATE_TARGET_VOCAB, pad
    from neuralab.recipes.sequences import MAX_LEN

    lines = read_lines(source)
    unknown = sorted({ch for line in lines for ch in line} - set(DATE_SOURCE_VOCAB.stoi))
    if unknown:
        raise UsageError(f"{source}: characters the date model never saw: {''.join(unknown)!r}")
    src = pad([DATE_SOURCE_VOCAB.encode(line) for line in lines])
    outputs = [DATE_TARGET_VOCAB.decode(ids) for ids in model.greedy_decode(src, MAX_LEN)]
    return "input,output", [f"{a!r},{b}" for a, b in zip(lines, outputs)], None


def _train_language(spec: Any, opt: Options, callbacks: list) -> tuple:
    from neuralab.recipes.sequences import train_char_lm

    text = read_text(opt.data)
    model, losses = train_char_lm(
        epochs=opt.epochs, seed=opt.seed, verbose=opt.verbose, text=text, callbacks=callbacks
    )
    chars = "".join(_vocab(text).itos)
    return model, {f"nats_{k}": v for k, v in losses.items()}, {"chars": chars}


def _vocab(text: str) -> Any:
    from neuralab.recipes.sequences import lm_windows

    return lm_windows(text).vocab


def read_text(spec: str) -> str:
    """``text`` (the shipped text) or ``text:FILE`` (a UTF-8 text file of yours)."""
    from neuralab.data.sequences import TINY_TEXT

    _, _, path = spec.partition(":")
    if not path:
        return TINY_TEXT
    text = Path(path).read_text(encoding="utf-8")
    if len(text) < 1000:
        raise UsageError(f"{path}: a language model needs at least 1,000 characters of text")
    return text


def _evaluate_language(model: Any, meta: dict[str, Any]) -> Scores:
    from neuralab.recipes.sequences import text_losses

    return {f"nats_{k}": v for k, v in text_losses(model, read_text(meta["dataset"])).items()}


def _predict_language(model: Any, meta: dict[str, Any], source: str) -> tuple:
    from neuralab.data.sequences import Vocab

    vocab = Vocab(meta["chars"], specials=False)
    rows = []
    for prompt in read_lines(source):
        known = [ch for ch in prompt if ch in vocab.stoi]
        ids = model.sample(vocab.encode("".join(known)), 160, 0.5, None, generator=0)
        rows.append(f"{prompt!r},{vocab.decode(ids)!r}")
    return "prompt,continuation", rows, None


def _train_sequences(spec: Any, opt: Options, callbacks: list) -> tuple:
    from neuralab.recipes.sequences import train_sorted_digits

    model, accuracy = train_sorted_digits(
        epochs=opt.epochs, seed=opt.seed, verbose=opt.verbose, train_size=opt.samples or 3000,
        callbacks=callbacks,
    )  # fmt: skip
    return model, {"accuracy": accuracy}, {}


def _evaluate_sequences(model: Any, meta: dict[str, Any]) -> Scores:
    from neuralab import nn, train
    from neuralab.recipes.sequences import sorted_digits_task

    X, y = sorted_digits_task(1000, seed=1)
    return train.evaluate(model, nn.CrossEntropyLoss(), (X, y))


def _predict_sequences(model: Any, meta: dict[str, Any], source: str) -> tuple:
    from neuralab import train
    from neuralab.data.sequences import DIGITS, pad

    lines = read_lines(source)
    bad = [line for line in lines if not line.isdigit()]
    if bad:
        raise UsageError(f"{source}: the sorted-digits model reads digit strings, not {bad[0]!r}")
    logits = train.predict(model, pad([DIGITS.encode(line) for line in lines]))
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    names = ("not sorted", "sorted")
    rows = [f"{s},{names[q.argmax()]},{q.max():.4f}" for s, q in zip(lines, p)]
    return "input,class,confidence", rows, None


def _figure_curve(model: Any, meta: dict[str, Any], path: Path) -> None:
    from neuralab.viz import plot_history

    if meta.get("history"):
        _close(plot_history(meta["history"], metrics=("loss",), path=path))


# ----------------------------------------------------------------------------- shared


def read_lines(source: str) -> list[str]:
    """The non-empty lines of a text file."""
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"no input file at {source} (a text file, one input per line)")
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    if not any(lines):
        raise UsageError(f"{source} has no inputs (one per line)")
    return [line for line in lines if line]


def read_images(source: str, shape: tuple[int, ...]) -> tuple[np.ndarray, list[str]]:
    """Images of ``shape`` from a .npy file (N, *shape) or image files (see predict)."""
    from neuralab.commands.train import _read_inputs

    return _read_inputs(source, {"input_shape": list(shape)})


def _plot(tiles: list, labels: list[str] | None, ncols: int, path: Path, title: str) -> None:
    from neuralab.viz import plot_images

    _close(plot_images(tiles, labels, ncols=ncols, path=path, title=title))


def _close(fig: Any) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)


for _task, _runner in {
    "segmentation": TaskRunner(
        _train_segmentation, _evaluate_segmentation, _predict_segmentation,
        _figure_segmentation, "images (3×32×32): a .npy file, an image or a folder of them",
    ),
    "denoising": TaskRunner(
        _train_denoising, _evaluate_denoising, _predict_denoising, _figure_denoising,
        "noisy 8×8 digit images: a .npy file, an image or a folder of them",
    ),
    "generation": TaskRunner(
        _train_generation, _evaluate_generation, _predict_generation, _figure_generation,
        "how many samples to draw (a number)",
    ),
    "translation": TaskRunner(
        _train_translation, _evaluate_translation, _predict_translation, _figure_curve,
        "a text file of dates, one per line",
    ),
    "language_model": TaskRunner(
        _train_language, _evaluate_language, _predict_language, _figure_curve,
        "a text file of prompts, one per line",
    ),
    "sequence_classification": TaskRunner(
        _train_sequences, _evaluate_sequences, _predict_sequences, _figure_curve,
        "a text file of digit strings, one per line",
    ),
}.items():  # fmt: skip
    RUNNERS.register(_task, _runner)
