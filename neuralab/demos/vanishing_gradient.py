"""Vanishing gradients: per-layer gradient norms of a deep sigmoid network against a ReLU one.

Backpropagation multiplies the gradient, layer after layer, by the activation's derivative
(and the weights). The sigmoid's derivative is at most 0.25, so in a deep sigmoid network the
gradient reaching the first layers is orders of magnitude smaller than at the last: those
layers barely learn. ReLU's derivative is 1 wherever a unit is active, and the gradient keeps
its size. Both networks here have the same depth, width, initialization (He) and data; only the
activation differs. Norms come from ``neuralab.train.GradientStats``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neuralab.demos._common import Figures, fmt_table

SUMMARY = "per-layer gradient norms: a deep sigmoid network against a ReLU one"

DEPTH, WIDTH = 10, 32


def deep_net(activation: str, depth: int = DEPTH, width: int = WIDTH) -> Any:
    """``depth`` He-initialized Linear + activation layers of ``width`` units, then one output."""
    from neuralab import nn

    layers: list[Any] = []
    size = 2
    for _ in range(depth):
        linear = nn.Linear(size, width)
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.Sigmoid() if activation == "sigmoid" else nn.ReLU()]
        size = width
    layers.append(nn.Linear(size, 1))
    return nn.Sequential(*layers)


def _draw(by_layer: dict[str, list[float]], path: Path) -> Any:
    """Gradient norm against layer (input to output) for both networks, on a log scale."""
    from neuralab.viz._figure import finish, pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
    for name, norms in by_layer.items():
        ax.plot(np.arange(1, len(norms) + 1), norms, marker="o", label=name)
    ax.set_yscale("log")
    ax.set(
        title=f"Gradient norm per layer, {DEPTH} hidden layers, first epoch",
        xlabel="layer (1 = input side)",
        ylabel="gradient L2 norm (log)",
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return finish(fig, path)


def _titled(fig: Any, title: str, path: Path) -> Any:
    """Give a one-panel figure its title, then save it."""
    from neuralab.viz._figure import finish

    fig.axes[0].set_title(title)
    return finish(fig, path)


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Train both deep networks briefly; print first/last layer norms and their ratio; plot."""
    import neuralab as nl
    import neuralab.viz as viz
    from neuralab import nn, optim, train
    from neuralab.data import circle

    figures = Figures(out)
    epochs = 5 if quick else 20
    X, y = circle(n=200, noise=0.0, seed=0, labels="01")
    print(
        f"Circle data, {len(X)} points; 2-{'-'.join([str(WIDTH)] * DEPTH)}-1 networks "
        f"(He initialization), SGD lr 0.1, batch 20, {epochs} epochs."
    )
    results, by_layer, per_epoch, rows = {}, {}, {}, []
    for activation in ("sigmoid", "relu"):
        nl.manual_seed(0)
        model = deep_net(activation)
        stats = train.GradientStats()
        history = train.fit(
            model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.1), (X, y),
            epochs=epochs, batch_size=20, callbacks=[stats], verbose=0,
        )  # fmt: skip
        first_epoch = [norms[0] for norms in stats.norms.values()]
        first, last = first_epoch[0], first_epoch[-1]
        results[activation] = {
            "first": first, "last": last, "ratio": first / last,
            "per_layer": first_epoch, "accuracy": history["accuracy"][-1],
        }  # fmt: skip
        by_layer[activation] = first_epoch
        rows.append([
            activation, f"{first:.2e}", f"{last:.2e}", f"{first / last:.1e}",
            f"{history['accuracy'][-1]:.0%}",
        ])  # fmt: skip
        per_epoch[activation] = {
            f"layer {i}": norms for i, norms in enumerate(stats.norms.values(), start=1)
        }
    print("Gradient L2 norm in the first epoch (mean over its batches):")
    print(fmt_table(["activation", "first layer", "last layer", "first/last", "accuracy"], rows))
    s, r = results["sigmoid"], results["relu"]
    print(
        f"  the sigmoid network's first layer gets {s['ratio']:.0e} of its last layer's gradient "
        f"(ReLU: {r['ratio']:.1g}): each sigmoid layer shrinks it about "
        f"{(1 / s['ratio']) ** (1 / DEPTH):.1f}-fold, so the early layers hardly move and the "
        f"network stays at chance ({s['accuracy']:.0%}) while the ReLU one learns "
        f"({r['accuracy']:.0%})."
    )
    figures.save("vanishing_gradient_by_layer.png", lambda p: _draw(by_layer, p))
    for activation, norms in per_epoch.items():
        figures.save(
            f"vanishing_gradient_{activation}.png",
            lambda p, n=norms, a=activation: _titled(
                viz.plot_gradient_norms(n), f"{a} network: gradient norm per layer", p
            ),
        )
    return {"results": results, "figures": figures.paths}
