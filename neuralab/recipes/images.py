"""Image classifiers of the zoo on scikit-learn's 8×8 digits: the recipes the docs quote.

1,797 digits, a fixed 80/20 split (1,438 train / 359 test, ``train_test_split(seed=0)``), Adam
(AdamW for the ViT) with a cosine learning-rate decay, seed 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import neuralab as nl
from neuralab import models, nn, optim, train
from neuralab.data import digits, train_test_split
from neuralab.optim.registry import OPTIMIZERS

__all__ = ["RECIPES", "Recipe", "train_on_digits", "train_vit_digits"]


@dataclass(frozen=True)
class Recipe:
    """How one zoo model is trained on digits."""

    kwargs: dict[str, Any] = field(default_factory=dict)
    size: int = 8  # 8 is the native resolution; LeNet-5 and AlexNet get 32×32
    layout: str = "image"
    epochs: int = 10
    lr: float = 2e-3
    batch_size: int = 32
    optimizer: str = "adam"
    weight_decay: float = 0.0


RECIPES = {
    "mlp": Recipe(
        {"in_features": 64, "width": 128, "depth": 2, "dropout": 0.1, "batch_norm": True},
        layout="flat",
        epochs=20,
    ),
    "lenet5": Recipe(size=32, epochs=20),
    "alexnet_small": Recipe({"in_channels": 1, "width": 8, "dropout": 0.2}, size=32, epochs=15),
    "resnet_cifar": Recipe({"depth": 20, "in_channels": 1, "width": 16}, epochs=6),
    "vit_digits": Recipe(epochs=40, batch_size=64, optimizer="adamw", weight_decay=0.05),
}
"""The recipe of each zoo model that the docs report on digits."""


def train_on_digits(
    name: str, verbose: int = 0, seed: int = 0, epochs: int | None = None
) -> tuple[nn.Module, float]:
    """Build zoo model ``name``, train it by its recipe; return it and its test accuracy."""
    recipe = RECIPES[name]
    epochs = epochs or recipe.epochs
    nl.manual_seed(seed)
    X, y = digits(layout=recipe.layout, size=recipe.size)
    X_train, X_test, y_train, y_test = train_test_split(X, y, ratio=0.8, seed=seed)
    model = models.get_model(name, num_classes=10, **recipe.kwargs)
    choice = OPTIMIZERS.get(recipe.optimizer)
    optimizer = choice.build(model.parameters(), recipe.lr, weight_decay=recipe.weight_decay)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss = nn.CrossEntropyLoss()
    train.fit(
        model, loss, optimizer, (X_train, y_train), epochs=epochs,
        val_data=(X_test, y_test), scheduler=schedule, batch_size=recipe.batch_size,
        verbose=verbose,
    )  # fmt: skip
    return model, train.evaluate(model, loss, (X_test, y_test))["accuracy"]


def train_vit_digits(
    epochs: int = 40, seed: int = 0, verbose: int = 0
) -> tuple[models.VisionTransformer, float]:
    """Train ``vit_digits`` (AdamW, weight decay 0.05, batches of 64); return it and its test
    accuracy on the digits' held-out part."""
    return train_on_digits("vit_digits", verbose=verbose, seed=seed, epochs=epochs)
