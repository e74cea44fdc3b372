"""Geometric transforms: flips, crops, padding, resizing, affine warps (rotate, shear, translate).

Coordinates follow torchvision: x to the right, y down, measured in pixels from the top-left
corner of the top-left pixel, so pixel (row i, column j) has its centre at (j + 0.5, i + 0.5) and
the image centre is (W / 2, H / 2). Affine warps map every output pixel centre back into the input
(the inverse matrix of torchvision's ``_get_inverse_affine_matrix``) and sample there, nearest
(rounding half to even, as ``grid_sample``) or bilinear; samples outside the image take ``fill``.
Integer images are resampled in float32 and rounded back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from neuralab.data.transforms.core import (
    Transform,
    check_interpolation,
    fill_values,
    finish,
    image_function,
    pair,
    per_image,
    work_dtype,
)
from neuralab.ops.resize import interpolate
from neuralab.tensor import constant

# ----------------------------------------------------------------------------- functional


@image_function
def hflip(images: np.ndarray) -> np.ndarray:
    """Mirror left-right."""
    return images[..., ::-1].copy()


@image_function
def vflip(images: np.ndarray) -> np.ndarray:
    """Mirror top-bottom."""
    return images[..., ::-1, :].copy()


@image_function
def crop(images: np.ndarray, top: Any, left: Any, height: int, width: int) -> np.ndarray:
    """Cut the (height, width) window at (top, left); top/left may differ per image."""
    n, _, h, w = images.shape
    tops = per_image(top, n, "crop", "top").astype(np.int64)
    lefts = per_image(left, n, "crop", "left").astype(np.int64)
    if (
        height < 1
        or width < 1
        or tops.min() < 0
        or lefts.min() < 0
        or tops.max() + height > h
        or lefts.max() + width > w
    ):
        raise ValueError(
            f"crop: window of size ({height}, {width}) at top {tops.tolist()}, left "
            f"{lefts.tolist()} does not fit in images of size ({h}, {w})"
        )
    rows = tops[:, None, None] + np.arange(height)[None, :, None]
    cols = lefts[:, None, None] + np.arange(width)[None, None, :]
    out = images[np.arange(n)[:, None, None], :, rows, cols]  # (n, height, width, C)
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


def _padding4(padding: Any, op: str) -> tuple[int, int, int, int]:
    """torchvision's padding forms (all sides, (left/right, top/bottom), or 4 values) as l,t,r,b."""
    if isinstance(padding, int | np.integer):
        values = (int(padding),) * 4
    elif isinstance(padding, Sequence) and len(padding) in (1, 2, 4):
        p = [int(v) for v in padding]
        values = tuple(p * 4 if len(p) == 1 else p * 2 if len(p) == 2 else p)
    else:
        raise ValueError(
            f"{op}: padding must be an int or a sequence of 1, 2 or 4 ints, got {padding!r}"
        )
    if min(values) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {padding!r}")
    return values


_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


@image_function
def pad(
    images: np.ndarray, padding: Any, fill: Any = 0, padding_mode: str = "constant"
) -> np.ndarray:
    """Pad the borders: ``padding`` as in torchvision (int, (lr, tb) or (l, t, r, b)).

    ``padding_mode`` is 'constant' (with ``fill``, a number or one per channel), 'edge',
    'reflect' (mirror without repeating the edge) or 'symmetric' (mirror repeating it).
    """
    if padding_mode not in _PAD_MODES:
        raise ValueError(
            f"pad: padding_mode must be one of {sorted(_PAD_MODES)}, got {padding_mode!r}"
        )
    left, top, right, bottom = _padding4(padding, "pad")
    n, c, h, w = images.shape
    if padding_mode == "constant":
        fills = fill_values(fill, c, images.dtype, "pad")
        out = np.empty((n, c, h + top + bottom, w + left + right), images.dtype)
        out[...] = fills[None, :, None, None]
        out[:, :, top : top + h, left : left + w] = images
        return out
    if padding_mode == "reflect" and (max(top, bottom) >= h or max(left, right) >= w):
        raise ValueError(
            f"pad: reflect padding (l, t, r, b) = {(left, top, right, bottom)} must be smaller "
            f"than the image size ({h}, {w})"
        )
    widths = ((0, 0), (0, 0), (top, bottom), (left, right))
    return np.pad(images, widths, mode=padding_mode)


