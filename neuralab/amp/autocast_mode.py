"""torch.amp.autocast on the CPU: accepted, and the computation stays at full precision.

NumPy has no bfloat16 (torch's CPU autocast dtype) and float16 arithmetic is slower than
float32 on CPUs, so inside ``autocast`` every op runs as outside it: a float32 model gives
float32 outputs equal to those without autocast. Arguments are checked as torch checks them,
and a device other than the CPU disables autocast with a warning, as torch does on a machine
without that device.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from neuralab.device import device
from neuralab.dtypes import bfloat16, float16

__all__ = ["autocast", "is_autocast_available"]


def _is_half(dtype: Any) -> bool:
    """Whether ``dtype`` is bfloat16 or float16, the dtypes torch's CPU autocast supports."""
    if dtype is bfloat16:
        return True
    try:
        return np.dtype(dtype) == float16
    except TypeError:
        return False


def device_kind(device_type: Any, where: str) -> str:
    """The device type named by the string ``device_type`` ('cpu', 'cuda', ...), checked."""
    if not isinstance(device_type, str):
        raise ValueError(
            f"{where}: expected device_type as a string such as 'cpu', got "
            f"{type(device_type).__name__}"
        )
    return device(device_type).type


def enabled_on_cpu_only(enabled: bool, device: str, where: str, disabling: str) -> bool:
    """``enabled``, turned off with a UserWarning (at the caller's caller, as torch warns) when
    ``device`` is not the CPU, the only device here; ``disabling`` ends the warning."""
    if enabled and device != "cpu":
        warnings.warn(
            f"{where}: device '{device}' is not available (neuralab runs on the CPU only); "
            f"{disabling}",
            UserWarning,
            stacklevel=3,
        )
        return False
    return enabled


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast can be enabled for ``device_type``: only for 'cpu' here."""
    return device_kind(device_type, "is_autocast_available") == "cpu"


class autocast:
    """Mixed-precision region (context manager or decorator); on neuralab ops keep their dtype.

    ``dtype`` defaults to torch's: bfloat16 on the CPU, float16 elsewhere. A CPU dtype other
    than bfloat16 or float16, or any other device, disables it with a UserWarning, as torch.
    """

    def __init__(
        self,
        device_type: str,
        dtype: Any = None,
        enabled: bool = True,
        cache_enabled: bool | None = None,
    ) -> None:
        self.device = device_kind(device_type, "autocast")
        self.fast_dtype = (
            dtype if dtype is not None else (bfloat16 if self.device == "cpu" else float16)
        )
        self._cache_enabled = True if cache_enabled is None else cache_enabled
        enabled = enabled_on_cpu_only(enabled, self.device, "autocast", "disabling autocast")
        if enabled and not _is_half(self.fast_dtype):
            warnings.warn(
                f"autocast: CPU autocast supports bfloat16 and float16, not {self.fast_dtype}; "
                f"disabling autocast",
                UserWarning,
                stacklevel=2,
            )
            enabled = False
        self._enabled = enabled

    def __enter__(self) -> autocast:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Use as a decorator: ``func`` runs inside this autocast region."""

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return run
