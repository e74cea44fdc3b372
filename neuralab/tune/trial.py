"""Running one trial: the call, its seed, its score, its failure — in whatever process it lands.

:func:`run_trial` is what every backend executes. It calls the trial function with the
configuration and the trial's seed, with neuralab's, NumPy's global and Python's ``random``
generators seeded from that seed (and restored afterwards), so a trial gives the same result
in the caller's process, a joblib worker or a Ray worker. An exception becomes a ``'failed'``
record holding its error text; only ``KeyboardInterrupt`` and ``SystemExit`` escape.

:class:`EstimatorTrial` turns a scikit-learn-style estimator and data into a trial function.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import numbers
import random
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from neuralab import random as nl_random
from neuralab.tune.stopping import Curve, Stopper, TrialStopped

__all__ = ["EstimatorTrial", "accepts_report", "jsonable", "run_trial"]

TrialFunction = Callable[..., Any]


def accepts_report(fn: Callable) -> bool:
    """True if ``fn`` can be called with a ``report=`` keyword argument."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.kind is p.VAR_KEYWORD
        or (p.name == "report" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
        for p in params
    )


def jsonable(value: Any) -> Any:
    """``value`` as JSON gives it back: tuples as lists, NumPy scalars as numbers, and functions
    and classes by their qualified name (anything else by its ``repr``).

    Records hold configurations in this form, so a results file read back compares equal to a
    fresh run of the same search.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if inspect.isclass(value) or inspect.isfunction(value) or inspect.isbuiltin(value):
        return f"{value.__module__}.{value.__qualname__}"
    return repr(value)


@contextlib.contextmanager
def seeded_globals(seed: int) -> Iterator[None]:
    """Seed neuralab's, NumPy's legacy and Python's global generators; restore them on exit."""
    saved = (nl_random.generator().bit_generator.state, np.random.get_state(), random.getstate())
    nl_random.generator().bit_generator.state = np.random.default_rng(seed).bit_generator.state
    np.random.seed(seed)
    random.seed(seed)
    try:
        yield
    finally:
        nl_random.generator().bit_generator.state = saved[0]
        np.random.set_state(saved[1])
        random.setstate(saved[2])


class _Reporter:
    """The ``report(epoch, value)`` callback handed to a trial: records, then asks the stopper."""

    def __init__(self, stopper: Stopper | None, history: Sequence[Curve], mode: str) -> None:
        self.stopper, self.history, self.mode = stopper, history, mode
        self.curve: list[list[float]] = []

    def __call__(self, epoch: float, value: float) -> None:
        """Record ``value`` at ``epoch``; raise TrialStopped if the stopper ends the trial."""
        value = float(value)
        self.curve.append([jsonable(epoch), value])
        if self.stopper is None:
            return
        if not math.isfinite(value):
            raise TrialStopped(f"reported {value} at epoch {epoch}")
        if self.stopper.should_stop(self.curve, self.history, self.mode):
            raise TrialStopped(f"stopped at epoch {epoch} by {self.stopper!r}")


def _score(out: Any, metric: str | None) -> tuple[float, dict[str, Any]]:
    """The score and the other metrics of a trial's return value (a number or a dict)."""
    if isinstance(out, Mapping):
        if metric is None:
            if len(out) != 1:
                raise ValueError(
                    f"the trial returned a dict with keys {sorted(out)}; name the one to optimize "
                    "with metric="
                )
            metric = next(iter(out))
        if metric not in out:
            raise KeyError(f"the trial's result has no metric {metric!r}; it has {sorted(out)}")
        others = {str(k): jsonable(v) for k, v in out.items() if k != metric}
        return float(out[metric]), others
    if isinstance(out, numbers.Real) or (isinstance(out, np.ndarray) and out.size == 1):
        return float(out), {}
    raise TypeError(
        f"a trial function must return a number or a dict of metrics, got {type(out).__name__}"
    )