def _resized_size(size: Any, h: int, w: int, op: str) -> tuple[int, int]:
    """torchvision's output size: an int matches the shorter edge, keeping the aspect ratio."""
    if isinstance(size, int | np.integer) or (isinstance(size, Sequence) and len(size) == 1):
        short = int(size if isinstance(size, int | np.integer) else size[0])
        if short < 1:
            raise ValueError(f"{op}: size must be positive, got {size!r}")
        if h <= w:
            return short, max(1, int(short * w / h))
        return max(1, int(short * h / w)), short
    return pair(size, op, "size")


def _interpolate(images: np.ndarray, size: tuple[int, int], interpolation: str) -> np.ndarray:
    """Resize an (N, C, H, W) batch with torch's F.interpolate arithmetic (no antialiasing)."""
    if images.shape[2:] == size:
        return images.copy()
    x = images.astype(work_dtype(images), copy=False)
    out = interpolate(constant(x), size=size, mode=interpolation).numpy()
    return finish(out, images, rounding=True)


@image_function
def resize(images: np.ndarray, size: Any, interpolation: str = "bilinear") -> np.ndarray:
    """Resize to ``size``: (h, w), or an int that the shorter edge becomes (aspect kept).

    Bilinear uses half-pixel centres (``align_corners=False``) and nearest picks
    floor(dst * in / out), as torch's ``F.interpolate``; there is no antialiasing when shrinking.
    """
    check_interpolation(interpolation, "resize")
    out_size = _resized_size(size, *images.shape[2:], "resize")
    return _interpolate(images, out_size, interpolation)


def _inverse_affine(
    angle: np.ndarray,
    translate: np.ndarray,
    scale: np.ndarray,
    shear: np.ndarray,
    center: np.ndarray,
) -> np.ndarray:
    """Per-image 2x3 matrices mapping output pixel coordinates to input ones (torchvision's)."""
    rot = np.radians(angle)
    sx, sy = np.radians(shear[:, 0]), np.radians(shear[:, 1])
    a = np.cos(rot - sy) / np.cos(sy)
    b = -np.cos(rot - sy) * np.tan(sx) / np.cos(sy) - np.sin(rot)
    c = np.sin(rot - sy) / np.cos(sy)
    d = -np.sin(rot - sy) * np.tan(sx) / np.cos(sy) + np.cos(rot)
    m = np.stack([np.stack([d, -b], -1), np.stack([-c, a], -1)], -2) / scale[:, None, None]
    offset = center - np.einsum("nij,nj->ni", m, center + translate)
    return np.concatenate([m, offset[:, :, None]], axis=2)


