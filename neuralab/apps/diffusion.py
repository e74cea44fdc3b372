"""Text-to-image by diffusion, in miniature: 8×8 digits drawn from prompts like "a thick seven".

The pieces of Stable Diffusion and DALL·E 2, each small enough to read and to train on a CPU:

- **Prompts** over a tiny vocabulary: the digit words ``zero`` … ``nine`` and four style words
  measured on the digits data itself. ``thick``/``thin``: the image's ink (the sum of its pixels)
  is in the top/bottom third among images of the same digit; ``wide``/``narrow``: the ink's
  horizontal spread (the ink-weighted standard deviation of the column) is in the top/bottom
  third. ``a``/``an`` are allowed and ignored. The text encoder reads a prompt as a bag of words
  (word counts, order ignored) and maps it to a vector; the empty prompt is the *null prompt*.
- **DDPM** (Ho et al. 2020): a noise schedule β₁…β_T (cosine or linear), the forward process
  q(x_t | x₀) = N(√ᾱ_t x₀, (1 − ᾱ_t) I) with ᾱ_t = ∏ₛ≤ₜ (1 − βₛ), and a network trained to
  predict the noise ε from (x_t, t, prompt) by mean squared error.
- **Classifier-free guidance** (Ho & Salimans 2022): training replaces the prompt by the null
  prompt with probability ``p_uncond``, so one network predicts both ε(x, t, prompt) and
  ε(x, t, ∅); sampling uses ε̂ = ε(∅) + w·(ε(prompt) − ε(∅)) with guidance scale w. A **negative
  prompt** takes the place of ∅, as in Stable Diffusion, steering away from what it describes.
- **Sampling** by DDIM (η = 0, deterministic given the starting noise, few steps) or DDPM
  (η = 1, ancestral) over any subsequence of the T timesteps.

::

    from neuralab.apps import diffusion

    model = diffusion.train(steps=4000)                           # about a minute on one core
    images = model.generate("a seven", negative_prompt="a thick seven", n=16, seed=0)
    images.shape                                                  # (16, 1, 8, 8), in [0, 1]

See docs/apps/text_to_image.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from neuralab import nn
from neuralab.nn import functional as F
from neuralab.nn.module import Module
from neuralab.nn.utils import eval_mode
from neuralab.random import generator, use_generator
from neuralab.tensor import Tensor, constant, no_grad

__all__ = [
    "DIGIT_WORDS",
    "FILLER_WORDS",
    "SAMPLERS",
    "STYLE_WORDS",
    "VOCABULARY",
    "NoiseSchedule",
    "TextToImage",
    "captions",
    "classifier_free_guidance",
    "encode",
    "evaluate",
    "ink",
    "sample",
    "spread",
    "style_words",
    "tokenize",
    "train",
    "train_digit_classifier",
]

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
STYLE_WORDS = ("thick", "thin", "wide", "narrow")
FILLER_WORDS = ("a", "an")
VOCABULARY = DIGIT_WORDS + STYLE_WORDS
"""The words a prompt can use besides the fillers, in the order of the word-count vector."""

SIDE = 8
PIXELS = SIDE * SIDE


# ----------------------------------------------------------------------------- prompts


def tokenize(prompt: str) -> list[str]:
    """The vocabulary words of ``prompt`` in order (lower-cased, fillers and punctuation dropped).

    An unknown word raises ValueError naming it and listing the vocabulary.
    """
    if not isinstance(prompt, str):
        raise TypeError(f"tokenize: a prompt must be a str, got {type(prompt).__name__}")
    words = re.findall(r"[^\s,.;:!?]+", prompt.lower())
    unknown = [w for w in words if w not in VOCABULARY and w not in FILLER_WORDS]
    if unknown:
        raise ValueError(
            f"prompt {prompt!r}: unknown word {unknown[0]!r}; the vocabulary is: "
            f"{', '.join(FILLER_WORDS + VOCABULARY)}"
        )
    return [w for w in words if w in VOCABULARY]


def encode(prompts: str | Sequence[str]) -> np.ndarray:
    """Prompts as bag-of-words rows (N, len(VOCABULARY)) float32: how often each word occurs.

    The empty prompt ``""`` gives a row of zeros: the null prompt of classifier-free guidance.
    """
    if isinstance(prompts, str):
        prompts = [prompts]
    counts = np.zeros((len(prompts), len(VOCABULARY)), np.float32)
    for row, prompt in enumerate(prompts):
        for word in tokenize(prompt):
            counts[row, VOCABULARY.index(word)] += 1
    return counts


def _flat(images: Any) -> np.ndarray:
    """Images (N, 64), (N, 8, 8) or (N, 1, 8, 8) as (N, 8, 8) float32."""
    arr = images.numpy() if isinstance(images, Tensor) else np.asarray(images, np.float32)
    if arr.ndim < 2 or math.prod(arr.shape[1:]) != PIXELS:
        raise ValueError(f"expected 8×8 images (N, 64), (N, 8, 8) or (N, 1, 8, 8), got {arr.shape}")
    return arr.reshape(-1, SIDE, SIDE)


def ink(images: Any) -> np.ndarray:
    """Each image's ink: the sum of its pixels (in [0, 1]); thick strokes have more."""
    return _flat(images).sum(axis=(1, 2))


