"""Gradient descent: Exercise 5.1's three updates, then what the learning rate does.

On f(x) = x² the update x ← x − α·2x multiplies x by 1 − 2α each step: it shrinks towards the
minimum for 0 < α < 0.5, overshoots it on every step but still closes in (oscillates) for
0.5 < α < 1, and runs away (diverges) for α > 1. The gradients come from neuralab's autograd.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neuralab.demos._common import Figures, fmt_table

SUMMARY = (
    "Exercise 5.1's updates (7.2, 5.76, 4.608); learning rates that converge, oscillate, diverge"
)

RATES = (0.01, 0.1, 0.9, 1.1)
RATES_2D = (0.02, 0.09, 0.102)


def regime(factor: float) -> str:
    """'converges', 'oscillates' or 'diverges' for a step that multiplies x by ``factor``."""
    if abs(factor) > 1:
        return "diverges"
    return "oscillates" if factor < 0 else "converges"


def _square(x: Any) -> Any:
    return x**2


def _bowl(p: Any) -> Any:
    return p[..., 0] ** 2 + 10 * p[..., 1] ** 2


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Print Exercise 5.1 and the learning-rate regimes on f(x) = x²; draw 1-D and 2-D paths."""
    import neuralab.viz as viz

    figures = Figures(out)
    steps = 10 if quick else 20
    print("Exercise 5.1: f(x) = x², ∇f(x) = 2x, x0 = 9, α = 0.1, update x ← x − α·∇f(x)")
    xs = viz.descent_path(_square, 9.0, 0.1, 3)  # gradients by backward()
    updates = [round(float(x), 6) for x in xs[1:]]
    for t, (before, after) in enumerate(zip(xs[:-1], xs[1:]), start=1):
        print(f"  x{t} = {before:g} − 0.1·(2·{before:g}) = {after:g}")

    print(f"\nThe learning rate, {steps} steps from x0 = 9: each step multiplies x by 1 − 2α")
    regimes, finals, rows = {}, {}, []
    for lr in RATES:
        path = viz.descent_path(_square, 9.0, lr, steps)
        factor = float(path[1] / path[0])
        regimes[lr], finals[lr] = regime(factor), float(path[-1])
        rows.append([lr, round(factor, 6), f"{path[-1]:.4g}", regimes[lr]])
    print(fmt_table(["α", "factor", f"x{steps}", "verdict"], rows))
    print(
        "  α = 0.01 converges but crawls; 0.1 converges; 0.9 jumps across the minimum every step "
        "yet closes in; 1.1 overshoots further each step and diverges."
    )
    figures.save(
        "gradient_descent_1d.png",
        lambda p: viz.plot_gd_path(_square, 9.0, list(RATES), steps=steps, path=p),
    )

    print(
        "\nIn 2-D, on the elongated bowl f = x1² + 10·x2², the steep direction limits the rate "
        "(α < 2/20 = 0.1):"
    )
    starts = (-4.0, 1.0)
    rows = []
    for lr in RATES_2D:
        path = viz.descent_path(_bowl, starts, lr, steps)
        value = float(path[-1, 0] ** 2 + 10 * path[-1, 1] ** 2)
        rows.append([lr, f"{value:.3g}", regime(1 - 20 * lr)])
    print(fmt_table(["α", f"f after {steps} steps", "steep direction"], rows))
    print("  a small α crawls along the flat direction; near 0.1 it zig-zags across the steep one.")
    figures.save(
        "gradient_descent_2d.png",
        lambda p: viz.plot_gd_path(_bowl, starts, list(RATES_2D), steps=steps, path=p),
    )
    return {"updates": updates, "regimes": regimes, "final_x": finals, "figures": figures.paths}
