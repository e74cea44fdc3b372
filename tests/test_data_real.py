"""The scikit-learn-shipped datasets: sizes, dtypes, layouts, scaling and the 32×32 digits."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from neuralab.data import breast_cancer, digits, iris, standard_scale, train_test_split, wine


@pytest.mark.parametrize(
    "load, shape, classes",
    [(iris, (150, 4), 3), (wine, (178, 13), 3), (breast_cancer, (569, 30), 2)],
    ids=["iris", "wine", "breast_cancer"],
)
def test_tables(load, shape, classes):
    X, y = load()
    assert X.shape == shape and X.dtype == np.float32
    assert y.shape == (shape[0],) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(classes))
    Xs, ys = load(standardize=True)
    np.testing.assert_allclose(Xs.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(Xs.std(0), 1, atol=1e-3)
    assert Xs.dtype == np.float32 and (ys == y).all()


def test_digits_layouts_and_rescaling():
    X, y = digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and 0 <= X.min() and X.max() == 1
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    images, _ = digits(layout="image")
    assert images.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(images.reshape(1797, 64), X)
    big, _ = digits(layout="image", size=32)
    assert big.shape == (1797, 1, 32, 32) and big.dtype == np.float32
    expected = F.interpolate(torch.from_numpy(images), size=32, mode="bilinear").numpy()
    np.testing.assert_allclose(big, expected, atol=1e-6)
    assert digits(size=32)[0].shape == (1797, 1024)
    with pytest.raises(ValueError, match="layout"):
        digits(layout="nchw")


def test_standard_scale_with_training_statistics():
    X, y = iris()
    Xtr, Xte, ytr, yte = train_test_split(X, y, ratio=0.8, seed=0)
    assert len(Xtr) == 120 and set(np.unique(ytr)) == {0, 1, 2}
    Xte_s = standard_scale(Xte, fit=Xtr)
    np.testing.assert_allclose(Xte_s, (Xte - Xtr.mean(0)) / Xtr.std(0), rtol=1e-5, atol=1e-5)
    assert (standard_scale(np.ones((3, 2))) == 0).all()
