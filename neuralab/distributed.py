"""torch.distributed's entry points, honestly reporting that no process group can exist yet:
``is_available()`` is False until data-parallel training over MPI is added."""

from __future__ import annotations

from typing import Any

__all__ = [
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
]

NOT_INITIALIZED = (
    "Default process group has not been initialized, please make sure to call init_process_group."
)


def is_available() -> bool:
    """False: neuralab has no distributed backend yet."""
    return False


def is_initialized() -> bool:
    """False: no process group can be initialised yet."""
    return False


def get_rank(group: Any = None) -> int:
    """Raises as torch does without a process group (there is none)."""
    raise ValueError(NOT_INITIALIZED)


def get_world_size(group: Any = None) -> int:
    """Raises as torch does without a process group (there is none)."""
    raise ValueError(NOT_INITIALIZED)


def init_process_group(backend: str | None = None, *args: Any, **kwargs: Any) -> None:
    """Raises: distributed training (over MPI) is not available yet in neuralab."""
    raise RuntimeError(
        f"init_process_group(backend={backend!r}): distributed training is not available yet "
        "in neuralab (is_available() is False); train in one process"
    )
