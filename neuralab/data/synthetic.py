"""Generated 2-D datasets: the TensorFlow Playground's six, with its formulas, plus three more.

Every generator takes ``n`` (number of samples), ``noise`` and ``seed`` (the same seed gives the
same data) and returns NumPy arrays ``X`` (n, 2) float32 and ``y`` (n,). Coordinates lie in about
[-6, 6]², the Playground's plotting range. The Playground's noise slider runs 0 to 50 %, i.e.
``noise`` in [0, 0.5]; larger values are allowed. What noise *does* differs by dataset, exactly as
in the Playground (worth pointing out to students):

================  ===========================================================================
circle, xor       label noise: the label is computed on a copy jittered by U(-5, 5)·noise, so
                  labels flip near the boundary while the points stay where they are
gauss, blobs      spread: the blobs' variance grows linearly from 0.5 (noise 0) to 4 (0.5)
spiral, moons     the points themselves move (uniform / Gaussian jitter)
plane,            regression: the target is computed at a copy jittered by U(-6, 6)·noise
multi_gauss
checkerboard      label noise, as for xor, with jitter U(-1, 1)·noise·(cell width)
================  ===========================================================================

The Playground's classification sets (circle, xor, gauss, spiral) have float32 labels in
{-1, +1} (``labels='pm1'``, for tanh outputs) or {0, 1} (``labels='01'``, for sigmoid/BCE).
The regression sets have float32 targets. moons, blobs and checkerboard are for multiclass
softmax models: their labels are int64 class indices 0..k-1.
"""

from __future__ import annotations

import numpy as np

Arrays = tuple[np.ndarray, np.ndarray]


