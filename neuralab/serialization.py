"""``torch.serialization``'s names: the allow-list of classes a file may rebuild, map_location.

``nl.save``/``nl.load`` (neuralab/io.py) never pickle, so there is no unpickler to restrict;
the allow-list (:func:`add_safe_globals`, :func:`safe_globals`) names the model classes that
``load`` may construct from a file besides neuralab's own, registered and already-imported ones
(a class defined inside a function can only be allowed this way). See docs/save_load.md.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from neuralab.device import device, require_cpu

__all__ = [
    "DEFAULT_PROTOCOL",
    "SourceChangeWarning",
    "add_safe_globals",
    "clear_safe_globals",
    "default_restore_location",
    "get_safe_globals",
    "safe_globals",
]

DEFAULT_PROTOCOL = 2  # torch's pickle protocol number: accepted by save and ignored (no pickle)

_SAFE_GLOBALS: list[Any] = []


class SourceChangeWarning(Warning):
    """torch warns with this when a pickled model's source changed; neuralab never raises it."""


def add_safe_globals(safe_globals: Iterable[Any]) -> None:
    """Allow ``load`` to construct these classes; an entry may be ``(cls, "module.QualName")``."""
    entries = list(safe_globals)
    for entry in entries:
        _path_of(entry)  # refuse a malformed entry now, not at load
    _SAFE_GLOBALS.extend(entries)


def get_safe_globals() -> list[Any]:
    """The entries added with :func:`add_safe_globals` (a copy)."""
    return list(_SAFE_GLOBALS)


def clear_safe_globals() -> None:
    """Forget every entry added with :func:`add_safe_globals`."""
    _SAFE_GLOBALS.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: Iterable[Any]) -> Iterator[None]:
    """Allow these classes inside the ``with`` block only (torch's context manager)."""
    before = list(_SAFE_GLOBALS)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _SAFE_GLOBALS[:] = before


def _path_of(entry: Any) -> str:
    """The ``module.QualName`` an allow-list entry stands for."""
    if isinstance(entry, tuple):
        if len(entry) != 2 or not isinstance(entry[1], str):
            raise TypeError(
                f"add_safe_globals: a tuple entry must be (class, 'module.QualName'), got {entry!r}"
            )
        return entry[1]
    if not hasattr(entry, "__qualname__"):
        raise TypeError(
            f"add_safe_globals: expected classes or (class, name) tuples, got a "
            f"{type(entry).__name__}"
        )
    return f"{entry.__module__}.{entry.__qualname__}"


def allowed(path: str) -> Any | None:
    """The allow-listed object named ``module.QualName``, or None."""
    for entry in reversed(_SAFE_GLOBALS):
        if _path_of(entry) == path:
            return entry[0] if isinstance(entry, tuple) else entry
    return None


# ----------------------------------------------------------------------------- map_location


def check_map_location(map_location: Any) -> None:
    """Accept a map_location that leaves tensors on the CPU; refuse any other device clearly."""
    if map_location is None or callable(map_location):  # a callable is accepted, not called
        return
    if isinstance(map_location, dict):
        for target in map_location.values():
            require_cpu(target, f"load: map_location={map_location!r}")
    elif isinstance(map_location, (str, device)):
        require_cpu(map_location, "load: map_location")
    else:
        raise TypeError(
            f"load: map_location must be a device, a string, a dict or a callable, got "
            f"{type(map_location).__name__}"
        )


def default_restore_location(storage: Any, location: str) -> Any:
    """``storage`` itself when ``location`` is the CPU (the only device); an error otherwise."""
    require_cpu(location, "default_restore_location")
    return storage


def __getattr__(name: str) -> Callable[..., Any]:
    """``serialization.save``/``load`` are ``nl.save``/``nl.load`` (io imports this module)."""
    if name in ("save", "load"):
        from neuralab import io

        return getattr(io, name)
    raise AttributeError(f"module 'neuralab.serialization' has no attribute {name!r}")
