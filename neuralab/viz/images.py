"""Grids of pictures: images with labels, convolution filters, feature maps, augmentations.

Layouts follow ``neuralab.data.transforms``: floating-point images are channels-first (CHW,
batches NCHW) with values in [0, 1], integer images are channels-last (HWC, batches NHWC) with
values 0..255; a 2-D array is one grayscale image. Float images outside [0, 1] (normalized
inputs) are rescaled per image for display.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from neuralab.viz._figure import PathLike, finish, grid_shape, pyplot, to_numpy

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_augmentations", "plot_feature_maps", "plot_filters", "plot_images"]


# ----------------------------------------------------------------------------- helpers


def _single(image: Any) -> bool:
    """True when a 3-D array is one image (CHW float, HWC integer), not an (N, H, W) batch."""
    if image.ndim != 3:
        return image.ndim == 2
    return image.shape[0] in (1, 3) if image.dtype.kind == "f" else image.shape[-1] in (1, 3)


def _split(images: Any) -> list[np.ndarray]:
    """A batch (NCHW float, NHWC integer, (N, H, W)), one image, or a list of images, as a list."""
    if isinstance(images, list | tuple):
        return [to_numpy(image) for image in images]
    arr = to_numpy(images)
    if arr.ndim not in (2, 3, 4):
        raise ValueError(
            f"plot_images: expected images of shape (H, W), (C, H, W), (N, H, W), NCHW (float) or "
            f"NHWC (integer), got shape {arr.shape}"
        )
    return [arr] if _single(arr) else list(arr)


def _rescale(x: np.ndarray) -> np.ndarray:
    """``x`` mapped linearly onto [0, 1] (all zeros when constant)."""
    low, high = np.nanmin(x), np.nanmax(x)
    return (x - low) / (high - low) if high > low else np.zeros_like(x)


def _displayable(image: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """One image as an (H, W) or (H, W, 3) array for ``imshow``, with its imshow arguments."""
    if image.ndim == 3:
        image = image.transpose(1, 2, 0) if image.dtype.kind == "f" else image
        if image.shape[-1] == 1:
            image = image[..., 0]
        elif image.shape[-1] != 3:
            raise ValueError(
                f"plot_images: an image must have 1 or 3 channels, got shape {image.shape} (HWC)"
            )
    if image.ndim != 2 and image.ndim != 3:
        raise ValueError(f"plot_images: expected a 2-D or 3-D image, got shape {image.shape}")
    if image.dtype.kind in "iub":
        if image.ndim == 2:
            return image, {"cmap": "gray", "vmin": 0, "vmax": 255}
        return image.astype(np.uint8), {}
    image = image.astype(np.float32)
    in_unit = image.size and image.min() >= 0 and image.max() <= 1
    if image.ndim == 2:
        return image, {"cmap": "gray", "vmin": 0, "vmax": 1} if in_unit else {"cmap": "gray"}
    return (image if in_unit else _rescale(image)), {}


def _mosaic(tiles: np.ndarray, ncols: int, fill: float) -> np.ndarray:
    """Tiles (n, h, w[, c]) laid out ``ncols`` per row, separated by 1-pixel lines of ``fill``."""
    n, h, w = tiles.shape[:3]
    rows, cols = grid_shape(n, ncols)
    out = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1, *tiles.shape[3:]), fill, np.float32)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        out[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = tile
    return out


def _figsize(mosaic: np.ndarray, extra_width: float = 0.0) -> tuple[float, float]:
    """A figure size fitting a mosaic's aspect, its longer side 7 inches, plus a title line."""
    h, w = mosaic.shape[:2]
    scale = 7.0 / max(h, w)
    return max(w * scale, 2.5) + extra_width, max(h * scale, 1.5) + 0.5


# ----------------------------------------------------------------------------- plots


def plot_images(
    images: Any,
    labels: Sequence[Any] | None = None,
    ncols: int = 8,
    path: PathLike = None,
    title: str | None = None,
) -> Figure:
    """A grid of images, each titled with its label if given (grayscale or RGB).

    ``images`` is a batch (NCHW float, NHWC integer, or an (N, H, W) stack of grayscale
    images), a single image, or a list of single images of any sizes; Tensors are fine.
    """
    pictures = _split(images)
    if not pictures:
        raise ValueError("plot_images: no images to show")
    if labels is not None and len(labels) != len(pictures):
        raise ValueError(f"plot_images: {len(labels)} labels for {len(pictures)} images")
    plt = pyplot()
    rows, cols = grid_shape(len(pictures), ncols)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(1.7 * cols, 1.8 * rows + 0.3 * bool(title)),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat:
        ax.set_axis_off()
    for i, (ax, picture) in enumerate(zip(axes.flat, pictures)):
        array, options = _displayable(picture)
        ax.imshow(array, interpolation="nearest", **options)
        if labels is not None:
            ax.set_title(str(labels[i]), fontsize="small")
    if title:
        fig.suptitle(title)
    return finish(fig, path)


