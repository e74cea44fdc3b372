"""Ready-made training runs for the game agent: solve CartPole, learn Flag Tag, measure both.

These are what ``neuralab demo game-agent``, ``examples/train_cartpole.py``,
``examples/train_grid_game.py`` and the tests run, so the numbers in docs/apps/game_agent.md
come from one place. Each run is reproducible from its ``seed``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from neuralab.apps.rl.agents import ActorCritic, PolicyGradient, evaluate
from neuralab.apps.rl.cartpole import CartPole
from neuralab.apps.rl.grid_game import GridGame, GridGameEnv, match, policy_player
from neuralab.random import use_generator

__all__ = ["V1_THRESHOLD", "cartpole_score", "train_cartpole", "train_grid_agent", "win_rates"]

V1_THRESHOLD = 475.0
"""CartPole-v1's reward threshold (of 500); training stops once a greedy evaluation reaches it."""

Log = Callable[[dict[str, float]], Any] | None


def cartpole_score(model: ActorCritic, episodes: int = 100, seed: int = 12345) -> np.ndarray:
    """Returns of ``episodes`` CartPole-v1 episodes played at once by the greedy policy."""
    return evaluate(CartPole(episodes), model, greedy=True, seed=seed)


def train_cartpole(
    seed: int = 0,
    updates: int = 200,
    num_envs: int = 16,
    hidden: Sequence[int] = (32, 32),
    lr: float = 1e-2,
    lam: float = 0.95,
    stop_at: float = V1_THRESHOLD,
    eval_every: int = 5,
    log: Log = None,
) -> tuple[ActorCritic, list[dict[str, float]]]:
    """Actor-critic on CartPole: each update plays ``num_envs`` episodes; every ``eval_every``
    updates the greedy policy plays 100 evaluation episodes (recorded as ``eval_return``), and
    training stops once their mean reaches ``stop_at``. The model and the history."""
    rng = np.random.default_rng(seed)
    with use_generator(np.random.default_rng(seed)):
        model = ActorCritic(CartPole.obs_dim, CartPole.n_actions, hidden)
    trainer = PolicyGradient(model, lr=lr, lam=lam, seed=int(rng.integers(2**31)))
    env = CartPole(num_envs, seed=int(rng.integers(2**31)))

    def stop(history: list[dict[str, float]]) -> bool:
        record = history[-1]
        if record["update"] % eval_every:
            return False
        record["eval_return"] = float(cartpole_score(model, seed=int(rng.integers(2**31))).mean())
        return record["eval_return"] >= stop_at

    history = trainer.train(env, updates, callback=stop, log=log)
    model.eval()
    return model, history


def train_grid_agent(
    seed: int = 0,
    updates: int = 300,
    num_envs: int = 64,
    self_play: bool = False,
    snapshot_every: int = 10,
    hidden: Sequence[int] = (64, 64),
    lr: float = 3e-3,
    lam: float = 0.95,
    entropy_coef: float = 0.01,
    size: int = 5,
    log: Log = None,
) -> tuple[ActorCritic, list[dict[str, float]]]:
    """Actor-critic on Flag Tag against a pool of opponents, one drawn per game: the random and
    the scripted player and, with ``self_play``, a frozen copy of the agent itself, refreshed
    every ``snapshot_every`` updates (a one-member "league"). The model and the history."""
    rng = np.random.default_rng(seed)
    obs_dim = GridGame(1, size).obs_dim
    with use_generator(np.random.default_rng(seed)):
        model = ActorCritic(obs_dim, GridGameEnv.n_actions, hidden)
        past = ActorCritic(obs_dim, GridGameEnv.n_actions, hidden)
    past.load_state_dict(model.state_dict())
    past.eval()
    pool: list[Any] = ["random", "scripted"] + ([policy_player(past)] if self_play else [])
    env = GridGameEnv(num_envs, pool, size=size, seed=int(rng.integers(2**31)))
    trainer = PolicyGradient(
        model, lr=lr, lam=lam, entropy_coef=entropy_coef, seed=int(rng.integers(2**31))
    )

    def refresh(history: list[dict[str, float]]) -> bool:
        if self_play and history[-1]["update"] % snapshot_every == 0:
            past.load_state_dict(model.state_dict())
        return False

    history = trainer.train(env, updates, callback=refresh, log=log)
    model.eval()
    return model, history


def win_rates(
    model: ActorCritic,
    games: int = 200,
    greedy: bool = True,
    size: int = 5,
    seed: int = 2024,
) -> dict[str, dict[str, float]]:
    """``model``'s results against the random and the scripted player over ``games`` games
    each (about half with the opponent moving first), and the scripted player's against random
    for comparison: ``{matchup: {"wins", "losses", "draws", "win_rate"}}``."""
    agent = policy_player(model, greedy=greedy)
    return {
        "agent vs random": match(agent, "random", games, size, seed=seed),
        "agent vs scripted": match(agent, "scripted", games, size, seed=seed + 1),
        "scripted vs random": match("scripted", "random", games, size, seed=seed + 2),
    }
