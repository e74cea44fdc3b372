"""The game agent: deep reinforcement learning (AlphaStar's idea) in miniature.

A neural actor-critic (:mod:`~neuralab.apps.rl.agents`), trained by policy gradient on
environments implemented here: CartPole (:mod:`~neuralab.apps.rl.cartpole`) and Flag Tag, a
small two-player capture-the-flag game (:mod:`~neuralab.apps.rl.grid_game`).
:mod:`~neuralab.apps.rl.recipes` has the training runs behind ``neuralab demo game-agent`` and
the examples. See docs/apps/game_agent.md.
"""

from neuralab.apps.rl.agents import (
    ActorCritic,
    Batch,
    PolicyGradient,
    advantages,
    discounted_returns,
    evaluate,
)
from neuralab.apps.rl.cartpole import CartPole, cartpole_step
from neuralab.apps.rl.grid_game import (
    GridGame,
    GridGameEnv,
    match,
    policy_player,
    random_player,
    record_game,
    scripted_player,
)
from neuralab.apps.rl.recipes import cartpole_score, train_cartpole, train_grid_agent, win_rates

__all__ = [
    "ActorCritic", "Batch", "CartPole", "GridGame", "GridGameEnv", "PolicyGradient",
    "advantages", "cartpole_score", "cartpole_step", "discounted_returns", "evaluate", "match",
    "policy_player", "random_player", "record_game", "scripted_player", "train_cartpole",
    "train_grid_agent", "win_rates",
]  # fmt: skip
