"""Tests of neuralab.data.transforms: hand-computed op values, pixel positions, randomness, policies."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import neuralab as nl
import neuralab.data.transforms as T
from neuralab.data.dataset import TensorDataset
from neuralab.data.loader import DataLoader
from neuralab.data.transforms import autoaugment
from neuralab.tensor import Tensor


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _random_uint8(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return _rng(seed).integers(0, 256, shape).astype(np.uint8)


# ----------------------------------------------------------------------------- layouts


def test_layouts_round_trip_type_shape_and_dtype():
    hwc = _random_uint8((5, 6, 3))
    assert T.invert(hwc).shape == (5, 6, 3) and T.invert(hwc).dtype == np.uint8
    assert T.invert(hwc[..., 0]).shape == (5, 6)  # 2-D single-channel image
    batch = _random_uint8((2, 5, 6, 3)).astype(np.int64)  # what the DataLoader hands over
    out = T.invert(Tensor(batch, dtype=np.int64))
    assert isinstance(out, Tensor) and out.dtype == np.int64 and out.shape == (2, 5, 6, 3)
    np.testing.assert_array_equal(out.numpy(), 255 - batch)
    chw = _rng().random((3, 5, 6)).astype(np.float32)
    out = T.invert(chw)
    assert out.dtype == np.float32 and out.shape == (3, 5, 6)
    np.testing.assert_allclose(out, 1 - chw)


def test_to_tensor_converts_hwc_integer_to_chw_float():
    hwc = _random_uint8((4, 5, 3))
    out = T.ToTensor()(hwc)
    assert out.dtype == np.float32 and out.shape == (3, 4, 5)
    np.testing.assert_allclose(out, hwc.transpose(2, 0, 1) / 255, rtol=1e-6)
    nhwc = _random_uint8((2, 4, 5, 3))
    assert T.to_tensor(nhwc).shape == (2, 3, 4, 5)
    assert T.to_tensor(hwc[..., 0]).shape == (1, 4, 5)
    t = T.to_tensor(Tensor(nhwc.astype(np.int64), dtype=np.int64))
    assert isinstance(t, Tensor) and t.dtype == np.float32 and t.shape == (2, 3, 4, 5)
    assert T.to_tensor(out) is out  # float images are already tensors


def test_layout_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"shape \(5,\)"):
        T.invert(np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match=r"0\.\.255.*300"):
        T.invert(np.full((2, 2, 3), 300))
    with pytest.raises(TypeError, match="bool"):
        T.invert(np.zeros((2, 2), bool))
    with pytest.raises(TypeError, match="ToTensor first"):
        T.Normalize([0.5], [0.5])(_random_uint8((4, 4, 3)))
    with pytest.raises(ValueError, match=r"crop size \(10, 10\).*\(8, 8\)"):
        T.RandomCrop(10, padding=1)(np.zeros((3, 6, 6), np.float32))


def test_normalize_per_channel_keeps_dtype():
    x = _rng().random((2, 3, 4, 4))
    out = T.Normalize([0.1, 0.2, 0.3], [0.5, 0.25, 2.0])(x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out[:, 1], (x[:, 1] - 0.2) / 0.25)
    assert T.normalize(x.astype(np.float32), 0.5, 0.5).dtype == np.float32
    with pytest.raises(ValueError, match="3 \\(channels\\)"):
        T.normalize(x, [0.1, 0.2], [1.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(T.OPS))
def test_every_op_keeps_float_dtype(name, dtype):
    x = _rng().random((2, 3, 6, 7)).astype(dtype)
    magnitude = {"Posterize": 4, "Solarize": 0.5}.get(name, 0.3)
    out = T.apply_op(x, name, magnitude, interpolation="bilinear")
    assert out.dtype == dtype and out.shape == x.shape


# ----------------------------------------------------------------------------- tone curves


def test_invert_solarize_posterize_hand_values():
    x = np.array([0, 127, 128, 200, 255], np.uint8).reshape(1, 5, 1)
    np.testing.assert_array_equal(T.invert(x).ravel(), [255, 128, 127, 55, 0])
    np.testing.assert_array_equal(T.solarize(x, 128).ravel(), [0, 127, 127, 55, 0])
    f = np.array([0.2, 0.5, 0.9]).reshape(1, 1, 3)
    np.testing.assert_allclose(T.solarize(f, 0.5).ravel(), [0.2, 0.5, 0.1])

    p = np.array([183, 255, 0, 15], np.uint8).reshape(1, 4, 1)  # 183 = 0b10110111
    np.testing.assert_array_equal(T.posterize(p, 4).ravel(), [176, 240, 0, 0])
    np.testing.assert_array_equal(T.posterize(p, 1).ravel(), [128, 128, 0, 0])
    np.testing.assert_array_equal(T.posterize(p, 8).ravel(), [183, 255, 0, 15])
    np.testing.assert_array_equal(T.posterize(p, 0).ravel(), [0, 0, 0, 0])
    pf = np.array([0.7, 1.0, 0.1]).reshape(1, 1, 3)
    np.testing.assert_allclose(T.posterize(pf, 2).ravel(), [0.5, 0.75, 0.0])
    # one magnitude per image of a batch
    batch = np.stack([p, p])
    np.testing.assert_array_equal(
        T.posterize(batch, [8, 4])[:, 0, :, 0], [[183, 255, 0, 15], [176, 240, 0, 0]]
    )


def test_autocontrast_stretches_each_channel_and_keeps_constant_ones():
    img = np.array(
        [[[50, 9, 0], [100, 9, 255], [150, 9, 17]]], np.uint8
    )  # (H=1, W=3, C=3): channel 0 in 50..150, channel 1 constant, channel 2 full range
    out = T.autocontrast(img)
    np.testing.assert_array_equal(out[0, :, 0], [0, 127, 255])  # (x-50)*255//100
    np.testing.assert_array_equal(out[0, :, 1], [9, 9, 9])
    np.testing.assert_array_equal(out[0, :, 2], [0, 255, 17])
    f = np.array([0.2, 0.4, 0.6], np.float32).reshape(1, 1, 3)
    np.testing.assert_allclose(T.autocontrast(f).ravel(), [0, 0.5, 1], atol=1e-6)


def test_equalize_follows_pils_algorithm():
    # 32x32 = 1024 pixels per channel. PIL: step = (pixels - count of the top value) // 256,
    # value v -> (step // 2 + number of pixels below v) // step, clipped to 255.
    ch0 = np.repeat(
        [10, 20, 30], [256, 256, 512]
    )  # step 512 // 256 = 2: 10->0, 20->257//2, 30->255
    ch1 = np.repeat([5, 6, 7], [100, 400, 524])  # step 500 // 256 = 1: 5->0, 6->100, 7->500 -> 255
    ch2 = np.full(1024, 77)  # one value: unchanged
    rng = _rng()
    img = np.stack([rng.permutation(c) for c in (ch0, ch1, ch2)], -1).reshape(32, 32, 3)
    out = T.equalize(img.astype(np.uint8))
    expected = {0: {10: 0, 20: 128, 30: 255}, 1: {5: 0, 6: 100, 7: 255}, 2: {77: 77}}
    for c, table in expected.items():
        for value, mapped in table.items():
            assert np.all(out[..., c][img[..., c] == value] == mapped), (c, value)
    tiny = np.array([[[0], [50]], [[200], [255]]], np.uint8)  # step 0: PIL leaves it unchanged
    np.testing.assert_array_equal(T.equalize(tiny), tiny)
    f = T.equalize(img.astype(np.float32).transpose(2, 0, 1) / 255)  # floats via 256 levels
    np.testing.assert_allclose(f * 255, out.transpose(2, 0, 1), atol=1e-4)


# ----------------------------------------------------------------------------- blends


def test_brightness_contrast_color_blend_formulas():
    x = np.array([100, 200, 3], np.uint8).reshape(1, 3, 1)
    np.testing.assert_array_equal(T.adjust_brightness(x, 1.5).ravel(), [150, 255, 4])  # 4.5 -> 4

    img = np.array([[[255, 0, 0], [0, 0, 255]]], np.uint8)  # red, blue
    gray = np.array([0.299 * 255, 0.114 * 255])
    mean = gray.mean()  # 52.6575
    out = T.adjust_contrast(img, 0.5)
    low = int(0.5 * mean)  # 26
    np.testing.assert_array_equal(
        out[0], [[int(127.5 + 0.5 * mean), low, low], [low, low, int(127.5 + 0.5 * mean)]]
    )
    f = img.astype(np.float64).transpose(2, 0, 1) / 255
    np.testing.assert_allclose(T.adjust_contrast(f, 0.5), 0.5 * f + 0.5 * mean / 255)

    np.testing.assert_array_equal(T.adjust_saturation(img, 0.0)[0, 0], [76, 76, 76])  # 76.245
    red = T.adjust_saturation(img, 0.5)[0, 0]
    np.testing.assert_array_equal(
        red, [int(0.5 * 255 + 0.5 * gray[0]), int(0.5 * gray[0]), int(0.5 * gray[0])]
    )
    np.testing.assert_allclose(
        T.adjust_saturation(f, 0.5), 0.5 * f + 0.5 * (gray / 255)[None, None, :]
    )
    one_channel = _random_uint8((4, 4, 1))
    np.testing.assert_array_equal(T.adjust_saturation(one_channel, 0.0), one_channel)
    with pytest.raises(ValueError, match="non-negative"):
        T.adjust_brightness(x, -0.5)


def test_sharpness_kernel_on_interior_and_borders_unchanged():
    img = np.zeros((4, 4), np.uint8)
    img[1, 1] = 130
    blurred = T.adjust_sharpness(img, 0.0)  # factor 0: the smoothed image itself
    # interior: (3x3 sum + 4 * centre) / 13: (1,1) -> 650/13 = 50, its neighbours 130/13 = 10
    np.testing.assert_array_equal(
        blurred, [[0, 0, 0, 0], [0, 50, 10, 0], [0, 10, 10, 0], [0, 0, 0, 0]]
    )
    np.testing.assert_array_equal(T.adjust_sharpness(img, 0.5)[1:3, 1:3], [[90, 5], [5, 5]])
    np.testing.assert_array_equal(T.adjust_sharpness(img, 2.0)[1:3, 1:3], [[210, 0], [0, 0]])
    border = _random_uint8((6, 7, 3))
    out = T.adjust_sharpness(border, 0.0)
    for edge in (np.s_[0], np.s_[-1], np.s_[:, 0], np.s_[:, -1]):
        np.testing.assert_array_equal(out[edge], border[edge])
    f = _rng().random((1, 5, 5))
    expected = f.copy()
    for i in range(1, 4):
        for j in range(1, 4):
            expected[0, i, j] = (f[0, i - 1 : i + 2, j - 1 : j + 2].sum() + 4 * f[0, i, j]) / 13
    np.testing.assert_allclose(T.adjust_sharpness(f, 0.0), expected)


def test_hue_matches_colorsys():
    x = _rng().random((3, 4, 5))
    out = T.adjust_hue(x, 0.25)
    for i, j in [(0, 0), (1, 3), (3, 4), (2, 2)]:
        h, s, v = colorsys.rgb_to_hsv(*x[:, i, j])
        np.testing.assert_allclose(out[:, i, j], colorsys.hsv_to_rgb((h + 0.25) % 1, s, v))
    np.testing.assert_allclose(T.adjust_hue(x, 0.0), x, atol=1e-12)
    gray = _random_uint8((4, 4, 1))
    np.testing.assert_array_equal(T.adjust_hue(gray, 0.3), gray)


# ----------------------------------------------------------------------------- geometry


def _dot(shape: tuple[int, int], row: int, col: int) -> np.ndarray:
    img = np.zeros(shape, np.uint8)
    img[row, col] = 255
    return img


def _where(img: np.ndarray) -> list[tuple[int, int]]:
    return [tuple(int(v) for v in p) for p in np.argwhere(img > 0)]


def test_shear_moves_a_pixel_by_the_factor():
    # ShearX: output (x, y) samples input (x + m * y) with y = row + 0.5 (top-left corner fixed).
    # Row 6, m = 0.3: offset 1.95, so the dot at column 5 appears at column 3 (7 for m = -0.3).
    assert _where(T.shear_x(_dot((8, 8), 6, 5), 0.3)) == [(6, 3)]
    assert _where(T.shear_x(_dot((8, 8), 6, 5), -0.3)) == [(6, 7)]
    assert _where(T.apply_op(_dot((8, 8), 6, 5), "ShearX", 0.3)) == [(6, 3)]
    assert _where(T.shear_y(_dot((8, 8), 5, 6), 0.3)) == [(3, 6)]
    assert _where(T.shear_x(_dot((8, 8), 0, 5), 0.3)) == [(0, 5)]  # offset 0.15 at the top row


def test_translate_moves_by_truncated_pixels():
    dot = _dot((8, 8), 4, 3)
    assert _where(T.translate_x(dot, 2.7)) == [(4, 5)]
    assert _where(T.translate_x(dot, -2.7)) == [(4, 1)]
    assert _where(T.translate_y(dot, -2.7)) == [(2, 3)]
    assert _where(T.apply_op(dot, "TranslateY", 3.9)) == [(7, 3)]
    assert _where(T.translate_x(dot, 5.0)) == []  # moved out, zero fill
    filled = T.translate_x(np.zeros((3, 4, 4), np.float32), 2, fill=[0.1, 0.2, 0.3])
    np.testing.assert_allclose(filled[:, 0, :2], [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]])
    np.testing.assert_allclose(filled[:, 0, 2:], 0)


@pytest.mark.parametrize("size", [5, 6])
def test_rotate_by_right_angles_is_rot90(size):
    img = _rng().random((2, 3, size, size))
    for k in (1, 2, 3):
        np.testing.assert_array_equal(T.rotate(img, 90 * k), np.rot90(img, k, axes=(2, 3)))
    # counter-clockwise: the pixel right of the centre goes above it
    assert _where(T.rotate(_dot((5, 5), 2, 3), 90)) == [(1, 2)]
    assert _where(T.apply_op(_dot((5, 5), 2, 3), "Rotate", -90)) == [(3, 2)]


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_rotate_matches_torch_grid_sample(mode):
    x = _rng().random((3, 2, 9, 9)).astype(np.float32)
    angles = np.array([17.0, -33.0, 61.0])
    ours = T.rotate(x, angles, interpolation=mode)
    rad = np.radians(angles)
    theta = np.stack(
        [
            np.stack([np.cos(rad), -np.sin(rad), 0 * rad], 1),
            np.stack([np.sin(rad), np.cos(rad), 0 * rad], 1),
        ],
        1,
    )
    grid = F.affine_grid(
        torch.tensor(theta, dtype=torch.float32), list(x.shape), align_corners=False
    )
    theirs = F.grid_sample(
        torch.tensor(x), grid, mode=mode, padding_mode="zeros", align_corners=False
    ).numpy()
    if mode == "bilinear":
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    else:  # nearest may differ only where a sample lies on a tie between two pixels
        assert np.mean(ours != theirs) < 0.01


def test_affine_uint8_rounds_and_scale_zooms_about_the_centre():
    img = np.arange(16, dtype=np.uint8).reshape(4, 4) * 10
    out = T.affine(img, scale=2.0, interpolation="nearest")
    # scale 2 about the centre (2, 2): output centre (2.5, 2.5) samples input (2.25, 2.25)
    assert out[2, 2] == img[2, 2] and out.dtype == np.uint8
    half = T.affine(img, translate=(0.5, 0), interpolation="bilinear")
    np.testing.assert_array_equal(
        half[0, 1:], np.rint((img[0, :-1].astype(float) + img[0, 1:]) / 2)
    )


def test_flips_mirror():
    x = _random_uint8((3, 4, 5, 3))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x), x[:, :, ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(x), x)
    np.testing.assert_array_equal(T.hflip(x[0]), x[0, :, ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(x), x[:, ::-1])
    f = _rng().random((40, 1, 2, 3))
    out = T.RandomHorizontalFlip()(f, rng=_rng(3))
    flipped = np.all(out == f[..., ::-1], axis=(1, 2, 3))
    assert np.all(flipped | np.all(out == f, axis=(1, 2, 3)))
    assert 5 < flipped.sum() < 35  # independent draws per image


def test_random_crop_with_padding_keeps_size_and_uses_the_drawn_offsets():
    x = (np.arange(2 * 6 * 6, dtype=np.float32) + 1).reshape(2, 1, 6, 6).repeat(3, 0)[:5]
    x = np.concatenate([x, x])  # 10 images
    out = T.RandomCrop(6, padding=2)(x, rng=_rng(7))
    assert out.shape == x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    expected_rng = _rng(7)
    tops = expected_rng.integers(0, 5, size=10)
    lefts = expected_rng.integers(0, 5, size=10)
    offsets = set()
    for i in range(10):
        found = [
            (dy, dx)
            for dy in range(5)
            for dx in range(5)
            if np.array_equal(out[i], padded[i, :, dy : dy + 6, dx : dx + 6])
        ]
        assert found == [(tops[i], lefts[i])]
        offsets.add(found[0])
    assert len(offsets) > 1
    reflect = T.RandomCrop(4, padding=1, padding_mode="reflect")(x[:1], rng=_rng())
    assert reflect.shape == (1, 1, 4, 4)
    small = T.RandomCrop(8, pad_if_needed=True, fill=1.0)(x[:3], rng=_rng())
    assert small.shape == (3, 1, 8, 8)  # padded by 2 on each side, so the crop holds the image
    np.testing.assert_allclose(small.sum(axis=(1, 2, 3)), x[:3].sum(axis=(1, 2, 3)) + 64 - 36)


def test_pad_modes():
    row = np.array([[[1.0, 2.0, 3.0]]])  # (C=1, H=1, W=3)
    expected = {
        "constant": [9, 9, 1, 2, 3, 9, 9],
        "edge": [1, 1, 1, 2, 3, 3, 3],
        "reflect": [3, 2, 1, 2, 3, 2, 1],
        "symmetric": [2, 1, 1, 2, 3, 3, 2],
    }
    for mode, values in expected.items():
        out = T.pad(row, (2, 0), fill=9.0, padding_mode=mode)
        np.testing.assert_array_equal(out[0, 0], values)
    out = T.pad(np.zeros((2, 2, 3), np.uint8), (1, 2, 3, 4), fill=(7, 8, 9))  # l, t, r, b
    assert out.shape == (8, 6, 3) and out[0, 0].tolist() == [7, 8, 9]
    with pytest.raises(ValueError, match="reflect padding"):
        T.pad(row, 3, padding_mode="reflect")


def test_resize_matches_torch_interpolate():
    x = _rng().random((2, 3, 7, 10)).astype(np.float32)
    for mode in ("bilinear", "nearest"):
        theirs = F.interpolate(torch.tensor(x), size=(4, 13), mode=mode).numpy()
        np.testing.assert_allclose(T.Resize((4, 13), interpolation=mode)(x), theirs, atol=1e-6)
    assert T.resize(x, 14).shape == (2, 3, 14, 20)  # shorter edge 7 -> 14, aspect kept
    u = _random_uint8((7, 10, 3))
    out = T.resize(u, (4, 5))
    assert out.dtype == np.uint8 and out.shape == (4, 5, 3)
    ref = F.interpolate(
        torch.tensor(u.transpose(2, 0, 1)[None] / 1.0, dtype=torch.float32),
        size=(4, 5),
        mode="bilinear",
    )
    np.testing.assert_array_equal(out, np.rint(ref.numpy()[0].transpose(1, 2, 0)))


def test_random_resized_crop():
    x = _rng().random((6, 3, 12, 12)).astype(np.float32)
    full = T.RandomResizedCrop(5, scale=(1.0, 1.0), ratio=(1.0, 1.0))(x, rng=_rng())
    np.testing.assert_allclose(full, T.resize(x, (5, 5)), atol=1e-6)
    t = T.RandomResizedCrop((6, 4))
    boxes = t.boxes(200, 12, 20, _rng())
    top, left, h, w = boxes.T
    assert np.all((top >= 0) & (left >= 0) & (top + h <= 12) & (left + w <= 20) & (h > 0) & (w > 0))
    area = h * w / 240
    assert area.min() > 0.06 and area.max() <= 1.0 and len(set(map(tuple, boxes))) > 100
    out = t(x, rng=_rng(1))
    assert out.shape == (6, 3, 6, 4) and out.dtype == np.float32


def test_random_rotation_draws_angles_per_image():
    x = np.repeat(_dot((9, 9), 4, 7)[None, None].astype(np.float32) / 255, 8, axis=0)
    out = T.RandomRotation(90)(x, rng=_rng(2))
    positions = {tuple(np.argwhere(o[0] > 0)[0]) for o in out if o.any()}
    assert len(positions) > 3
    rng = _rng(2)
    angles = rng.uniform(-90, 90, size=8)
    np.testing.assert_array_equal(out, T.rotate(x, angles))


# ----------------------------------------------------------------------------- randomness


@pytest.mark.parametrize(
    "transform",
    [
        T.RandomCrop(8, padding=2),
        T.RandomRotation(30),
        T.ColorJitter(0.4, 0.4, 0.4, 0.1),
        T.RandomResizedCrop(6),
        T.AutoAugment("cifar10"),
        T.RandAugment(),
    ],
    ids=lambda t: type(t).__name__,
)
def test_same_seed_same_output_and_fresh_draws_differ(transform):
    x = _random_uint8((6, 8, 8, 3))
    a = transform(x, rng=_rng(5))
    b = transform(x, rng=_rng(5))
    np.testing.assert_array_equal(a, b)
    rng = _rng(6)
    assert not np.array_equal(transform(x, rng=rng), transform(x, rng=rng))
    nl.manual_seed(3)
    c = transform(x)
    nl.manual_seed(3)
    np.testing.assert_array_equal(c, transform(x))


def test_color_jitter_draws_a_factor_per_image():
    x = np.full((6, 3, 4, 4), 0.4, np.float32) * _rng().random((6, 3, 1, 1)).astype(np.float32)
    out = T.ColorJitter(brightness=0.5)(x, rng=_rng())
    factors = out.sum(axis=(1, 2, 3)) / x.sum(axis=(1, 2, 3))
    assert np.all((factors >= 0.5) & (factors <= 1.5)) and len(set(np.round(factors, 5))) == 6
    gray = _rng().random((2, 1, 4, 4))
    np.testing.assert_array_equal(T.ColorJitter(saturation=0.9, hue=0.5)(gray, rng=_rng()), gray)
    with pytest.raises(ValueError, match="hue"):
        T.ColorJitter(hue=0.7)


def test_compose_passes_the_generator_and_works_in_the_data_loader():
    images = _random_uint8((10, 8, 8, 3))
    labels = np.arange(10)
    pipeline = T.Compose(
        [T.RandomCrop(8, padding=2), T.RandomHorizontalFlip(), T.ToTensor(), lambda x: x]
    )
    first = [
        x.numpy()
        for x, _ in DataLoader(TensorDataset(images, labels), 5, transform=pipeline, generator=4)
    ]
    loader = DataLoader(TensorDataset(images, labels), 5, transform=pipeline, generator=4)
    again = [x.numpy() for x, _ in loader]
    second_epoch = [x.numpy() for x, _ in loader]
    assert first[0].shape == (5, 3, 8, 8) and first[0].dtype == np.float32
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], second_epoch[0])


# ----------------------------------------------------------------------------- AutoAugment


def test_augmentation_space_bins_follow_torchvision():
    space = T.augmentation_space(10, (20, 331))
    np.testing.assert_array_equal(space["Posterize"][0], [8, 8, 7, 7, 6, 6, 5, 5, 4, 4])
    np.testing.assert_allclose(space["Solarize"][0], 255 * np.linspace(1, 0, 10))
    np.testing.assert_allclose(space["ShearX"][0][[0, 9]], [0, 0.3])
    np.testing.assert_allclose(space["TranslateX"][0][9], 150.0)  # 150/331 of the width
    np.testing.assert_allclose(space["TranslateY"][0][9], 150 / 331 * 20)
    np.testing.assert_allclose(space["Rotate"][0][9], 30.0)
    np.testing.assert_allclose(space["Sharpness"][0][9], 0.9)
    assert space["Rotate"][1] and not space["Solarize"][1] and space["Invert"][0] is None
    assert T.augmentation_space(31, (8, 8))["Posterize"][0][[0, 30]].tolist() == [8, 4]
    np.testing.assert_allclose(T.augmentation_space(10, (8, 8), white=1.0)["Solarize"][0][3], 2 / 3)


def test_builtin_policies_are_the_papers_tables():
    for name in ("imagenet", "cifar10", "svhn"):
        policies = T.AutoAugment(name).policies
        assert len(policies) == 25 and all(len(sub) == 2 for sub in policies)
    assert T.POLICIES["imagenet"][0] == (("Posterize", 0.4, 8), ("Rotate", 0.6, 9))
    assert T.POLICIES["svhn"][0] == (("ShearX", 0.9, 4), ("Invert", 0.2, None))
    assert T.AutoAugment(T.AutoAugmentPolicy.SVHN).policies == list(T.POLICIES["svhn"])


def test_custom_policy_with_probability_one_equals_the_ops_in_order():
    x = _random_uint8((4, 8, 8, 3))
    out = T.AutoAugment([(("Posterize", 1.0, 5), ("Solarize", 1.0, 3))])(x, rng=_rng())
    # bin 5 of Posterize keeps 8 - round(5 / 2.25) = 6 bits; bin 3 of Solarize is 255 * 6/9 = 170
    np.testing.assert_array_equal(out, T.solarize(T.posterize(x, 6), 170))
    np.testing.assert_array_equal(out, T.apply_op(T.apply_op(x, "Posterize", 6), "Solarize", 170))
    never = T.AutoAugment([(("Invert", 0.0, None), ("Equalize", 0.0, None))])
    np.testing.assert_array_equal(never(x, rng=_rng()), x)


def test_signed_ops_take_a_random_sign_per_image():
    x = _random_uint8((12, 8, 8, 3))
    out = T.AutoAugment([(("ShearX", 1.0, 7), ("Invert", 1.0, 3))])(x, rng=_rng(1))
    m = 0.3 * 7 / 9
    plus, minus = (T.invert(T.shear_x(x, s * m)) for s in (1, -1))
    is_plus = np.all(out == plus, axis=(1, 2, 3))
    is_minus = np.all(out == minus, axis=(1, 2, 3))
    assert np.all(is_plus | is_minus) and is_plus.any() and is_minus.any()


def test_lecture_policy_table_runs_per_image():
    lecture = [
        (("ShearX", 0.9, 7), ("Invert", 0.2, 3)),
        (("ShearY", 0.7, 6), ("Solarize", 0.4, 8)),
        (("ShearX", 0.9, 4), ("AutoContrast", 0.8, 3)),
        (("Invert", 0.9, 3), ("Equalize", 0.6, 3)),
        (("ShearY", 0.8, 5), ("AutoContrast", 0.7, 3)),
    ]
    t = T.AutoAugment(lecture)
    x = _random_uint8((16, 10, 10, 3))
    out = t(x, rng=_rng())
    assert out.shape == x.shape and out.dtype == np.uint8
    assert np.mean(np.any(out != x, axis=(1, 2, 3))) > 0.5
    f = T.to_tensor(x)
    assert t(f, rng=_rng()).dtype == np.float32
    assert "5 sub-policies" in repr(t)


@pytest.mark.parametrize(
    "policy, message",
    [
        ("mnist", "unknown policy"),
        ([(("Shear", 1.0, 3),)], "unknown op 'Shear'"),
        ([(("ShearX", 1.5, 3),)], "p must be in"),
        ([(("Rotate", 0.5, None),)], "needs a magnitude bin"),
        ([(("Rotate", 0.5, 10),)], "needs a magnitude bin"),
        ([("ShearX", 1.0)], "must be \\(op name"),
    ],
)
def test_invalid_policies_are_rejected(policy, message):
    with pytest.raises(ValueError, match=message):
        T.AutoAugment(policy)


def _counting_ops(monkeypatch, calls: list) -> None:
    """Replace every op by 'add 1', recording (name, magnitudes)."""
    for name in autoaugment.OPS:

        def add_one(images, magnitudes, interpolation, fill, name=name):
            calls.append((name, magnitudes.copy()))
            return images + 1

        monkeypatch.setitem(autoaugment.OPS, name, add_one)


def test_rand_augment_applies_exactly_num_ops(monkeypatch):
    calls: list = []
    _counting_ops(monkeypatch, calls)
    x = np.zeros((50, 3, 8, 8), np.float32)
    for num_ops in (0, 1, 3):
        out = T.RandAugment(num_ops=num_ops, magnitude=9)(x, rng=_rng(num_ops))
        np.testing.assert_array_equal(out, num_ops)
    names = {name for name, _ in calls}
    assert names == set(T.RAND_AUGMENT_OPS)
    space = T.augmentation_space(31, (8, 8), white=1.0)
    by_name: dict = {}
    for name, magnitudes in calls:
        by_name.setdefault(name, []).extend(magnitudes)
    for name, magnitudes in by_name.items():
        table, signed = space[name]
        expected = 0.0 if table is None else table[9]
        np.testing.assert_allclose(np.abs(magnitudes), abs(expected))
        if signed:
            assert min(magnitudes) < 0 < max(magnitudes), name


def test_auto_augment_picks_one_sub_policy_per_image(monkeypatch):
    calls: list = []
    _counting_ops(monkeypatch, calls)
    policy = [(("Invert", 1.0, None),), (("Equalize", 1.0, None), ("Invert", 1.0, None))]
    out = T.AutoAugment(policy)(np.zeros((40, 1, 4, 4), np.float32), rng=_rng())
    counts = out[:, 0, 0, 0]
    assert set(counts.tolist()) == {1.0, 2.0}  # one step or two, depending on the sub-policy


def test_rand_augment_validates_and_runs_on_real_ops():
    with pytest.raises(ValueError, match="magnitude=31"):
        T.RandAugment(magnitude=31)
    x = _random_uint8((8, 8, 8, 3))
    out = T.RandAugment(num_ops=2, magnitude=15)(x, rng=_rng())
    assert out.shape == x.shape and out.dtype == np.uint8


# ----------------------------------------------------------------------------- PIL cross-check


def test_tone_ops_match_pil_imageops():
    pytest.importorskip(
        "PIL", reason="Pillow is not installed; hand-computed tests cover these ops"
    )
    from PIL import Image, ImageOps

    rng = _rng()
    for seed in range(6):
        lo, hi = sorted(rng.integers(0, 256, 2))
        shape = (16, 20, 3) if seed % 2 else (24, 24)  # RGB and single-channel ("L") images
        img = rng.integers(lo, hi + 1, shape).astype(np.uint8)
        if seed == 4:
            img = rng.choice(np.array([3, 90, 91, 200], np.uint8), shape)  # few values: clipped LUT
        pil = Image.fromarray(img)
        np.testing.assert_array_equal(T.equalize(img), np.asarray(ImageOps.equalize(pil)))
        np.testing.assert_array_equal(T.autocontrast(img), np.asarray(ImageOps.autocontrast(pil)))
        for bits in (1, 3, 6):
            ours = T.posterize(img, bits)
            np.testing.assert_array_equal(ours, np.asarray(ImageOps.posterize(pil, bits)))
        for threshold in (0, 100, 255):
            ours = T.solarize(img, threshold)
            np.testing.assert_array_equal(ours, np.asarray(ImageOps.solarize(pil, threshold)))
