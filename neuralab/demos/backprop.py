"""Backpropagation by hand: the chain rule on the lecture's small graph, step by step.

The graph is the lecture's chain of two sigmoid neurons, x → z² = θ₁x + b₁ → a² = σ(z²) →
z³ = θ₂a² + b₂ → a³ = σ(z³) → J = ½(a³ − y)². The forward pass computes each node; the backward
pass walks from J back to θ₁, multiplying at each node the gradient arriving from above by the
node's local derivative, so that ∂J/∂θ₁ = ∂J/∂a³ · ∂a³/∂z³ · ∂z³/∂a² · ∂a²/∂z² · ∂z²/∂θ₁.
Every number is then checked against the engine's ``backward()`` and against central finite
differences, and one gradient-descent step shows the loss going down.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from neuralab.demos._common import Figures, fmt_table

SUMMARY = "the chain rule on a two-neuron graph, step by step, checked against backward()"

X, Y = 1.5, 1.0  # one training example: input and target
PARAMS = {"θ1": 0.8, "b1": -0.2, "θ2": -1.2, "b2": 0.3}
LR = 0.5
NODES = ("z2", "a2", "z3", "a3", "J")


def sigmoid(z: float) -> float:
    """σ(z) = 1 / (1 + e^(−z))."""
    return 1.0 / (1.0 + math.exp(-z))


def forward(p: dict[str, float], x: float = X, y: float = Y) -> dict[str, float]:
    """Every node of the graph for parameters ``p``, by plain arithmetic."""
    z2 = p["θ1"] * x + p["b1"]
    a2 = sigmoid(z2)
    z3 = p["θ2"] * a2 + p["b2"]
    a3 = sigmoid(z3)
    return {"z2": z2, "a2": a2, "z3": z3, "a3": a3, "J": 0.5 * (a3 - y) ** 2}


def backward_by_hand(p: dict[str, float], v: dict[str, float], y: float = Y) -> list[tuple]:
    """The backward pass as rows (gradient name, local derivative, its value, upstream, result):
    each result is the upstream gradient times the local derivative (the chain rule)."""
    rows: list[tuple] = []
    grads: dict[str, float] = {"J": 1.0}

    def step(name: str, local_name: str, local: float, upstream: str) -> None:
        grads[name] = grads[upstream] * local
        rows.append((f"∂J/∂{name}", local_name, local, grads[upstream], grads[name]))

    step("a3", "a3 − y", v["a3"] - y, "J")
    step("z3", "σ'(z3) = a3(1 − a3)", v["a3"] * (1 - v["a3"]), "a3")
    step("θ2", "∂z3/∂θ2 = a2", v["a2"], "z3")
    step("b2", "∂z3/∂b2 = 1", 1.0, "z3")
    step("a2", "∂z3/∂a2 = θ2", p["θ2"], "z3")
    step("z2", "σ'(z2) = a2(1 − a2)", v["a2"] * (1 - v["a2"]), "a2")
    step("θ1", "∂z2/∂θ1 = x", X, "z2")
    step("b1", "∂z2/∂b1 = 1", 1.0, "z2")
    return rows


def engine_gradients(p: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """The same graph built from float64 Tensors: (∂J/∂parameter, ∂J/∂node) by ``backward()``."""
    import neuralab as nl

    t = {k: nl.tensor(v, dtype=nl.float64, requires_grad=True) for k, v in p.items()}
    z2 = t["θ1"] * X + t["b1"]
    a2 = z2.sigmoid()
    z3 = t["θ2"] * a2 + t["b2"]
    a3 = z3.sigmoid()
    nodes = {"z2": z2, "a2": a2, "z3": z3, "a3": a3}
    for node in nodes.values():
        node.retain_grad()
    J = 0.5 * (a3 - Y) ** 2
    J.backward()
    return {k: v.grad.item() for k, v in t.items()}, {k: v.grad.item() for k, v in nodes.items()}


def finite_differences(p: dict[str, float], h: float = 1e-6) -> dict[str, float]:
    """Central differences (J(θ + h) − J(θ − h)) / 2h, one parameter at a time."""
    out = {}
    for name in p:
        up, down = dict(p, **{name: p[name] + h}), dict(p, **{name: p[name] - h})
        out[name] = (forward(up)["J"] - forward(down)["J"]) / (2 * h)
    return out


def _draw(values: dict[str, float], grads: dict[str, float], path: Path) -> Any:
    """The chain as boxes: each node's value above its box, ∂J/∂node below; parameters beneath."""
    from neuralab.viz._figure import finish, pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 3.4), layout="constrained")
    names = ["x", *NODES]
    shown = {"x": X, **values}
    for i, name in enumerate(names):
        ax.text(
            i,
            0,
            name,
            ha="center",
            va="center",
            fontsize=13,
            bbox={"boxstyle": "round", "facecolor": "#dbe9f6"},
        )
        ax.text(i, 0.42, f"{shown[name]:.4f}", ha="center", color="tab:blue")
        if name in grads:
            ax.text(
                i, -0.42, f"∂J/∂{name}\n{grads[name]:.4f}", ha="center", color="tab:red", va="top"
            )
        if i:
            ax.annotate("", (i - 0.25, 0), (i - 0.75, 0), arrowprops={"arrowstyle": "->"})
    for i, (name, node) in enumerate((("θ1", 1), ("b1", 1), ("θ2", 3), ("b2", 3))):
        ax.text(
            node + (i % 2 - 0.5) * 0.95,
            -1.35,
            f"{name} = {PARAMS[name]}\n∂J/∂{name} = {grads[name]:.4f}",
            ha="center",
            fontsize=9,
            color="tab:red",
        )
    ax.set(
        xlim=(-0.6, len(names) - 0.4),
        ylim=(-1.7, 0.7),
        title="Forward values (blue) and the gradients backpropagated from J (red)",
    )
    ax.set_axis_off()
    return finish(fig, path)


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Print the forward pass, the backward pass step by step, the checks and one update."""
    figures = Figures(out)
    values = forward(PARAMS)
    print(f"One example x = {X}, y = {Y}; parameters {PARAMS}.")
    print("Forward pass (input to loss):")
    formulas = ["θ1·x + b1", "σ(z2)", "θ2·a2 + b2", "σ(z3)", "½(a3 − y)²"]
    print(
        fmt_table(
            ["node", "formula", "value"], [[n, f, values[n]] for n, f in zip(NODES, formulas)]
        )
    )
    rows = backward_by_hand(PARAMS, values)
    print("Backward pass (loss to input): gradient = upstream × local derivative")
    print(
        fmt_table(
            ["gradient", "local derivative", "local", "upstream", "= gradient"],
            [list(r) for r in rows],
        )
    )
    hand = {r[0].removeprefix("∂J/∂"): r[4] for r in rows}
    chain = [hand["a3"], rows[1][2], PARAMS["θ2"], rows[5][2], X]
    print(
        "The lecture's product: ∂J/∂θ1 = ∂J/∂a3 · ∂a3/∂z3 · ∂z3/∂a2 · ∂a2/∂z2 · ∂z2/∂θ1 = "
        + " · ".join(f"{c:.4f}" for c in chain)
        + f" = {math.prod(chain):.6f}"
    )
    engine, engine_nodes = engine_gradients(PARAMS)
    numeric = finite_differences(PARAMS)
    checks = [[k, hand[k], engine[k], numeric[k], abs(hand[k] - engine[k])] for k in PARAMS]
    checks += [
        [k, hand[k], engine_nodes[k], "", abs(hand[k] - engine_nodes[k])]
        for k in ("a3", "z3", "a2", "z2")
    ]
    print("Checked against the engine (backward(), float64) and finite differences:")
    print(fmt_table(["∂J/∂", "by hand", "backward()", "finite diff.", "|hand − engine|"], checks))
    max_error = max(row[4] for row in checks)
    updated = {k: v - LR * engine[k] for k, v in PARAMS.items()}
    after = forward(updated)["J"]
    print(
        f"  largest difference {max_error:.1e}. One gradient-descent step θ ← θ − {LR}·∇J "
        f"lowers the loss from {values['J']:.6f} to {after:.6f}."
    )
    grads = {**hand, "J": 1.0}
    figures.save("backprop_graph.png", lambda p: _draw(values, grads, p))
    return {
        "forward": values,
        "hand": hand,
        "engine": engine,
        "engine_nodes": engine_nodes,
        "finite_difference": numeric,
        "max_error": max_error,
        "loss_before": values["J"],
        "loss_after": after,
        "figures": figures.paths,
    }
