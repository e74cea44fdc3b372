"""Search spaces: distributions to sample from, grids to walk, and the configurations they give.

A random search draws each hyperparameter from a distribution — :func:`loguniform` for a
learning rate or a regularization strength, :func:`uniform` for dropout, :func:`randint` or
:func:`lograndint` for a layer size, :func:`choice` for an activation — while a grid search
walks every combination of a grid, a dict of lists. In both, a value that is neither a
distribution nor (in a grid) a list is a constant passed to every trial.

Configuration ``i`` of a random search is drawn from its own generator, seeded from the search
seed and ``i``, so it does not depend on how many trials the search has: a longer search with
the same seed starts with the same configurations.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "Choice",
    "Distribution",
    "LogRandInt",
    "LogUniform",
    "RandInt",
    "Uniform",
    "choice",
    "grid_configs",
    "loguniform",
    "lograndint",
    "randint",
    "sample_configs",
    "trial_seed",
    "uniform",
]

_TRIAL_SEED_KEY = 0  # spawn_key of the trial seeds: (0, trial index)
_SAMPLER_KEY = 1  # spawn_key of the sampler of configuration i: (1, i)


class Distribution:
    """A hyperparameter distribution: ``sample(rng)`` draws one value, ``grid(n)`` n points."""

    log_scale = False  # True when the values are best plotted on a log axis

    def sample(self, rng: np.random.Generator) -> Any:
        """One value drawn with ``rng``."""
        raise NotImplementedError

    def grid(self, n: int) -> list:
        """``n`` evenly spread values (evenly in log space for the log distributions)."""
        raise NotImplementedError


def _check_n(n: int) -> None:
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"grid: the number of points must be an int >= 1, got {n!r}")


def _check_bounds(name: str, low: float, high: float, positive: bool) -> None:
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise ValueError(f"{name}: need finite low < high, got low={low}, high={high}")
    if positive and low <= 0:
        raise ValueError(f"{name}: the bounds of a log scale must be > 0, got low={low}")


class Uniform(Distribution):
    """Real values uniform on [low, high): dropout, momentum."""

    def __init__(self, low: float, high: float) -> None:
        _check_bounds("uniform", low, high, positive=False)
        self.low, self.high = float(low), float(high)

    def sample(self, rng: np.random.Generator) -> float:
        """A float uniform on [low, high)."""
        return float(rng.uniform(self.low, self.high))

    def grid(self, n: int) -> list[float]:
        """``n`` evenly spaced floats from low to high (both ends included)."""
        _check_n(n)
        return [float(v) for v in np.linspace(self.low, self.high, n)]

    def __repr__(self) -> str:
        return f"uniform({self.low!r}, {self.high!r})"


class LogUniform(Distribution):
    """Real values whose logarithm is uniform on [log low, log high): learning rates, penalties.

    Each decade gets the same share of the draws: loguniform(1e-4, 1e-1) samples [1e-4, 1e-3)
    as often as [1e-2, 1e-1), where a plain uniform would put 90% of its draws in the last.
    """

    log_scale = True

    def __init__(self, low: float, high: float) -> None:
        _check_bounds("loguniform", low, high, positive=True)
        self.low, self.high = float(low), float(high)

    def sample(self, rng: np.random.Generator) -> float:
        """A float in [low, high), uniform in log space."""
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def grid(self, n: int) -> list[float]:
        """``n`` geometrically spaced floats from low to high (both ends included)."""
        _check_n(n)
        return [float(v) for v in np.geomspace(self.low, self.high, n)]

    def __repr__(self) -> str:
        return f"loguniform({self.low!r}, {self.high!r})"


class RandInt(Distribution):
    """Integers uniform on [low, high) — ``high`` excluded, as in NumPy: number of layers."""

    def __init__(self, low: int, high: int) -> None:
        _check_bounds("randint", low, high, positive=False)
        self.low, self.high = int(low), int(high)

    def sample(self, rng: np.random.Generator) -> int:
        """An int in [low, high)."""
        return int(rng.integers(self.low, self.high))

    def grid(self, n: int) -> list[int]:
        """Up to ``n`` distinct evenly spaced ints from low to high - 1."""
        _check_n(n)
        return sorted({int(round(v)) for v in np.linspace(self.low, self.high - 1, n)})

    def __repr__(self) -> str:
        return f"randint({self.low}, {self.high})"


class LogRandInt(Distribution):
    """Integers in [low, high) drawn uniformly in log space: layer sizes, batch sizes."""

    log_scale = True

    def __init__(self, low: int, high: int) -> None:
        _check_bounds("lograndint", low, high, positive=True)
        self.low, self.high = int(low), int(high)

    def sample(self, rng: np.random.Generator) -> int:
        """An int in [low, high): the floor of a log-uniform float, clipped to high - 1."""
        value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return min(int(value), self.high - 1)

    def grid(self, n: int) -> list[int]:
        """Up to ``n`` distinct geometrically spaced ints from low to high - 1."""
        _check_n(n)
        return sorted({int(round(v)) for v in np.geomspace(self.low, self.high - 1, n)})

    def __repr__(self) -> str:
        return f"lograndint({self.low}, {self.high})"


class Choice(Distribution):
    """One of a list of options, each equally likely unless weights ``p`` are given."""

    def __init__(self, options: Sequence[Any], p: Sequence[float] | None = None) -> None:
        options = list(options)
        if not options:
            raise ValueError("choice: needs at least one option, got an empty list")
        if p is not None:
            p = np.asarray(p, dtype=np.float64)
            if p.shape != (len(options),) or np.any(p < 0) or not np.isclose(p.sum(), 1.0):
                raise ValueError(
                    f"choice: p must hold {len(options)} non-negative weights summing to 1, "
                    f"got {p.tolist()}"
                )
        self.options, self.p = options, p

    def sample(self, rng: np.random.Generator) -> Any:
        """One of the options (the option itself, not a NumPy copy of it)."""
        return self.options[int(rng.choice(len(self.options), p=self.p))]

    def grid(self, n: int | None = None) -> list:
        """All the options (a grid over a categorical hyperparameter tries each one)."""
        return list(self.options)

    def __repr__(self) -> str:
        return f"choice({self.options!r})"


def uniform(low: float, high: float) -> Uniform:
    """Floats uniform on [low, high): dropout rate, momentum."""
    return Uniform(low, high)


def loguniform(low: float, high: float) -> LogUniform:
    """Floats log-uniform on [low, high): learning rate, regularization strength."""
    return LogUniform(low, high)


def randint(low: int, high: int) -> RandInt:
    """Ints uniform on [low, high), high excluded: number of layers, epochs."""
    return RandInt(low, high)


def lograndint(low: int, high: int) -> LogRandInt:
    """Ints log-uniform on [low, high), high excluded: layer size, batch size."""
    return LogRandInt(low, high)


def choice(options: Sequence[Any], p: Sequence[float] | None = None) -> Choice:
    """One of ``options`` (uniformly, or with probabilities ``p``): activation, optimizer."""
    return Choice(options, p)


def trial_seed(seed: int, index: int) -> int:
    """The seed of trial ``index`` of a search seeded with ``seed``: the same in every process."""
    sequence = np.random.SeedSequence(seed, spawn_key=(_TRIAL_SEED_KEY, index))
    return int(sequence.generate_state(1)[0])


def _check_space(space: Mapping[str, Any], what: str) -> None:
    if not isinstance(space, Mapping) or not space:
        raise TypeError(f"{what}: expected a non-empty dict of hyperparameters, got {space!r}")
    for key in space:
        if not isinstance(key, str):
            raise TypeError(f"{what}: hyperparameter names must be strings, got {key!r}")


def grid_configs(grid: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every combination of a grid (a dict of lists), the last key changing fastest.

    The order is that of nested for-loops over the keys in the order they were written:
    ``{"lr": [1, 2], "width": [8, 16]}`` gives lr=1/width=8, lr=1/width=16, lr=2/width=8,
    lr=2/width=16. A value that is not a list or tuple is a constant of every configuration.
    """
    _check_space(grid, "grid")
    axes = []
    for key, values in grid.items():
        if isinstance(values, Distribution):
            raise TypeError(
                f"grid: {key!r} is a distribution, {values!r}; a grid needs a list of values — "
                f"pick some with {values!r}.grid(n), or use RandomSearch to sample it"
            )
        if isinstance(values, list | tuple):
            if not values:
                raise ValueError(f"grid: {key!r} has an empty list of values")
            axes.append(list(values))
        else:
            axes.append([values])
    return [dict(zip(grid, combo)) for combo in itertools.product(*axes)]


def sample_configs(space: Mapping[str, Any], n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` configurations drawn from ``space``; the i-th depends only on ``seed`` and i.

    A distribution is sampled, a list is a :func:`choice` among its items, and anything else is
    a constant.
    """
    _check_space(space, "space")
    dists = {
        key: Choice(value) if isinstance(value, list | tuple) else value
        for key, value in space.items()
    }
    configs = []
    for i in range(n):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_SAMPLER_KEY, i)))
        configs.append(
            {key: d.sample(rng) if isinstance(d, Distribution) else d for key, d in dists.items()}
        )
    return configs
