"""The game agent: deep reinforcement learning, AlphaStar's idea, in miniature.

AlphaStar learned StarCraft II by playing: a neural policy chooses actions, and the reward at
the end of each game (win or lose) pushes up the probability of the actions that led to wins.
Here the same idea trains on problems small enough for a laptop core, with
:mod:`neuralab.apps.rl`: an actor-critic (policy network plus value network, both MLPs) trained
by policy gradient. First CartPole, balancing a pole on a cart, until the greedy policy averages
far above the classic "solved" bar of 195 over 100 episodes; then Flag Tag, a 5×5
capture-the-flag game, against a random and a scripted opponent: a table of win rates and one
game drawn in text.

Trained policies are saved in ``out`` (``cartpole_policy.safetensors``,
``flag_tag_policy.safetensors``) and loaded on the next run instead of training again (a policy
from a ``--quick`` run is reused only by quick runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neuralab.demos._common import Figures, fmt_table

SUMMARY = "deep RL (AlphaStar's idea): an actor-critic solves CartPole and wins a grid game"

CARTPOLE_FILE = "cartpole_policy.safetensors"
GRID_FILE = "flag_tag_policy.safetensors"


def _trained(path: Path, quick: bool, train: Any) -> tuple[Any, list[dict[str, float]], bool]:
    """The policy saved at ``path`` if there is a usable one, else ``train()``'s, saved there."""
    import neuralab as nl
    from neuralab.io import LoadError

    if path.exists():
        try:
            saved = nl.load(path)
            usable = quick or not saved["quick"]
        except (LoadError, KeyError, TypeError) as e:
            print(f"  cannot reuse {path} ({e}); training a new policy")
            usable = False
        if usable:
            print(f"  loaded the policy saved in {path} (delete it to train again)")
            return saved["model"], saved["history"], True
    model, history = train()
    path.parent.mkdir(parents=True, exist_ok=True)
    nl.save({"model": model, "history": history, "quick": quick}, path)
    print(f"  policy saved: {path}")
    return model, history, False


def _progress(records: list[dict[str, float]], rows: int, columns: list[str]) -> str:
    """About ``rows`` evenly spaced training records (and always the last one) as a table."""
    every = max(1, len(records) // rows)
    picked = [r for i, r in enumerate(records, 1) if i % every == 0 or i == len(records)]
    return fmt_table(
        ["update", *columns],
        [[r["update"], *(f"{r[c]:.2f}" if c in r else "" for c in columns)] for r in picked],
    )


def _side_by_side(frames: list[str], per_row: int = 4, gap: int = 3) -> str:
    """Text frames laid out in rows of ``per_row``."""
    blocks = []
    for start in range(0, len(frames), per_row):
        split = [f.splitlines() for f in frames[start : start + per_row]]
        width = max(len(line) for lines in split for line in lines)
        height = max(len(lines) for lines in split)
        rows = [
            (" " * gap).join((lines[i] if i < len(lines) else "").ljust(width) for lines in split)
            for i in range(height)
        ]
        blocks.append("\n".join(r.rstrip() for r in rows))
    return "\n\n".join(blocks)


def _draw(cartpole: list[dict[str, float]], grid: list[dict[str, float]], path: Path) -> Any:
    """Left: CartPole returns per update (training and greedy evaluation) against 195 and 500.
    Right: Flag Tag's mean reward per update (+1 win, -1 loss)."""
    from neuralab.apps.rl.cartpole import MAX_STEPS, SOLVED_RETURN
    from neuralab.viz._figure import finish, pyplot

    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    left.plot([r["update"] for r in cartpole], [r["mean_return"] for r in cartpole],
              label="training episodes (sampled actions)")  # fmt: skip
    evals = [r for r in cartpole if "eval_return" in r]
    left.plot([r["update"] for r in evals], [r["eval_return"] for r in evals], "o-",
              label="100 evaluation episodes (greedy)")  # fmt: skip
    left.axhline(SOLVED_RETURN, color="gray", ls="--", lw=1, label="solved: 195")
    left.axhline(MAX_STEPS, color="gray", ls=":", lw=1, label="episode cap: 500")
    left.set(title="CartPole", xlabel="update", ylabel="mean episode return")
    right.plot([r["update"] for r in grid], [r["mean_return"] for r in grid])
    right.set(title="Flag Tag vs random + scripted", xlabel="update", ylabel="mean reward",
              ylim=(-1.05, 1.05))  # fmt: skip
    for ax in (left, right):
        ax.grid(alpha=0.3)
    left.legend(fontsize="small")
    return finish(fig, path)


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Train (or load) the CartPole and Flag Tag agents; print returns, win rates and a game."""
    from neuralab.apps.rl import recipes
    from neuralab.apps.rl.cartpole import SOLVED_RETURN
    from neuralab.apps.rl.grid_game import policy_player, record_game

    figures = Figures(out)
    cp_updates, grid_updates = (15, 60) if quick else (200, 300)
    print(
        "CartPole-v1 (push the cart left or right; reward 1 per step, at most 500): actor-critic "
        f"with 4-32-32-2 policy and 4-32-32-1 value MLPs, 16 episodes per update, up to "
        f"{cp_updates} updates, stopping once 100 greedy episodes average 475."
    )
    cp_model, cp_history, cp_loaded = _trained(
        out / CARTPOLE_FILE, quick, lambda: recipes.train_cartpole(seed=0, updates=cp_updates)
    )
    evaluated = [r for r in cp_history if "eval_return" in r]
    print(_progress(evaluated, 8, ["mean_return", "eval_return"]))
    returns = recipes.cartpole_score(cp_model)
    solved = bool(returns.mean() >= SOLVED_RETURN)
    print(
        f"  100 new episodes, greedy policy: mean return {returns.mean():.1f} (min "
        f"{returns.min():.0f}, max {returns.max():.0f}) — "
        + ("solved (≥ 195)" if solved else "not solved yet (< 195): run without --quick")
    )

    print(
        "\nFlag Tag (5×5 capture the flag; win by reaching the enemy flag or tagging the enemy "
        "in your half): actor-critic, 51-64-64-5 MLPs, 64 games per update against random and "
        f"scripted opponents, {grid_updates} updates."
    )
    grid_model, grid_history, grid_loaded = _trained(
        out / GRID_FILE, quick, lambda: recipes.train_grid_agent(seed=0, updates=grid_updates)
    )
    print(_progress(grid_history, 6, ["mean_return", "mean_length", "entropy"]))
    rates = recipes.win_rates(grid_model)
    print("  200 games per match-up (greedy agent, first move drawn at random):")
    rows = [
        [k, v["wins"], v["losses"], v["draws"], f"{v['win_rate']:.1%}"] for k, v in rates.items()
    ]
    print(fmt_table(["match-up", "wins", "losses", "draws", "win rate"], rows))
    frames = record_game(policy_player(grid_model, greedy=True), "scripted", seed=3)
    print("\nOne game, the agent (A) against the scripted raider (B):\n")
    print(_side_by_side(frames))
    figures.save("game_agent.png", lambda p: _draw(cp_history, grid_history, p))
    return {
        "cartpole": {
            "history": cp_history, "eval_returns": returns, "mean_return": float(returns.mean()),
            "solved": solved, "loaded": cp_loaded,
        },
        "grid": {"history": grid_history, "win_rates": rates, "loaded": grid_loaded},
        "game": frames,
        "figures": figures.paths,
    }  # fmt: skip
