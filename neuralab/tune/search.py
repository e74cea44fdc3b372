"""GridSearch and RandomSearch: run a trial function or an estimator over a search space.

A trial function is ``fn(config, seed) -> float | dict`` (a dict names its score with
``metric=``); it may take a ``report`` argument and call ``report(epoch, value)`` after each
epoch, so that a ``stopper`` can end hopeless trials early. An estimator (anything with
scikit-learn's ``fit``/``get_params``/``set_params``) is searched with ``run(X, y)``: each
trial fits a clone with the configuration's parameters and scores it on held-out data.

Trial i gets the seed ``trial_seed(search_seed, i)``, whatever process runs it; with the same
seed a search gives the same table on joblib workers and on Ray, resumed or not.
"""

from __future__ import annotations

import os
import random
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from neuralab.tune.backends import make_backend
from neuralab.tune.results import FORMAT_VERSION, ResultsFile, SearchResults
from neuralab.tune.space import grid_configs, sample_configs, trial_seed
from neuralab.tune.stopping import Stopper
from neuralab.tune.trial import EstimatorTrial, accepts_report, jsonable

__all__ = ["GridSearch", "RandomSearch"]


def _is_estimator(target: Any) -> bool:
    return all(hasattr(target, a) for a in ("fit", "get_params", "set_params"))


