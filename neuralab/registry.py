"""Things chosen by name — datasets, activations, losses, optimizers, schedules, models — in one
kind of table: :class:`Registry`, a name → object map with aliases and errors that list the names.

Each package keeps the registry of what it defines (``neuralab.nn.registry.ACTIVATIONS``,
``neuralab.data.registry.DATASETS``, ``neuralab.models.registry.MODELS``, ...); the CLI, the
playground, the estimators, the script export and ``io`` all look names up there. Spelling is
forgiving in one way only: case and ``-``/``_`` do not matter (``breast-cancer`` is
``breast_cancer``); other spellings are explicit aliases (the playground's ``reg-gauss`` for
``multi_gauss``).
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

__all__ = ["Registry", "UnknownNameError"]

T = TypeVar("T")


class UnknownNameError(KeyError, ValueError):
    """A name no registry entry has: the message lists the valid names and close matches.

    A ``KeyError`` (a failed lookup) and a ``ValueError`` (a bad argument) at once, so callers
    written against either keep working; ``str()`` is the plain message.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_")


class Registry(Generic[T]):
    """Objects of one kind by canonical name, with aliases; ``kind`` names them in errors."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._canonical: dict[str, str] = {}  # normalized name or alias -> canonical name
        self._aliases: dict[str, tuple[str, ...]] = {}

    def register(self, name: str, obj: T | None = None, *, aliases: Iterable[str] = ()) -> Any:
        """Add ``obj`` as ``name`` (and ``aliases``); without ``obj``, a decorator that does.

        Registering the same object again under the same name is a no-op (a module reloaded);
        a name or alias already taken by something else is a ``ValueError``.
        """

        def add(item: T) -> T:
            taken = self._entries.get(name)
            if taken is not None and not _same(taken, item):
                raise ValueError(f"{self.kind} registry: the name {name!r} is already taken")
            for spelling in (name, *aliases):
                owner = self._canonical.get(_key(spelling))
                if owner is not None and owner != name:
                    raise ValueError(f"{self.kind} registry: {spelling!r} already names {owner!r}")
                self._canonical[_key(spelling)] = name
            self._entries[name] = item
            self._aliases[name] = tuple(dict.fromkeys((*self._aliases.get(name, ()), *aliases)))
            return item

        return add if obj is None else add(obj)

    def canonical(self, name: str) -> str:
        """The canonical name for ``name`` or one of its aliases; unknown names raise
        :class:`UnknownNameError` listing the valid names and suggesting close ones."""
        if not isinstance(name, str):
            raise UnknownNameError(f"{self.kind} names are strings, got {name!r}")
        found = self._canonical.get(_key(name))
        if found is None:
            raise UnknownNameError(self.unknown(name))
        return found

    def get(self, name: str) -> T:
        """The object registered as ``name`` (canonical or alias)."""
        return self._entries[self.canonical(name)]

    def names(self) -> list[str]:
        """The canonical names, in registration order."""
        return list(self._entries)

    def aliases(self, name: str) -> tuple[str, ...]:
        """The other spellings that ``name`` is known by."""
        return self._aliases[self.canonical(name)]

    def items(self) -> list[tuple[str, T]]:
        """(canonical name, object) pairs in registration order."""
        return list(self._entries.items())

    def where(self, test: Callable[[T], bool]) -> list[str]:
        """The canonical names whose object passes ``test``."""
        return [name for name, item in self._entries.items() if test(item)]

    def describe(self, names: Iterable[str] | None = None) -> str:
        """The names (all, or ``names``) as one comma-separated line for help texts."""
        return ", ".join(self.names() if names is None else names)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _key(name) in self._canonical

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._entries)})"

    def unknown(self, name: str) -> str:
        """The message for a name not registered: close matches first, then every name."""
        spellings = list(self._canonical)
        close = difflib.get_close_matches(_key(name), spellings, n=3, cutoff=0.6)
        suggestion = dict.fromkeys(self._canonical[c] for c in close)  # best match first
        hint = f"; did you mean {' or '.join(suggestion)}?" if suggestion else ""
        known = ", ".join(self._entries) or "(none registered)"
        return f"unknown {self.kind} {name!r}{hint} (choose one of: {known})"


def _same(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are one entry met twice: the same or an equal object, or one
    function or class defined again (its module imported anew)."""
    if a is b:
        return True
    with contextlib.suppress(Exception):
        if a == b:
            return True
    name = getattr(a, "__qualname__", None)
    return (
        isinstance(name, str)
        and name == getattr(b, "__qualname__", None)
        and getattr(a, "__module__", None) == getattr(b, "__module__", None)
    )
