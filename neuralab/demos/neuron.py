"""The artificial neuron: one ``nn.Neuron``, four models, by the choice of activation and loss.

Perceptron (identity + soft perceptron loss), linear regression (identity + squared error),
linear SVM (identity + hinge + L2) and logistic regression (sigmoid + logistic loss) are the
estimators of :mod:`neuralab.estimators`, each one ``nn.Neuron`` trained by gradient descent.
Trained on the same 2-D data, they draw different lines: a group of far-away points that every
model already classifies correctly pulls the least-squares line (the squared error also punishes
margins above 1), while the other three losses ignore it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neuralab.demos._common import Figures, fmt_table

SUMMARY = "perceptron, linear regression, linear SVM, logistic regression: one neuron, four lines"

MODELS = (
    ("Perceptron", "identity", "soft perceptron max(0, −y·ŷ)"),
    ("LinearRegression", "identity", "squared error (y − ŷ)²"),
    ("LinearSVM", "identity", "hinge max(0, 1 − y·ŷ) + L2"),
    ("LogisticRegression", "sigmoid", "logistic (binary cross-entropy)"),
)


def make_data(n: int = 200, far: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian clusters labelled −1 and +1, plus ``far`` +1 points far out on the right."""
    rng = np.random.default_rng(seed)
    neg = rng.normal((-1.5, -1.0), 0.6, (n // 2, 2))
    pos = rng.normal((1.5, 1.0), 0.6, (n - n // 2, 2))
    outliers = rng.normal((6.0, -1.0), 0.5, (far, 2))
    X = np.concatenate([neg, pos, outliers]).astype(np.float32)
    y = np.concatenate([-np.ones(n // 2), np.ones(n - n // 2 + far)]).astype(np.float32)
    return X, y


def _draw(X: np.ndarray, y: np.ndarray, lines: dict[str, dict[str, Any]], path: Path) -> Any:
    """One panel per model: the points, its regions and line w·x + b = 0, the others dotted."""
    from neuralab.viz._figure import finish, pyplot

    plt = pyplot()
    fig, axes = plt.subplots(1, len(lines), figsize=(4.2 * len(lines), 4.2), layout="constrained")
    low, high = X.min(axis=0) - 0.8, X.max(axis=0) + 0.8
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], 200), np.linspace(low[1], high[1], 200))
    xs = np.linspace(low[0], high[0], 2)
    for i, (ax, (name, fit)) in enumerate(zip(axes, lines.items())):
        w, b = fit["w"], fit["b"]
        side = np.sign(w[0] * gx + w[1] * gy + b)
        ax.contourf(gx, gy, side, levels=[-2, 0, 2], colors=["C0", "C1"], alpha=0.15)
        for other, o in lines.items():
            if other != name:
                ax.plot(xs, -(o["w"][0] * xs + o["b"]) / o["w"][1], ":", color="gray", lw=1)
        ax.plot(xs, -(w[0] * xs + b) / w[1], color=f"C{i + 2}", lw=2.5, label="wᵀx + b = 0")
        for label, color in ((-1, "C0"), (1, "C1")):
            mine = y == label
            ax.scatter(*X[mine].T, s=12, color=color, edgecolors="k", linewidths=0.3)
        ax.set(xlim=(low[0], high[0]), ylim=(low[1], high[1]), xlabel="$x_1$", ylabel="$x_2$")
        ax.set_title(f"{name}\n{fit['activation']} + {fit['loss']}\naccuracy {fit['accuracy']:.1%}")
        ax.legend(loc="upper left", fontsize="small")
    fig.suptitle("One neuron ŷ = σ(wᵀx + b), four losses (dotted: the other three lines)")
    return finish(fig, path)


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Fit the four one-neuron estimators on the same data; print and draw their lines."""
    from neuralab import estimators

    figures = Figures(out)
    X, y = make_data()
    print(
        f"{len(X)} points in 2-D, labels ±1: two clusters plus {int((X[:, 0] > 4).sum())} "
        "far-right points of class +1. Each model is one nn.Neuron trained by gradient descent."
    )
    fits, rows = {}, []
    for name, activation, loss in MODELS:
        model = getattr(estimators, name)(random_state=0, max_iter=200 if quick else 1000)
        model.fit(X, y)
        predicted = model.predict(X)
        if name == "LinearRegression":  # a regressor: its output's sign is the class
            predicted = np.where(predicted >= 0, 1.0, -1.0)
        w, b = np.ravel(model.coef_), float(np.ravel(model.intercept_)[0])
        accuracy = float(np.mean(predicted == y))
        fits[name] = {"w": w, "b": b, "accuracy": accuracy, "activation": activation, "loss": loss}
        angle = float(np.degrees(np.arctan2(w[1], w[0])))
        rows.append([name, activation, loss, f"{accuracy:.1%}", f"{angle:.0f}°", model.n_iter_])
    print(fmt_table(["model", "σ", "loss", "accuracy", "normal w", "epochs"], rows))
    print(
        "  same neuron, different loss, different line: the squared error pulls the regression "
        "line towards the far points (it punishes even correct points far from ŷ = ±1); "
        "the perceptron, hinge and logistic losses barely notice them."
    )
    figures.save("neuron.png", lambda p: _draw(X, y, fits, p))
    accuracies = {name: fit["accuracy"] for name, fit in fits.items()}
    return {"accuracy": accuracies, "lines": fits, "figures": figures.paths}
