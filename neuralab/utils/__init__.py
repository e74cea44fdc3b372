"""torch.utils's module path: ``neuralab.utils.data`` (datasets, samplers, DataLoader).

``data`` is imported on first use (``neuralab.utils.data.DataLoader`` or ``from
neuralab.utils.data import ...``), so ``import neuralab`` does not load the data package.
"""

import importlib


def __getattr__(name: str) -> object:
    if name == "data":
        return importlib.import_module("neuralab.utils.data")
    raise AttributeError(f"module 'neuralab.utils' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "data"})
