"""torch.utils's module paths: ``neuralab.utils.data`` (datasets, samplers, DataLoader) and
``neuralab.utils.checkpoint`` (activation checkpointing).

Each is imported on first use (``neuralab.utils.data.DataLoader`` or ``from
neuralab.utils.data import ...``), so ``import neuralab`` does not load them.
"""

import importlib

_SUBMODULES = ("checkpoint", "data")


def __getattr__(name: str) -> object:
    if name in _SUBMODULES:
        return importlib.import_module(f"neuralab.utils.{name}")
    raise AttributeError(f"module 'neuralab.utils' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_SUBMODULES})
