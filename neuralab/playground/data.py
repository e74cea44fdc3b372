"""The playground's data: generated sets by name, the user's own points and CSV files, features.

Generated data comes from :mod:`neuralab.data.synthetic` with the TensorFlow Playground's sample
counts (500 for classification, 1200 for regression) and is split by ``train_test_split`` with
the data seed. Labels: ±1 float32 for classification, float32 targets for regression, int64
class indices for multiclass.

The user's own points (clicked or uploaded) are rows ``(x1, x2, label)``. Their split is by
position, not random: point i trains when ``floor((i + 1)·r) > floor(i·r)`` (r the training
ratio), so adding a point never moves an existing one between train and test.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuralab.data import moons, train_test_split
from neuralab.data.registry import DATASETS
from neuralab.playground.config import FEATURES, MAX_POINTS, dataset_key

EXTENT = 6.0  # the plotted square is [-6, 6]²


def _pm1(data: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Two-class labels 0/1 → -1/+1 float32."""
    X, y = data
    return X, (2 * y - 1).astype(np.float32)


@dataclass
class Split:
    """Training and test points with their labels (see the module docstring for label types)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def sample_count(problem: str) -> int:
    """The Playground's number of generated samples: 1200 for regression, 500 otherwise."""
    return 1200 if problem == "regression" else 500


def generate(config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """All points of the configuration's generated dataset, before the split."""
    name = config[dataset_key(config)]
    n = sample_count(config["problem"])
    info = DATASETS.get(name)  # the URL's names (reg-gauss, checker, ...) are its aliases
    data = info.make(n, config["noise"] / 100, config["seed"], config["classes"])
    return _pm1(data) if info.function is moons else data


def split_generated(config: dict[str, Any]) -> Split:
    """The generated dataset split by the training ratio with the data seed."""
    X, y = generate(config)
    parts = train_test_split(X, y, ratio=config["percTrainData"] / 100, seed=config["seed"])
    X_train, X_test, y_train, y_test = parts
    return Split(X_train, y_train, X_test, y_test)


def train_mask(n: int, ratio: float) -> np.ndarray:
    """Which of n user points train: a fixed interleaving with the given training fraction."""
    i = np.arange(n)
    return np.floor((i + 1) * ratio) > np.floor(i * ratio)


def split_points(points: np.ndarray, problem: str, ratio: float) -> Split:
    """User points (N, 3) as a Split with the problem's label dtype."""
    mask = train_mask(len(points), ratio)
    X = points[:, :2].astype(np.float32)
    y = points[:, 2].astype(np.int64 if problem == "multiclass" else np.float32)
    return Split(X[mask], y[mask], X[~mask], y[~mask])


def label_error(label: float, problem: str, classes: int) -> str | None:
    """Why ``label`` is not valid for the problem type, or None when it is."""
    if not math.isfinite(label):
        return f"label {label} is not a finite number"
    if problem == "classification" and label not in (-1, 1):
        return f"label {label:g}: classification labels are -1 or +1 (0/1 files are mapped)"
    if problem == "multiclass" and not (label == int(label) and 0 <= label < classes):
        return (
            f"label {label:g}: multiclass labels are whole numbers 0 to {classes - 1} "
            f"(set the number of classes first, up to 6)"
        )
    if problem == "regression" and not -EXTENT <= label <= EXTENT:
        return f"target {label:g} is outside [-6, 6]"
    return None


def coordinate_error(x: float, y: float) -> str | None:
    """Why (x, y) cannot be a point of the plane, or None when it can."""
    if not (math.isfinite(x) and math.isfinite(y)):
        return f"({x}, {y}) is not a pair of finite numbers"
    if abs(x) > EXTENT or abs(y) > EXTENT:
        return f"({x:g}, {y:g}) is outside the plotted square [-6, 6]²; rescale your data"
    return None


class CSVError(ValueError):
    """A CSV file the playground cannot read, with the line and the reason."""


def parse_csv(text: str, problem: str, classes: int) -> np.ndarray:
    """Rows ``x1, x2, label`` (comma, semicolon, tab or spaces; an optional header) → (N, 3).

    Classification accepts labels -1/+1 or 0/1 (0 becomes -1); multiclass 0..classes-1;
    regression any target in [-6, 6]. Every problem is reported as a :class:`CSVError`
    naming the line.
    """
    lines = [(i + 1, line) for i, line in enumerate(text.splitlines()) if line.strip()]
    if not lines:
        raise CSVError("the file is empty: expected rows 'x1,x2,label'")
    sample = lines[0][1]
    delimiter = next((d for d in (",", ";", "\t") if d in sample), None)
    rows = []
    for number, line in lines:
        fields = (
            next(csv.reader(io.StringIO(line), delimiter=delimiter)) if delimiter else line.split()
        )
        fields = [f.strip() for f in fields]
        if len(fields) != 3:
            raise CSVError(
                f"line {number}: expected 3 columns (x1, x2, label), got {len(fields)}: {line!r}"
            )
        try:
            values = [float(f) for f in fields]
        except ValueError:
            if number == lines[0][0] and not rows:  # a header line
                continue
            bad = next(f for f in fields if not _is_number(f))
            raise CSVError(f"line {number}: {bad!r} is not a number") from None
        rows.append((number, values))
    if not rows:
        raise CSVError("the file has a header but no data rows")
    if len(rows) > MAX_POINTS:
        raise CSVError(f"{len(rows)} rows exceed the limit of {MAX_POINTS} points")
    labels = {v[2] for _, v in rows}
    zero_one = problem == "classification" and labels <= {0.0, 1.0}
    out = np.empty((len(rows), 3), dtype=np.float32)
    for i, (number, (x, y, label)) in enumerate(rows):
        if zero_one:
            label = 2 * label - 1
        problem_text = coordinate_error(x, y) or label_error(label, problem, classes)
        if problem_text:
            raise CSVError(f"line {number}: {problem_text}")
        out[i] = (x, y, label)
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def features(X: np.ndarray, keys: list[str]) -> np.ndarray:
    """The chosen input features of points X (N, 2), as columns in :data:`FEATURES` order."""
    x1, x2 = X[:, 0], X[:, 1]
    columns = {
        "x": lambda: x1,
        "y": lambda: x2,
        "xSquared": lambda: x1 * x1,
        "ySquared": lambda: x2 * x2,
        "xTimesY": lambda: x1 * x2,
        "sinX": lambda: np.sin(x1),
        "sinY": lambda: np.sin(x2),
    }
    chosen = [columns[k]() for k in FEATURES if k in keys]
    return np.stack(chosen, axis=1).astype(np.float32) if chosen else np.zeros((len(X), 0), "f4")


FEATURE_SOURCE = {
    "x": "x1",
    "y": "x2",
    "xSquared": "x1 * x1",
    "ySquared": "x2 * x2",
    "xTimesY": "x1 * x2",
    "sinX": "np.sin(x1)",
    "sinY": "np.sin(x2)",
}
"""Each feature as a NumPy expression of x1, x2 (for the exported script)."""
