"""The model zoo's registry: builders by name, so ``neuralab train --model NAME`` finds them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_BUILDERS: dict[str, Callable[..., Any]] = {}


def register_model(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: make a builder function (``lenet5(num_classes=10, ...)``) available by name."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in _BUILDERS and _BUILDERS[name] is not fn:
            raise ValueError(f"register_model: the name {name!r} is already taken")
        _BUILDERS[name] = fn
        return fn

    return decorate


def get_model(name: str, **kwargs: Any) -> Any:
    """Build the zoo model called ``name`` with keyword arguments for its builder."""
    if name not in _BUILDERS:
        known = ", ".join(sorted(_BUILDERS)) or "(none)"
        raise KeyError(f"unknown model {name!r}; the zoo has: {known}")
    return _BUILDERS[name](**kwargs)


def list_models() -> list[str]:
    """The names of every registered model, sorted."""
    return sorted(_BUILDERS)