class _Search:
    """What both searches share: the trial function, the backend, the results file."""

    def __init__(
        self,
        target: Callable[..., Any] | Any,
        space: Mapping[str, Any],
        *,
        mode: str | None = None,
        metric: str | None = None,
        n_jobs: int | None = -1,
        backend: str = "local",
        address: str | None = None,
        seed: int | None = 0,
        results_path: str | os.PathLike | None = None,
        stopper: Stopper | None = None,
        round_size: int = 8,
        cv: Any = None,
        validation: float = 0.2,
        scoring: str | Callable | None = None,
        verbose: bool = False,
    ) -> None:
        self.estimator = _is_estimator(target)
        if not self.estimator and not callable(target):
            raise TypeError(
                f"{self._name}: the target must be a trial function fn(config, seed) or an "
                f"estimator with fit/get_params/set_params, got {type(target).__name__}"
            )
        if mode is None:
            if not self.estimator:
                raise ValueError(
                    f"{self._name}: say whether the trial function's score is better high or "
                    "low: mode='max' (accuracy) or mode='min' (loss)"
                )
            mode = "max"  # scikit-learn's scores and scorers: higher is better
        if mode not in ("min", "max"):
            raise ValueError(f"{self._name}: mode must be 'min' or 'max', got {mode!r}")
        if self.estimator and metric is not None:
            raise ValueError(
                f"{self._name}: metric= names a key of a trial function's dict result; an "
                "estimator's score is chosen with scoring="
            )
        if stopper is not None and (self.estimator or not accepts_report(target)):
            raise ValueError(
                f"{self._name}: stopper= needs a trial function with a report argument, "
                "fn(config, seed, report), that calls report(epoch, value) as it trains"
            )
        if not isinstance(round_size, int) or round_size < 1:
            raise ValueError(f"{self._name}: round_size must be an int >= 1, got {round_size!r}")
        make_backend(backend, n_jobs, address)  # check the names now, not after the first trials
        self.target, self.space = target, space
        self.mode, self.metric = mode, metric
        self.n_jobs, self.backend, self.address = n_jobs, backend, address
        self.seed, self.results_path = seed, results_path
        self.stopper, self.round_size = stopper, round_size
        self.cv, self.validation, self.scoring = cv, validation, scoring
        self.verbose = verbose
        self.results_: SearchResults | None = None

    @property
    def _name(self) -> str:
        return type(self).__name__

    def configs(self, seed: int | None = None) -> list[dict[str, Any]]:
        """The configurations the search runs, in trial order (for ``seed``, default its own)."""
        raise NotImplementedError

    # --- the results file -----------------------------------------------------------------
    def _header(self, seed: int) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "search": self._name,
            "seed": seed,
            "mode": self.mode,
            "metric": "score" if self.estimator else self.metric,
        }

    def _resume(self, file: ResultsFile | None) -> tuple[int, list[dict[str, Any]]]:
        """The search seed and the records already in the results file (checked to be ours)."""
        header, records = file.read() if file is not None else (None, [])
        seed = self.seed
        if header is None:
            if seed is None:
                seed = random.SystemRandom().randrange(2**32)
            if file is not None:
                file.create(self._header(seed))
            return seed, []
        if seed is None:
            seed = header.get("seed")
        expected = self._header(seed)
        for key in ("search", "seed", "mode", "metric"):
            if header.get(key) != expected[key]:
                raise ValueError(
                    f"{self._name}: results file {file.path} belongs to another search "
                    f"({key} {header.get(key)!r} there, {expected[key]!r} here); "
                    "pass another results_path, or delete the file to start over"
                )
        return seed, records

    def _check_record(self, record: dict[str, Any], config: dict, seed: int, path: Any) -> None:
        if record.get("config") != jsonable(config) or record.get("seed") != seed:
            raise ValueError(
                f"{self._name}: results file {path} has trial {record['trial']} with config "
                f"{record.get('config')} and seed {record.get('seed')}, but this search's trial "
                f"{record['trial']} is {jsonable(config)} with seed {seed}: the space changed. "
                "Pass another results_path, or delete the file to start over"
            )

    # --- running --------------------------------------------------------------------------
    def _trial_function(self, X: Any, y: Any, seed: int) -> Callable[..., Any]:
        if self.estimator:
            if X is None or y is None:
                raise TypeError(f"{self._name}: searching an estimator needs data: run(X, y)")
            return EstimatorTrial(
                self.target, X, y, self.cv, self.validation, self.scoring, split_seed=seed
            )
        if X is not None or y is not None:
            raise TypeError(
                f"{self._name}: run(X, y) is for an estimator; a trial function gets its data "
                "itself (e.g. from a closure or functools.partial)"
            )
        return self.target

    def _rounds(self, n: int) -> list[range]:
        """Trial indices in rounds: one round, or rounds of round_size when the stopper compares
        trials (each round sees the curves of the rounds before it)."""
        if self.stopper is None or not self.stopper.uses_history:
            return [range(n)]
        return [range(s, min(s + self.round_size, n)) for s in range(0, n, self.round_size)]

    def run(self, X: Any = None, y: Any = None) -> SearchResults:
        """Run every trial not already in the results file; return the results of all of them.

        A ``KeyboardInterrupt`` (Ctrl-C, or raised by a trial) stops the search; the trials
        finished so far are in the results file, and running the search again resumes.
        """
        file = ResultsFile(self.results_path) if self.results_path is not None else None
        seed, saved = self._resume(file)
        configs = self.configs(seed)
        seeds = [trial_seed(seed, i) for i in range(len(configs))]
        done: dict[int, dict[str, Any]] = {}
        for record in saved:
            i = record.get("trial")
            if isinstance(i, int) and 0 <= i < len(configs) and i not in done:
                self._check_record(record, configs[i], seeds[i], file.path)
                done[i] = record
        fn = self._trial_function(X, y, seed)
        if len(done) < len(configs):  # else nothing to run: start no workers, no Ray
            self._run_missing(fn, configs, seeds, done, file)
        results = SearchResults(
            list(done.values()), self.mode, seed, self.space, self._name, configs
        )
        failed = [r for r in results.records if r["status"] == "failed"]
        if failed:
            warnings.warn(
                f"{self._name}: {len(failed)} of {len(results)} trials failed; the first, trial "
                f"{failed[0]['trial']}: {failed[0]['error']} (see the 'error' column)",
                RuntimeWarning,
                stacklevel=2,
            )
        self.results_ = results
        return results

    def _run_missing(
        self,
        fn: Callable[..., Any],
        configs: list[dict[str, Any]],
        seeds: list[int],
        done: dict[int, dict[str, Any]],
        file: ResultsFile | None,
    ) -> None:
        """Run the trials not in ``done`` on the backend, round by round; record each one in
        ``done`` and the results file as it finishes."""
        metric = "score" if self.estimator else self.metric
        with make_backend(self.backend, self.n_jobs, self.address) as backend:
            for trials in self._rounds(len(configs)):
                history = [done[i]["curve"] for i in sorted(done) if i < trials.start]
                calls = [
                    dict(fn=fn, config=configs[i], seed=seeds[i], index=i, mode=self.mode,
                         metric=metric, stopper=self.stopper, history=history)
                    for i in trials if i not in done
                ]  # fmt: skip
                for record in backend.imap_unordered(calls):
                    if file is not None:
                        file.append(record)
                    done[record["trial"]] = record
                    if self.verbose:
                        self._print(record, len(done), len(configs))

    @staticmethod
    def _print(record: dict[str, Any], finished: int, total: int) -> None:
        score = "-" if record["score"] is None else f"{record['score']:.4g}"
        print(
            f"[{finished}/{total}] trial {record['trial']} {record['status']}: score {score} "
            f"{record['config']} ({record['duration']:.2f} s)",
            flush=True,
        )


