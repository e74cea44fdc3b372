"""Batch, stochastic and mini-batch gradient descent on the same data and epoch budget.

Batch gradient descent (``DataLoader(batch_size=len(data))``) takes one exact step per epoch;
stochastic gradient descent (``batch_size=1``) takes one noisy step per example; mini-batch
gradient descent (``batch_size=32``) averages a few examples per step. Per epoch, more steps
means more progress; per second, each step's cost matters too, and a mini-batch is computed in
one matrix product for little more than the cost of one example. The learning rate (plain SGD,
0.1) and everything else are the same for the three runs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from neuralab.demos._common import Figures, fmt_table

SUMMARY = "batch vs stochastic vs mini-batch descent: loss per epoch and per second"

BATCHES = {"batch (all)": None, "stochastic (1)": 1, "mini-batch (32)": 32}


def _draw(curves: dict[str, dict[str, list[float]]], path: Path) -> Any:
    """Two panels: training loss against epochs and against seconds of training."""
    from neuralab.viz._figure import finish, pyplot

    plt = pyplot()
    fig, (by_epoch, by_time) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    for name, c in curves.items():
        by_epoch.plot(c["epoch"], c["loss"], label=name)
        by_time.plot(c["seconds"][1:], c["loss"][1:], label=name)  # log axis: no 0 s
    by_epoch.set(title="Loss against epochs", xlabel="epoch", ylabel="training loss")
    by_time.set(title="Loss against training time", xlabel="seconds (log)", ylabel="training loss")
    by_time.set_xscale("log")
    for ax in (by_epoch, by_time):
        ax.grid(alpha=0.3)
        ax.legend()
    return finish(fig, path)


def _clock(every: int, X: Any, y: Any, loss: Any) -> Any:
    """A callback recording the training loss on (X, y) every ``every`` steps and at each
    epoch's end, with the seconds spent in training steps so far."""
    from neuralab import train

    class Clock(train.Callback):
        def __init__(self) -> None:
            self.every, self.seconds, self.step = every, 0.0, 0
            self.curve: dict[str, list[float]] = {"epoch": [], "seconds": [], "loss": []}

        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            self.record(0.0)

        def record(self, epoch: float) -> None:
            self.curve["epoch"].append(epoch)
            self.curve["seconds"].append(self.seconds)
            self.curve["loss"].append(
                train.evaluate(self.model, loss, (X, y), batch_size=None)["loss"]
            )

        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.epoch = epoch

        def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            self.seconds += time.perf_counter() - self.start
            self.step += 1
            steps = self.params["steps"]
            if (batch + 1) % self.every == 0 or batch + 1 == steps:  # and at each epoch's end
                self.record(self.epoch + (batch + 1) / steps)

    return Clock()


def _descend(size: int | None, X: Any, y: Any, loss: Any, epochs: int) -> tuple[Any, int]:
    """Train the demo's MLP with batches of ``size`` (None: all); its clock and steps/epoch."""
    import neuralab as nl
    from neuralab import optim, train
    from neuralab.data import DataLoader, TensorDataset
    from neuralab.models.mlp import MLP

    nl.manual_seed(0)
    model = MLP(2, [16, 16], 1, activation="tanh")
    full = len(X) if size is None else size  # None: the whole set in one batch
    loader = DataLoader(TensorDataset(X, y), batch_size=full, shuffle=True)
    clock = _clock(max(1, len(loader) // 10), X, y, loss)
    train.fit(
        model, loss, optim.SGD(model.parameters(), lr=0.1), loader, epochs=epochs,
        callbacks=[clock], verbose=0,
    )  # fmt: skip
    return clock, len(loader)


def _report(results: dict, curves: dict, n: int) -> dict[str, float | None]:
    """Print the time each descent took to reach loss 0.5 and the cost of a step; the times."""
    target = 0.5
    reach = {
        name: next((s for s, v in zip(c["seconds"], c["loss"]) if v <= target), None)
        for name, c in curves.items()
    }
    said = ", ".join(
        f"{name} {'never' if t is None else f'{t:.3f} s'}" for name, t in reach.items()
    )
    print(f"  time to reach loss {target}: {said}.")
    ms = {name: 1e3 * r["seconds"] / r["steps"] for name, r in results.items()}
    print(
        "  per epoch, more (noisier) steps make more progress; per second, what a step costs "
        f"matters too: a step on 32 examples took {ms['mini-batch (32)']:.2f} ms, on one "
        f"example {ms['stochastic (1)']:.2f} ms, on all {n} {ms['batch (all)']:.2f} ms — one "
        "matrix product handles many examples for little more than the price of one."
    )
    return reach


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Train the same network with the three batch sizes; print and plot loss per epoch and time."""
    from neuralab import nn
    from neuralab.data import circle

    figures = Figures(out)
    n, epochs = (200, 8) if quick else (400, 20)
    X, y = circle(n=n, noise=0.0, seed=0, labels="01")
    loss = nn.BCEWithLogitsLoss()
    print(
        f"Circle data, {n} points; MLP 2-16-16-1 (tanh), plain SGD lr 0.1, {epochs} epochs each. "
        "Loss on the whole training set; time counts training steps only."
    )
    results, curves, rows = {}, {}, []
    for name, size in BATCHES.items():
        clock, steps = _descend(size, X, y, loss, epochs)
        c = clock.curve
        per_epoch = [v for e, v in zip(c["epoch"], c["loss"]) if e >= 1 and float(e).is_integer()]
        results[name] = {
            "batch_size": size, "steps": clock.step, "seconds": clock.seconds,
            "loss_per_epoch": per_epoch, "final_loss": per_epoch[-1],
        }  # fmt: skip
        curves[name] = c
        marks = [per_epoch[i - 1] for i in (1, epochs // 2, epochs)]
        rows.append([
            name, steps, clock.step, *(f"{v:.3f}" for v in marks),
            f"{clock.seconds:.3f}", f"{1e3 * clock.seconds / clock.step:.2f}",
        ])  # fmt: skip
    header = ["descent", "steps/epoch", "steps", "loss ep 1", f"ep {epochs // 2}", f"ep {epochs}"]
    print(fmt_table([*header, "seconds", "ms/step"], rows))
    reach = _report(results, curves, n)
    figures.save("minibatch.png", lambda p: _draw(curves, p))
    for name in results:
        results[name]["seconds_to_loss_0.5"] = reach[name]
    return {"results": results, "figures": figures.paths, "curves": curves}