def plot_filters(weight: Any, path: PathLike = None, ncols: int = 8) -> Figure:
    """The kernels of a convolution weight (out_channels, in_channels, kh, kw) as pictures.

    With 3 input channels (a first layer on RGB images) each filter is one colour picture,
    rescaled to [0, 1] on its own. Otherwise every kernel slice is shown: one row per output
    channel, one column per input channel, on a blue-white-red scale centred at 0 (shared by
    all, with a colorbar). A Conv1d weight (out, in, k) shows each kernel as a 1-pixel row.
    """
    w = to_numpy(weight).astype(np.float32)
    if w.ndim == 3:
        w = w[:, :, None, :]
    if w.ndim != 4:
        raise ValueError(
            f"plot_filters: expected a convolution weight (out_channels, in_channels, kh, kw), "
            f"got shape {w.shape}"
        )
    out_channels, in_channels = w.shape[:2]
    plt = pyplot()
    if in_channels == 3:
        tiles = np.stack([_rescale(f) for f in w]).transpose(0, 2, 3, 1)
        mosaic = _mosaic(tiles, ncols, 1.0)
        fig, ax = plt.subplots(figsize=_figsize(mosaic), layout="constrained")
        ax.imshow(mosaic, interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(f"{out_channels} filters of {w.shape[2]}×{w.shape[3]} (RGB)")
        return finish(fig, path)
    tiles = w.reshape(-1, *w.shape[2:])
    limit = float(np.abs(w).max()) or 1.0
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="white")
    mosaic = _mosaic(tiles, in_channels, np.nan)
    fig, ax = plt.subplots(figsize=_figsize(mosaic, 1.5), layout="constrained")
    image = ax.imshow(
        mosaic,
        cmap=cmap,
        vmin=-limit,
        vmax=limit,
        interpolation="nearest",
    )
    fig.colorbar(image, ax=ax, label="weight", shrink=0.8)
    h, kw = w.shape[2] + 1, w.shape[3] + 1
    ax.set_xticks(np.arange(in_channels) * kw + (kw - 2) / 2, range(in_channels))
    ax.set_yticks(np.arange(out_channels) * h + (h - 2) / 2, range(out_channels))
    ax.tick_params(length=0, labelsize="small")
    ax.set(
        title=f"{out_channels}×{in_channels} kernels of {w.shape[2]}×{w.shape[3]}",
        xlabel="input channel",
        ylabel="output channel (filter)",
    )
    return finish(fig, path)


def plot_feature_maps(
    maps: Any, path: PathLike = None, ncols: int = 8, per_map: bool = True
) -> Figure:
    """The channels of one sample's feature maps (C, H, W) — or a batch of one — side by side.

    ``per_map=True`` stretches each map over the full colour scale (to see the pattern each
    filter responds to); ``False`` shares one scale, with a colorbar, to compare magnitudes.
    Each tile is numbered with its channel.
    """
    m = to_numpy(maps).astype(np.float32)
    if m.ndim == 4 and m.shape[0] == 1:
        m = m[0]
    if m.ndim != 3:
        raise ValueError(
            f"plot_feature_maps: expected one sample's maps (C, H, W) or a batch of one "
            f"(1, C, H, W), got shape {to_numpy(maps).shape}"
        )
    channels, h, w = m.shape
    tiles = np.stack([_rescale(x) for x in m]) if per_map else m
    plt = pyplot()
    cols = grid_shape(channels, ncols)[1]
    mosaic = _mosaic(tiles, ncols, np.nan)
    fig, ax = plt.subplots(figsize=_figsize(mosaic, 0 if per_map else 1.5), layout="constrained")
    cmap = plt.get_cmap("viridis").with_extremes(bad="white")
    image = ax.imshow(mosaic, cmap=cmap, interpolation="nearest")
    if not per_map:
        fig.colorbar(image, ax=ax, label="activation", shrink=0.8)
    for c in range(channels):
        r, k = divmod(c, cols)
        ax.text(
            k * (w + 1),
            r * (h + 1),
            str(c),
            color="white",
            fontsize="x-small",
            va="top",
            bbox={"facecolor": "black", "alpha": 0.5, "pad": 1, "linewidth": 0},
        )
    ax.set_axis_off()
    ax.set_title(f"Feature maps: {channels} channels of {h}×{w}")
    return finish(fig, path)


def plot_augmentations(
    image: Any,
    transform: Callable[..., Any],
    n: int = 8,
    rng: np.random.Generator | int | None = None,
    path: PathLike = None,
    ncols: int | None = None,
) -> Figure:
    """The original ``image`` followed by ``n`` random augmentations ``transform(image)``.

    ``transform`` is any callable on one image, such as a ``neuralab.data.transforms``
    transform or a ``Compose``; if it takes an ``rng`` keyword, all ``n`` calls draw from one
    generator made from ``rng`` (a Generator, an int seed, or None for the global one), so a
    seed reproduces the figure.
    """
    from neuralab.data.dataset import as_generator
    from neuralab.data.loader import accepts_rng

    if n < 1:
        raise ValueError(f"plot_augmentations: n must be >= 1, got {n}")
    generator = as_generator(rng)
    takes_rng = accepts_rng(transform)
    versions = [
        transform(image, rng=generator) if takes_rng else transform(image) for _ in range(n)
    ]
    pictures = [image, *versions]
    labels = ["original", *(f"augmented {i + 1}" for i in range(n))]
    columns = ncols or int(np.ceil(np.sqrt(n + 1)))
    name = getattr(transform, "__name__", type(transform).__name__)
    return plot_images(pictures, labels, columns, path, title=f"Augmentations by {name}")
