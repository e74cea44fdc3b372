"""torch.nn.modules.batchnorm: batch normalization and its bases _NormBase and _BatchNorm."""

from neuralab.nn.layers.lazy import LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d
from neuralab.nn.layers.normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    SyncBatchNorm,
    _BatchNorm,
    _NormBase,
)

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d",
    "SyncBatchNorm",
    "_BatchNorm",
    "_NormBase",
]
