"""The generated 2-D datasets: shapes, dtypes, geometry and each one's noise semantics."""

import numpy as np
import pytest

from neuralab.data import (
    blobs,
    checkerboard,
    circle,
    gauss,
    moons,
    multi_gauss,
    plane,
    spiral,
    xor,
)


def test_circle_shapes_labels_and_geometry():
    X, y = circle(n=400, noise=0.0, seed=1)
    assert X.shape == (400, 2) and y.shape == (400,)
    assert X.dtype == np.float32 and y.dtype == np.float32
    r = np.hypot(X[:, 0], X[:, 1])
    assert set(np.unique(y)) == {-1.0, 1.0} and (y == 1).sum() == 200
    assert (r[y == 1] <= 2.5).all() and ((r[y == -1] >= 3.5) & (r[y == -1] <= 5.0)).all()


def test_circle_noise_flips_labels_but_points_stay():
    X0, y0 = circle(n=1000, noise=0.0, seed=3)
    X1, y1 = circle(n=1000, noise=0.5, seed=3)
    r = np.hypot(*X1.T)
    assert (r <= 5.0).all()
    assert 0 < ((r <= 2.5) != (y1 == 1)).mean() < 0.5
    _, y01 = circle(n=10, seed=3, labels="01")
    assert set(np.unique(y01)) <= {0.0, 1.0}


def test_circle_rejects_unknown_label_format():
    with pytest.raises(ValueError, match="labels must be"):
        circle(labels="bad")


# --------------------------------------------------------------------------- the other datasets


ALL = [circle, xor, gauss, spiral, plane, multi_gauss, moons, blobs, checkerboard]


@pytest.mark.parametrize("make", ALL, ids=lambda f: f.__name__)
def test_defaults_shapes_dtypes_and_determinism(make):
    X, y = make()
    n = 1200 if make in (plane, multi_gauss) else 500
    assert X.shape == (n, 2) and y.shape == (n,) and X.dtype == np.float32
    assert y.dtype == (np.int64 if make in (moons, blobs, checkerboard) else np.float32)
    assert np.abs(X).max() < 8
    X2, y2 = make(noise=0.1, seed=4)
    X3, y3 = make(noise=0.1, seed=4)
    assert (X2 == X3).all() and (y2 == y3).all()
    assert not (make(noise=0.1, seed=5)[0] == X2).all()
    with pytest.raises(ValueError, match="n must be"):
        make(n=0)
    with pytest.raises(ValueError, match="noise"):
        make(noise=-0.1)


@pytest.mark.parametrize("make", [circle, xor], ids=lambda f: f.__name__)
def test_label_noise_keeps_points_and_flips_labels(make):
    X0, y0 = make(n=1000, noise=0.0, seed=2)
    X1, y1 = make(n=1000, noise=0.3, seed=2)
    np.testing.assert_array_equal(X0, X1)  # the points do not move
    assert 0.02 < (y0 != y1).mean() < 0.4  # some labels flip


def test_xor_geometry():
    X, y = xor(n=1000, labels="01")
    assert (np.abs(X) >= 0.3).all() and (np.abs(X) <= 5.3).all()
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] >= 0).astype(np.float32))


def test_gauss_centres_and_noise_widens():
    X, y = gauss(n=4000, noise=0.0, seed=1)
    assert (y == 1).sum() == 2000
    np.testing.assert_allclose(X[y == 1].mean(0), [2, 2], atol=0.1)
    np.testing.assert_allclose(X[y == -1].mean(0), [-2, -2], atol=0.1)
    np.testing.assert_allclose(X[y == 1].std(0), np.sqrt(0.5), rtol=0.08)
    Xw, yw = gauss(n=4000, noise=0.5, seed=1)
    np.testing.assert_allclose(Xw[yw == 1].std(0), 2.0, rtol=0.08)  # variance 4
    assert set(np.unique(gauss(n=10, labels="01")[1])) == {0.0, 1.0}


