"""Pixel-value transforms: conversion (ToTensor), Normalize, colour adjustments and ColorJitter.

The adjustments are torchvision's (and PIL ``ImageEnhance``'s): each blends the image with a
"degenerate" version, ``factor * image + (1 - factor) * degenerate``, clipped to [0, white]:
black for brightness, the mean grey level for contrast, the grayscale image for saturation
(``Color``), a 3x3 smoothed image for sharpness. Factor 1 leaves the image unchanged, 0 gives the
degenerate image, above 1 extrapolates. Grayscale is ``0.299 R + 0.587 G + 0.114 B`` (ITU-R 601),
kept in float. Integer images are computed in float32 and truncated back to 0..255, as PIL and
torchvision do for blends. White is 255 for integer images and 1.0 for float ones.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuralab.data.transforms.core import (
    Transform,
    bound,
    finish,
    image_function,
    per_image,
    to_batch,
    work_dtype,
)

_GRAY_WEIGHTS = (0.299, 0.587, 0.114)

# ----------------------------------------------------------------------------- conversion


def to_tensor(image: Any) -> Any:
    """Integer HWC / NHWC / HW images (0..255) to float32 CHW / NCHW / 1HW in [0, 1]."""
    batch, layout = to_batch(image, "to_tensor")
    if not layout.channels_last:
        return image
    out = batch.astype(np.float32) / np.float32(255)
    float_layout = dataclasses.replace(
        layout, ndim=max(layout.ndim, 3), dtype=np.dtype(np.float32), channels_last=False
    )
    return float_layout.restore(out)


class ToTensor:
    """Transform form of :func:`to_tensor`: 0..255 integer HWC images to float32 CHW in [0, 1]."""

    def __call__(self, image: Any) -> Any:
        return to_tensor(image)

    def __repr__(self) -> str:
        return "ToTensor()"


def _channel_values(value: Any, channels: int, dtype: np.dtype, op: str, name: str) -> np.ndarray:
    """One number, or one per channel, shaped (1, C, 1, 1) in ``dtype``."""
    arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if arr.ndim != 1 or len(arr) not in (1, channels):
        raise ValueError(
            f"{op}: {name} must have 1 or {channels} (channels) values, got {len(arr)}: {value!r}"
        )
    return arr.astype(dtype).reshape(1, -1, 1, 1)


@image_function
def normalize(images: np.ndarray, mean: Any, std: Any) -> np.ndarray:
    """``(x - mean[c]) / std[c]`` per channel on float images (use after ToTensor)."""
    if images.dtype == np.uint8:
        raise TypeError(
            "normalize: expects float CHW/NCHW images (apply ToTensor first), got integer images"
        )
    c = images.shape[1]
    m = _channel_values(mean, c, images.dtype, "normalize", "mean")
    s = _channel_values(std, c, images.dtype, "normalize", "std")
    if np.any(s == 0):
        raise ValueError(f"normalize: std must be non-zero, got {std!r}")
    return (images - m) / s


class Normalize(Transform):
    """Standardise each channel: ``(x - mean[c]) / std[c]`` (float images only)."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        self.mean = mean
        self.std = std

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Normalise the batch (no randomness)."""
        return normalize.batch(images, self.mean, self.std)


# ----------------------------------------------------------------------------- blends


def _blend(images: np.ndarray, degenerate: Any, factor: Any, op: str) -> np.ndarray:
    """``factor * images + (1 - factor) * degenerate`` per image, clipped, in the image dtype."""
    factors = per_image(factor, len(images), op, "factor")
    if factors.min() < 0:
        raise ValueError(f"{op}: factor must be non-negative, got {factor!r}")
    dtype = work_dtype(images)
    r = factors.astype(dtype).reshape(-1, 1, 1, 1)
    out = r * images.astype(dtype) + (1 - r) * degenerate
    return finish(np.clip(out, 0, bound(images)), images)


def _grayscale(images: np.ndarray, op: str) -> np.ndarray:
    """(N, 1, H, W) float luminance of 1- or 3-channel images."""
    x = images.astype(work_dtype(images))
    if images.shape[1] == 1:
        return x
    if images.shape[1] != 3:
        raise ValueError(f"{op}: expects 1- or 3-channel images, got {images.shape[1]} channels")
    r, g, b = _GRAY_WEIGHTS
    return r * x[:, 0:1] + g * x[:, 1:2] + b * x[:, 2:3]


@image_function
def adjust_brightness(images: np.ndarray, factor: Any) -> np.ndarray:
    """Scale brightness: blend with black (``factor * x``, clipped)."""
    return _blend(images, 0, factor, "adjust_brightness")


@image_function
def adjust_contrast(images: np.ndarray, factor: Any) -> np.ndarray:
    """Scale contrast: blend with the image's mean grayscale level."""
    mean = _grayscale(images, "adjust_contrast").mean(axis=(1, 2, 3), keepdims=True)
    return _blend(images, mean, factor, "adjust_contrast")