def spread(images: Any) -> np.ndarray:
    """Each image's horizontal spread: the ink-weighted standard deviation of the column index."""
    arr = _flat(images)
    columns = arr.sum(axis=1)  # (N, 8): ink per column
    weights = columns / np.maximum(columns.sum(axis=1, keepdims=True), 1e-6)
    x = np.arange(SIDE, dtype=np.float32)
    mean = (weights * x).sum(axis=1, keepdims=True)
    return np.sqrt((weights * (x - mean) ** 2).sum(axis=1))


def style_words(images: Any, labels: Any) -> list[tuple[str, ...]]:
    """The style words that describe each image, compared with the images of the same digit.

    ``thick``/``thin``: ink in the top/bottom third of its digit's images; ``wide``/``narrow``:
    horizontal spread in the top/bottom third. Middling images get no word for that measure.
    """
    labels = np.asarray(labels)
    measures = {("thick", "thin"): ink(images), ("wide", "narrow"): spread(images)}
    words: list[list[str]] = [[] for _ in labels]
    for (high, low), values in measures.items():
        for digit in np.unique(labels):
            rows = np.flatnonzero(labels == digit)
            lo, hi = np.quantile(values[rows], [1 / 3, 2 / 3])
            for i in rows:
                if values[i] > hi:
                    words[i].append(high)
                elif values[i] < lo:
                    words[i].append(low)
    return [tuple(w) for w in words]


# ----------------------------------------------------------------------------- noise schedule


