"""Hyperparameter tuning: grid search against random search on the same budget of trials.

Two hyperparameters of a small network on the XOR data: the learning rate, which matters a lot,
and the L2 strength, which barely matters in the range searched. A 3×3 grid spends its nine
trials on only three learning rates; nine random trials try nine different ones, so random
search explores the hyperparameter that matters more finely — the reason it usually wins when
there are many hyperparameters and only a few of them matter. Both searches use
:mod:`neuralab.tune` (``GridSearch``, ``RandomSearch``, ``loguniform``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neuralab.demos._common import Figures, fmt_table

SUMMARY = "grid search against random search on the same budget of trials"

LR_RANGE = (1e-3, 10.0)
L2_RANGE = (1e-6, 1e-3)


def xor_trial(config: dict[str, Any], seed: int, epochs: int = 15) -> float:
    """Train a 2-8-1 tanh network on XOR data with ``config``; return validation accuracy.

    Every trial starts from the same initial weights (``seed``, the search's per-trial seed, is
    not used), so the scores differ by the hyperparameters alone.
    """
    import neuralab as nl
    from neuralab import nn, optim, train
    from neuralab.data import xor
    from neuralab.models.mlp import MLP

    X, y = xor(n=300, noise=0.1, seed=0, labels="01")
    X_val, y_val = xor(n=300, noise=0.1, seed=1, labels="01")
    nl.manual_seed(0)
    model = MLP(2, [8], 1, activation="tanh")
    loss = nn.BCEWithLogitsLoss()
    train.fit(
        model, loss, optim.SGD(model.parameters(), lr=config["lr"]), (X, y), epochs=epochs,
        batch_size=20, regularizers=[optim.L2(config["l2"])], verbose=0,
    )  # fmt: skip
    return train.evaluate(model, loss, (X_val, y_val), batch_size=None)["accuracy"]


def _rows(results: Any) -> list[list[Any]]:
    return [
        [r["trial"], f"{r['config']['lr']:.4g}", f"{r['config']['l2']:.2g}", f"{r['score']:.3f}"]
        for r in results.records
    ]


def _draw(results: dict[str, Any], curve: tuple[list[float], list[float]], path: Path) -> Any:
    """Left: the configurations each search tried, coloured by score, on shared axes. Right:
    score against learning rate, with the score along a fine scan of learning rates."""
    from neuralab.viz._figure import finish, pyplot

    plt = pyplot()
    fig, (plane, line) = plt.subplots(1, 2, figsize=(11.5, 4.4), layout="constrained")
    markers = {"grid": ("s", 90), "random": ("o", 50)}
    scores = [r["score"] for found in results.values() for r in found.records]
    for name, found in results.items():
        lr = [r["config"]["lr"] for r in found.records]
        l2 = [r["config"]["l2"] for r in found.records]
        score = [r["score"] for r in found.records]
        marker, size = markers[name]
        shade = plane.scatter(
            lr, l2, c=score, marker=marker, s=size, cmap="viridis", vmin=min(scores),
            vmax=max(scores), edgecolors="k", label=f"{name} search",
        )  # fmt: skip
        line.scatter(lr, score, marker=marker, s=size, edgecolors="k", label=f"{name} search")
    fig.colorbar(shade, ax=plane, label="validation accuracy")
    plane.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="L2 strength λ")
    plane.set_title("Configurations tried (same budget)")
    plane.legend(loc="lower left", fontsize="small")
    if curve[0]:
        line.plot(*curve, color="gray", lw=1, zorder=0, label="fine scan (λ = 1e-6)")
    line.set(xscale="log", xlabel="learning rate", ylabel="validation accuracy")
    line.set_title("The score depends mostly on the learning rate")
    line.grid(alpha=0.3)
    line.legend(fontsize="small")
    return finish(fig, path)


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Run both searches with the same number of trials; print their tables and best scores."""
    import warnings

    from neuralab import tune

    figures = Figures(out)
    side = 2 if quick else 3
    budget = side * side
    grid = {
        "lr": tune.loguniform(*LR_RANGE).grid(side),
        "l2": tune.loguniform(*L2_RANGE).grid(side),
    }
    space = {"lr": tune.loguniform(*LR_RANGE), "l2": tune.loguniform(*L2_RANGE)}
    print(
        f"XOR data (300 training, 300 validation points), 2-8-1 tanh network, SGD, 15 epochs. "
        f"Search lr in [{LR_RANGE[0]:g}, {LR_RANGE[1]:g}] and L2 λ in "
        f"[{L2_RANGE[0]:g}, {L2_RANGE[1]:g}] (log scales), {budget} trials each; "
        "score: validation accuracy."
    )
    searches = {
        "grid": tune.GridSearch(xor_trial, grid, mode="max", n_jobs=1, seed=0),
        "random": tune.RandomSearch(
            xor_trial, space, n_trials=budget, mode="max", n_jobs=1, seed=0
        ),
    }
    results, summary = {}, {}
    for name, search in searches.items():
        with warnings.catch_warnings():  # a diverging trial is an expected outcome here
            warnings.simplefilter("ignore")
            found = search.run()
        results[name] = found
        lrs = sorted({r["config"]["lr"] for r in found.records})
        summary[name] = {
            "best_score": found.best_score, "best_config": found.best_config,
            "distinct_lr": len(lrs), "scores": [r["score"] for r in found.records],
        }  # fmt: skip
        print(f"\n{name} search: {len(found)} trials, {len(lrs)} different learning rates")
        print(fmt_table(["trial", "lr", "l2", "val accuracy"], _rows(found)))
        best = found.best_config
        print(f"  best: {found.best_score:.3f} at lr {best['lr']:.4g}, l2 {best['l2']:.2g}")
    g, r = summary["grid"], summary["random"]
    print(
        f"\nSame budget of {budget} trials: grid best {g['best_score']:.3f} "
        f"({g['distinct_lr']} learning rates tried), random best {r['best_score']:.3f} "
        f"({r['distinct_lr']} learning rates tried). The grid spends its budget re-testing "
        f"{g['distinct_lr']} learning rates with different L2 strengths, which matter much less."
    )
    scan: tuple[list[float], list[float]] = ([], [])
    if figures.enabled and not quick:  # the true curve, for the picture only
        rates = [float(v) for v in np.geomspace(*LR_RANGE, 25)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scan = (rates, [xor_trial({"lr": lr, "l2": L2_RANGE[0]}, 0) for lr in rates])
    figures.save("tuning.png", lambda p: _draw(results, scan, p))
    for name, found in results.items():
        figures.save(f"tuning_{name}.png", lambda p, f=found: f.plot(p))
    return {"searches": summary, "figures": figures.paths}