@image_function
def adjust_saturation(images: np.ndarray, factor: Any) -> np.ndarray:
    """Scale saturation (AutoAugment's ``Color``): blend with the grayscale image.

    Single-channel images have no saturation and come back unchanged.
    """
    if images.shape[1] == 1:
        return images.copy()
    return _blend(images, _grayscale(images, "adjust_saturation"), factor, "adjust_saturation")


@image_function
def adjust_sharpness(images: np.ndarray, factor: Any) -> np.ndarray:
    """Blend with a smoothed copy: kernel [[1,1,1],[1,5,1],[1,1,1]]/13 inside, borders kept.

    Integer images round the smoothed values, as torchvision; images of height or width 2 or
    less are returned unchanged.
    """
    h, w = images.shape[2:]
    if h <= 2 or w <= 2:
        return images.copy()
    x = images.astype(work_dtype(images))
    total = 4 * x[:, :, 1:-1, 1:-1]
    for dy in range(3):
        for dx in range(3):
            total = total + x[:, :, dy : h - 2 + dy, dx : w - 2 + dx]
    smooth = total / 13
    blurred = x.copy()
    blurred[:, :, 1:-1, 1:-1] = np.rint(smooth) if images.dtype == np.uint8 else smooth
    return _blend(images, blurred, factor, "adjust_sharpness")


# ----------------------------------------------------------------------------- hue


def _rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """(N, 3, H, W) RGB in [0, 1] to HSV (hue in [0, 1)), torchvision's formulas."""
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    maxc, minc = rgb.max(axis=1), rgb.min(axis=1)
    equal = maxc == minc
    span = maxc - minc
    s = span / np.where(equal, 1, maxc)
    span = np.where(equal, 1, span)
    rc, gc, bc = (maxc - r) / span, (maxc - g) / span, (maxc - b) / span
    is_r = maxc == r
    is_g = (maxc == g) & ~is_r
    h = np.where(is_r, bc - gc, np.where(is_g, 2 + rc - bc, 4 + gc - rc))
    h = np.mod(h / 6 + 1, 1)
    return np.stack([h, s, maxc], axis=1)


def _hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """(N, 3, H, W) HSV back to RGB."""
    h, s, v = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    sector = np.floor(h * 6)
    f = h * 6 - sector
    sector = sector.astype(np.int64) % 6
    p = np.clip(v * (1 - s), 0, 1)
    q = np.clip(v * (1 - s * f), 0, 1)
    t = np.clip(v * (1 - s * (1 - f)), 0, 1)
    table = np.stack(
        [
            np.stack([v, q, p, p, t, v]),
            np.stack([t, v, v, q, p, p]),
            np.stack([p, p, t, v, v, q]),
        ]
    )  # (3 channels, 6 sectors, N, H, W)
    rgb = np.take_along_axis(table, sector[None, None], axis=1)[:, 0]
    return rgb.transpose(1, 0, 2, 3)


