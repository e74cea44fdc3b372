"""torch.cpu.amp (deprecated in torch): ``autocast`` for the CPU, i.e. ``amp.autocast('cpu')``."""

from __future__ import annotations

import warnings
from typing import Any

from neuralab import amp
from neuralab.dtypes import bfloat16

__all__ = ["autocast"]


class autocast(amp.autocast):
    """``amp.autocast('cpu', ...)`` after torch's deprecation warning; runs at full precision."""

    def __init__(self, enabled: bool = True, dtype: Any = bfloat16, cache_enabled: bool = True):
        warnings.warn(
            "cpu.amp.autocast(args...) is deprecated (as in torch): use "
            "amp.autocast('cpu', args...)",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)