def test_spiral_lies_on_arms_and_noise_moves_points():
    X0, y0 = spiral(n=400, noise=0.0, seed=3)
    r = np.hypot(*X0.T)
    assert r.max() < 5 and (y0 == 1).sum() == 200
    t = np.arctan2(X0[:, 0], X0[:, 1])  # x = r sin t, y = r cos t
    arm_t = 1.75 * 2 * np.pi * r / 5 + np.where(y0 > 0, 0, np.pi)
    np.testing.assert_allclose(np.cos(t - arm_t)[r > 0.1], 1, atol=1e-4)
    X1, y1 = spiral(n=400, noise=0.5, seed=3)
    np.testing.assert_array_equal(y0, y1)
    moved = np.abs(X1 - X0)
    assert moved.max() <= 0.5 + 1e-6 and moved.mean() > 0.1


def test_plane_target_and_jittered_label():
    X, y = plane(noise=0.0)
    np.testing.assert_allclose(y, X.sum(1) / 10, rtol=1e-5, atol=1e-6)
    Xn, yn = plane(noise=0.5)
    np.testing.assert_array_equal(X, Xn)
    assert np.abs(yn - y).max() > 0.2 and np.abs(yn).max() <= 1.8


def test_multi_gauss_bumps_and_jittered_label():
    X, y = multi_gauss(n=3000, noise=0.0, seed=1)
    assert np.abs(y).max() <= 1
    near = lambda cx, cy: np.hypot(X[:, 0] - cx, X[:, 1] - cy) < 0.5
    assert (y[near(-4, 2.5)] > 0.7).all() and (y[near(0, 2.5)] < -0.7).all()
    assert (y[near(4, -2.5)] < -0.7).all() and (y[near(0, -2.5)] > 0.7).all()
    far = np.min(
        [np.hypot(X[:, 0] - cx, X[:, 1] - cy) for cx in (-4, 0, 4) for cy in (-2.5, 2.5)], 0
    )
    assert (y[far > 2] == 0).all()
    Xn, yn = multi_gauss(n=3000, noise=0.3, seed=1)
    np.testing.assert_array_equal(X, Xn)
    assert (yn != y).mean() > 0.3


def test_moons_on_curves_and_noise_moves():
    X, y = moons(n=600, noise=0.0)
    assert (np.bincount(y) == 300).all()
    unit = X / 3 + [0.5, 0.25]
    np.testing.assert_allclose(np.hypot(*unit[y == 0].T), 1, atol=1e-5)
    np.testing.assert_allclose(np.hypot(unit[y == 1, 0] - 1, unit[y == 1, 1] - 0.5), 1, atol=1e-5)
    Xn, _ = moons(n=600, noise=0.2)
    assert np.abs(Xn - X).mean() > 0.1


def test_blobs_k_classes_balanced_and_centred():
    X, y = blobs(n=800, k=4, seed=2)
    assert np.bincount(y).tolist() == [200] * 4
    for j in range(4):
        angle = np.pi / 2 + 2 * np.pi * j / 4
        np.testing.assert_allclose(
            X[y == j].mean(0), 4 * np.array([np.cos(angle), np.sin(angle)]), atol=0.15
        )
    assert blobs(n=2000, k=2, noise=0.5)[0].std() > blobs(n=2000, k=2)[0].std()


def test_checkerboard_cells_and_label_noise():
    X, y = checkerboard(n=1000, k=3, cells=4)
    cell = np.floor((X + 6) / 3).astype(int)
    np.testing.assert_array_equal(y, cell.sum(1) % 3)
    assert set(np.unique(y)) == {0, 1, 2}
    Xn, yn = checkerboard(n=1000, k=3, cells=4, noise=0.3)
    np.testing.assert_array_equal(X, Xn)
    assert 0 < (yn != y).mean() < 0.5
