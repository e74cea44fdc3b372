"""CartPole: balance a pole on a cart by pushing the cart left or right (CartPole-v1's dynamics).

The classic control problem of Barto, Sutton & Anderson (1983) with the constants and the Euler
integration of gym/gymnasium's ``CartPole-v1``: a pole of half-length 0.5 m and mass 0.1 kg is
hinged on a 1 kg cart; each step (τ = 0.02 s) pushes the cart with ±10 N. The state is
(x, ẋ, θ, θ̇); an episode starts from each component uniform in [-0.05, 0.05], earns reward 1
per step (the failing step included) and ends when |θ| > 12° or |x| > 2.4 m (terminated) or
after 500 steps (truncated). The old "solved" criterion (CartPole-v0) is an average return of at
least 195 over 100 consecutive episodes.

:class:`CartPole` steps many environments at once with NumPy. The physics runs in float64 like
gym's; observations are float32 for the policy network.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "FORCE_MAG",
    "GRAVITY",
    "LENGTH",
    "MASSCART",
    "MASSPOLE",
    "MAX_STEPS",
    "SOLVED_RETURN",
    "TAU",
    "THETA_THRESHOLD",
    "X_THRESHOLD",
    "CartPole",
    "cartpole_step",
    "is_terminal",
]

GRAVITY = 9.8
MASSCART = 1.0
MASSPOLE = 0.1
TOTAL_MASS = MASSCART + MASSPOLE
LENGTH = 0.5  # half the pole's length, as in gym
POLEMASS_LENGTH = MASSPOLE * LENGTH
FORCE_MAG = 10.0
TAU = 0.02  # seconds between state updates
THETA_THRESHOLD = 12 * 2 * math.pi / 360  # 12 degrees, in radians
X_THRESHOLD = 2.4
MAX_STEPS = 500  # CartPole-v1's time limit
SOLVED_RETURN = 195.0  # the classic criterion: this average over 100 consecutive episodes


def cartpole_step(state: np.ndarray, action: np.ndarray | int) -> np.ndarray:
    """One Euler step of the cart-pole equations of motion for states (..., 4), actions 0/1.

    Action 1 pushes right (+10 N), 0 pushes left. The angular acceleration is Florian's
    correction of Barto et al.'s equations, exactly as gym computes it.
    """
    state = np.asarray(state, dtype=np.float64)
    x, x_dot, theta, theta_dot = np.moveaxis(state, -1, 0)
    force = np.where(np.asarray(action) == 1, FORCE_MAG, -FORCE_MAG)
    cos, sin = np.cos(theta), np.sin(theta)
    temp = (force + POLEMASS_LENGTH * theta_dot**2 * sin) / TOTAL_MASS
    theta_acc = (GRAVITY * sin - cos * temp) / (
        LENGTH * (4.0 / 3.0 - MASSPOLE * cos**2 / TOTAL_MASS)
    )
    x_acc = temp - POLEMASS_LENGTH * theta_acc * cos / TOTAL_MASS
    return np.stack(
        [
            x + TAU * x_dot,
            x_dot + TAU * x_acc,
            theta + TAU * theta_dot,
            theta_dot + TAU * theta_acc,
        ],
        axis=-1,
    )


def is_terminal(state: np.ndarray) -> np.ndarray:
    """True where the pole has fallen past 12° or the cart has left the track (|x| > 2.4)."""
    state = np.asarray(state)
    return (np.abs(state[..., 0]) > X_THRESHOLD) | (np.abs(state[..., 2]) > THETA_THRESHOLD)


class CartPole:
    """``num_envs`` CartPole-v1 environments stepped together (one NumPy operation per step).

    ``reset()`` starts every environment; ``step(actions)`` advances those still running and
    returns ``(obs, reward, terminated, truncated)``, each with one row per environment. An
    environment that has finished stays frozen (reward 0, flags False) until the next
    ``reset()``, so a batch of complete episodes is collected by stepping until ``done.all()``.
    """

    obs_dim = 4
    n_actions = 2

    def __init__(self, num_envs: int = 1, max_steps: int = MAX_STEPS, seed: int | None = None):
        if num_envs < 1:
            raise ValueError(f"CartPole: num_envs must be at least 1, got {num_envs}")
        if max_steps < 1:
            raise ValueError(f"CartPole: max_steps must be at least 1, got {max_steps}")
        self.num_envs = num_envs
        self.max_steps = max_steps
        self.rng = np.random.default_rng(seed)
        self.state = np.zeros((num_envs, 4))
        self.steps = np.zeros(num_envs, dtype=np.int64)
        self.done = np.ones(num_envs, dtype=bool)  # nothing runs before the first reset()

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Start every environment from a state uniform in [-0.05, 0.05]⁴; the observations."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.state = self.rng.uniform(-0.05, 0.05, size=(self.num_envs, 4))
        self.steps[:] = 0
        self.done[:] = False
        return self.observe()

    def observe(self) -> np.ndarray:
        """The current states as float32 observations (num_envs, 4)."""
        return self.state.astype(np.float32)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Push each running cart (action 1 right, 0 left); ``(obs, reward, terminated,
        truncated)``. Finished environments ignore their action."""
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,):
            raise ValueError(
                f"CartPole.step: expected {self.num_envs} actions (one per environment), "
                f"got an array of shape {actions.shape}"
            )
        if not ((actions == 0) | (actions == 1)).all():
            raise ValueError(
                f"CartPole.step: actions are 0 (push left) or 1 (push right), got "
                f"{sorted(set(actions.ravel().tolist()) - {0, 1})}"
            )
        running = ~self.done
        self.state = np.where(running[:, None], cartpole_step(self.state, actions), self.state)
        self.steps += running
        terminated = running & is_terminal(self.state)
        truncated = running & ~terminated & (self.steps >= self.max_steps)
        self.done |= terminated | truncated
        return self.observe(), running.astype(np.float32), terminated, truncated
