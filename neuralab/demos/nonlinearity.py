"""Why activations: the same network on the circle data, identity activation versus tanh.

The TensorFlow Playground's circle data (a disc of one class inside a ring of the other) cannot
be split by a line. A 2-8-8-1 network with the identity activation is still a linear function —
its three weight matrices multiply into one — so it can only draw a line and stays near chance.
With tanh between the layers the same network bends its boundary into a closed curve.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neuralab.demos._common import Figures, fmt_table

SUMMARY = "circle data: a network with identity activation fails, with tanh succeeds"

ACTIVATIONS = ("identity", "tanh")


def _collapse(model: Any) -> tuple[np.ndarray, float]:
    """The one linear map (w, b) that a network of Linear layers and identities computes."""
    w, b = np.eye(2), np.zeros(2)
    for layer in model.modules():
        if hasattr(layer, "weight") and layer.weight is not None:
            W, c = layer.weight.numpy().astype(np.float64), layer.bias.numpy().astype(np.float64)
            w, b = W @ w, W @ b + c
    return w.ravel(), float(b.ravel()[0])


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Train the identity and the tanh network on circle data; print accuracies, draw regions."""
    import neuralab as nl
    import neuralab.viz as viz
    from neuralab import nn, optim, train
    from neuralab.data import circle, train_test_split
    from neuralab.models.mlp import MLP

    figures = Figures(out)
    epochs = 30 if quick else 60
    X, y = circle(n=400, noise=0.0, seed=0, labels="01")
    X_train, X_test, y_train, y_test = train_test_split(X, y, ratio=0.5, seed=0)
    print(
        f"Circle data: {len(X_train)} training / {len(X_test)} test points; network 2-8-8-1, "
        f"Adam lr 0.03, batch 10, {epochs} epochs, sigmoid output with binary cross-entropy."
    )
    results, models, rows = {}, {}, []
    for activation in ACTIVATIONS:
        nl.manual_seed(0)
        model = MLP(2, [8, 8], 1, activation=activation)
        history = train.fit(
            model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=0.03),
            (X_train, y_train), epochs=epochs, batch_size=10, val_data=(X_test, y_test),
            verbose=0,
        )  # fmt: skip
        train_acc, test_acc = history["accuracy"][-1], history["val_accuracy"][-1]
        results[activation] = {"train_accuracy": train_acc, "accuracy": test_acc}
        rows.append([activation, f"{train_acc:.1%}", f"{test_acc:.1%}"])
        models[activation] = model
    print(fmt_table(["activation", "train accuracy", "test accuracy"], rows))
    w, b = _collapse(models["identity"])
    print(
        "  with the identity, the three layers multiply into one neuron, "
        f"ŷ = {w[0]:+.3f}·x1 {w[1]:+.3f}·x2 {b:+.3f}: a straight line, and no line separates a "
        "disc from the ring around it. tanh bends the boundary around the disc."
    )
    for activation, model in models.items():
        figures.save(
            f"nonlinearity_{activation}.png",
            lambda p, m=model, a=activation: viz.plot_decision_boundary(
                m, X_test, y_test, path=p, title=f"2-8-8-1, {a} activation, test data"
            ),
        )
    return {
        "accuracy": {a: r["accuracy"] for a, r in results.items()},
        "train_accuracy": {a: r["train_accuracy"] for a, r in results.items()},
        "identity_as_one_neuron": {"w": w.tolist(), "b": b},
        "figures": figures.paths,
    }
