"""What every plot shares: a lazily imported pyplot, PNG saving, and Tensors as arrays.

matplotlib is imported here, inside :func:`pyplot`, and only when a plot is drawn, so that
``import neuralab.viz`` stays cheap. On a Linux machine without a display (a server, CI) the
non-interactive Agg backend is selected, unless pyplot is already loaded or ``MPLBACKEND`` is
set (Jupyter sets it), so notebooks and desktop sessions keep their own backend.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neuralab.tensor import Tensor

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PathLike = str | os.PathLike | None


def _headless() -> bool:
    """True on Linux/BSD with neither an X11 nor a Wayland display."""
    if sys.platform in ("win32", "darwin"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def pyplot() -> Any:
    """``matplotlib.pyplot``, imported on first use (Agg when there is no display)."""
    try:
        import matplotlib
    except ImportError as err:
        raise ImportError(
            "neuralab.viz needs matplotlib: pip install 'neuralab[viz]' (or matplotlib>=3.7)"
        ) from err
    if "matplotlib.pyplot" not in sys.modules and "MPLBACKEND" not in os.environ and _headless():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def finish(fig: Figure, path: PathLike) -> Figure:
    """Save ``fig`` to ``path`` (PNG unless the suffix names another format) and return it."""
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(target, dpi=110)
    return fig


def to_numpy(x: Any) -> np.ndarray:
    """A Tensor's array, or ``x`` as an ndarray."""
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def grid_shape(n: int, ncols: int) -> tuple[int, int]:
    """Rows and columns of a grid holding ``n`` panels, at most ``ncols`` wide."""
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    cols = max(1, min(ncols, n))
    return -(-n // cols), cols