def _warp(images: np.ndarray, matrix: np.ndarray, interpolation: str, fill: Any) -> np.ndarray:
    """Sample each image at its inverse-mapped output pixel centres; outside gives ``fill``."""
    n, c, h, w = images.shape
    dtype = work_dtype(images)
    v, u = np.mgrid[0:h, 0:w] + 0.5
    m = matrix[:, :, :, None, None]
    xs = m[:, 0, 0] * u + m[:, 0, 1] * v + m[:, 0, 2] - 0.5  # (n, h, w) source column
    ys = m[:, 1, 0] * u + m[:, 1, 1] * v + m[:, 1, 2] - 0.5  # source row
    pixels = images.transpose(0, 2, 3, 1)
    fills = fill_values(fill, c, dtype, "affine")
    batch = np.arange(n)[:, None, None]

    def tap(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
        value = pixels[batch, np.clip(rows, 0, h - 1), np.clip(cols, 0, w - 1)].astype(dtype)
        return np.where(inside[..., None], value, fills)

    if interpolation == "nearest":
        out = tap(np.rint(ys).astype(np.int64), np.rint(xs).astype(np.int64))
    else:
        y0, x0 = np.floor(ys), np.floor(xs)
        wy, wx = (ys - y0).astype(dtype)[..., None], (xs - x0).astype(dtype)[..., None]
        y0, x0 = y0.astype(np.int64), x0.astype(np.int64)
        top = tap(y0, x0) * (1 - wx) + tap(y0, x0 + 1) * wx
        bottom = tap(y0 + 1, x0) * (1 - wx) + tap(y0 + 1, x0 + 1) * wx
        out = top * (1 - wy) + bottom * wy
    return finish(np.ascontiguousarray(out.transpose(0, 3, 1, 2)), images, rounding=True)


@image_function
def affine(
    images: np.ndarray,
    angle: Any = 0.0,
    translate: Any = (0.0, 0.0),
    scale: Any = 1.0,
    shear: Any = (0.0, 0.0),
    interpolation: str = "nearest",
    fill: Any = None,
    center: Sequence[float] | None = None,
) -> np.ndarray:
    """torchvision's ``F.affine``: rotate ``angle`` degrees clockwise, scale, shear, translate.

    ``shear`` is (x, y) in degrees (one number: x only), ``translate`` (dx, dy) in pixels,
    ``center`` the fixed point in pixel coordinates (default the image centre). Each argument may
    also hold one value (or one pair) per image.
    """
    check_interpolation(interpolation, "affine")
    n, _, h, w = images.shape
    if np.ndim(shear) == 0:
        shear = (shear, 0.0)
    pairs = []
    for name, value in (("translate", translate), ("shear", shear)):
        arr = np.asarray(value, dtype=np.float64)
        if arr.shape not in ((2,), (n, 2)):
            raise ValueError(
                f"affine: {name} must be a pair or one pair per image ({n}), got {value!r}"
            )
        pairs.append(np.broadcast_to(arr, (n, 2)))
    scales = per_image(scale, n, "affine", "scale")
    if scales.min() <= 0:
        raise ValueError(f"affine: scale must be positive, got {scale!r}")
    centre = np.array([w * 0.5, h * 0.5] if center is None else center, dtype=np.float64)
    matrix = _inverse_affine(
        per_image(angle, n, "affine", "angle"), pairs[0], scales, pairs[1], centre
    )
    return _warp(images, matrix, interpolation, fill)


@image_function
def rotate(
    images: np.ndarray,
    angle: Any,
    interpolation: str = "nearest",
    center: Sequence[float] | None = None,
    fill: Any = None,
) -> np.ndarray:
    """Rotate ``angle`` degrees counter-clockwise about ``center`` (default the image centre)."""
    return affine.batch(
        images,
        angle=-per_image(angle, len(images), "rotate", "angle"),
        interpolation=interpolation,
        fill=fill,
        center=center,
    )


def _shear_degrees(factor: Any, n: int, op: str) -> np.ndarray:
    """A shear factor (the tangent, as AutoAugment's magnitude) as an angle in degrees."""
    return np.degrees(np.arctan(per_image(factor, n, op, "factor")))


@image_function
def shear_x(
    images: np.ndarray, factor: Any, interpolation: str = "nearest", fill: Any = None
) -> np.ndarray:
    """AutoAugment's ShearX: output pixel (x, y) takes input (x + factor * y, y), y from the top."""
    deg = _shear_degrees(factor, len(images), "shear_x")
    shear = np.stack([deg, np.zeros_like(deg)], 1)
    return affine.batch(
        images, shear=shear, interpolation=interpolation, fill=fill, center=(0.0, 0.0)
    )


@image_function
def shear_y(
    images: np.ndarray, factor: Any, interpolation: str = "nearest", fill: Any = None
) -> np.ndarray:
    """AutoAugment's ShearY: output pixel (x, y) takes input (x, y + factor * x), x from the left.

    (The mirror image of :func:`shear_x`; coordinates are pixel-centre distances from the corner.)
    """
    deg = _shear_degrees(factor, len(images), "shear_y")
    shear = np.stack([np.zeros_like(deg), deg], 1)
    return affine.batch(
        images, shear=shear, interpolation=interpolation, fill=fill, center=(0.0, 0.0)
    )


def _translate(
    images: np.ndarray, pixels: Any, axis: int, interpolation: str, fill: Any
) -> np.ndarray:
    """Shift content by int(pixels) (truncated toward zero, as torchvision) along x or y."""
    shift = np.trunc(per_image(pixels, len(images), "translate", "pixels"))
    translate = np.zeros((len(images), 2))
    translate[:, axis] = shift
    return affine.batch(images, translate=translate, interpolation=interpolation, fill=fill)


@image_function
def translate_x(
    images: np.ndarray, pixels: Any, interpolation: str = "nearest", fill: Any = None
) -> np.ndarray:
    """AutoAugment's TranslateX: move the content int(pixels) to the right (left if negative)."""
    return _translate(images, pixels, 0, interpolation, fill)


@image_function
def translate_y(
    images: np.ndarray, pixels: Any, interpolation: str = "nearest", fill: Any = None
) -> np.ndarray:
    """AutoAugment's TranslateY: move the content int(pixels) down (up if negative)."""
    return _translate(images, pixels, 1, interpolation, fill)


# ----------------------------------------------------------------------------- transforms


def _range(value: Any, op: str, name: str, center: float = 0.0) -> tuple[float, float]:
    """A number d as (center - d, center + d), or a (min, max) pair, validated."""
    if isinstance(value, int | float | np.number):
        if value < 0:
            raise ValueError(f"{op}: {name} must be non-negative when a single number, got {value}")
        return center - float(value), center + float(value)
    if isinstance(value, Sequence) and len(value) == 2 and value[0] <= value[1]:
        return float(value[0]), float(value[1])
    raise ValueError(f"{op}: {name} must be a number or a (min, max) pair, got {value!r}")


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right with probability ``p`` (drawn per image)."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = float(p)

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Flip the images whose draw falls below ``p``."""
        chosen = rng.random(len(images)) < self.p
        out = images.copy()
        out[chosen] = images[chosen][..., ::-1]
        return out


class RandomVerticalFlip(Transform):
    """Mirror each image top-bottom with probability ``p`` (drawn per image)."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = float(p)

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Flip the images whose draw falls below ``p``."""
        chosen = rng.random(len(images)) < self.p
        out = images.copy()
        out[chosen] = images[chosen][..., ::-1, :]
        return out


class RandomCrop(Transform):
    """Pad (optionally), then cut a ``size`` window at a random position per image.

    ``padding``/``fill``/``padding_mode`` are those of :func:`pad`; ``pad_if_needed`` pads images
    smaller than ``size`` (by the shortfall on both sides, as torchvision). The classic CIFAR
    augmentation is ``RandomCrop(32, padding=4)``.
    """

    def __init__(
        self,
        size: Any,
        padding: Any = None,
        pad_if_needed: bool = False,
        fill: Any = 0,
        padding_mode: str = "constant",
    ) -> None:
        self.size = pair(size, "RandomCrop", "size")
        self.padding = None if padding is None else _padding4(padding, "RandomCrop")
        self.pad_if_needed = bool(pad_if_needed)
        self.fill = fill
        self.padding_mode = padding_mode

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Pad, then crop each image at offsets drawn uniformly (tops first, then lefts)."""
        if self.padding is not None:
            images = pad.batch(images, self.padding, self.fill, self.padding_mode)
        th, tw = self.size
        h, w = images.shape[2:]
        if self.pad_if_needed and (h < th or w < tw):
            extra = (max(tw - w, 0), max(th - h, 0))
            images = pad.batch(images, extra, self.fill, self.padding_mode)
            h, w = images.shape[2:]
        if h < th or w < tw:
            raise ValueError(
                f"RandomCrop: crop size {self.size} is larger than the (padded) image size "
                f"({h}, {w})"
            )
        tops = rng.integers(0, h - th + 1, size=len(images))
        lefts = rng.integers(0, w - tw + 1, size=len(images))
        return crop.batch(images, tops, lefts, th, tw)


class RandomRotation(Transform):
    """Rotate each image by an angle drawn uniformly from [-degrees, degrees] (or a (min, max))."""

    def __init__(
        self,
        degrees: Any,
        interpolation: str = "nearest",
        center: Sequence[float] | None = None,
        fill: Any = 0,
    ) -> None:
        self.degrees = _range(degrees, "RandomRotation", "degrees")
        self.interpolation = check_interpolation(interpolation, "RandomRotation")
        self.center = center
        self.fill = fill

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw one angle per image and rotate counter-clockwise by it."""
        angles = rng.uniform(*self.degrees, size=len(images))
        return rotate.batch(images, angles, self.interpolation, self.center, self.fill)


class Resize(Transform):
    """Resize to ``size`` ((h, w), or an int for the shorter edge) — see :func:`resize`."""

    def __init__(self, size: Any, interpolation: str = "bilinear") -> None:
        self.size = size
        self.interpolation = check_interpolation(interpolation, "Resize")
        _resized_size(size, 1, 1, "Resize")

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Resize the whole batch (no randomness)."""
        return resize.batch(images, self.size, self.interpolation)


class RandomResizedCrop(Transform):
    """Crop a random area fraction (``scale``) and aspect ratio (``ratio``), resize to ``size``.

    Per image, up to 10 (area, log-uniform ratio) draws are tried, as torchvision; the first one
    fitting in the image is cropped at a uniform position, else a centre crop with the ratio
    clamped to ``ratio`` is used. The crop is then resized (``interpolation``, bilinear default).
    """

    def __init__(
        self,
        size: Any,
        scale: tuple[float, float] = (0.08, 1.0),
        ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0),
        interpolation: str = "bilinear",
    ) -> None:
        self.size = pair(size, "RandomResizedCrop", "size")
        self.scale = _range(scale, "RandomResizedCrop", "scale")
        self.ratio = _range(ratio, "RandomResizedCrop", "ratio")
        if self.scale[0] <= 0 or self.ratio[0] <= 0:
            raise ValueError(
                f"RandomResizedCrop: scale and ratio must be positive, got {scale!r}, {ratio!r}"
            )
        self.interpolation = check_interpolation(interpolation, "RandomResizedCrop")

    def boxes(self, n: int, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
        """Draw n crop boxes (top, left, height, width) for (h, w) images."""
        tries = 10
        area = h * w * rng.uniform(*self.scale, size=(n, tries))
        aspect = np.exp(rng.uniform(*np.log(self.ratio), size=(n, tries)))
        cw = np.rint(np.sqrt(area * aspect)).astype(np.int64)
        ch = np.rint(np.sqrt(area / aspect)).astype(np.int64)
        fits = (cw > 0) & (cw <= w) & (ch > 0) & (ch <= h)
        first = np.argmax(fits, axis=1)
        rows = np.arange(n)
        ch, cw = ch[rows, first], cw[rows, first]
        missed = ~fits.any(axis=1)
        if missed.any():  # torchvision's fallback: a centre crop with the ratio clamped
            if w / h < self.ratio[0]:
                ch[missed], cw[missed] = int(round(w / self.ratio[0])), w
            elif w / h > self.ratio[1]:
                ch[missed], cw[missed] = h, int(round(h * self.ratio[1]))
            else:
                ch[missed], cw[missed] = h, w
        tops = rng.integers(0, h - ch + 1)
        lefts = rng.integers(0, w - cw + 1)
        tops[missed], lefts[missed] = (h - ch[missed]) // 2, (w - cw[missed]) // 2
        return np.stack([tops, lefts, ch, cw], axis=1)

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Crop each image at its own box and resize it (one resize per image)."""
        boxes = self.boxes(len(images), *images.shape[2:], rng)
        return np.concatenate(
            [
                _interpolate(image[None, :, t : t + ch, l : l + cw], self.size, self.interpolation)
                for image, (t, l, ch, cw) in zip(images, boxes)
            ]
        )
