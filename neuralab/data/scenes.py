"""Generated segmentation scenes: coloured circles, squares and triangles on textured backgrounds.

Each image gets 1 to ``max_shapes`` shapes of random class, size, position (fully inside the
image), colour (bright and saturated) and, for triangles, rotation. Later shapes cover earlier
ones. The background is a desaturated colour with a smooth gradient and a stripe texture, and
Gaussian pixel noise of std ``noise`` is added over the whole image, so a model cannot segment
by one fixed colour. The per-pixel mask holds the class of the visible shape: 0 = background,
1 = circle, 2 = square, 3 = triangle (``SCENE_CLASSES``).
"""

from __future__ import annotations

import colorsys

import numpy as np

SCENE_CLASSES = ("background", "circle", "square", "triangle")
CIRCLE, SQUARE, TRIANGLE = 1, 2, 3


def _shape_mask(
    kind: int, cx: float, cy: float, r: float, angle: float, xx: np.ndarray, yy: np.ndarray
) -> np.ndarray:
    """Pixels (centres xx, yy) inside a shape of "radius" r: the circle's radius, the square's
    half side, the equilateral triangle's circumradius."""
    dx, dy = xx - cx, yy - cy
    if kind == CIRCLE:
        return dx**2 + dy**2 <= r**2
    if kind == SQUARE:
        return (np.abs(dx) <= r) & (np.abs(dy) <= r)
    corners = angle + 2 * np.pi * np.arange(3) / 3
    vx, vy = r * np.cos(corners), r * np.sin(corners)
    # inside a counter-clockwise triangle: left of (or on) every edge
    edges = [(vx[i], vy[i], vx[(i + 1) % 3], vy[(i + 1) % 3]) for i in range(3)]
    return np.logical_and.reduce(
        [(bx - ax) * (dy - ay) - (by - ay) * (dx - ax) >= 0 for ax, ay, bx, by in edges]
    )


def _background(rng: np.random.Generator, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    """A (3, H, W) desaturated colour with a linear gradient and a sinusoidal stripe texture."""
    h, w = xx.shape
    colour = rng.uniform(0.3, 0.7) + rng.uniform(-0.1, 0.1, 3)
    gx, gy = rng.uniform(-0.15, 0.15, 2)
    gradient = gx * (xx / w - 0.5) + gy * (yy / h - 0.5)
    direction = rng.uniform(0, np.pi)
    cycles = rng.uniform(1, 4)
    phase = rng.uniform(0, 2 * np.pi)
    along = (xx * np.cos(direction) + yy * np.sin(direction)) / max(h, w)
    stripes = rng.uniform(0.03, 0.12) * np.sin(2 * np.pi * cycles * along + phase)
    return colour[:, None, None] + (gradient + stripes)[None]


def scenes(
    n: int = 64,
    size: int | tuple[int, int] = 32,
    max_shapes: int = 3,
    noise: float = 0.05,
    seed: int | None = 0,
    radius: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random scenes and their masks: images (n, 3, H, W) float32 in [0, 1], masks
    (n, H, W) int64 in 0..3.

    ``size`` is H = W or (H, W). Shape "radii" (circle radius, half the square's side, the
    triangle's circumradius) are uniform in ``radius`` pixels, by default
    (min(H, W) / 10, min(H, W) / 4). ``noise`` is the std of the Gaussian pixel noise (0 gives
    shapes of exactly one colour each). The same seed gives the same scenes, and the same shapes
    and masks whatever the noise.
    """
    h, w = (size, size) if isinstance(size, int) else size
    lo, hi = radius if radius is not None else (min(h, w) / 10, min(h, w) / 4)
    if min(h, w) < 4 or not 0 < lo <= hi <= min(h, w) / 2:
        raise ValueError(
            f"scenes: need H, W >= 4 and 0 < radius min <= max <= min(H, W)/2, got size "
            f"{(h, w)} and radius {(lo, hi)}"
        )
    if max_shapes < 1 or noise < 0:
        raise ValueError(f"scenes: need max_shapes >= 1 and noise >= 0, got {max_shapes}, {noise}")
    rng, noise_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    images = np.empty((n, 3, h, w), dtype=np.float32)
    masks = np.zeros((n, h, w), dtype=np.int64)
    for i in range(n):
        image = _background(rng, xx, yy)
        for _ in range(rng.integers(1, max_shapes + 1)):
            kind = int(rng.integers(1, len(SCENE_CLASSES)))
            r = rng.uniform(lo, hi)
            cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
            inside = _shape_mask(kind, cx, cy, r, rng.uniform(0, 2 * np.pi), xx, yy)
            rgb = colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.7, 1), rng.uniform(0.8, 1))
            image[:, inside] = np.asarray(rgb)[:, None]
            masks[i][inside] = kind
        image += noise_rng.normal(0, noise, image.shape) if noise else 0
        images[i] = np.clip(image, 0, 1)
    return images, masks