def _check(name: str, n: int, noise: float) -> None:
    """Validate the arguments every generator shares."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"{name}: n must be a positive int, got {n!r}")
    if not noise >= 0:
        raise ValueError(f"{name}: noise must be >= 0 (the Playground uses 0 to 0.5), got {noise}")


def _check_labels(name: str, labels: str) -> None:
    if labels not in ("pm1", "01"):
        raise ValueError(f"{name}: labels must be 'pm1' or '01', got {labels!r}")


def _two_class(X: np.ndarray, y: np.ndarray, labels: str) -> Arrays:
    """Cast to float32 and map ±1 labels to {0, 1} when asked."""
    if labels == "01":
        y = (y + 1) / 2
    return X.astype(np.float32), y.astype(np.float32)


def _first_half_positive(n: int) -> np.ndarray:
    """+1 for the first n // 2 samples, -1 for the rest (the Playground's class order)."""
    return np.where(np.arange(n) < n // 2, 1.0, -1.0)


def circle(n: int = 500, noise: float = 0.0, seed: int | None = 0, labels: str = "pm1") -> Arrays:
    """Two classes: a disc of radius 2.5 (+1) inside a ring from 3.5 to 5 (-1).

    As in the Playground, the label is computed on a copy jittered by U(-5, 5)·noise, so noise
    flips labels near the boundary while the points stay put. Returns X (n, 2) float32 and
    y (n,) float32 in {-1, +1}, or in {0, 1} with ``labels='01'``.
    """
    _check("circle", n, noise)
    _check_labels("circle", labels)
    rng = np.random.default_rng(seed)
    inside = _first_half_positive(n) > 0
    radius = np.where(inside, rng.uniform(0, 2.5, n), rng.uniform(3.5, 5.0, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    jitter = rng.uniform(-5, 5, (n, 2)) * noise
    y = np.where(np.hypot(*(X + jitter).T) < 2.5, 1.0, -1.0)
    order = rng.permutation(n)
    return _two_class(X[order], y[order], labels)


def xor(n: int = 500, noise: float = 0.0, seed: int | None = 0, labels: str = "pm1") -> Arrays:
    """Four quadrants: +1 where x·y >= 0, -1 elsewhere.

    x, y ~ U(-5, 5), each pushed 0.3 away from its axis. The label is taken on a copy jittered by
    U(-5, 5)·noise (label flipping; the points do not move). X (n, 2) float32, y (n,) float32
    in {-1, +1} (or {0, 1} with ``labels='01'``).
    """
    _check("xor", n, noise)
    _check_labels("xor", labels)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-5, 5, (n, 2))
    X += np.where(X > 0, 0.3, -0.3)
    jitter = rng.uniform(-5, 5, (n, 2)) * noise
    y = np.where((X + jitter).prod(axis=1) >= 0, 1.0, -1.0)
    return _two_class(X, y, labels)


def _spread_std(noise: float) -> float:
    """The Playground's blob std: variance maps noise [0, 0.5] linearly to [0.5, 4]."""
    return float(np.sqrt(0.5 + noise * (4 - 0.5) / 0.5))


def gauss(n: int = 500, noise: float = 0.0, seed: int | None = 0, labels: str = "pm1") -> Arrays:
    """Two Gaussian blobs: centred at (2, 2) with label +1 and at (-2, -2) with label -1.

    Noise widens the blobs: the variance is 0.5 at noise 0 and 4 at noise 0.5 (linear). X (n, 2)
    float32, y (n,) float32 in {-1, +1} (or {0, 1}); shuffled.
    """
    _check("gauss", n, noise)
    _check_labels("gauss", labels)
    rng = np.random.default_rng(seed)
    y = _first_half_positive(n)
    X = rng.normal(2 * y[:, None], _spread_std(noise), (n, 2))
    order = rng.permutation(n)
    return _two_class(X[order], y[order], labels)


def spiral(n: int = 500, noise: float = 0.0, seed: int | None = 0, labels: str = "pm1") -> Arrays:
    """Two interleaved spiral arms (+1 and -1), 1.75 turns out to radius 5.

    Point i of an arm of m points: r = 5·i/m, t = 1.75·2π·i/m (+π for the -1 arm),
    (r·sin t, r·cos t) + U(-1, 1)·noise per coordinate: noise moves the points. X (n, 2)
    float32, y (n,) float32 in {-1, +1} (or {0, 1}); shuffled.
    """
    _check("spiral", n, noise)
    _check_labels("spiral", labels)
    rng = np.random.default_rng(seed)
    y = _first_half_positive(n)
    positive = y > 0
    arm_size = np.where(positive, n // 2, n - n // 2)
    i = np.where(positive, np.arange(n), np.arange(n) - n // 2)
    r = 5 * i / arm_size
    t = 1.75 * 2 * np.pi * i / arm_size + np.where(positive, 0.0, np.pi)
    X = np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + rng.uniform(-1, 1, (n, 2)) * noise
    order = rng.permutation(n)
    return _two_class(X[order], y[order], labels)


def _regression_inputs(n: int, noise: float, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Points ~ U(-6, 6)² and the jittered copies (jitter U(-6, 6)·noise) their targets use."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-6, 6, (n, 2))
    return X, X + rng.uniform(-6, 6, (n, 2)) * noise


def plane(n: int = 1200, noise: float = 0.0, seed: int | None = 0) -> Arrays:
    """Regression on a tilted plane: target = (x + y) / 10, i.e. x + y mapped [-10, 10] → [-1, 1].

    x, y ~ U(-6, 6); the target is taken at a copy jittered by U(-6, 6)·noise, so noise makes
    the target noisy (not clamped: targets lie in about [-1.2, 1.2]). X (n, 2) float32,
    y (n,) float32.
    """
    _check("plane", n, noise)
    X, jittered = _regression_inputs(n, noise, seed)
    return X.astype(np.float32), (jittered.sum(axis=1) / 10).astype(np.float32)


_BUMPS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]]
)


def multi_gauss(n: int = 1200, noise: float = 0.0, seed: int | None = 0) -> Arrays:
    """Regression on six bumps of alternating sign at x ∈ {-4, 0, 4}, y = ±2.5.

    Each bump contributes sign·clamp(1 - dist/2, 0, 1); the target is the contribution of
    largest magnitude, taken at a copy of the point jittered by U(-6, 6)·noise. x, y ~ U(-6, 6).
    X (n, 2) float32, y (n,) float32 in [-1, 1].
    """
    _check("multi_gauss", n, noise)
    X, jittered = _regression_inputs(n, noise, seed)
    dist = np.linalg.norm(jittered[:, None, :] - _BUMPS[None, :, :2], axis=2)
    values = _BUMPS[:, 2] * np.clip(1 - dist / 2, 0, 1)
    y = values[np.arange(n), np.abs(values).argmax(axis=1)]
    return X.astype(np.float32), y.astype(np.float32)


def moons(n: int = 500, noise: float = 0.0, seed: int | None = 0) -> Arrays:
    """Two interleaving half circles (scikit-learn's moons), centred and scaled ×3.

    Class 0 is the upper moon (n - n // 2 points), class 1 the lower one. Noise moves the points:
    Gaussian jitter of std ``noise`` moon radii (so 3·noise in the returned coordinates).
    X (n, 2) float32 in about [-4.5, 4.5] × [-2.3, 2.3], y (n,) int64 in {0, 1}; shuffled.
    """
    _check("moons", n, noise)
    rng = np.random.default_rng(seed)
    y = (np.arange(n) >= n - n // 2).astype(np.int64)
    t = rng.uniform(0, np.pi, n)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    X = np.where(y[:, None] == 0, upper, lower) + rng.normal(0, noise, (n, 2))
    X = 3 * (X - [0.5, 0.25])
    order = rng.permutation(n)
    return X[order].astype(np.float32), y[order]


def blobs(n: int = 500, k: int = 3, noise: float = 0.0, seed: int | None = 0) -> Arrays:
    """k Gaussian blobs, one per class, centred evenly on a circle of radius 4.

    Class j is centred at angle π/2 + 2πj/k; classes are balanced (sizes differ by at most 1).
    Noise widens the blobs as in ``gauss`` (variance 0.5 at noise 0, 4 at 0.5). X (n, 2)
    float32, y (n,) int64 in 0..k-1; shuffled.
    """
    _check("blobs", n, noise)
    if k < 1:
        raise ValueError(f"blobs: k (number of classes) must be >= 1, got {k}")
    rng = np.random.default_rng(seed)
    angles = np.pi / 2 + 2 * np.pi * np.arange(k) / k
    centres = 4 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    y = rng.permutation(np.arange(n) % k).astype(np.int64)
    X = centres[y] + rng.normal(0, _spread_std(noise), (n, 2))
    return X.astype(np.float32), y


def checkerboard(
    n: int = 500, k: int = 2, cells: int = 4, noise: float = 0.0, seed: int | None = 0
) -> Arrays:
    """A cells×cells board over [-6, 6]²: the cell in column i, row j has class (i + j) mod k.

    k = 2 is the classic two-colour board; larger k gives diagonal stripes of k classes. The
    label is computed on a copy jittered by U(-1, 1)·noise·(cell width): label noise near the
    cell edges, the points stay put. X (n, 2) float32 uniform in [-6, 6]², y (n,) int64 in
    0..k-1.
    """
    _check("checkerboard", n, noise)
    if k < 2 or cells < 1:
        raise ValueError(f"checkerboard: need k >= 2 classes and cells >= 1, got k={k}, {cells=}")
    rng = np.random.default_rng(seed)
    X = rng.uniform(-6, 6, (n, 2))
    width = 12 / cells
    jittered = X + rng.uniform(-1, 1, (n, 2)) * noise * width
    cell = np.floor((jittered + 6) / width).astype(np.int64)
    return X.astype(np.float32), (cell.sum(axis=1) % k).astype(np.int64)
