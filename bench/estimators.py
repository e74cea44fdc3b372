"""``python -m bench.estimators``: neuralab's estimators beside scikit-learn's, same data.

Every pair is fitted on the same standardized training half of each dataset (one fixed split;
the test half is scaled with the training half's statistics) with ``random_state`` = 0, 1, ...
for both libraries, and scored on the same test half: accuracy for the classifiers, R² for the
regressors. The table gives the mean over the seeds, the difference in percentage points (a
pair passes when neuralab trails by at most 2) and the mean CPU seconds per fit, with one BLAS
thread. ``--out docs/estimators.md`` rewrites the results section there.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import sklearn
import threadpoolctl
from sklearn import linear_model, neural_network, svm
from sklearn.datasets import load_diabetes

from bench.engine import write_results
from bench.harness import markdown_table
from neuralab import estimators
from neuralab.data import breast_cancer, digits, iris, train_test_split, wine
from neuralab.data.real import standard_scale

MARGIN = 2.0  # neuralab may trail by at most this many percentage points (R² × 100 likewise)

Split = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Factory = Callable[[int], object]  # random_state -> unfitted estimator


def split(X: np.ndarray, y: np.ndarray, scale_y: bool = False) -> Split:
    """Half for training, half for testing (seed 0), scaled with the training half's statistics."""
    X_train, X_test, y_train, y_test = train_test_split(X, y, ratio=0.5, seed=0)
    X_train, X_test = standard_scale(X_train), standard_scale(X_test, fit=X_train)
    if scale_y:
        mean, std = y_train.mean(), y_train.std()
        y_train, y_test = (y_train - mean) / std, (y_test - mean) / std
    return X_train, X_test, y_train, y_test


def diabetes(scale_y: bool = False) -> Split:
    """scikit-learn's diabetes regression set (442 × 10), as float32 like neuralab's loaders."""
    X, y = load_diabetes(return_X_y=True)
    return split(X.astype(np.float32), y.astype(np.float32), scale_y)


CLASSIFIERS: list[tuple[str, Factory, str, Factory]] = [
    (
        "Perceptron",
        lambda s: estimators.Perceptron(random_state=s),
        "Perceptron",
        lambda s: linear_model.Perceptron(random_state=s),
    ),
    (
        "LinearSVM",
        lambda s: estimators.LinearSVM(random_state=s),
        "LinearSVC(loss='hinge')",
        lambda s: svm.LinearSVC(loss="hinge", max_iter=100_000, random_state=s),
    ),
    (
        "LogisticRegression",
        lambda s: estimators.LogisticRegression(random_state=s),
        "LogisticRegression",
        lambda s: linear_model.LogisticRegression(max_iter=10_000, random_state=s),
    ),
    (
        "MLPClassifier",
        lambda s: estimators.MLPClassifier(random_state=s),
        "MLPClassifier",
        lambda s: neural_network.MLPClassifier(random_state=s),
    ),
]

REGRESSORS: list[tuple[str, Factory, str, Factory, bool]] = [
    (
        "LinearRegression",
        lambda s: estimators.LinearRegression(random_state=s),
        "LinearRegression",
        lambda s: linear_model.LinearRegression(),
        False,
    ),
    (
        "LinearRegression",
        lambda s: estimators.LinearRegression(random_state=s),
        "SGDRegressor",
        lambda s: linear_model.SGDRegressor(random_state=s),
        False,
    ),
    (
        "MLPRegressor",
        lambda s: estimators.MLPRegressor(random_state=s),
        "MLPRegressor",
        lambda s: neural_network.MLPRegressor(random_state=s),
        True,
    ),
]


@dataclass(frozen=True)
class Row:
    """One comparison: mean test score and CPU seconds per fit of each side."""

    data: str
    ours_name: str
    theirs_name: str
    metric: str
    ours: float
    theirs: float
    ours_seconds: float
    theirs_seconds: float

    @property
    def delta(self) -> float:
        """neuralab minus scikit-learn, in percentage points."""
        return 100 * (self.ours - self.theirs)

    def cells(self) -> list[str]:
        ok = "yes" if self.delta >= -MARGIN else "**no**"
        return [
            self.numpy(),
            self.ours_name,
            self.theirs_name,
            self.metric,
            f"{self.ours:.4f}",
            f"{self.theirs:.4f}",
            f"{self.delta:+.2f}",
            ok,
            f"{self.ours_seconds:.3f}",
            f"{self.theirs_seconds:.3f}",
        ]


