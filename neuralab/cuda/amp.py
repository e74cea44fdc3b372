"""torch.cuda.amp (deprecated in torch): ``GradScaler`` and ``autocast`` for CUDA.

There is no CUDA here, so both warn that they are disabled (after torch's deprecation warning)
and pass everything through: a program written for a GPU runs unchanged at full precision.
"""

from __future__ import annotations

import warnings
from typing import Any

from neuralab import amp
from neuralab.dtypes import float16

__all__ = ["GradScaler", "autocast"]


def _deprecated(name: str) -> None:
    warnings.warn(
        f"cuda.amp.{name}(args...) is deprecated (as in torch): use amp.{name}('cuda', args...)",
        FutureWarning,
        stacklevel=3,
    )


class autocast(amp.autocast):
    """``amp.autocast('cuda', ...)``: disabled with a warning, as CUDA is not available."""

    def __init__(self, enabled: bool = True, dtype: Any = float16, cache_enabled: bool = True):
        _deprecated("autocast")
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(amp.GradScaler):
    """``amp.GradScaler('cuda', ...)``: disabled (a warning if enabled), so it passes through."""

    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        _deprecated("GradScaler")
        super().__init__(
            "cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled
        )