@image_function
def adjust_hue(images: np.ndarray, factor: Any) -> np.ndarray:
    """Rotate the hue by ``factor`` turns (in [-0.5, 0.5]) in HSV space; grayscale unchanged."""
    shift = per_image(factor, len(images), "adjust_hue", "factor")
    if np.abs(shift).max() > 0.5:
        raise ValueError(f"adjust_hue: factor must be in [-0.5, 0.5], got {factor!r}")
    if images.shape[1] == 1:
        return images.copy()
    if images.shape[1] != 3:
        raise ValueError(f"adjust_hue: expects 1- or 3-channel images, got {images.shape[1]}")
    dtype = work_dtype(images)
    hsv = _rgb_to_hsv(images.astype(dtype) / dtype.type(bound(images)))
    hsv[:, 0] = np.mod(hsv[:, 0] + shift.astype(dtype)[:, None, None], 1)
    rgb = _hsv_to_rgb(hsv) * dtype.type(bound(images))
    return finish(rgb, images, rounding=True)


# ----------------------------------------------------------------------------- tone curves


@image_function
def invert(images: np.ndarray) -> np.ndarray:
    """Negative image: ``white - x``."""
    return np.uint8(255) - images if images.dtype == np.uint8 else 1 - images


@image_function
def solarize(images: np.ndarray, threshold: Any) -> np.ndarray:
    """Invert the pixels at or above ``threshold`` (in the image's own range: 0..255 or 0..1)."""
    t = per_image(threshold, len(images), "solarize", "threshold").reshape(-1, 1, 1, 1)
    return np.where(images >= t, invert.batch(images), images)


@image_function
def posterize(images: np.ndarray, bits: Any) -> np.ndarray:
    """Keep the top ``bits`` (0..8) bits of each 8-bit value; float x → floor(x·2^bits)/2^bits."""
    b = per_image(bits, len(images), "posterize", "bits")
    if b.min() < 0 or b.max() > 8 or np.any(b != np.round(b)):
        raise ValueError(f"posterize: bits must be integers in 0..8, got {bits!r}")
    b = b.astype(np.int64).reshape(-1, 1, 1, 1)
    if images.dtype == np.uint8:
        return images & ((0xFF << (8 - b)) & 0xFF).astype(np.uint8)
    levels = (2.0**b).astype(images.dtype)
    return np.clip(np.floor(images * levels), 0, levels - 1) / levels


def _lookup(images: np.ndarray, tables: np.ndarray) -> np.ndarray:
    """Map each uint8 channel through its own 256-entry table: ``tables`` is (N * C, 256)."""
    n, c, h, w = images.shape
    rows = np.arange(n * c)[:, None]
    flat = images.reshape(n * c, h * w)
    return tables[rows, flat].astype(np.uint8).reshape(images.shape)


@image_function
def autocontrast(images: np.ndarray) -> np.ndarray:
    """Stretch each channel to [0, white] linearly from its own min and max.

    Integer images use PIL's lookup table, ``int(v * scale - lo * scale)`` with
    ``scale = 255 / (hi - lo)`` in double precision; a constant channel is left unchanged.
    """
    lo = images.min(axis=(2, 3), keepdims=True)
    hi = images.max(axis=(2, 3), keepdims=True)
    flat = hi == lo
    if images.dtype == np.uint8:
        lo, hi = lo.reshape(-1, 1).astype(np.float64), hi.reshape(-1, 1).astype(np.float64)
        scale = 255.0 / np.where(hi > lo, hi - lo, 1)
        stretched = np.clip(np.arange(256) * scale + -lo * scale, 0, 255).astype(np.int64)
        return _lookup(images, np.where(hi > lo, stretched, np.arange(256)))
    span = np.where(flat, 1, hi - lo)
    return np.where(flat, images, np.clip((images - lo) / span, 0, 1))


