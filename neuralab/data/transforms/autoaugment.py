"""AutoAugment and RandAugment: torchvision's operation names, magnitude bins and policies.

Every operation is ``OPS[name](images, magnitudes, interpolation, fill)`` on an (N, C, H, W)
batch with one magnitude per image, or :func:`apply_op` on any layout. Magnitudes mean what they
mean in torchvision's ``_apply_op``: a shear factor (tangent), a shift in pixels (truncated to
int), degrees counter-clockwise, an enhancement ``1 + m`` for Brightness/Color/Contrast/Sharpness,
bits kept for Posterize, a threshold in the image's range for Solarize; AutoContrast, Equalize,
Invert and Identity take none. :func:`augmentation_space` gives the magnitude of each bin.

A policy is a list of sub-policies; a sub-policy is a sequence of ``(op name, probability,
magnitude bin)`` steps (the bin may be None for ops without a magnitude). AutoAugment picks one
sub-policy per image and runs each step with its probability; signed operations get a random
sign (probability 1/2) per step, as in torchvision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

import numpy as np

from neuralab.data.transforms.color import (
    adjust_brightness,
    adjust_contrast,
    adjust_saturation,
    adjust_sharpness,
    autocontrast,
    equalize,
    invert,
    posterize,
    solarize,
)
from neuralab.data.transforms.core import (
    Transform,
    bound,
    check_interpolation,
    image_function,
    per_image,
)
from neuralab.data.transforms.geometric import rotate, shear_x, shear_y, translate_x, translate_y

Op = Callable[[np.ndarray, np.ndarray, str, Any], np.ndarray]


def _geometric(kernel: Callable[..., np.ndarray]) -> Op:
    """An op that passes the magnitude, interpolation and fill to a geometric kernel."""

    def op(images: np.ndarray, m: np.ndarray, interpolation: str, fill: Any) -> np.ndarray:
        return kernel(images, m, interpolation=interpolation, fill=fill)

    return op


def _enhance(kernel: Callable[..., np.ndarray]) -> Op:
    """An op applying an enhancement with factor ``1 + magnitude``, as torchvision."""

    def op(images: np.ndarray, m: np.ndarray, interpolation: str, fill: Any) -> np.ndarray:
        return kernel(images, 1.0 + m)

    return op


def _unary(kernel: Callable[[np.ndarray, Any], np.ndarray], cast: type) -> Op:
    """An op passing the magnitude, cast per image (int for Posterize bits), to ``kernel``."""

    def op(images: np.ndarray, m: np.ndarray, interpolation: str, fill: Any) -> np.ndarray:
        return kernel(images, m.astype(cast))

    return op


def _plain(kernel: Callable[[np.ndarray], np.ndarray]) -> Op:
    """An op without a magnitude."""

    def op(images: np.ndarray, m: np.ndarray, interpolation: str, fill: Any) -> np.ndarray:
        return kernel(images)

    return op


#: Each op by its torchvision name, on (N, C, H, W) batches with one magnitude per image.
OPS: dict[str, Op] = {
    "Identity": _plain(np.copy),
    "ShearX": _geometric(shear_x.batch),
    "ShearY": _geometric(shear_y.batch),
    "TranslateX": _geometric(translate_x.batch),
    "TranslateY": _geometric(translate_y.batch),
    "Rotate": _geometric(rotate.batch),
    "Brightness": _enhance(adjust_brightness.batch),
    "Color": _enhance(adjust_saturation.batch),
    "Contrast": _enhance(adjust_contrast.batch),
    "Sharpness": _enhance(adjust_sharpness.batch),
    "Posterize": _unary(posterize.batch, int),
    "Solarize": _unary(solarize.batch, float),
    "AutoContrast": _plain(autocontrast.batch),
    "Equalize": _plain(equalize.batch),
    "Invert": _plain(invert.batch),
}

#: RandAugment's choices, in torchvision's order (no Invert).
RAND_AUGMENT_OPS = (
    "Identity", "ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Brightness", "Color",
    "Contrast", "Sharpness", "Posterize", "Solarize", "AutoContrast", "Equalize",
)  # fmt: skip


@image_function
def apply_op(
    images: np.ndarray,
    op_name: str,
    magnitude: Any = 0.0,
    interpolation: str = "nearest",
    fill: Any = None,
) -> np.ndarray:
    """Apply one AutoAugment operation at an explicit magnitude (one number, or one per image)."""
    if op_name not in OPS:
        raise ValueError(f"apply_op: unknown operation {op_name!r}; known: {sorted(OPS)}")
    check_interpolation(interpolation, "apply_op")
    magnitudes = per_image(magnitude, len(images), "apply_op", "magnitude")
    return OPS[op_name](images, magnitudes, interpolation, fill)


def augmentation_space(
    num_bins: int, image_size: tuple[int, int], white: float = 255.0
) -> dict[str, tuple[np.ndarray | None, bool]]:
    """torchvision's ``_augmentation_space``: op name → (magnitude of each bin or None, signed).

    ``image_size`` is (height, width): TranslateX spans 0..150/331 of the width, TranslateY of
    the height. Solarize thresholds are ``linspace(1, 0)`` times ``white`` (255 or 1.0).
    """
    h, w = image_size
    enhance = np.linspace(0.0, 0.9, num_bins)
    return {
        "Identity": (None, False),
        "ShearX": (np.linspace(0.0, 0.3, num_bins), True),
        "ShearY": (np.linspace(0.0, 0.3, num_bins), True),
        "TranslateX": (np.linspace(0.0, 150.0 / 331.0 * w, num_bins), True),
        "TranslateY": (np.linspace(0.0, 150.0 / 331.0 * h, num_bins), True),
        "Rotate": (np.linspace(0.0, 30.0, num_bins), True),
        "Brightness": (enhance, True),
        "Color": (enhance, True),
        "Contrast": (enhance, True),
        "Sharpness": (enhance, True),
        "Posterize": (8 - np.round(np.arange(num_bins) / ((num_bins - 1) / 4)), False),
        "Solarize": (np.linspace(1.0, 0.0, num_bins) * white, False),
        "AutoContrast": (None, False),
        "Equalize": (None, False),
        "Invert": (None, False),
    }


def _apply_ops(
    images: np.ndarray,
    names: np.ndarray,
    bins: np.ndarray,
    signs: np.ndarray,
    space: dict[str, tuple[np.ndarray | None, bool]],
    interpolation: str,
    fill: Any,
) -> np.ndarray:
    """Apply op ``names[i]`` (None: nothing) at bin ``bins[i]`` to image i, grouped by op.

    Signed ops take the negative magnitude where ``signs[i] == 0``.
    """
    out = images.copy()
    for name in {x for x in names if x is not None}:
        chosen = names == name
        table, signed = space[name]
        magnitudes = np.zeros(chosen.sum()) if table is None else table[bins[chosen]]
        if signed:
            magnitudes = np.where(signs[chosen] == 0, -magnitudes, magnitudes)
        out[chosen] = OPS[name](images[chosen], magnitudes, interpolation, fill)
    return out


# ----------------------------------------------------------------------------- AutoAugment


class AutoAugmentPolicy(Enum):
    """The learned policies shipped with AutoAugment (torchvision's enum)."""

    IMAGENET = "imagenet"
    CIFAR10 = "cifar10"
    SVHN = "svhn"


Step = tuple[str, float, int | None]
SubPolicy = tuple[Step, ...]

#: torchvision's policies (AutoAugment paper, Cubuk et al. 2019): 25 sub-policies each.
POLICIES: dict[str, tuple[SubPolicy, ...]] = {
    "imagenet": (
        (("Posterize", 0.4, 8), ("Rotate", 0.6, 9)),
        (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
        (("Posterize", 0.6, 7), ("Posterize", 0.6, 6)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
        (("Equalize", 0.4, None), ("Rotate", 0.8, 8)),
        (("Solarize", 0.6, 3), ("Equalize", 0.6, None)),
        (("Posterize", 0.8, 5), ("Equalize", 1.0, None)),
        (("Rotate", 0.2, 3), ("Solarize", 0.6, 8)),
        (("Equalize", 0.6, None), ("Posterize", 0.4, 6)),
        (("Rotate", 0.8, 8), ("Color", 0.4, 0)),
        (("Rotate", 0.4, 9), ("Equalize", 0.6, None)),
        (("Equalize", 0.0, None), ("Equalize", 0.8, None)),
        (("Invert", 0.6, None), ("Equalize", 1.0, None)),
        (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
        (("Rotate", 0.8, 8), ("Color", 1.0, 2)),
        (("Color", 0.8, 8), ("Solarize", 0.8, 7)),
        (("Sharpness", 0.4, 7), ("Invert", 0.6, None)),
        (("ShearX", 0.6, 5), ("Equalize", 1.0, None)),
        (("Color", 0.4, 0), ("Equalize", 0.6, None)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
        (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Invert", 0.6, None), ("Equalize", 1.0, None)),
        (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
    ),
    "cifar10": (
        (("Invert", 0.1, None), ("Contrast", 0.2, 6)),
        (("Rotate", 0.7, 2), ("TranslateX", 0.3, 9)),
        (("Sharpness", 0.8, 1), ("Sharpness", 0.9, 3)),
        (("ShearY", 0.5, 8), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.5, None), ("Equalize", 0.9, None)),
        (("ShearY", 0.2, 7), ("Posterize", 0.3, 7)),
        (("Color", 0.4, 3), ("Brightness", 0.6, 7)),
        (("Sharpness", 0.3, 9), ("Brightness", 0.7, 9)),
        (("Equalize", 0.6, None), ("Equalize", 0.5, None)),
        (("Contrast", 0.6, 7), ("Sharpness", 0.6, 5)),
        (("Color", 0.7, 7), ("TranslateX", 0.5, 8)),
        (("Equalize", 0.3, None), ("AutoContrast", 0.4, None)),
        (("TranslateY", 0.4, 3), ("Sharpness", 0.2, 6)),
        (("Brightness", 0.9, 6), ("Color", 0.2, 8)),
        (("Solarize", 0.5, 2), ("Invert", 0.0, None)),
        (("Equalize", 0.2, None), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.2, None), ("Equalize", 0.6, None)),
        (("Color", 0.9, 9), ("Equalize", 0.6, None)),
        (("AutoContrast", 0.8, None), ("Solarize", 0.2, 8)),
        (("Brightness", 0.1, 3), ("Color", 0.7, 0)),
        (("Solarize", 0.4, 5), ("AutoContrast", 0.9, None)),
        (("TranslateY", 0.9, 9), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.9, None), ("Solarize", 0.8, 3)),
        (("Equalize", 0.8, None), ("Invert", 0.1, None)),
        (("TranslateY", 0.7, 9), ("AutoContrast", 0.9, None)),
    ),
    "svhn": (
        (("ShearX", 0.9, 4), ("Invert", 0.2, None)),
        (("ShearY", 0.9, 8), ("Invert", 0.7, None)),
        (("Equalize", 0.6, None), ("Solarize", 0.6, 6)),
        (("Invert", 0.9, None), ("Equalize", 0.6, None)),
        (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
        (("ShearX", 0.9, 4), ("AutoContrast", 0.8, None)),
        (("ShearY", 0.9, 8), ("Invert", 0.4, None)),
        (("ShearY", 0.9, 5), ("Solarize", 0.2, 6)),
        (("Invert", 0.9, None), ("AutoContrast", 0.8, None)),
        (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
        (("ShearX", 0.9, 4), ("Solarize", 0.3, 3)),
        (("ShearY", 0.8, 8), ("Invert", 0.7, None)),
        (("Equalize", 0.9, None), ("TranslateY", 0.6, 6)),
        (("Invert", 0.9, None), ("Equalize", 0.6, None)),
        (("Contrast", 0.3, 3), ("Rotate", 0.8, 4)),
        (("Invert", 0.8, None), ("TranslateY", 0.0, 2)),
        (("ShearY", 0.7, 6), ("Solarize", 0.4, 8)),
        (("Invert", 0.6, None), ("Rotate", 0.8, 4)),
        (("ShearY", 0.3, 7), ("TranslateX", 0.9, 3)),
        (("ShearX", 0.1, 6), ("Invert", 0.6, None)),
        (("Solarize", 0.7, 2), ("TranslateY", 0.6, 7)),
        (("ShearY", 0.8, 4), ("Invert", 0.8, None)),
        (("ShearX", 0.7, 9), ("TranslateY", 0.8, 3)),
        (("ShearY", 0.8, 5), ("AutoContrast", 0.7, None)),
        (("ShearX", 0.7, 2), ("Invert", 0.1, None)),
    ),
}

_AUTO_AUGMENT_BINS = 10


def _check_policies(policy: Any) -> list[SubPolicy]:
    """A policy name/enum or a custom list of sub-policies, validated, as a list of tuples."""
    if isinstance(policy, AutoAugmentPolicy):
        policy = policy.value
    if isinstance(policy, str):
        if policy not in POLICIES:
            raise ValueError(
                f"AutoAugment: unknown policy {policy!r}; use one of {sorted(POLICIES)} or a list "
                "of sub-policies"
            )
        return list(POLICIES[policy])
    if not isinstance(policy, Sequence) or len(policy) == 0:
        raise ValueError(f"AutoAugment: policy must be a name or a non-empty list, got {policy!r}")
    space = augmentation_space(_AUTO_AUGMENT_BINS, (1, 1))
    checked = []
    for i, sub in enumerate(policy):
        if not isinstance(sub, Sequence) or len(sub) == 0:
            raise ValueError(f"AutoAugment: sub-policy {i} must be a non-empty list, got {sub!r}")
        steps = []
        for step in sub:
            if not isinstance(step, Sequence) or len(step) != 3:
                raise ValueError(
                    f"AutoAugment: sub-policy {i} step {step!r} must be (op name, probability, "
                    "magnitude bin)"
                )
            name, p, level = step
            if name not in space:
                raise ValueError(
                    f"AutoAugment: sub-policy {i} uses unknown op {name!r}; known: {sorted(space)}"
                )
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"AutoAugment: sub-policy {i} step {step!r}: p must be in [0, 1]")
            needs_bin = space[name][0] is not None
            if needs_bin and (level is None or not 0 <= level < _AUTO_AUGMENT_BINS):
                raise ValueError(
                    f"AutoAugment: sub-policy {i} step {step!r}: {name} needs a magnitude bin in "
                    f"0..{_AUTO_AUGMENT_BINS - 1}"
                )
            steps.append((name, float(p), int(level) if needs_bin else None))
        checked.append(tuple(steps))
    return checked


class AutoAugment(Transform):
    """AutoAugment: each image runs one random sub-policy of ``policy``.

    ``policy`` is 'imagenet', 'cifar10', 'svhn' (or :class:`AutoAugmentPolicy`), or a custom
    list of sub-policies such as ``[(("ShearX", 0.9, 7), ("Invert", 0.2, 3)), ...]`` (bins
    0..9 on torchvision's 10-bin scale; the bin of magnitude-free ops is ignored). Meant for
    0..255 integer images as in torchvision; float images in [0, 1] work too.
    """

    def __init__(
        self,
        policy: str | AutoAugmentPolicy | Sequence[Sequence[Step]] = "imagenet",
        interpolation: str = "nearest",
        fill: Any = None,
    ) -> None:
        self.policy = policy
        self.policies = _check_policies(policy)
        self.interpolation = check_interpolation(interpolation, "AutoAugment")
        self.fill = fill
        length = max(len(sub) for sub in self.policies)
        padded = [sub + ((None, 0.0, None),) * (length - len(sub)) for sub in self.policies]
        self._names = np.array([[s[0] for s in sub] for sub in padded], dtype=object)
        self._probs = np.array([[s[1] for s in sub] for sub in padded])
        self._bins = np.array([[-1 if s[2] is None else s[2] for s in sub] for sub in padded])

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw a sub-policy, step probabilities and signs per image; apply step by step."""
        n = len(images)
        length = self._names.shape[1]
        space = augmentation_space(_AUTO_AUGMENT_BINS, images.shape[2:], bound(images))
        chosen = rng.integers(len(self.policies), size=n)
        draws = rng.random((n, length))
        signs = rng.integers(2, size=(n, length))
        for k in range(length):
            names = self._names[chosen, k].copy()
            names[draws[:, k] > self._probs[chosen, k]] = None
            images = _apply_ops(
                images, names, self._bins[chosen, k], signs[:, k], space,
                self.interpolation, self.fill,
            )  # fmt: skip
        return images

    def __repr__(self) -> str:
        policy = self.policy.value if isinstance(self.policy, AutoAugmentPolicy) else self.policy
        shown = repr(policy) if isinstance(policy, str) else f"<{len(self.policies)} sub-policies>"
        return (
            f"AutoAugment(policy={shown}, interpolation={self.interpolation!r}, fill={self.fill!r})"
        )


class RandAugment(Transform):
    """RandAugment: ``num_ops`` ops drawn uniformly per image, all at bin ``magnitude``.

    Bins run over ``num_magnitude_bins`` (torchvision's defaults: 2 ops, bin 9 of 31); the ops
    are :data:`RAND_AUGMENT_OPS` and signed ones get a random sign each time.
    """

    def __init__(
        self,
        num_ops: int = 2,
        magnitude: int = 9,
        num_magnitude_bins: int = 31,
        interpolation: str = "nearest",
        fill: Any = None,
    ) -> None:
        if num_ops < 0 or num_magnitude_bins < 2 or not 0 <= magnitude < num_magnitude_bins:
            raise ValueError(
                f"RandAugment: need num_ops >= 0, num_magnitude_bins >= 2 and magnitude in "
                f"0..num_magnitude_bins-1; got num_ops={num_ops}, magnitude={magnitude}, "
                f"num_magnitude_bins={num_magnitude_bins}"
            )
        self.num_ops = int(num_ops)
        self.magnitude = int(magnitude)
        self.num_magnitude_bins = int(num_magnitude_bins)
        self.interpolation = check_interpolation(interpolation, "RandAugment")
        self.fill = fill

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw the ops and signs per image, then apply the k-th op of every image in turn."""
        n = len(images)
        space = augmentation_space(self.num_magnitude_bins, images.shape[2:], bound(images))
        names = np.array(RAND_AUGMENT_OPS, dtype=object)
        ops = rng.integers(len(names), size=(n, self.num_ops))
        signs = rng.integers(2, size=(n, self.num_ops))
        bins = np.full(n, self.magnitude)
        for k in range(self.num_ops):
            images = _apply_ops(
                images, names[ops[:, k]], bins, signs[:, k], space, self.interpolation, self.fill
            )
        return images
