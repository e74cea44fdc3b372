"""Gradients: per-layer gradient norms over epochs, and gradient-descent paths on a function.

The descent paths take their gradients from neuralab's own autograd (``backward`` through the
function), so they show what the engine computes, not a hand-written derivative.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from neuralab.tensor import Tensor, float64, no_grad, tensor
from neuralab.viz._figure import PathLike, finish, pyplot, to_numpy

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["descent_path", "plot_gd_path", "plot_gradient_norms"]


def plot_gradient_norms(stats: Any, path: PathLike = None) -> Figure:
    """Per-layer gradient norm against epoch on a log scale: vanishing or exploding gradients.

    ``stats`` maps each layer's name to one norm per epoch (``{name: [norm, ...]}``), listed
    from the input to the output layer, or is a ``neuralab.train.GradientStats`` callback (its
    ``.norms``). Layers are coloured from dark (first) to light (last), so gradients that shrink
    towards the input show as dark lines lying below the light ones.
    """
    norms = getattr(stats, "norms", stats)
    if not isinstance(norms, Mapping) or not norms:
        raise ValueError(
            "plot_gradient_norms: expected a non-empty {layer_name: [norm per epoch]} dict or a "
            f"GradientStats callback, got {type(stats).__name__}"
        )
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(norms)))
    for color, (name, values) in zip(colors, norms.items()):
        values = np.asarray(values, dtype=np.float64)
        ax.plot(
            np.arange(1, values.size + 1), values, marker="o", markersize=3, color=color, label=name
        )
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(title="Gradient norm per layer", xlabel="epoch", ylabel="gradient L2 norm (log)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(title="layer", fontsize="small", ncol=1 + len(norms) // 12)
    return finish(fig, path)


# ----------------------------------------------------------------------------- descent paths


def descent_path(f: Callable[[Tensor], Tensor], x0: Any, lr: float, steps: int) -> np.ndarray:
    """The iterates x_{k+1} = x_k - lr·∇f(x_k) (float64), gradients by neuralab's autograd.

    ``x0`` is a number (1-D f) or a point of any shape; returns ``steps + 1`` points stacked
    along a new first axis. Iteration stops early once a point is no longer finite.
    """
    if steps < 0:
        raise ValueError(f"descent_path: steps must be >= 0, got {steps}")
    x = np.asarray(x0, dtype=np.float64)
    points = [x]
    for _ in range(steps):
        if not np.all(np.isfinite(x)):
            break
        point = tensor(x, dtype=float64, requires_grad=True)
        value = f(point)
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise ValueError(
                "descent_path: f must map a point to a one-element Tensor, got "
                f"{type(value).__name__} of shape {getattr(value, 'shape', None)} for a point "
                f"of shape {x.shape}"
            )
        value.sum().backward()
        grad = np.zeros_like(x) if point.grad is None else point.grad.numpy()
        with np.errstate(over="ignore", invalid="ignore"):
            x = x - lr * grad
        points.append(x)
    return np.stack(points)


def _verdict(values: np.ndarray, xs: np.ndarray) -> str:
    """'diverges', 'oscillates' or 'converges', from the function values and 1-D iterates."""
    if not np.all(np.isfinite(values)) or values[-1] > values[0]:
        return "diverges"
    moves = np.sign(np.diff(xs))
    flips = np.count_nonzero(moves[1:] * moves[:-1] < 0)
    return "oscillates" if flips > (moves.size - 1) / 2 else "converges"


def _evaluate(f: Callable[[Tensor], Tensor], points: np.ndarray) -> np.ndarray:
    """f on a batch of points (float64, no graph): elementwise in 1-D, over the last axis in 2-D."""
    with no_grad():
        return to_numpy(f(tensor(points, dtype=float64))).astype(np.float64)


def _span(values: np.ndarray, pad: float = 0.15) -> tuple[float, float]:
    """An interval around the finite ``values``, widened by ``pad`` of its length."""
    finite = values[np.isfinite(values)]
    low, high = float(finite.min()), float(finite.max())
    width = max(high - low, 1.0)
    return low - pad * width, high + pad * width


def _gd_1d(ax: Axes, f: Callable, x0: float, lr: float, steps: int) -> None:
    xs = descent_path(f, x0, lr, steps)
    fx = _evaluate(f, xs)
    grid = np.linspace(*_span(xs), 400)
    ax.plot(grid, _evaluate(f, grid), color="black", linewidth=1, label="f(x)")
    ax.plot(xs, fx, marker="o", markersize=4, color="C3", linewidth=1, label="iterates")
    ax.plot(xs[:1], fx[:1], marker="s", markersize=7, color="C2", linestyle="", label="start")
    ax.set(title=f"lr = {lr:g}: {_verdict(fx, xs)}", xlabel="x", ylabel="f(x)")


def _gd_2d(plt: Any, f: Callable, x0: np.ndarray, rates: Sequence[float], steps: int) -> Figure:
    """The paths of every rate over the contour lines of f, axes to scale."""
    paths = [descent_path(f, x0, lr, steps) for lr in rates]
    every = np.concatenate(paths)
    (x_low, x_high), (y_low, y_high) = _span(every[:, 0]), _span(every[:, 1])
    height = float(np.clip((y_high - y_low) / (x_high - x_low), 0.25, 1.5)) * 6
    fig, ax = plt.subplots(figsize=(7.6, height + 1.2), layout="constrained")
    gx, gy = np.meshgrid(np.linspace(x_low, x_high, 150), np.linspace(y_low, y_high, 150))
    values = _evaluate(f, np.stack([gx, gy], axis=-1))
    levels = np.unique(np.quantile(values[np.isfinite(values)], np.linspace(0, 1, 16)[1:-1]))
    contours = ax.contour(gx, gy, values, levels=levels, cmap="viridis", linewidths=0.8)
    ax.clabel(contours, fontsize="x-small", fmt="%.3g")
    for i, (lr, xs) in enumerate(zip(rates, paths)):
        fx = _evaluate(f, xs)
        label = f"lr = {lr:g} (f: {fx[0]:.3g} → {fx[-1]:.3g})"
        ax.plot(xs[:, 0], xs[:, 1], marker="o", markersize=3, color=f"C{i + 1}", label=label)
    ax.plot(*x0, marker="s", markersize=7, color="black", linestyle="", label="start")
    ax.set(title=f"Gradient descent, {steps} steps", xlabel="$x_1$", ylabel="$x_2$")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(fontsize="small")
    return fig


def plot_gd_path(
    f: Callable[[Tensor], Tensor],
    x0: Any,
    lr: float | Sequence[float],
    steps: int = 20,
    path: PathLike = None,
) -> Figure:
    """Gradient descent from ``x0`` on ``f`` for one or several learning rates.

    1-D (``x0`` a number): one panel per learning rate with the curve f(x) and the iterates
    on it, titled converges / oscillates / diverges — e.g. on f(x) = x², lr 0.1 converges,
    0.9 oscillates towards 0 and 1.1 diverges. 2-D (``x0`` of shape (2,)): the paths of all
    rates over the contour lines of f. ``f`` maps a Tensor to a Tensor and must work on a
    batch: elementwise in 1-D (``lambda x: x**2``), over a last axis of size 2 in 2-D
    (``lambda p: p[..., 0]**2 + 10 * p[..., 1]**2``).
    """
    rates = [lr] if np.ndim(lr) == 0 else [float(r) for r in lr]
    start = np.asarray(x0, dtype=np.float64)
    if start.shape not in ((), (1,), (2,)) or not rates:
        raise ValueError(
            f"plot_gd_path: x0 must be a number (1-D) or a point of shape (2,), got shape "
            f"{start.shape}; lr must name at least one learning rate, got {lr!r}"
        )
    plt = pyplot()
    if start.shape == (2,):
        return finish(_gd_2d(plt, f, start, rates, steps), path)
    fig, axes = plt.subplots(
        1, len(rates), figsize=(4.2 * len(rates), 3.6), squeeze=False, layout="constrained"
    )
    for ax, rate in zip(axes[0], rates):
        _gd_1d(ax, f, float(start.reshape(())), rate, steps)
    axes[0, 0].legend(fontsize="small")
    return finish(fig, path)
