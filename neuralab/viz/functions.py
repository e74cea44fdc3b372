"""The lecture's functions: activations with their derivatives, and the margin losses.

Every curve is computed by neuralab itself — activation derivatives by ``backward`` through the
op, losses by ``neuralab.nn.functional`` — so the pictures double as a check of the engine.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from neuralab.nn import functional as F
from neuralab.nn.registry import ACTIVATIONS as REGISTERED
from neuralab.tensor import Tensor, float64, no_grad, tensor
from neuralab.viz._figure import PathLike, finish, grid_shape, pyplot

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ACTIVATIONS", "activation_curve", "plot_activations", "plot_losses"]

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    name: REGISTERED.get(name).function
    for name in ("sigmoid", "tanh", "relu", "leaky_relu", "gelu")
}
ACTIVATIONS["leaky_relu"] = functools.partial(F.leaky_relu, negative_slope=0.1)  # visible slope
"""The activations :func:`plot_activations` draws by default (leaky_relu with slope 0.1); any
other name of ``neuralab.nn.registry.ACTIVATIONS`` works too."""


def activation_curve(
    fn: Callable[[Tensor], Tensor], x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``fn(x)`` and its derivative at every point of ``x``, the latter by neuralab's backward."""
    point = tensor(np.asarray(x, dtype=np.float64), dtype=float64, requires_grad=True)
    out = fn(point)
    out.sum().backward()  # elementwise fn: d sum / d x_i = fn'(x_i)
    grad = np.zeros_like(point.numpy()) if point.grad is None else point.grad.numpy()
    return out.numpy(), grad


def _title(name: str, fn: Callable) -> str:
    """The name, followed by the fixed arguments of a ``functools.partial``."""
    fixed = getattr(fn, "keywords", None) if isinstance(fn, functools.partial) else None
    return f"{name} ({', '.join(f'{k}={v}' for k, v in fixed.items())})" if fixed else name


def plot_activations(
    names: Sequence[str | Callable[[Tensor], Tensor]] = tuple(ACTIVATIONS),
    path: PathLike = None,
    x_range: tuple[float, float] = (-5.0, 5.0),
) -> Figure:
    """One panel per activation: f(x) solid and f'(x) dashed, the derivative from autograd.

    ``names`` are keys of :data:`ACTIVATIONS` or elementwise callables on Tensors (named by
    their ``__name__``). The derivative's size shows why deep sigmoid networks learn slowly
    (at most 0.25) and why ReLU does not (1 for every positive input).
    """
    fns = []
    for name in names:
        if callable(name):
            inner = name.func if isinstance(name, functools.partial) else name
            fns.append((getattr(inner, "__name__", type(inner).__name__), name))
        elif name in ACTIVATIONS:
            fns.append((name, ACTIVATIONS[name]))
        elif name in REGISTERED:
            fns.append((name, REGISTERED.get(name).function))
        else:
            raise ValueError(f"plot_activations: {REGISTERED.unknown(name)} or pass a callable")
    if not fns:
        raise ValueError("plot_activations: names is empty")
    x = np.linspace(*x_range, 401)
    plt = pyplot()
    rows, cols = grid_shape(len(fns), 3)
    fig, axes = plt.subplots(
        rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False, layout="constrained"
    )
    for ax in axes.flat[len(fns) :]:
        ax.set_visible(False)
    for ax, (name, fn) in zip(axes.flat, fns):
        y, dy = activation_curve(fn, x)
        ax.axhline(0, color="gray", linewidth=0.6)
        ax.axvline(0, color="gray", linewidth=0.6)
        ax.plot(x, y, linewidth=2, label=f"{name}(x)")
        ax.plot(x, dy, linewidth=2, linestyle="--", label=f"{name}'(x)")
        ax.set(title=_title(name, fn), xlabel="x")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="upper left")
    return finish(fig, path)


def plot_losses(path: PathLike = None, margin_range: tuple[float, float] = (-3.0, 3.0)) -> Figure:
    """The classification losses as functions of the margin m = y·ŷ (labels y ∈ {-1, +1}).

    Squared (1 − m)², logistic log(1 + e^−m), hinge max(0, 1 − m), cross-entropy of σ(ŷ) and
    soft perceptron max(0, −m), each evaluated by ``neuralab.nn.functional`` at y = +1, ŷ = m.
    m < 0 is a misclassified point; the hinge still charges correct points inside the margin
    (m < 1), the perceptron only wrong ones, and the squared loss also punishes m > 1.
    Cross-entropy on σ(ŷ) with target (1 + y)/2 is the logistic loss (dashed on top of it).
    """
    m = np.linspace(*margin_range, 601)
    with no_grad():
        score = tensor(m, dtype=float64)
        y = tensor(np.ones_like(m), dtype=float64)
        curves = {
            "squared (1 − m)²": F.mse_loss(score, y, reduction="none"),
            "logistic log(1 + e⁻ᵐ)": F.logistic_loss(score, y, reduction="none"),
            "hinge max(0, 1 − m)": F.hinge_loss(score, y, reduction="none"),
            "cross-entropy −log σ(m)": F.binary_cross_entropy_with_logits(
                score, (y + 1) / 2, reduction="none"
            ),
            "soft perceptron max(0, −m)": F.perceptron_loss(score, y, reduction="none"),
        }
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    ax.axvline(0, color="gray", linewidth=0.6)
    ax.axvline(1, color="gray", linewidth=0.6, linestyle=":")
    for i, (label, loss) in enumerate(curves.items()):
        dashed = label.startswith("cross-entropy")
        ax.plot(
            m,
            loss.numpy(),
            color=f"C{i}",
            linewidth=1.6 if dashed else 2.4,
            linestyle="--" if dashed else "-",
            label=label,
        )
    ax.set_ylim(-0.1, 4.5)
    ax.set(title="Losses of the margin m = y·ŷ", xlabel="margin m = y·ŷ", ylabel="loss")
    ax.grid(alpha=0.3)
    ax.legend()
    return finish(fig, path)