class GridSearch(_Search):
    """Try every combination of a grid (a dict of lists; the last key changes fastest).

    ``target``: a trial function ``fn(config, seed[, report]) -> float | dict`` or an estimator
    (then ``run(X, y)``). ``mode``: 'max' or 'min' (required for a function; 'max' for an
    estimator). ``metric``: the key of the score in a dict result. ``n_jobs`` parallel trials
    (-1: one per CPU) on ``backend`` 'local' (joblib processes) or 'ray' (``address`` joins a
    cluster). ``seed`` seeds every trial (None: a random seed, kept in the results).
    ``results_path``: a JSON-lines file written as trials finish, from which a rerun resumes.
    ``stopper``: a :class:`~neuralab.tune.stopping.Stopper` ending hopeless trials; with one
    comparing trials (MedianStopping), trials run in rounds of ``round_size``. For an
    estimator: ``cv`` (folds or splitter) or a ``validation`` fraction held out, ``scoring``.
    ``verbose`` prints a line per finished trial.
    """

    def __init__(self, target: Callable[..., Any] | Any, grid: Mapping[str, Any], **kwargs: Any):
        grid_configs(grid)  # check the grid now
        super().__init__(target, grid, **kwargs)

    def configs(self, seed: int | None = None) -> list[dict[str, Any]]:
        """Every combination of the grid, in grid order (the seed plays no part)."""
        return grid_configs(self.space)


class RandomSearch(_Search):
    """Try ``n_trials`` configurations sampled from a space of distributions.

    The space maps each hyperparameter to a distribution (``loguniform(1e-4, 1e-1)``,
    ``uniform``, ``randint``, ``lograndint``, ``choice``), a list (a choice among its items)
    or a constant. Configuration i is drawn from a generator seeded by the search seed and i.
    The other arguments are those of :class:`GridSearch`.
    """

    def __init__(
        self,
        target: Callable[..., Any] | Any,
        space: Mapping[str, Any],
        n_trials: int = 10,
        **kwargs: Any,
    ):
        if not isinstance(n_trials, int) or n_trials < 1:
            raise ValueError(f"RandomSearch: n_trials must be an int >= 1, got {n_trials!r}")
        sample_configs(space, 0, 0)  # check the space now
        super().__init__(target, space, **kwargs)
        self.n_trials = n_trials

    def configs(self, seed: int | None = None) -> list[dict[str, Any]]:
        """The ``n_trials`` sampled configurations, in trial order."""
        seed = self.seed if seed is None else seed
        if seed is None:
            raise ValueError("RandomSearch.configs: the search has no seed; pass one")
        return sample_configs(self.space, self.n_trials, seed)
