"""Early termination of hopeless trials from the values they report while they train.

A trial function that takes a ``report`` argument calls ``report(epoch, value)`` after each
epoch with the value of the search's metric so far. The search's stopper then decides whether
the trial is worth finishing; if not, ``report`` raises :class:`TrialStopped`, which ends the
trial (record status ``'stopped'``, score = the last value reported). A reported NaN or
infinity always stops a trial when a stopper is set.

:class:`ThresholdStopping` needs nothing but the trial's own values. :class:`MedianStopping`
(Golovin et al., Google Vizier, 2017) compares them with earlier trials; to keep a search
reproducible whatever the number of workers, the "earlier trials" of trial i are those of the
rounds before its own (see ``round_size`` of the searches), all finished before its round
starts.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

__all__ = ["MedianStopping", "Stopper", "ThresholdStopping", "TrialStopped"]

Curve = Sequence[Sequence[float]]  # [(epoch, value), ...] in the order reported


class TrialStopped(Exception):
    """Raised by ``report`` when the stopper ends a trial; the search records it as stopped."""


def _higher_is_better(value: float, mode: str) -> float:
    """The value turned so that higher is better: itself for mode 'max', minus it for 'min'."""
    return value if mode == "max" else -value


class Stopper:
    """Decides, at each value a trial reports, whether to end it early."""

    uses_history = False  # True: needs earlier trials' curves, so trials run in rounds

    def should_stop(self, curve: Curve, history: Sequence[Curve], mode: str) -> bool:
        """True to end the trial whose values so far are ``curve`` (the last is the newest)."""
        raise NotImplementedError


class ThresholdStopping(Stopper):
    """Stop a trial whose value at epoch >= ``after`` is worse than ``threshold``.

    ``ThresholdStopping(0.6, after=3)`` with mode 'max' ends a classifier still below 60%
    accuracy at its fourth report (epoch 3, counting epochs as the trial reports them).
    """

    def __init__(self, threshold: float, after: float = 0) -> None:
        self.threshold, self.after = float(threshold), after

    def should_stop(self, curve: Curve, history: Sequence[Curve], mode: str) -> bool:
        """True once the newest value is past ``after`` and worse than the threshold."""
        epoch, value = curve[-1]
        if epoch < self.after:
            return False
        return _higher_is_better(value, mode) < _higher_is_better(self.threshold, mode)

    def __repr__(self) -> str:
        return f"ThresholdStopping({self.threshold!r}, after={self.after!r})"


class MedianStopping(Stopper):
    """The median stopping rule: stop a trial whose best value so far is worse than the median.

    At epoch e >= ``grace_epochs``, the trial's best value up to e is compared with the median,
    over the earlier trials that reported an epoch >= e, of each one's running mean of its
    values up to e; it stops if worse. Nothing stops before ``min_trials`` such earlier trials
    exist.
    """

    uses_history = True

    def __init__(self, grace_epochs: float = 1, min_trials: int = 3) -> None:
        if min_trials < 1:
            raise ValueError(f"MedianStopping: min_trials must be >= 1, got {min_trials}")
        self.grace_epochs, self.min_trials = grace_epochs, min_trials

    def should_stop(self, curve: Curve, history: Sequence[Curve], mode: str) -> bool:
        """True when the trial's best so far is below the median of the earlier running means."""
        epoch = curve[-1][0]
        if epoch < self.grace_epochs:
            return False
        means = []
        for other in history:
            if other and max(e for e, _ in other) >= epoch:
                values = [_higher_is_better(v, mode) for e, v in other if e <= epoch]
                if values and all(math.isfinite(v) for v in values):
                    means.append(sum(values) / len(values))
        if len(means) < self.min_trials:
            return False
        best = max(_higher_is_better(v, mode) for _, v in curve)
        return best < statistics.median(means)

    def __repr__(self) -> str:
        return f"MedianStopping(grace_epochs={self.grace_epochs!r}, min_trials={self.min_trials})"
