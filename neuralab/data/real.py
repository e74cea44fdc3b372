"""Small real datasets that scikit-learn ships inside its package (nothing is downloaded).

scikit-learn is imported lazily, inside each function, so ``neuralab.data`` imports without it.
Each loader returns ``(X, y)``: X float32 features, y int64 class indices. ``standardize=True``
scales every feature to zero mean and unit variance using the statistics of the whole set
(convenient for exploring). For a strict protocol, split with
:func:`~neuralab.data.train_test_split` first, then ``standard_scale(part, fit=X_train)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.ops.resize import interpolate
from neuralab.tensor import constant, no_grad


def _sklearn_loader(name: str) -> Any:
    """``sklearn.datasets.load_<name>``, with a clear error when scikit-learn is missing."""
    try:
        from sklearn import datasets
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"neuralab.data.{name} needs scikit-learn, which ships this dataset: "
            "pip install scikit-learn"
        ) from err
    return getattr(datasets, f"load_{name}")


def standard_scale(X: np.ndarray, fit: np.ndarray | None = None) -> np.ndarray:
    """Scale each feature (axis 0) to zero mean and unit variance; constant features become 0.

    The mean and std come from ``fit`` when given (e.g. the training part, to scale a test part
    without leaking its statistics), else from ``X`` itself.
    """
    X = np.asarray(X, dtype=np.float32)
    ref = X if fit is None else np.asarray(fit, dtype=np.float32)
    std = ref.std(axis=0)
    return ((X - ref.mean(axis=0)) / np.where(std > 0, std, 1)).astype(np.float32)


def _table(name: str, standardize: bool) -> tuple[np.ndarray, np.ndarray]:
    bunch = _sklearn_loader(name)()
    X = bunch.data.astype(np.float32)
    return (standard_scale(X) if standardize else X), bunch.target.astype(np.int64)


def iris(standardize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Fisher's iris: X (150, 4) float32 (sepal/petal length and width, cm), y (150,) int64 0..2.

    The rows are ordered by class (50 each): shuffle or use ``train_test_split`` before splitting.
    """
    return _table("iris", standardize)


def wine(standardize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Wine recognition: X (178, 13) float32 chemical measurements, y (178,) int64 0..2.

    The features have very different scales (proline is ~1000): ``standardize=True`` helps.
    """
    return _table("wine", standardize)


def breast_cancer(standardize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Wisconsin breast cancer: X (569, 30) float32 cell-nucleus features, y (569,) int64.

    y is 0 = malignant, 1 = benign (scikit-learn's coding).
    """
    return _table("breast_cancer", standardize)


def digits(
    layout: str = "flat", size: int = 8, standardize: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Handwritten digits, 8×8 pixels: 1,797 images, y (1797,) int64 0..9.

    Pixels are scaled from scikit-learn's 0..16 to [0, 1]. ``layout='flat'`` gives X
    (1797, size²) float32, ``layout='image'`` gives (1797, 1, size, size) for conv nets.
    ``size=32`` upsamples bilinearly (``neuralab.ops.resize.interpolate``) to LeNet-5's 32×32
    input. ``standardize`` scales each pixel position to zero mean, unit variance.
    """
    if layout not in ("flat", "image"):
        raise ValueError(f"digits: layout must be 'flat' or 'image', got {layout!r}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"digits: size must be a positive int (8 is native), got {size!r}")
    bunch = _sklearn_loader("digits")()
    images = (bunch.images / 16).astype(np.float32)[:, None]  # (N, 1, 8, 8)
    if size != 8:
        with no_grad():
            images = interpolate(constant(images), size=size, mode="bilinear").numpy()
    X = images.reshape(len(images), -1)
    if standardize:
        X = standard_scale(X)
    if layout == "image":
        X = X.reshape(-1, 1, size, size)
    return X, bunch.target.astype(np.int64)
