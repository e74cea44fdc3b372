"""``eval_mode`` and ``train_mode``: switch a model's mode for a block, then put every module back.

"Evaluation mode, no gradients, then restore" is written once here. Both restore *each
module's own* previous mode on exit (also when the block raises), so a model whose parts were
in different modes (a frozen, eval-mode backbone under a training head) comes back exactly as
it was, not all in one mode::

    with eval_mode(model):           # model.eval() and no_grad() inside
        logits = model(x)

    @eval_mode                        # on a Module method: ``self`` is the model
    def sample(self, n): ...

``eval_mode`` also turns off graph recording (``no_grad``), as evaluation almost always
wants; pass ``no_grad=False`` to keep gradients (e.g. gradients of an eval-mode network's
output with respect to its input). ``train_mode`` leaves gradient recording as it is.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from neuralab.tensor import no_grad as _no_grad

__all__ = ["eval_mode", "train_mode"]

F = TypeVar("F", bound=Callable[..., Any])


class _ModeSwitch:
    """Context manager (and decorator) that sets a mode and restores each module's own mode."""

    def __init__(self, model: Any, training: bool, no_grad: bool, name: str) -> None:
        if not hasattr(model, "modules") or not hasattr(model, "train"):
            raise TypeError(f"{name}: expected a neuralab Module, got {type(model).__name__}")
        self.model, self.training, self.no_grad, self.name = model, training, no_grad, name
        self._saved: list[tuple[list[tuple[Any, bool]], Any]] = []  # a stack: re-entrant

    def __enter__(self) -> Any:
        modes = [(m, m.training) for m in self.model.modules()]
        grad = _no_grad() if self.no_grad else None
        self._saved.append((modes, grad))
        self.model.train(self.training)
        if grad is not None:
            grad.__enter__()
        return self.model

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        modes, grad = self._saved.pop()
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
        if grad is not None:
            grad.__exit__(kind, error, tb)

    def __call__(self, fn: F) -> F:
        """Use as a decorator: the whole call runs in the mode."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _switch(model: Any, training: bool, no_grad: bool, name: str) -> Any:
    """A mode switch for ``model``, or, given a method, the method wrapped to switch ``self``."""
    if callable(model) and not hasattr(model, "modules"):  # bare @eval_mode on a method
        method = model

        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            with _ModeSwitch(self, training, no_grad, name):
                return method(self, *args, **kwargs)

        return wrapper
    return _ModeSwitch(model, training, no_grad, name)


def eval_mode(model: Any, no_grad: bool = True) -> Any:
    """Evaluation mode (dropout off, batch norm's running statistics) and, by default, no_grad.

    A context manager (``with eval_mode(model):``), a decorator (``@eval_mode(model)``), or a
    bare ``@eval_mode`` on a method of a Module. Each module's previous mode is restored on
    exit, also after an exception.
    """
    return _switch(model, False, no_grad, "eval_mode")


def train_mode(model: Any) -> Any:
    """Training mode for a block, each module's previous mode restored afterwards.

    The twin of :func:`eval_mode` (same forms), without changing gradient recording.
    """
    return _switch(model, True, False, "train_mode")