class NoiseSchedule:
    """β_t, α_t = 1 − β_t and ᾱ_t = ∏ₛ≤ₜ αₛ for t = 0 … T−1, and sampling from q(x_t | x₀).

    ``kind='cosine'`` is Nichol & Dhariwal's (ᾱ_t ∝ cos²(((t+1)/T + s)/(1 + s)·π/2), β ≤ 0.999);
    ``'linear'`` is Ho et al.'s β from 1e-4 to 0.02, rescaled by 1000/T so any T ends as noisy.
    """

    KINDS = ("cosine", "linear")

    def __init__(self, timesteps: int = 200, kind: str = "cosine") -> None:
        if isinstance(timesteps, bool) or not isinstance(timesteps, int) or timesteps < 2:
            raise ValueError(f"NoiseSchedule: timesteps must be an int >= 2, got {timesteps!r}")
        if kind not in self.KINDS:
            raise ValueError(f"NoiseSchedule: kind must be one of {self.KINDS}, got {kind!r}")
        self.timesteps, self.kind = timesteps, kind
        if kind == "linear":
            scale = 1000 / timesteps
            betas = np.linspace(1e-4 * scale, 0.02 * scale, timesteps)
        else:
            s = 0.008
            f = np.cos((np.arange(timesteps + 1) / timesteps + s) / (1 + s) * math.pi / 2) ** 2
            betas = np.minimum(1 - f[1:] / f[:-1], 0.999)
        self.betas = betas.astype(np.float32)
        self.alphas = 1 - self.betas
        self.alpha_bars = np.cumprod(self.alphas, dtype=np.float64).astype(np.float32)

    def q_sample(self, x0: np.ndarray, t: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε: a draw from q(x_t | x₀) given the noise ε ~ N(0, I)."""
        ab = self.alpha_bars[np.asarray(t)].reshape(-1, *([1] * (x0.ndim - 1)))
        return np.sqrt(ab) * x0 + np.sqrt(1 - ab) * noise

    def __repr__(self) -> str:
        return f"NoiseSchedule(timesteps={self.timesteps}, kind={self.kind!r})"


# ----------------------------------------------------------------------------- the network


def _timestep_features(t: np.ndarray, dim: int) -> np.ndarray:
    """Sinusoidal features of the timesteps (N,) → (N, dim), as in the Transformer and DDPM."""
    half = dim // 2
    freqs = np.exp(-math.log(10000.0) * np.arange(half, dtype=np.float32) / half)
    angles = np.asarray(t, np.float32)[:, None] * freqs
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


class TextToImage(Module):
    """A prompt-conditioned noise predictor ε(x_t, t, prompt) for 8×8 images, and its sampler.

    An MLP with ``depth`` residual blocks of ``width`` units. The text encoder is a bag-of-words
    embedding (a linear map of the word counts; the null prompt maps to its bias); the timestep
    enters as sinusoidal features through a linear map. Their sum, through a ReLU, is the
    conditioning vector that each block adds, projected, to its hidden layer.
    ``generate`` draws images for a prompt.
    """

    def __init__(
        self,
        width: int = 128,
        depth: int = 2,
        timesteps: int = 200,
        schedule: str = "cosine",
        time_features: int = 32,
    ) -> None:
        super().__init__()
        self.schedule = NoiseSchedule(timesteps, schedule)
        self.time_features = time_features
        self.time = nn.Linear(time_features, width)
        self.text = nn.Linear(len(VOCABULARY), width)
        self.inp = nn.Linear(PIXELS, width)
        self.blocks = nn.ModuleList(
            [
                nn.ModuleDict(
                    {
                        "cond": nn.Linear(width, width),
                        "fc1": nn.Linear(width, width),
                        "fc2": nn.Linear(width, width),
                    }
                )
                for _ in range(depth)
            ]
        )
        self.out = nn.Linear(width, PIXELS)

    def forward(self, x: Tensor, t: Any, words: Tensor) -> Tensor:
        """The predicted noise, shaped like x, for noisy images x (N, 64) or (N, 1, 8, 8),
        timesteps t (N,) ints in [0, T) and prompts as word counts (N, len(VOCABULARY))."""
        t = np.asarray(t.numpy() if isinstance(t, Tensor) else t)
        if t.shape != (x.shape[0],) or words.shape != (x.shape[0], len(VOCABULARY)):
            raise ValueError(
                f"TextToImage: for {x.shape[0]} images expected timesteps ({x.shape[0]},) and "
                f"words ({x.shape[0]}, {len(VOCABULARY)}), got {t.shape} and {tuple(words.shape)}"
            )
        features = constant(_timestep_features(t, self.time_features))
        emb = F.relu(self.time(features) + self.text(words))
        h = self.inp(x.reshape(x.shape[0], PIXELS))
        for block in self.blocks:
            h = h + block["fc2"](F.relu(block["fc1"](F.relu(h)) + block["cond"](emb)))
        return self.out(F.relu(h)).reshape(x.shape)

    def predict_noise(self, x: np.ndarray, t: np.ndarray, words: np.ndarray) -> np.ndarray:
        """ε(x, t, words) as an array, without recording a graph (for sampling)."""
        with no_grad():
            return self(constant(x), t, constant(words)).numpy()

    def generate(
        self,
        prompt: str | Sequence[str],
        negative_prompt: str | None = None,
        n: int = 16,
        guidance: float = 3.0,
        steps: int = 50,
        sampler: str = "ddim",
        seed: int | None = None,
    ) -> np.ndarray:
        """``n`` images per prompt, (n·prompts, 1, 8, 8) float32 in [0, 1], by guided sampling.

        ``negative_prompt`` replaces the null prompt in classifier-free guidance (steering away
        from it); ``guidance`` is the scale w (1: the prompt alone, 0: the negative/null prompt
        alone); ``steps`` timesteps of ``sampler`` 'ddim' or 'ddpm'; ``seed`` fixes the noise
        (None: the global generator, see ``nl.manual_seed``).
        """
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        if not prompts:
            raise ValueError("generate: got an empty list of prompts")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"generate: n must be a positive int, got {n!r}")
        cond = np.repeat(encode(prompts), n, axis=0)
        uncond = np.repeat(encode(negative_prompt or ""), len(cond), axis=0)
        rng = generator() if seed is None else np.random.default_rng(seed)
        with eval_mode(self):
            x = sample(
                self.predict_noise, self.schedule, cond, uncond, guidance, steps, sampler, rng
            )
        return ((x + 1) / 2).clip(0, 1).reshape(-1, 1, SIDE, SIDE)


Denoiser = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def classifier_free_guidance(
    denoiser: Denoiser,
    x: np.ndarray,
    t: np.ndarray,
    cond: np.ndarray,
    uncond: np.ndarray,
    scale: float,
) -> np.ndarray:
    """ε̂ = ε(x, t, uncond) + scale·(ε(x, t, cond) − ε(x, t, uncond)), both in one batched call.

    ``uncond`` is the null prompt's words (zeros) or a negative prompt's.
    """
    both = denoiser(np.concatenate([x, x]), np.concatenate([t, t]), np.concatenate([cond, uncond]))
    eps_cond, eps_uncond = both[: len(x)], both[len(x) :]
    return eps_uncond + scale * (eps_cond - eps_uncond)


SAMPLERS = {"ddim": 0.0, "ddpm": 1.0}
"""Samplers by name and their η: 0 is deterministic DDIM, 1 is DDPM's ancestral sampling."""


def sample(
    denoiser: Denoiser,
    schedule: NoiseSchedule,
    cond: np.ndarray,
    uncond: np.ndarray,
    guidance: float = 3.0,
    steps: int = 50,
    sampler: str = "ddim",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Draw len(cond) images (N, 64) in [−1, 1] from pure noise by guided reverse diffusion.

    At each of ``steps`` evenly spaced timesteps t → t′: predict ε̂ (guided), estimate
    x̂₀ = (x_t − √(1 − ᾱ_t)·ε̂)/√ᾱ_t clipped to [−1, 1], then
    x_t′ = √ᾱ_t′·x̂₀ + √(1 − ᾱ_t′ − σ²)·ε̂ + σ·z with σ = η·√((1 − ᾱ_t′)/(1 − ᾱ_t)·(1 − ᾱ_t/ᾱ_t′))
    (DDIM, Song et al. 2021; η = 1 and every timestep is DDPM's posterior step).
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"sample: sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    T = schedule.timesteps
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= T:
        raise ValueError(
            f"sample: steps must be an int from 1 to {T} (the timesteps), got {steps!r}"
        )
    if cond.shape != uncond.shape:
        raise ValueError(f"sample: cond {cond.shape} and uncond {uncond.shape} must match")
    eta = SAMPLERS[sampler]
    rng = generator() if rng is None else rng
    times = np.unique(np.linspace(0, T - 1, steps).round().astype(np.int64))[::-1]
    x = rng.standard_normal((len(cond), PIXELS)).astype(np.float32)
    for i, t in enumerate(times):
        ab = float(schedule.alpha_bars[t])
        ab_prev = float(schedule.alpha_bars[times[i + 1]]) if i + 1 < len(times) else 1.0
        eps = classifier_free_guidance(denoiser, x, np.full(len(x), t), cond, uncond, guidance)
        x0 = ((x - math.sqrt(1 - ab) * eps) / math.sqrt(ab)).clip(-1, 1)
        eps = (x - math.sqrt(ab) * x0) / math.sqrt(1 - ab)
        sigma = eta * math.sqrt((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev))
        x = math.sqrt(ab_prev) * x0 + math.sqrt(max(1 - ab_prev - sigma**2, 0.0)) * eps
        if sigma > 0:
            x = x + sigma * rng.standard_normal(x.shape).astype(np.float32)
    return x


# ----------------------------------------------------------------------------- training


def captions(labels: Any, styles: Sequence[Sequence[str]]) -> list[str]:
    """Full prompts for images with these digit labels and style words: "a thick narrow seven"."""
    return [" ".join(("a", *words, DIGIT_WORDS[d])) for d, words in zip(labels, styles)]


def train(
    model: TextToImage | None = None,
    steps: int = 2000,
    batch_size: int = 128,
    lr: float = 2e-3,
    p_uncond: float = 0.15,
    p_style: float = 0.5,
    ema: float = 0.995,
    seed: int = 0,
    log: Callable[[int, float], None] | None = None,
    log_every: int = 500,
    verbose: int = 0,
) -> TextToImage:
    """Train a text-to-image model on the digits (DDPM's ε-prediction loss) and return it.

    ``model`` defaults to ``TextToImage()`` initialized from ``seed``. Each step takes
    ``batch_size`` random digits and captions them: the digit word, plus each of the image's
    style words with probability ``p_style`` (so "a seven" covers every seven), or instead the
    null prompt with probability ``p_uncond`` (for classifier-free guidance). It noises them to
    random timesteps and fits the noise by mean squared error with Adam (``lr`` annealed by a
    cosine). The returned weights are an exponential moving average (decay ``ema``) of the
    trained ones, in eval mode. ``log(step, mean loss)`` is called every ``log_every`` steps.
    Training runs on :class:`~neuralab.train.Trainer` (``verbose`` as in ``fit``): the EMA and
    the schedule are its callbacks.
    """
    from neuralab import optim
    from neuralab.data import digits
    from neuralab.train import ExponentialMovingAverage, LearningRateScheduler, Trainer

    rng = np.random.default_rng(seed)
    if model is None:
        with use_generator(rng):
            model = TextToImage()
    images, labels = digits()
    x0 = images * 2 - 1  # pixels in [-1, 1], the range the noise schedule is made for
    full = encode(captions(labels, style_words(images, labels)))
    digit_only = encode(captions(labels, [()] * len(labels)))

    opt = optim.Adam(model.parameters(), lr=lr)
    schedule = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    callbacks = [LearningRateScheduler(schedule, interval="batch"), ExponentialMovingAverage(ema)]
    callbacks += _loss_log(log, log_every)
    trainer = Trainer(model, F.mse_loss, opt, callbacks=callbacks, metrics=(), verbose=verbose,
                      name="diffusion.train")  # fmt: skip
    batches = _noised_batches(model, x0, (full, digit_only), batch_size, p_style, p_uncond, rng)
    trainer.fit(batches, epochs=1 if steps else 0, steps_per_epoch=max(steps, 1))
    return model.eval()


def _loss_log(log: Callable[[int, float], None] | None, every: int) -> list[Any]:
    """Callbacks that call ``log(step, mean loss)`` every ``every`` steps (none without ``log``)."""
    if log is None:
        return []
    from neuralab.train import LambdaCallback, StepHistory

    losses = StepHistory()

    def report(batch: int, logs: dict[str, float]) -> None:
        if (batch + 1) % every == 0:
            log(batch + 1, float(np.mean(losses.steps["loss"][-every:])))

    return [losses, LambdaCallback(on_train_batch_end=report)]


def _noised_batches(
    model: TextToImage, x0: np.ndarray, words: tuple[np.ndarray, np.ndarray], batch_size: int,
    p_style: float, p_uncond: float, rng: np.random.Generator,
) -> Iterator[tuple[Tensor, np.ndarray, Tensor, Tensor]]:  # fmt: skip
    """Endless batches of digits noised to random timesteps, with captions, and the noise to
    predict: ``(x_t, t, caption words, noise)``. ``words`` are each image's full caption and
    its digit-only one (bags of words); style words are kept with probability ``p_style``."""
    full, digit_only = words
    while True:
        idx = rng.integers(0, len(x0), batch_size)
        t = rng.integers(0, model.schedule.timesteps, batch_size)
        noise = rng.standard_normal((batch_size, PIXELS)).astype(np.float32)
        styles = full[idx] - digit_only[idx]
        caption = digit_only[idx] + styles * (rng.random(styles.shape) < p_style)
        caption[rng.random(batch_size) < p_uncond] = 0
        x_t = model.schedule.q_sample(x0[idx], t, noise)
        yield constant(x_t), t, constant(caption), constant(noise)


# ----------------------------------------------------------------------------- evaluation


def train_digit_classifier(seed: int = 0, epochs: int = 40) -> tuple[Module, float]:
    """An MLP digits classifier (64-128-10) to judge generated images; returns it and its
    accuracy on a held-out quarter of the digits (about 97 %)."""
    from neuralab import models, optim
    from neuralab import train as training
    from neuralab.data import digits, train_test_split

    images, labels = digits()
    x_tr, x_te, y_tr, y_te = train_test_split(images, labels, ratio=0.75, seed=seed)
    with use_generator(np.random.default_rng(seed)):
        clf = models.mlp(in_features=PIXELS, num_classes=10, width=128, depth=1)
        training.fit(
            clf,
            nn.CrossEntropyLoss(),
            optim.Adam(clf.parameters(), lr=1e-3),
            (x_tr, y_tr),
            epochs=epochs,
            batch_size=64,
            verbose=0,
        )
    with eval_mode(clf):
        accuracy = float((clf(constant(x_te)).numpy().argmax(1) == y_te).mean())
    return clf.eval(), accuracy


def evaluate(
    model: TextToImage,
    classifier: Module,
    n: int = 20,
    guidance: float = 3.0,
    steps: int = 50,
    seed: int = 0,
) -> dict[str, Any]:
    """Generate ``n`` images for each prompt "a zero" … "a nine" and let ``classifier`` label
    them: ``{'accuracy': fraction labelled as prompted, 'per_digit': {word: fraction}}``."""
    prompts = [f"a {word}" for word in DIGIT_WORDS]
    images = model.generate(prompts, n=n, guidance=guidance, steps=steps, seed=seed)
    with eval_mode(classifier):
        predicted = classifier(constant(images.reshape(-1, PIXELS))).numpy().argmax(1)
    hits = predicted.reshape(len(prompts), n) == np.arange(len(prompts))[:, None]
    return {
        "accuracy": float(hits.mean()),
        "per_digit": {word: float(h.mean()) for word, h in zip(DIGIT_WORDS, hits)},
    }
