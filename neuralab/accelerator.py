"""torch.accelerator: the current accelerator, and there is none (neuralab runs on the CPU)."""

from __future__ import annotations

from typing import Any

from neuralab.device import require_cpu


def is_available() -> bool:
    """False: no accelerator."""
    return False


def current_accelerator(check_available: bool = False) -> None:
    """None: no accelerator."""
    return None


def device_count() -> int:
    """0 accelerators."""
    return 0


def current_device_index() -> int:
    """Raises, as torch does without an accelerator."""
    require_cpu("cuda", "accelerator.current_device_index()")
    return 0


def synchronize(device: Any = None) -> None:
    """Raises, as torch does without an accelerator."""
    require_cpu("cuda", "accelerator.synchronize()")
