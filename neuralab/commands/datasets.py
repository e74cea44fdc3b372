"""Datasets by name for the command line: ``circle``, ``digits``, ``mnist:DIR``, ...

Names come from ``neuralab.data.registry.DATASETS`` (one spelling each, aliases accepted). Each
loads into a :class:`Task`: train and test arrays, whether it is classification, the class
count, and how inputs were prepared (so a saved model can prepare new inputs the same way).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuralab.data.registry import DATASETS, KINDS

GENERATED = ("two_class", "regression", "multiclass")
TABLES = ("tabular", "images", "image_files")  # with GENERATED: what a Task holds


@dataclass
class Task:
    """A dataset ready for training: arrays, the kind of problem and the input preparation."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classification: bool
    num_classes: int
    prep: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.X_train.shape[1:])


def describe() -> str:
    """One line listing the names ``load`` accepts for MLPs and classifiers."""
    names = DATASETS.where(lambda info: info.kind in GENERATED + TABLES)
    return ", ".join(f"{n}:DIR" if DATASETS.get(n).kind == "image_files" else n for n in names)


def kind_of(spec: str) -> str:
    """The kind (``neuralab.data.registry.KINDS``) of the dataset ``spec`` names."""
    return DATASETS.get(spec.partition(":")[0]).kind


def load(
    spec: str,
    *,
    samples: int | None = None,
    noise: float = 0.0,
    test_fraction: float = 0.25,
    seed: int = 0,
    image: bool = False,
    image_size: int | None = None,
) -> Task:
    """Load the dataset named by ``spec`` and split it into train and test parts.

    ``image=True`` keeps images as (N, C, H, W) (for convolutional models); otherwise they are
    flattened. ``image_size`` rescales images to that side (8×8 digits → e.g. 32 for LeNet-5).
    ``samples`` is the point count of generated sets, and a training subset of the others.
    """
    name, _, directory = spec.partition(":")
    name = DATASETS.canonical(name)
    info = DATASETS.get(name)
    if info.kind not in GENERATED + TABLES:
        raise ValueError(
            f"dataset {name} holds {KINDS[info.kind]}: it trains the zoo models made for it "
            f"(neuralab info --models), not an MLP or a classifier"
        )
    if info.kind == "image_files":
        task = _read_files(name, info, directory, image)
    elif directory:
        raise ValueError(f"dataset {name} is generated or built in; drop ':{directory}'")
    else:
        task = _split(name, info.kind, *_arrays(info, samples, noise, seed, image, image_size),
                      test_fraction, seed)  # fmt: skip
    if samples and info.kind not in GENERATED:
        task.X_train, task.y_train = task.X_train[:samples], task.y_train[:samples]
    if image and image_size and task.X_train.shape[-1] != image_size:
        task.X_train, task.X_test = (resize(x, image_size) for x in (task.X_train, task.X_test))
    return task


def _read_files(name: str, info: Any, directory: str, image: bool) -> Task:
    if not directory:
        raise ValueError(f"dataset {name} is read from files: write it as {name}:DIR")
    X_train, y_train = info.function(directory, train=True, flat=not image)
    X_test, y_test = info.function(directory, train=False, flat=not image)
    classes = int(max(y_train.max(), y_test.max()) + 1)
    return Task(name, X_train, y_train, X_test, y_test, True, classes, {})


def _arrays(
    info: Any, samples: int | None, noise: float, seed: int, image: bool, image_size: int | None
) -> tuple[np.ndarray, np.ndarray]:
    if info.kind in GENERATED:
        kwargs: dict[str, Any] = {"noise": noise, "seed": seed}
        if samples:
            kwargs["n"] = samples
        if info.kind == "two_class":
            kwargs["labels"] = "01"
        return info.function(**kwargs)
    if info.kind == "images":  # digits
        return info.function(layout="image" if image else "flat", size=image_size or 8)
    return info.function()


def _split(
    name: str, kind: str, X: np.ndarray, y: np.ndarray, test_fraction: float, seed: int
) -> Task:
    from neuralab import data

    classification = kind != "regression"
    y = y.astype(np.int64) if classification else y.astype(np.float32).reshape(-1, 1)
    X_train, X_test, y_train, y_test = data.train_test_split(
        X, y, ratio=1 - test_fraction, seed=seed
    )
    prep: dict[str, Any] = {}
    if kind in ("tabular", "multiclass"):  # standardize with the training part's statistics
        mean, std = X_train.mean(axis=0), X_train.std(axis=0) + 1e-8
        X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
        prep = {"mean": mean.astype(np.float32).tolist(), "std": std.astype(np.float32).tolist()}
    num_classes = int(max(y_train.max(), y_test.max()) + 1) if classification else 1
    return Task(
        name, X_train.astype(np.float32), y_train, X_test.astype(np.float32), y_test,
        classification, num_classes, prep,
    )  # fmt: skip


def resize(images: np.ndarray, side: int) -> np.ndarray:
    """(N, C, H, W) images rescaled to side × side (bilinear), float32."""
    from neuralab.ops.resize import interpolate

    out = interpolate(images.astype(np.float32), size=(side, side), mode="bilinear")
    return out.numpy()