def run_trial(
    fn: TrialFunction,
    config: dict[str, Any],
    seed: int,
    index: int,
    mode: str,
    metric: str | None = None,
    stopper: Stopper | None = None,
    history: Sequence[Curve] = (),
) -> dict[str, Any]:
    """Run trial ``index``: ``fn(config, seed[, report=...])``, and return its record.

    The record (a JSON-ready dict) holds ``trial``, ``config``, ``seed``, ``status`` ('ok',
    'failed' or 'stopped'), ``score``, ``metrics`` (the other values of a dict result),
    ``error``, ``duration`` (seconds), ``curve`` (the reported ``[epoch, value]`` pairs) and,
    for a trial that raised, its ``traceback``.
    """
    reporter = _Reporter(stopper, history, mode)
    status, score, metrics, error, trace = "ok", None, {}, None, None
    start = time.perf_counter()
    try:
        with seeded_globals(seed):
            if accepts_report(fn):
                out = fn(config, seed, report=reporter)
            else:
                out = fn(config, seed)
        score, metrics = _score(out, metric)
        if not math.isfinite(score):
            status, error = "failed", f"the trial's score is {score}"
    except TrialStopped as e:
        status, error = "stopped", str(e)
        score = reporter.curve[-1][1] if reporter.curve else None
    except Exception as e:  # a failing trial is recorded, and the search goes on
        status = "failed"
        error = "".join(traceback.format_exception_only(type(e), e)).strip()
        trace = traceback.format_exc()
    return {
        "trial": index,
        "config": jsonable(config),
        "seed": seed,
        "status": status,
        "score": score if score is None or math.isfinite(score) else None,
        "metrics": metrics,
        "error": error,
        "duration": round(time.perf_counter() - start, 6),
        "curve": reporter.curve,
        "traceback": trace,
    }


def _take(data: Any, idx: np.ndarray) -> Any:
    """The rows ``idx`` of an array, a sparse matrix, a pandas object or a list."""
    if hasattr(data, "iloc"):
        return data.iloc[idx]
    if hasattr(data, "shape"):
        return data[idx]
    return np.asarray(data)[idx]


class EstimatorTrial:
    """A trial function from an estimator: set the configuration, fit, score on held-out data.

    Each trial fits a clone of ``estimator`` with the configuration's parameters (and, when the
    estimator has a ``random_state`` not in the configuration, the trial's seed). With ``cv``
    (an int or a scikit-learn splitter) the score is the mean over the folds; otherwise the
    estimator is scored on a ``validation`` fraction held out by a split seeded with
    ``split_seed`` — the same split for every trial. ``scoring``: None (the estimator's own
    ``score``: accuracy, R²), a scikit-learn scorer name such as ``'neg_log_loss'``, or a
    callable ``scorer(estimator, X, y)``. Higher scores are better.
    """

    def __init__(
        self,
        estimator: Any,
        X: Any,
        y: Any,
        cv: Any = None,
        validation: float = 0.2,
        scoring: str | Callable | None = None,
        split_seed: int = 0,
    ) -> None:
        if cv is None and not 0.0 < validation < 1.0:
            raise ValueError(f"validation must be a fraction in (0, 1), got {validation}")
        self.estimator, self.X, self.y = estimator, X, y
        self.cv, self.validation, self.scoring = cv, validation, scoring
        self.split_seed = split_seed

    def _splits(self) -> list[tuple[np.ndarray, np.ndarray]]:
        from sklearn.base import is_classifier
        from sklearn.model_selection import check_cv, train_test_split

        if self.cv is not None:
            cv = check_cv(self.cv, self.y, classifier=is_classifier(self.estimator))
            return list(cv.split(self.X, self.y))
        idx = np.arange(len(self.y))
        stratify = self.y if is_classifier(self.estimator) else None
        train, test = train_test_split(
            idx, test_size=self.validation, random_state=self.split_seed, stratify=stratify
        )
        return [(train, test)]

    def __call__(self, config: dict[str, Any], seed: int) -> dict[str, float]:
        """Fit a configured clone on each training split; the mean held-out score."""
        from sklearn.base import clone
        from sklearn.metrics import check_scoring

        params = dict(config)
        if "random_state" in self.estimator.get_params() and "random_state" not in params:
            params["random_state"] = seed
        scorer = check_scoring(self.estimator, scoring=self.scoring)
        scores = []
        for train, test in self._splits():
            model = clone(self.estimator).set_params(**params)
            model.fit(_take(self.X, train), _take(self.y, train))
            scores.append(float(scorer(model, _take(self.X, test), _take(self.y, test))))
        result = {"score": float(np.mean(scores))}
        if len(scores) > 1:
            result["score_std"] = float(np.std(scores))
        return result
