"""torch.compile and torch.compiler: accepted, and the model or function runs as it is.

neuralab has no graph compiler: ``compile(model)`` returns ``model`` itself (not torch's
``OptimizedModule`` wrapper, so ``state_dict()`` keys carry no ``_orig_mod.`` prefix) and
``compile(fn)`` returns ``fn``. Arguments are checked as torch checks them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["compile", "disable", "is_compiling", "reset"]

_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


def compile(  # noqa: A001  (torch's name)
    model: Callable[..., Any] | None = None,
    *,
    fullgraph: bool = False,
    dynamic: bool | None = None,
    backend: str | Callable[..., Any] | None = None,
    mode: str | None = None,
    options: dict[str, Any] | None = None,
    name: str | None = None,
    disable: bool = False,
) -> Any:
    """``model`` unchanged (a Module or a function); without ``model``, a decorator doing so."""
    if mode is not None and options is not None:
        raise RuntimeError("compile: give mode or options, not both")
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"compile: unknown mode={mode!r}; expected one of {', '.join(_MODES)}")
    return _unchanged if model is None else _unchanged(model)


def _unchanged(model: Callable[..., Any]) -> Callable[..., Any]:
    if not callable(model):
        raise TypeError(f"compile: expected a Module or a function, got a {type(model).__name__}")
    return model


def disable(
    fn: Callable[..., Any] | None = None, recursive: bool = True, *, reason: str | None = None
) -> Any:
    """torch.compiler.disable: ``fn`` unchanged (nothing is compiled anyway); also a decorator."""
    return _unchanged if fn is None else _unchanged(fn)


def is_compiling() -> bool:
    """False: code never runs inside a compiler here."""
    return False


def reset() -> None:
    """Nothing to reset: no compiled code is cached."""
