"""What the demos share: the folder their figures go to, and closing each figure once written.

The figures are drawn with :mod:`neuralab.viz` (matplotlib, the optional ``viz`` extra). Without
matplotlib a demo still runs and prints everything it shows; :class:`Figures` then says once
how to get the pictures and writes nothing.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Figures", "fmt_table"]


class Figures:
    """Writes a demo's figures to ``out`` (created on first use) and remembers their paths."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.paths: list[Path] = []
        self.enabled = importlib.util.find_spec("matplotlib") is not None
        self._noted = False

    def save(self, name: str, draw: Callable[[Path], Any]) -> Path | None:
        """Call ``draw(path)`` (a ``viz.plot_*`` call saving to ``path``), close the figure, print
        where it went; without matplotlib, say once how to get figures and return None."""
        if not self.enabled:
            if not self._noted:
                print(
                    "  (figures skipped: matplotlib is not installed; pip install 'neuralab[viz]')"
                )
                self._noted = True
            return None
        path = self.out / name
        fig = draw(path)
        import matplotlib.pyplot as plt

        plt.close(fig)
        self.paths.append(path)
        print(f"  figure: {path}")
        return path


def fmt_table(header: list[str], rows: list[list[Any]], indent: str = "  ") -> str:
    """Rows of cells as right-aligned text columns (floats with 4 significant digits)."""

    def cell(v: Any) -> str:
        return f"{v:.4g}" if isinstance(v, float | np.floating) else str(v)

    cells = [header] + [[cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join(indent + "  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells)
