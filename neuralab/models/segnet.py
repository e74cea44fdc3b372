"""SegNet (Badrinarayanan, Kendall and Cipolla, 2015): a fully convolutional encoder–decoder.

The encoder is stages of [3×3 conv → batch norm → ReLU] × k, each followed by a 2×2 max pool
that keeps the *indices* of its maxima. The decoder mirrors it: each stage first upsamples with
``MaxUnpool2d`` at the encoder's recorded indices (a sparse map: every value back where its
maximum came from, zeros elsewhere), then convolutions densify it. There is no fully connected
layer, so any image size divisible by 2**stages works. The last 3×3 conv gives one score per class
and pixel; a pixel-wise softmax (inside ``cross_entropy``, or :meth:`SegNet.predict`) turns them
into class probabilities.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from neuralab import nn
from neuralab.models.registry import register_model
from neuralab.nn.utils import eval_mode
from neuralab.tensor import Tensor

__all__ = ["SegNet", "iou_per_class", "mean_iou", "segnet", "segnet_scenes"]


def _conv_bn_relu(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]


def _stage(widths: Sequence[int]) -> nn.Sequential:
    """Conv-BN-ReLU blocks taking ``widths[0]`` channels through ``widths[1:]``."""
    layers: list[nn.Module] = []
    for c_in, c_out in zip(widths[:-1], widths[1:]):
        layers += _conv_bn_relu(c_in, c_out)
    return nn.Sequential(*layers)


class SegNet(nn.Module):
    """Encoder–decoder segmenter whose decoder upsamples with the encoder's max-pool indices.

    ``channels[i]`` is the width of encoder stage i and ``convs[i]`` its number of conv layers
    (one int for every stage). ``forward`` returns per-pixel class scores (N, num_classes, H, W);
    H and W must be divisible by ``2 ** len(channels)``.
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 4,
        channels: Sequence[int] = (64, 128, 256, 512, 512),
        convs: int | Sequence[int] = (2, 2, 3, 3, 3),
    ) -> None:
        super().__init__()
        channels = list(channels)
        convs = [convs] * len(channels) if isinstance(convs, int) else list(convs)
        if not channels or len(convs) != len(channels) or min(convs) < 1:
            raise ValueError(
                f"SegNet: need one conv count >= 1 per stage, got channels {channels} and "
                f"convs {convs}"
            )
        inputs = [in_channels, *channels[:-1]]
        self.encoder = nn.ModuleList(
            _stage([c_in] + [c] * n) for c_in, c, n in zip(inputs, channels, convs)
        )
        self.pool = nn.MaxPool2d(2, 2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2, 2)
        # decoder stage i mirrors encoder stage i: it keeps the width, then narrows to the width
        # of the stage below; the outermost stage ends in the classifier conv (no BN, no ReLU)
        decoder = [
            _stage([c] * n + [c_in]) for c_in, c, n in zip(inputs[1:], channels[1:], convs[1:])
        ]
        outer = _stage([channels[0]] * convs[0])
        outer.append(nn.Conv2d(channels[0], num_classes, 3, padding=1))
        self.decoder = nn.ModuleList(reversed([outer, *decoder]))

    def forward(self, x: Tensor) -> Tensor:
        """Per-pixel class scores (logits) of images (N, in_channels, H, W)."""
        factor = 2 ** len(self.encoder)
        if x.ndim != 4 or x.shape[2] % factor or x.shape[3] % factor:
            raise ValueError(
                f"SegNet: expected images (N, C, H, W) with H and W divisible by {factor} "
                f"({len(self.encoder)} pooling stages), got shape {tuple(x.shape)}"
            )
        indices = []
        for stage in self.encoder:
            x, idx = self.pool(stage(x))
            indices.append(idx)
        for stage in self.decoder:
            x = stage(self.unpool(x, indices.pop()))
        return x

    def predict(self, x: Tensor) -> Tensor:
        """The pixel-wise softmax's most probable class, int64 (N, H, W), in eval mode."""
        with eval_mode(self):
            return self(x).argmax(dim=1)


def iou_per_class(pred: Any, target: Any, num_classes: int) -> np.ndarray:
    """|pred ∩ target| / |pred ∪ target| of each class in label maps (Tensors or arrays), float64
    (num_classes,); NaN for a class absent from both."""
    p, t = np.asarray(pred).ravel(), np.asarray(target).ravel()
    if p.shape != t.shape:
        raise ValueError(f"iou_per_class: prediction {p.shape} and target {t.shape} differ in size")
    classes = np.arange(num_classes)[:, None]
    inter = np.sum((p == classes) & (t == classes), axis=1)
    union = np.sum((p == classes) | (t == classes), axis=1)
    return np.where(union > 0, inter / np.maximum(union, 1), np.nan)


def mean_iou(pred: Any, target: Any, num_classes: int) -> float:
    """The mean of :func:`iou_per_class` over the classes present in prediction or target."""
    return float(np.nanmean(iou_per_class(pred, target, num_classes)))


@register_model("segnet", task="segmentation", data="scenes")
def segnet(num_classes: int = 4, in_channels: int = 3) -> SegNet:
    """The paper's SegNet: VGG16's 13 conv layers as encoder (5 stages), mirrored decoder."""
    return SegNet(in_channels, num_classes, (64, 128, 256, 512, 512), (2, 2, 3, 3, 3))


@register_model("segnet_scenes", task="segmentation", data="scenes")
def segnet_scenes(num_classes: int = 4, in_channels: int = 3) -> SegNet:
    """A small SegNet for the generated scenes: 3 stages of widths 16, 32, 64, two convs each."""
    return SegNet(in_channels, num_classes, (16, 32, 64), 2)
