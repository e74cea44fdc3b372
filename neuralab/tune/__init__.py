"""Hyperparameter search: GridSearch and RandomSearch over a training function or an estimator.

::

    from neuralab import tune

    def train(config, seed, report):          # report(epoch, value) is optional
        ...                                   # build, train, report each epoch
        return val_accuracy                   # or a dict of metrics (then metric=)

    search = tune.RandomSearch(train, {"lr": tune.loguniform(1e-4, 1e-1),
                                       "width": tune.lograndint(8, 257),
                                       "activation": tune.choice(["relu", "tanh"])},
                               n_trials=20, mode="max", n_jobs=2, seed=0,
                               results_path="search.jsonl", stopper=tune.MedianStopping())
    results = search.run()
    results.table()                           # a DataFrame when pandas is installed
    results.best_config, results.best_score
    results.plot("search.png")

Trials run in local joblib processes by default; ``backend="ray"`` runs them on Ray
(``pip install 'neuralab[ray]'``). See docs/tune.md.
"""

from neuralab.tune.results import ResultsFile, SearchResults
from neuralab.tune.search import GridSearch, RandomSearch
from neuralab.tune.space import (
    Choice,
    Distribution,
    LogRandInt,
    LogUniform,
    RandInt,
    Uniform,
    choice,
    grid_configs,
    lograndint,
    loguniform,
    randint,
    sample_configs,
    trial_seed,
    uniform,
)
from neuralab.tune.stopping import MedianStopping, Stopper, ThresholdStopping, TrialStopped
from neuralab.tune.trial import EstimatorTrial

__all__ = [
    "Choice", "Distribution", "EstimatorTrial", "GridSearch", "LogRandInt", "LogUniform",
    "MedianStopping", "RandInt", "RandomSearch", "ResultsFile", "SearchResults", "Stopper",
    "ThresholdStopping", "TrialStopped", "Uniform", "choice", "grid_configs", "lograndint",
    "loguniform", "randint", "sample_configs", "trial_seed", "uniform",
]  # fmt: skip
