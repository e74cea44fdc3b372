"""Policy-gradient agents: a neural actor-critic trained by advantage actor-critic (A2C / GAE).

The policy is a network from observations to action logits (the *actor*); a second network
estimates the expected discounted return from each state (the *critic*, V). One update:

1. play a batch of complete episodes in vectorised environments, sampling actions from the
   policy (illegal actions, where the environment says so, get probability 0);
2. compute each step's advantage with generalised advantage estimation,
   ``A_t = δ_t + γλ·A_{t+1}``, ``δ_t = r_t + γ·V(s_{t+1}) - V(s_t)`` (:func:`advantages`);
   λ = 1 gives the Monte-Carlo return minus the baseline, i.e. REINFORCE with a learned
   baseline, and smaller λ trades variance for the critic's bias (λ = 0: one-step actor-critic);
3. one gradient step on ``-mean(log π(a|s)·A) + c_v·mean((V(s) - (A + V))²) - c_e·entropy``
   with :class:`neuralab.optim.Adam`.

Everything is neuralab: :class:`~neuralab.models.mlp.MLP` networks, autograd, Adam. The
environments (:class:`~neuralab.apps.rl.cartpole.CartPole`,
:class:`~neuralab.apps.rl.grid_game.GridGameEnv`) share one small interface, :class:`VecEnv`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from neuralab import optim
from neuralab.models.mlp import MLP
from neuralab.nn.module import Module
from neuralab.nn.utils import eval_mode, train_mode
from neuralab.ops.activation import log_softmax
from neuralab.ops.elementwise import exp
from neuralab.tensor import Tensor, constant, no_grad
from neuralab.train import Callback, Trainer

__all__ = [
    "ActorCritic",
    "Batch",
    "PolicyGradient",
    "VecEnv",
    "advantages",
    "discounted_returns",
    "evaluate",
    "play",
    "sample_actions",
]

ILLEGAL_LOGIT = -1e9  # added to an illegal action's logit: probability exactly 0 in float32


class VecEnv(Protocol):
    """What the trainer needs from a batch of environments (CartPole, the grid game).

    ``step`` returns ``(obs, reward, terminated, truncated)`` with one row per environment; an
    environment that has finished stays frozen (reward 0, flags False) until ``reset()``.
    ``legal_actions()``, if the environment has it, gives a (num_envs, n_actions) bool mask.
    """

    num_envs: int
    obs_dim: int
    n_actions: int
    done: np.ndarray

    def reset(self, seed: int | None = None) -> np.ndarray: ...

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]: ...


class ActorCritic(Module):
    """A policy network (obs → action logits) and a value network (obs → V(s)), both MLPs.

    Separate networks keep the critic's large regression gradients out of the policy's
    features. The policy's last layer starts near zero, so the first policy is nearly uniform.
    """

    def __init__(
        self,
        obs_dim: int,
        n_actions: int,
        hidden: Sequence[int] = (64, 64),
        activation: str = "tanh",
    ) -> None:
        super().__init__()
        if obs_dim < 1 or n_actions < 2:
            raise ValueError(
                f"ActorCritic: need obs_dim >= 1 and n_actions >= 2, got {obs_dim} and {n_actions}"
            )
        self.obs_dim, self.n_actions = obs_dim, n_actions
        self.policy = MLP(obs_dim, hidden, n_actions, activation=activation)
        self.value = MLP(obs_dim, hidden, 1, activation=activation)
        head = self.policy.layers[-1]
        with no_grad():
            head.weight.mul_(0.01)
            head.bias.zero_()

    def forward(self, obs: Tensor) -> tuple[Tensor, Tensor]:
        """Action logits (N, n_actions) and state values (N,) for observations (N, obs_dim)."""
        return self.policy(obs), self.value(obs).reshape(-1)

    def log_probs(self, obs: Tensor, legal: np.ndarray | None = None) -> Tensor:
        """log π(·|s) (N, n_actions); an illegal action (``legal`` False) gets about -1e9."""
        logits = self.policy(obs)
        if legal is not None:
            logits = logits + constant(np.where(legal, 0.0, ILLEGAL_LOGIT).astype(logits.dtype))
        return log_softmax(logits, dim=-1)

    def act(
        self,
        obs: np.ndarray,
        legal: np.ndarray | None = None,
        greedy: bool = False,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """Actions (N,) for observations (N, obs_dim): sampled from π, or its most likely one."""
        obs = np.asarray(obs, dtype=np.float32)
        if obs.ndim != 2 or obs.shape[1] != self.obs_dim:
            raise ValueError(
                f"ActorCritic.act: expected observations (N, {self.obs_dim}), got {obs.shape}"
            )
        with no_grad():
            logp = self.log_probs(constant(obs), legal).numpy()
        if greedy:
            return logp.argmax(axis=1)
        return sample_actions(np.exp(logp), rng or np.random.default_rng())


def sample_actions(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One action per row of ``probs`` (N, A), drawn by inverse CDF; never a probability-0 one."""
    cdf = np.cumsum(probs, axis=1, dtype=np.float64)
    cdf /= cdf[:, -1:]
    u = 1.0 - rng.random(len(probs))  # in (0, 1], so the first index needs cdf > 0
    return (u[:, None] > cdf).sum(axis=1)


