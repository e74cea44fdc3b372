"""Image transforms and data augmentation in NumPy, named and parameterised as torchvision's.

Layouts (the dtype decides): float images are channels-first, a single ``(C, H, W)`` image or an
``(N, C, H, W)`` batch, in [0, 1] (any range for Normalize); integer images are channels-last
``(H, W, C)`` / ``(N, H, W, C)`` with values 0..255 (uint8 from files, int64 from the
DataLoader). A 2-D array is one single-channel image. Every transform returns what it was given
(layout, dtype, Tensor or ndarray); :class:`ToTensor` converts integer HWC to float CHW.

Transforms are callables ``t(x, rng=None)``: random ones draw independently per image of a batch
from ``rng`` (a NumPy Generator; ``None`` uses the global one seeded by ``nl.manual_seed``), so a
DataLoader passing its own generator gets reproducible, per-epoch-different augmentation.
"""

from neuralab.data.transforms.autoaugment import (
    OPS,
    POLICIES,
    RAND_AUGMENT_OPS,
    AutoAugment,
    AutoAugmentPolicy,
    RandAugment,
    apply_op,
    augmentation_space,
)
from neuralab.data.transforms.color import (
    ColorJitter,
    Normalize,
    ToTensor,
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    adjust_sharpness,
    autocontrast,
    equalize,
    invert,
    normalize,
    posterize,
    solarize,
    to_tensor,
)
from neuralab.data.transforms.core import Compose, Transform
from neuralab.data.transforms.geometric import (
    RandomCrop,
    RandomHorizontalFlip,
    RandomResizedCrop,
    RandomRotation,
    RandomVerticalFlip,
    Resize,
    affine,
    crop,
    hflip,
    pad,
    resize,
    rotate,
    shear_x,
    shear_y,
    translate_x,
    translate_y,
    vflip,
)

__all__ = [
    "OPS",
    "POLICIES",
    "RAND_AUGMENT_OPS",
    "AutoAugment",
    "AutoAugmentPolicy",
    "ColorJitter",
    "Compose",
    "Normalize",
    "RandAugment",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomVerticalFlip",
    "Resize",
    "ToTensor",
    "Transform",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_hue",
    "adjust_saturation",
    "adjust_sharpness",
    "affine",
    "apply_op",
    "augmentation_space",
    "autocontrast",
    "crop",
    "equalize",
    "hflip",
    "invert",
    "normalize",
    "pad",
    "posterize",
    "resize",
    "rotate",
    "shear_x",
    "shear_y",
    "solarize",
    "to_tensor",
    "translate_x",
    "translate_y",
    "vflip",
]
