"""Datasets by name for the command line: ``circle``, ``digits``, ``mnist:DIR``, ...

Each loads into a :class:`Task`: train and test arrays, whether it is classification, the class
count, and how inputs were prepared (so a saved model can prepare new inputs the same way).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

PLAYGROUND_2D = ("circle", "xor", "gauss", "spiral")
REGRESSION_2D = ("plane", "multi-gauss")
MULTICLASS_2D = ("moons", "blobs", "checkerboard")
TABULAR = ("iris", "wine", "breast-cancer")
IMAGE_FILES = ("mnist", "fashion-mnist", "cifar10")
NAMES = PLAYGROUND_2D + REGRESSION_2D + MULTICLASS_2D + TABULAR + ("digits",) + IMAGE_FILES


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
    """One line listing the names ``load`` accepts."""
    files = ", ".join(f"{n}:DIR" for n in IMAGE_FILES)
    return ", ".join(NAMES[: -len(IMAGE_FILES)]) + ", " + files


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
    flattened. ``image_size`` rescales digits (8 → e.g. 32 for LeNet-5).
    """
    from neuralab import data

    name, _, directory = spec.partition(":")
    if name not in NAMES:
        raise ValueError(f"unknown dataset {spec!r}; choose one of: {describe()}")
    if name in IMAGE_FILES:
        if not directory:
            raise ValueError(f"dataset {name} is read from files: write it as {name}:DIR")
        reader = {"mnist": data.mnist, "fashion-mnist": data.fashion_mnist, "cifar10": data.cifar10}
        X_train, y_train = reader[name](directory, train=True, flat=not image)
        X_test, y_test = reader[name](directory, train=False, flat=not image)
        classes = int(max(y_train.max(), y_test.max()) + 1)
        return Task(name, X_train, y_train, X_test, y_test, True, classes, {})
    if directory:
        raise ValueError(f"dataset {name} is generated or built in; drop ':{directory}'")
    if name in PLAYGROUND_2D + REGRESSION_2D + MULTICLASS_2D:
        fn = getattr(data, name.replace("-", "_"))
        kwargs: dict[str, Any] = {"noise": noise, "seed": seed}
        if samples:
            kwargs["n"] = samples
        if name in PLAYGROUND_2D:
            kwargs["labels"] = "01"
        X, y = fn(**kwargs)
        classification = name not in REGRESSION_2D
    elif name == "digits":
        layout = "image" if image else "flat"
        X, y = data.digits(layout=layout, size=image_size or 8)
        classification = True
    else:
        X, y = getattr(data, name.replace("-", "_"))()
        classification = True
    if classification:
        y = y.astype(np.int64)
    else:
        y = y.astype(np.float32).reshape(-1, 1)
    X_train, X_test, y_train, y_test = data.train_test_split(
        X, y, ratio=1 - test_fraction, seed=seed
    )
    prep: dict[str, Any] = {}
    if name in TABULAR + MULTICLASS_2D:  # standardize with the training part's statistics
        mean, std = X_train.mean(axis=0), X_train.std(axis=0) + 1e-8
        X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
        prep = {"mean": mean.astype(np.float32).tolist(), "std": std.astype(np.float32).tolist()}
    num_classes = int(max(y_train.max(), y_test.max()) + 1) if classification else 1
    return Task(
        name, X_train.astype(np.float32), y_train, X_test.astype(np.float32), y_test,
        classification, num_classes, prep,
    )  # fmt: skip
