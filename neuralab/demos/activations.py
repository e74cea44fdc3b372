"""Activation functions and their derivatives: what the neuron's σ does to the weighted sum.

The lecture's four — sigmoid, tanh, ReLU and leaky ReLU — evaluated at a few inputs, with the
derivative taken by neuralab's own ``backward()``. The derivative is what backpropagation
multiplies by at every layer: the sigmoid's never exceeds 0.25, which is why deep sigmoid
networks suffer from vanishing gradients (see the ``vanishing-gradient`` demo), while ReLU's is
exactly 1 for every positive input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neuralab.demos._common import Figures, fmt_table

SUMMARY = "sigmoid, tanh, ReLU, leaky ReLU and their derivatives (sigmoid' ≤ 0.25)"

NAMES = ("sigmoid", "tanh", "relu", "leaky_relu")
POINTS = (-4.0, -1.0, 0.5, 1.0, 4.0)


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Print each activation's values and derivatives at a few points; plot the curves."""
    import neuralab.viz as viz

    figures = Figures(out)
    grid = np.linspace(-5, 5, 1001)
    values, derivatives, peaks, rows = {}, {}, {}, []
    for name in NAMES:
        fx, dfx = viz.activation_curve(viz.ACTIVATIONS[name], np.array(POINTS))
        values[name], derivatives[name] = fx.tolist(), dfx.tolist()
        peaks[name] = float(viz.activation_curve(viz.ACTIVATIONS[name], grid)[1].max())
        rows.append([f"{name}(z)", *(f"{v:.3f}" for v in fx), ""])
        rows.append([f"{name}'(z)", *(f"{v:.3f}" for v in dfx), f"{peaks[name]:.3g}"])
    print("Activations g(z) and their derivatives g'(z) (by backward(); leaky slope 0.1):")
    print(fmt_table(["z", *(f"{p:g}" for p in POINTS), "max g'"], rows))
    depth = 10
    print(
        f"  sigmoid' is at most {peaks['sigmoid']:.2f}: through {depth} sigmoid layers the "
        f"gradient is multiplied by at most {peaks['sigmoid'] ** depth:.1e}. ReLU passes it "
        "unchanged where the input is positive (and blocks it where negative; leaky ReLU "
        "keeps a 0.1 trickle there). Sigmoid squashes into (0, 1), tanh into (−1, 1)."
    )
    figures.save("activations.png", lambda p: viz.plot_activations(NAMES, path=p))
    return {
        "points": list(POINTS),
        "values": values,
        "derivatives": derivatives,
        "max_derivative": peaks,
        "figures": figures.paths,
    }