def _equalize_uint8(images: np.ndarray) -> np.ndarray:
    """PIL's ImageOps.equalize per channel of an (N, C, H, W) uint8 batch, vectorised.

    Per channel: with h the 256-bin histogram and ``step = (pixels - count of the highest used
    value) // 256``, value v maps to ``(step // 2 + sum(h[:v])) // step`` (clipped to 255); a
    channel with step 0 (e.g. fewer than 257 pixels, or one value) is left unchanged.
    """
    n, c, h, w = images.shape
    flat = images.reshape(n * c, h * w).astype(np.int64)
    rows = np.arange(n * c)
    hist = np.bincount((rows[:, None] * 256 + flat).ravel(), minlength=n * c * 256)
    hist = hist.reshape(n * c, 256)
    last = 255 - np.argmax(hist[:, ::-1] > 0, axis=1)
    step = (h * w - hist[rows, last]) // 256
    below = np.cumsum(hist, axis=1) - hist
    lut = np.minimum((step[:, None] // 2 + below) // np.maximum(step, 1)[:, None], 255)
    return _lookup(images, np.where(step[:, None] > 0, lut, np.arange(256)))


@image_function
def equalize(images: np.ndarray) -> np.ndarray:
    """Histogram-equalise each channel (PIL's algorithm); float images via 256 levels."""
    if images.dtype == np.uint8:
        return _equalize_uint8(images)
    levels = np.clip(np.rint(images * 255), 0, 255).astype(np.uint8)
    return _equalize_uint8(levels).astype(images.dtype) / images.dtype.type(255)


# ----------------------------------------------------------------------------- ColorJitter


def _factor_range(
    value: Any, name: str, center: float, limit: tuple[float, float]
) -> tuple[float, float] | None:
    """ColorJitter's ranges: d → (center - d, center + d) clipped to ``limit``; 0 → None."""
    if isinstance(value, int | float | np.number):
        if value < 0:
            raise ValueError(f"ColorJitter: {name} must be non-negative, got {value}")
        lo, hi = max(center - float(value), limit[0]), center + float(value)
    elif isinstance(value, Sequence) and len(value) == 2:
        lo, hi = float(value[0]), float(value[1])
    else:
        raise ValueError(
            f"ColorJitter: {name} must be a number or a (min, max) pair, got {value!r}"
        )
    if not limit[0] <= lo <= hi <= limit[1]:
        raise ValueError(f"ColorJitter: {name} range must lie within {limit}, got {value!r}")
    return None if lo == hi == center else (lo, hi)


class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue, in a random order, per image.

    Each of ``brightness``, ``contrast``, ``saturation`` is a number d (factor drawn from
    [max(0, 1 - d), 1 + d]) or a (min, max) pair; ``hue`` is h in [0, 0.5] (shift drawn from
    [-h, h]) or a pair within [-0.5, 0.5]. Zero disables an adjustment. Every image draws its own
    factors and its own order of the four adjustments, as torchvision draws per call.
    """

    def __init__(
        self, brightness: Any = 0, contrast: Any = 0, saturation: Any = 0, hue: Any = 0
    ) -> None:
        inf = float("inf")
        self.brightness = _factor_range(brightness, "brightness", 1.0, (0.0, inf))
        self.contrast = _factor_range(contrast, "contrast", 1.0, (0.0, inf))
        self.saturation = _factor_range(saturation, "saturation", 1.0, (0.0, inf))
        self.hue = _factor_range(hue, "hue", 0.0, (-0.5, 0.5))

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw per-image factors and orders, then apply step by step, grouped by adjustment."""
        n = len(images)
        adjustments = [
            (adjust_brightness.batch, self.brightness),
            (adjust_contrast.batch, self.contrast),
            (adjust_saturation.batch, self.saturation),
            (adjust_hue.batch, self.hue),
        ]
        order = rng.permuted(np.tile(np.arange(4), (n, 1)), axis=1)
        factors = [None if r is None else rng.uniform(*r, size=n) for _, r in adjustments]
        out = images.copy()
        for position in range(4):
            for k, (kernel, _) in enumerate(adjustments):
                chosen = order[:, position] == k
                if factors[k] is not None and chosen.any():
                    out[chosen] = kernel(out[chosen], factors[k][chosen])
        return out