def advantages(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    ends: np.ndarray | None = None,
    gamma: float = 0.99,
    lam: float = 0.95,
) -> np.ndarray:
    """Generalised advantage estimates along axis 0 (time); any trailing axes are batch axes.

    ``δ_t = r_t + γ·(1 - terminated_t)·next_values_t - values_t`` and
    ``A_t = δ_t + γλ·(1 - ends_t)·A_{t+1}``: at a termination the future is worth 0; at a
    truncation (an end that is not a termination) ``next_values_t`` still counts.
    ``ends`` defaults to ``terminated``. ``A + values`` is the λ-return, the critic's target.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    shape = rewards.shape
    for name, arr in (("values", values), ("next_values", next_values), ("terminated", terminated)):
        if np.shape(arr) != shape:
            raise ValueError(
                f"advantages: {name} has shape {np.shape(arr)}, rewards have shape {shape}"
            )
    ends = terminated if ends is None else ends
    if np.shape(ends) != shape:
        raise ValueError(f"advantages: ends has shape {np.shape(ends)}, rewards have {shape}")
    live = 1.0 - np.asarray(terminated, dtype=np.float64)
    go_on = 1.0 - np.asarray(ends, dtype=np.float64)
    delta = rewards + gamma * live * np.asarray(next_values) - np.asarray(values)
    out = np.zeros(shape)
    running = np.zeros(shape[1:])
    for t in range(shape[0] - 1, -1, -1):
        running = delta[t] + gamma * lam * go_on[t] * running
        out[t] = running
    return out


def discounted_returns(
    rewards: np.ndarray, gamma: float = 0.99, ends: np.ndarray | None = None
) -> np.ndarray:
    """``G_t = r_t + γ·G_{t+1}`` along axis 0, restarting after each ``ends`` (default: none)."""
    rewards = np.asarray(rewards, dtype=np.float64)
    zeros = np.zeros_like(rewards)
    ends = zeros if ends is None else ends
    return advantages(rewards, zeros, zeros, ends, gamma=gamma, lam=1.0)


@dataclass
class Batch:
    """The steps of one batch of complete episodes, flattened: what one update learns from."""

    obs: np.ndarray  # (N, obs_dim) float32
    actions: np.ndarray  # (N,) int
    legal: np.ndarray | None  # (N, n_actions) bool, or None when every action is legal
    advantages: np.ndarray  # (N,)
    returns: np.ndarray  # (N,) the critic's targets: λ-returns
    episode_returns: np.ndarray  # (episodes,) undiscounted sum of rewards per episode
    episode_lengths: np.ndarray  # (episodes,) steps per episode


def play(
    env: VecEnv,
    model: ActorCritic,
    rng: np.random.Generator,
    greedy: bool = False,
    seed: int | None = None,
) -> dict[str, np.ndarray]:
    """Run one episode in every environment of ``env`` with ``model``'s policy; the trajectory
    as time-major arrays (T steps, num_envs) plus the T + 1 observations."""
    obs = [env.reset(seed)]
    actions, rewards, alive, terminated, truncated, legal = [], [], [], [], [], []
    masked = hasattr(env, "legal_actions")
    while not env.done.all():
        mask = env.legal_actions() if masked else None
        alive.append(~env.done)
        act = model.act(obs[-1], mask, greedy=greedy, rng=rng)
        o, r, term, trunc = env.step(act)
        for store, value in zip(
            (obs, actions, rewards, terminated, truncated, legal), (o, act, r, term, trunc, mask)
        ):
            store.append(value)
    return {
        "obs": np.stack(obs),
        "actions": np.stack(actions),
        "rewards": np.stack(rewards),
        "alive": np.stack(alive),
        "terminated": np.stack(terminated),
        "truncated": np.stack(truncated),
        "legal": np.stack(legal) if masked else None,
    }


def evaluate(
    env: VecEnv,
    model: ActorCritic,
    greedy: bool = True,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """The undiscounted return of one episode in each of ``env``'s environments (num_envs,)."""
    with eval_mode(model):
        trajectory = play(env, model, rng or np.random.default_rng(seed), greedy=greedy, seed=seed)
    return trajectory["rewards"].sum(axis=0)


