"""The model zoo's registry: builders by name, each with the task it solves and the dataset it
trains on by default, so ``neuralab train --model NAME`` knows what to do with it.

``MODELS.get(name)`` is a :class:`ModelSpec`; ``get_model(name, **kwargs)`` builds one. Every
registered builder is also an attribute of ``neuralab.models``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from neuralab.registry import Registry

__all__ = ["MODELS", "TASKS", "ModelSpec", "get_model", "list_models", "register_model"]

TASKS = {
    "classification": "labels each input with one of several classes",
    "segmentation": "labels every pixel of an image with a class",
    "denoising": "restores clean images from noisy ones",
    "generation": "learns to draw new samples like its training data",
    "translation": "turns one string into another, token by token",
    "language_model": "predicts the next character of a text, then writes",
    "sequence_classification": "labels each token sequence with a class",
}
"""What a zoo model does, by task name (each model declares one)."""


@dataclass(frozen=True)
class ModelSpec:
    """A zoo model: its builder, its task (see ``TASKS``) and its natural dataset."""

    name: str
    builder: Callable[..., Any]
    task: str
    data: str
    note: str = ""  # what data it needs, when the default is not enough

    def build(self, **kwargs: Any) -> Any:
        """The model, built with keyword arguments for its builder."""
        return self.builder(**kwargs)


MODELS: Registry[ModelSpec] = Registry("model")


def register_model(
    name: str, *, task: str = "classification", data: str = "digits", note: str = ""
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: make a builder function (``lenet5(num_classes=10, ...)``) available by name,
    declaring its ``task`` and the dataset it trains on by default (``neuralab train``)."""
    if task not in TASKS:
        raise ValueError(f"register_model: unknown task {task!r}; choose one of {list(TASKS)}")

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        spec = ModelSpec(name, fn, task, data, note)
        taken = MODELS.get(name) if name in MODELS else None
        if taken is not None and taken.builder is not fn:
            raise ValueError(f"register_model: the name {name!r} is already taken")
        MODELS.register(name, spec)
        return fn

    return decorate


def get_model(name: str, **kwargs: Any) -> Any:
    """Build the zoo model called ``name`` with keyword arguments for its builder."""
    return MODELS.get(name).build(**kwargs)


def list_models() -> list[str]:
    """The names of every registered model, sorted."""
    return sorted(MODELS)
