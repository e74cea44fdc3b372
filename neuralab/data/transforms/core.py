"""Image layouts, the Transform base class, Compose, and the helpers every transform shares.

Layout rule: the dtype says the layout. Floating-point images are channels-first, ``(C, H, W)``
or a batch ``(N, C, H, W)``, with values in [0, 1] (any range for Normalize). Integer images are
channels-last 8-bit pictures, ``(H, W, C)`` or ``(N, H, W, C)``, with values 0..255 and any
integer dtype (uint8 from files; the DataLoader hands over int64 Tensors). A 2-D array is one
single-channel ``(H, W)`` image. Inside, every transform works on an ``(N, C, H, W)`` batch that
is uint8 or float; :func:`to_batch` and :meth:`Layout.restore` convert in and out, so each
transform returns the layout, dtype and type (Tensor or ndarray) it was given.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from neuralab.data.dataset import as_generator
from neuralab.data.loader import accepts_rng
from neuralab.tensor import Tensor, constant

RNG = np.random.Generator | int | None


@dataclasses.dataclass(frozen=True)
class Layout:
    """How an image was given (type, dims, dtype), so a result can be handed back the same way."""

    tensor: bool
    ndim: int
    dtype: np.dtype
    channels_last: bool

    def restore(self, images: np.ndarray) -> Any:
        """Turn an (N, C, H, W) uint8/float batch back into this layout."""
        out = images.transpose(0, 2, 3, 1) if self.channels_last else images
        if self.ndim == 2:
            out = out[0, ..., 0] if self.channels_last else out[0, 0]
        elif self.ndim == 3:
            out = out[0]
        out = np.ascontiguousarray(out, dtype=self.dtype)
        return constant(out) if self.tensor else out


def to_batch(image: Any, op: str) -> tuple[np.ndarray, Layout]:
    """``image`` as an (N, C, H, W) batch (uint8 for integer images) and its :class:`Layout`."""
    is_tensor = isinstance(image, Tensor)
    arr = image._data if is_tensor else np.asarray(image)
    kind = arr.dtype.kind
    if kind not in "fiu":
        raise TypeError(
            f"{op}: images must be floating point (CHW) or integer 0..255 (HWC), got dtype "
            f"{arr.dtype}"
        )
    if arr.ndim not in (2, 3, 4) or min(arr.shape, default=0) == 0:
        raise ValueError(
            f"{op}: expected a non-empty (H, W) image, a single image (CHW float or HWC integer) "
            f"or a batch (NCHW float or NHWC integer), got shape {arr.shape}"
        )
    layout = Layout(is_tensor, arr.ndim, arr.dtype, kind != "f")
    if arr.ndim == 2:
        arr = arr[None, :, :, None] if layout.channels_last else arr[None, None]
    elif arr.ndim == 3:
        arr = arr[None]
    if layout.channels_last:
        if arr.dtype != np.uint8:
            low, high = arr.min(), arr.max()
            if low < 0 or high > 255:
                raise ValueError(
                    f"{op}: integer images must hold values in 0..255, got values in "
                    f"[{low}, {high}] (dtype {arr.dtype})"
                )
            arr = arr.astype(np.uint8)
        arr = arr.transpose(0, 3, 1, 2)
    return arr, layout


def image_function(kernel: Callable[..., np.ndarray]) -> Callable[..., Any]:
    """Make a public image function from a kernel on (N, C, H, W) uint8/float batches.

    The public function takes any layout (see the module docstring) and returns the same layout;
    the kernel stays reachable as ``function.batch`` for transforms that already hold a batch.
    """

    @functools.wraps(kernel)
    def public(image: Any, *args: Any, **kwargs: Any) -> Any:
        batch, layout = to_batch(image, kernel.__name__)
        return layout.restore(kernel(batch, *args, **kwargs))

    public.batch = kernel
    return public


# ----------------------------------------------------------------------------- value helpers


def bound(images: np.ndarray) -> float:
    """The value of white: 255 for uint8 images, 1.0 for float images."""
    return 255.0 if images.dtype == np.uint8 else 1.0


def work_dtype(images: np.ndarray) -> np.dtype:
    """The float dtype to compute in: the image's own, or float32 for uint8 images."""
    return np.dtype(np.float32) if images.dtype == np.uint8 else images.dtype


def finish(values: np.ndarray, like: np.ndarray, rounding: bool = False) -> np.ndarray:
    """Cast computed float values back to ``like``'s dtype.

    For uint8 the values are clipped to 0..255 and truncated (PIL's and torchvision's rule for
    blends) or, with ``rounding``, rounded to the nearest integer (their rule for resampling).
    """
    if like.dtype != np.uint8:
        return values.astype(like.dtype, copy=False)
    if rounding:
        values = np.rint(values)
    return np.clip(values, 0, 255).astype(np.uint8)


def per_image(value: Any, n: int, op: str, name: str) -> np.ndarray:
    """A scalar or one value per image, as a float64 array of shape (n,)."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(
            f"{op}: {name} must be a number or one value per image ({n}), got shape {arr.shape}"
        )
    return arr


def fill_values(fill: Any, channels: int, dtype: np.dtype, op: str) -> np.ndarray:
    """``fill`` (None, a number or one number per channel) as a (channels,) array of ``dtype``."""
    arr = np.zeros(1) if fill is None else np.atleast_1d(np.asarray(fill, dtype=np.float64))
    if arr.ndim != 1 or len(arr) not in (1, channels):
        raise ValueError(
            f"{op}: fill must be a number or one value per channel ({channels}), got {fill!r}"
        )
    return np.broadcast_to(arr, (channels,)).astype(dtype)


def pair(value: Any, op: str, name: str) -> tuple[int, int]:
    """An int or a sequence of one or two ints as an (h, w) pair of positive ints."""
    if isinstance(value, int | np.integer):
        out = (int(value), int(value))
    elif isinstance(value, Sequence) and len(value) in (1, 2):
        out = (int(value[0]), int(value[-1]))
    else:
        raise ValueError(f"{op}: {name} must be an int or an (h, w) pair, got {value!r}")
    if min(out) < 1:
        raise ValueError(f"{op}: {name} must be positive, got {value!r}")
    return out


def check_interpolation(interpolation: str, op: str) -> str:
    """Validate an interpolation name ('nearest' or 'bilinear')."""
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(
            f"{op}: interpolation must be 'nearest' or 'bilinear', got {interpolation!r}"
        )
    return interpolation


# ----------------------------------------------------------------------------- transforms


class Transform:
    """Base class of transforms: ``t(x, rng=None)`` on any layout, returning the same layout.

    Subclasses implement :meth:`apply` on an (N, C, H, W) batch; random ones draw independently
    per image from ``rng`` (a NumPy Generator or int seed; ``None`` means the global generator
    that ``nl.manual_seed`` seeds). The DataLoader passes its own generator.
    """

    def __call__(self, x: Any, rng: RNG = None) -> Any:
        batch, layout = to_batch(x, type(self).__name__)
        return layout.restore(self.apply(batch, as_generator(rng)))

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Transform an (N, C, H, W) uint8 or float batch."""
        raise NotImplementedError(f"{type(self).__name__} does not define apply")

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


class Compose:
    """Chain transforms, passing each the same generator (if it takes an ``rng``)."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable, got {t!r}")
        self._takes_rng = [accepts_rng(t) for t in self.transforms]

    def __call__(self, x: Any, rng: RNG = None) -> Any:
        rng = as_generator(rng)
        for t, takes_rng in zip(self.transforms, self._takes_rng):
            x = t(x, rng=rng) if takes_rng else t(x)
        return x

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{lines}\n])"
