"""torch.cuda as it behaves on a machine without CUDA: neuralab computes on the CPU only.

Queries answer "no GPU" (``is_available()`` is False, ``device_count()`` 0, memory counters 0),
seeding and cache calls do nothing, and calls that need a GPU raise one clear error, as torch's
do where CUDA is missing.
"""

from __future__ import annotations

from typing import Any

from neuralab.cuda import amp
from neuralab.device import require_cpu


def _no_cuda(where: str) -> None:
    require_cpu("cuda", f"cuda.{where}")


def is_available() -> bool:
    """False: there is no CUDA here; pick the device with ``'cuda' if ... else 'cpu'``."""
    return False


def is_initialized() -> bool:
    """False: CUDA is never initialized."""
    return False


def device_count() -> int:
    """0 GPUs."""
    return 0


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: no GPU, so no bfloat16 on one."""
    return False


def manual_seed(seed: int) -> None:
    """Nothing to seed (the CPU generator is ``neuralab.manual_seed``)."""


def manual_seed_all(seed: int) -> None:
    """Nothing to seed."""


def seed() -> None:
    """Nothing to seed."""


def seed_all() -> None:
    """Nothing to seed."""


def empty_cache() -> None:
    """Nothing cached on a GPU."""


def memory_allocated(device: Any = None) -> int:
    """0 bytes: nothing lives on a GPU."""
    return 0


def max_memory_allocated(device: Any = None) -> int:
    """0 bytes."""
    return 0


def memory_reserved(device: Any = None) -> int:
    """0 bytes."""
    return 0


def max_memory_reserved(device: Any = None) -> int:
    """0 bytes."""
    return 0


def reset_peak_memory_stats(device: Any = None) -> None:
    """Nothing to reset."""


def synchronize(device: Any = None) -> None:
    """Raises, as torch does without CUDA: there is no GPU to wait for."""
    _no_cuda("synchronize()")


def current_device() -> int:
    """Raises: there is no current GPU."""
    _no_cuda("current_device()")
    return 0


def set_device(device: Any) -> None:
    """Raises: there is no GPU to select."""
    _no_cuda("set_device()")


def get_device_name(device: Any = None) -> str:
    """Raises: there is no GPU to name."""
    _no_cuda("get_device_name()")
    return ""


def get_device_properties(device: Any = None) -> Any:
    """Raises: there is no GPU to describe."""
    _no_cuda("get_device_properties()")


def get_device_capability(device: Any = None) -> tuple[int, int]:
    """Raises: there is no GPU to describe."""
    _no_cuda("get_device_capability()")
    return (0, 0)