HEADER = [
    "data (train/test)",
    "neuralab",
    "scikit-learn",
    "metric",
    "neuralab",
    "scikit-learn",
    "Δ pp",
    f"Δ ≥ -{MARGIN:g}",
    "neuralab s/fit",
    "sklearn s/fit",
]


def score(factory: Factory, data: Split, seeds: Sequence[int]) -> tuple[float, float]:
    """Mean test score and mean CPU seconds per fit over ``seeds``."""
    X_train, X_test, y_train, y_test = data
    scores, seconds = [], []
    for seed in seeds:
        model = factory(seed)
        start = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence notices of either library
            model.fit(X_train, y_train)
        seconds.append(time.process_time() - start)
        scores.append(model.score(X_test, y_test))
    return float(np.mean(scores)), float(np.mean(seconds))


def run(seeds: Sequence[int], names: Sequence[str], progress: Callable[[str], None]) -> list[Row]:
    """Every comparison on the datasets in ``names``."""
    loaders = {"iris": iris, "wine": wine, "breast_cancer": breast_cancer, "digits": digits}
    rows = []
    for name in [n for n in loaders if n in names]:
        data = split(*loaders[name]())
        label = f"{name} ({len(data[0])}/{len(data[1])})"
        for ours_name, ours, theirs_name, theirs in CLASSIFIERS:
            progress(f"{name}: {ours_name}")
            rows.append(
                Row(label, ours_name, theirs_name, "accuracy", *_pair(ours, theirs, data, seeds))
            )
    if "diabetes" in names:
        for ours_name, ours, theirs_name, theirs, scale_y in REGRESSORS:
            data = diabetes(scale_y)
            label = f"diabetes{' (y scaled)' if scale_y else ''} ({len(data[0])}/{len(data[1])})"
            progress(f"diabetes: {ours_name} vs {theirs_name}")
            rows.append(Row(label, ours_name, theirs_name, "R²", *_pair(ours, theirs, data, seeds)))
    return rows


def _pair(ours: Factory, theirs: Factory, data: Split, seeds: Sequence[int]) -> tuple:
    (a, a_s), (b, b_s) = score(ours, data, seeds), score(theirs, data, seeds)
    return a, b, a_s, b_s


def report(rows: Sequence[Row], command: str, seeds: Sequence[int]) -> str:
    """The Markdown results section: the command, versions, the table."""
    lines = [
        f"`{command}` — mean over random_state in {list(seeds)}; scikit-learn "
        f"{sklearn.__version__}, numpy {np.__version__}, one BLAS thread.",
        "",
        markdown_table(HEADER, [r.cells() for r in rows]),
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """The command line: ``python -m bench.estimators [--seeds N] [--data ...] [--out FILE]``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.estimators",
        description="neuralab.estimators beside scikit-learn on the same splits",
    )
    parser.add_argument("--seeds", type=int, default=5, help="random states 0..N-1 (default 5)")
    parser.add_argument(
        "--data",
        nargs="+",
        default=["iris", "wine", "breast_cancer", "digits", "diabetes"],
        help="datasets to run (default: all)",
    )
    parser.add_argument("--out", metavar="FILE", help="rewrite the results section of FILE")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    seeds = range(args.seeds)
    with threadpoolctl.threadpool_limits(1):  # small problems: one BLAS thread is fastest
        rows = run(seeds, args.data, progress=lambda m: print(f"# {m}", file=sys.stderr))
    section = report(rows, shlex.join(["python", "-m", "bench.estimators", *argv]), seeds)
    print(section)
    if args.out:
        write_results(args.out, section)


if __name__ == "__main__":
    main()