@dataclass
class PolicyGradient:
    """Advantage actor-critic on batches of complete episodes, with GAE(λ) and Adam.

    ``lam=1`` is REINFORCE with a learned baseline; ``lam<1`` bootstraps from the critic.
    ``train(env, updates)`` alternates :meth:`collect` and :meth:`update` and returns the
    history (one dict per update: mean episode return, losses, entropy).
    """

    model: ActorCritic
    lr: float = 1e-2
    gamma: float = 0.99
    lam: float = 0.95
    value_coef: float = 0.5
    entropy_coef: float = 0.0
    normalize_advantages: bool = True
    seed: int | None = None
    history: list[dict[str, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.optimizer = optim.Adam(self.model.parameters(), lr=self.lr)
        self.rng = np.random.default_rng(self.seed)
        self.trainer = Trainer(
            self.model, optimizer=self.optimizer, train_step=self.train_step, metrics=(),
            verbose=0, name="PolicyGradient",
        )  # fmt: skip

    def collect(self, env: VecEnv) -> Batch:
        """Play one episode per environment with the current policy; advantages and targets."""
        with eval_mode(self.model):
            t = play(env, self.model, self.rng, seed=int(self.rng.integers(2**31)))
            steps, n = t["rewards"].shape
            flat = constant(t["obs"].reshape((steps + 1) * n, -1))
            values = self.model.value(flat).numpy().reshape(steps + 1, n).astype(np.float64)
        adv = advantages(
            t["rewards"], values[:-1], values[1:], t["terminated"],
            t["terminated"] | t["truncated"], self.gamma, self.lam,
        )  # fmt: skip
        alive = t["alive"]
        return Batch(
            obs=t["obs"][:-1][alive],
            actions=t["actions"][alive],
            legal=None if t["legal"] is None else t["legal"][alive],
            advantages=adv[alive],
            returns=(adv + values[:-1])[alive],
            episode_returns=t["rewards"].sum(axis=0),
            episode_lengths=alive.sum(axis=0),
        )

    def loss(self, batch: Batch) -> tuple[Tensor, dict[str, float]]:
        """The actor-critic loss on ``batch`` and its parts (policy, value, entropy)."""
        adv = batch.advantages
        if self.normalize_advantages and len(adv) > 1:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        obs = constant(batch.obs)
        logp_all = self.model.log_probs(obs, batch.legal)
        logp = logp_all[np.arange(len(batch.actions)), batch.actions]
        entropy = -(exp(logp_all) * logp_all).sum(dim=-1).mean()
        policy_loss = -(logp * constant(adv.astype(np.float32))).mean()
        error = self.model.value(obs).reshape(-1) - constant(batch.returns.astype(np.float32))
        value_loss = (error * error).mean()
        total = policy_loss + self.value_coef * value_loss - self.entropy_coef * entropy
        parts = {"policy_loss": policy_loss.item(), "value_loss": value_loss.item()}
        return total, {**parts, "entropy": entropy.item()}

    def train_step(self, trainer: Trainer, batch: Batch) -> dict[str, float]:
        """The Trainer's step: one descent of the actor-critic loss of a round's ``batch``;
        the round's mean return and length and the loss parts."""
        total, parts = self.loss(batch)
        trainer.optimize(total)
        return {
            "mean_return": float(batch.episode_returns.mean()),
            "mean_length": float(batch.episode_lengths.mean()),
            **parts,
        }

    def update(self, batch: Batch) -> dict[str, float]:
        """One Adam step on the actor-critic loss of ``batch`` (in training mode); the loss
        parts."""
        with train_mode(self.model):
            logs = self.train_step(self.trainer, batch)
        return {key: logs[key] for key in ("policy_loss", "value_loss", "entropy")}

    def train(
        self,
        env: VecEnv,
        updates: int,
        callback: Callable[[list[dict[str, float]]], bool | None] | None = None,
        log: Callable[[dict[str, float]], Any] | None = None,
        verbose: int = 0,
    ) -> list[dict[str, float]]:
        """Up to ``updates`` rounds of collect-then-update, on the :class:`Trainer` (a round is
        a step; ``verbose`` as in ``fit``). After each, ``callback(history)`` may add to the
        round's record (an evaluation) and ends training by returning True; then the record
        goes to ``log``. Returns :attr:`history`, one record per round.

        The episodes are played outside the Trainer's step, as the stream of its batches: the
        environment interaction is data collection, the update is the training step.
        """
        self.trainer.callbacks = [_Rounds(self.history, callback, log)]
        self.trainer.verbose = verbose
        rounds = (self.collect(env) for _ in range(updates))
        self.trainer.fit(rounds, epochs=1 if updates else 0, steps_per_epoch=max(updates, 1))
        return self.history


class _Rounds(Callback):
    """PolicyGradient's record of each round; its ``callback`` (which may stop) and ``log``."""

    def __init__(
        self,
        history: list[dict[str, float]],
        callback: Callable[[list[dict[str, float]]], bool | None] | None,
        log: Callable[[dict[str, float]], Any] | None,
    ) -> None:
        self.history, self.callback, self.log = history, callback, log

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.history.append({"update": len(self.history) + 1, **self.trainer.step_logs})
        stop = self.callback is not None and self.callback(self.history)
        if self.log is not None:
            self.log(self.history[-1])
        if stop:
            self.stop("callback")
