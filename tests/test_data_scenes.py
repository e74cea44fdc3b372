"""Segmentation scenes: shapes, dtypes, determinism, and masks that match the drawn shapes."""

import numpy as np
import pytest

from neuralab.data import SCENE_CLASSES, scenes


def test_shapes_dtypes_classes_and_determinism():
    images, masks = scenes(n=12, size=(24, 32), seed=3)
    assert images.shape == (12, 3, 24, 32) and images.dtype == np.float32
    assert masks.shape == (12, 24, 32) and masks.dtype == np.int64
    assert 0 <= images.min() and images.max() <= 1
    assert set(np.unique(masks)) <= set(range(len(SCENE_CLASSES)))
    assert (masks.reshape(12, -1) > 0).any(axis=1).all()  # every scene has a shape
    again = scenes(n=12, size=(24, 32), seed=3)
    assert (again[0] == images).all() and (again[1] == masks).all()
    assert not (scenes(n=12, size=(24, 32), seed=4)[1] == masks).all()
    with pytest.raises(ValueError, match="radius"):
        scenes(size=32, radius=(5, 40))


def test_mask_matches_each_shapes_pixels():
    images, masks = scenes(n=60, size=48, max_shapes=1, noise=0.0, seed=0, radius=(8, 14))
    fills = {1: [], 2: [], 3: []}
    for image, mask in zip(images, masks):
        (kind,) = set(np.unique(mask)) - {0}
        inside = mask == kind
        colours = np.unique(image[:, inside].T, axis=0)
        assert len(colours) == 1  # the shape is one solid colour, exactly where the mask says
        outside = image[:, ~inside].T
        assert np.abs(outside - colours[0]).sum(axis=1).min() > 0.05  # and nowhere else
        rows, cols = np.nonzero(inside)
        box = (np.ptp(rows) + 1) * (np.ptp(cols) + 1)
        fills[kind].append(inside.sum() / box)
    assert all(fills.values())
    assert min(fills[2]) > 0.99  # squares fill their bounding box
    assert 0.7 < min(fills[1]) and max(fills[1]) < 0.85  # circles: pi/4
    assert max(fills[3]) < 0.6  # triangles: at most half


def test_noise_is_added_to_pixels():
    clean, masks = scenes(n=4, noise=0.0, seed=1)
    noisy, masks2 = scenes(n=4, noise=0.1, seed=1)
    assert (masks == masks2).all()
    assert 0.03 < np.abs(noisy - clean).mean() < 0.1
