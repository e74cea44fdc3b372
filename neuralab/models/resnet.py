"""ResNet (He, Zhang, Ren & Sun, 2015, "Deep residual learning for image recognition").

A block computes ``relu(F(x) + shortcut(x))``: F is two 3×3 convolutions (basic block) or
1×1 → 3×3 → 1×1 with 4× expansion (bottleneck), each followed by batch norm; the shortcut is the
identity, or a 1×1 convolution + batch norm (projection) where the stride or width changes.
The network is a stem, stages of blocks (each stage after the first halves the resolution and
doubles the width), global average pooling and one linear layer.

``resnet18/34/50`` are torchvision's ImageNet layouts (7×7/2 stem + 3×3/2 max pool, widths
64-128-256-512, downsampling in the bottleneck's 3×3 as in torchvision's "v1.5"; parameter names
match torchvision's state dict). ``resnet_cifar(depth)`` is the paper's CIFAR family: a 3×3 stem,
three stages of 16-32-64 channels, (depth - 2)/6 basic blocks each (resnet20: depth 20), here
with projection shortcuts. ``residual=False`` drops the shortcuts, giving the paper's "plain"
network of the same depth; ``batch_norm=False`` drops batch norm (the convolutions get biases).
"""

from __future__ import annotations

from collections.abc import Sequence

from neuralab import nn
from neuralab.models.registry import register_model
from neuralab.nn import init
from neuralab.nn.module import Module
from neuralab.tensor import Tensor

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet_cifar",
]


def _conv(in_channels: int, out_channels: int, kernel: int, stride: int, bias: bool) -> Module:
    """A k×k convolution with 'same' padding for odd k (stride divides the size)."""
    return nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, bias=bias)


def _norm(channels: int, batch_norm: bool) -> Module:
    return nn.BatchNorm2d(channels) if batch_norm else nn.Identity()


class _Block(Module):
    """What both blocks share: convolutions ``conv1, bn1, conv2, ...`` (torchvision's names) as
    ``_convs`` lays them out, the shortcut and ``relu(F(x) + shortcut(x))``; F is ``_branch``."""

    expansion: int

    def __init__(
        self,
        in_channels: int,
        channels: int,
        stride: int = 1,
        batch_norm: bool = True,
        residual: bool = True,
    ) -> None:
        super().__init__()
        for i, (c_in, c_out, kernel, step) in enumerate(
            self._convs(in_channels, channels, stride), 1
        ):
            setattr(self, f"conv{i}", _conv(c_in, c_out, kernel, step, not batch_norm))
            setattr(self, f"bn{i}", _norm(c_out, batch_norm))
        self._add_shortcut(in_channels, channels * self.expansion, stride, batch_norm, residual)

    @staticmethod
    def _convs(in_channels: int, channels: int, stride: int) -> list[tuple[int, int, int, int]]:
        """The branch's convolutions in order: (in channels, out channels, kernel, stride)."""
        raise NotImplementedError

    def _add_shortcut(
        self, in_channels: int, out_channels: int, stride: int, batch_norm: bool, residual: bool
    ) -> None:
        """Identity shortcut if shapes agree, else a 1×1 projection; none for a plain block."""
        self.residual = residual
        self.downsample = None
        if residual and (stride != 1 or in_channels != out_channels):
            self.downsample = nn.Sequential(
                _conv(in_channels, out_channels, 1, stride, not batch_norm),
                _norm(out_channels, batch_norm),
            )

    def forward(self, x: Tensor) -> Tensor:
        """relu(F(x) + shortcut(x)), or relu(F(x)) for a plain block."""
        out = self._branch(x)
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return out.relu()


class BasicBlock(_Block):
    """Two 3×3 convolutions with batch norm; the first may stride (ResNet-18/34, CIFAR nets)."""

    expansion = 1

    @staticmethod
    def _convs(in_channels: int, channels: int, stride: int) -> list[tuple[int, int, int, int]]:
        return [(in_channels, channels, 3, stride), (channels, channels, 3, 1)]

    def _branch(self, x: Tensor) -> Tensor:
        return self.bn2(self.conv2(self.bn1(self.conv1(x)).relu()))


class Bottleneck(_Block):
    """1×1 reduce → 3×3 (may stride) → 1×1 expand to 4× ``channels`` (ResNet-50 and deeper)."""

    expansion = 4

    @staticmethod
    def _convs(in_channels: int, channels: int, stride: int) -> list[tuple[int, int, int, int]]:
        out_channels = channels * Bottleneck.expansion
        return [
            (in_channels, channels, 1, 1),
            (channels, channels, 3, stride),
            (channels, out_channels, 1, 1),
        ]

    def _branch(self, x: Tensor) -> Tensor:
        out = self.bn1(self.conv1(x)).relu()
        out = self.bn2(self.conv2(out)).relu()
        return self.bn3(self.conv3(out))


_BLOCKS: dict[str, type[_Block]] = {"basic": BasicBlock, "bottleneck": Bottleneck}


class ResNet(Module):
    """Stem, one stage of ``layers[i]`` blocks of width ``widths[i]`` per entry, pool, linear.

    ``block`` is 'basic' or 'bottleneck'. ``small_input`` uses a 3×3 stride-1 stem without max
    pooling (CIFAR, digits) instead of the 7×7/2 convolution and 3×3/2 max pool (ImageNet).
    Convolutions start with He (fan-out) initialization and batch norms at scale 1, shift 0.
    """

    def __init__(
        self,
        block: str = "basic",
        layers: Sequence[int] = (2, 2, 2, 2),
        widths: Sequence[int] = (64, 128, 256, 512),
        num_classes: int = 1000,
        in_channels: int = 3,
        small_input: bool = False,
        batch_norm: bool = True,
        residual: bool = True,
    ) -> None:
        super().__init__()
        if block not in _BLOCKS:
            raise ValueError(f"ResNet: block must be 'basic' or 'bottleneck', got {block!r}")
        if len(layers) != len(widths) or not layers:
            raise ValueError(
                f"ResNet: layers {list(layers)} and widths {list(widths)} need one entry per stage"
            )
        Block = _BLOCKS[block]
        stem_kernel, stem_stride = (3, 1) if small_input else (7, 2)
        self.conv1 = _conv(in_channels, widths[0], stem_kernel, stem_stride, not batch_norm)
        self.bn1 = _norm(widths[0], batch_norm)
        self.maxpool = nn.Identity() if small_input else nn.MaxPool2d(3, 2, padding=1)
        channels = widths[0]
        for i, (count, width) in enumerate(zip(layers, widths, strict=True)):
            blocks = []
            for j in range(count):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(Block(channels, width, stride, batch_norm, residual))
                channels = width * Block.expansion
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.num_stages = len(layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        """Logits (N, num_classes) for images (N, in_channels, H, W)."""
        x = self.maxpool(self.bn1(self.conv1(x)).relu())
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(self.avgpool(x).flatten(1))


@register_model("resnet18", data="cifar10")
def resnet18(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """ResNet-18: basic blocks (2, 2, 2, 2); 11,689,512 parameters at 1000 classes."""
    return ResNet("basic", [2, 2, 2, 2], num_classes=num_classes, in_channels=in_channels)


@register_model("resnet34", data="cifar10")
def resnet34(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """ResNet-34: basic blocks (3, 4, 6, 3); 21,797,672 parameters at 1000 classes."""
    return ResNet("basic", [3, 4, 6, 3], num_classes=num_classes, in_channels=in_channels)


@register_model("resnet50", data="cifar10")
def resnet50(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """ResNet-50: bottleneck blocks (3, 4, 6, 3); 25,557,032 parameters at 1000 classes."""
    return ResNet("bottleneck", [3, 4, 6, 3], num_classes=num_classes, in_channels=in_channels)


@register_model("resnet_cifar")
def resnet_cifar(
    depth: int = 20,
    num_classes: int = 10,
    in_channels: int = 3,
    width: int = 16,
    batch_norm: bool = True,
    residual: bool = True,
) -> ResNet:
    """The paper's CIFAR ResNet: depth = 6n + 2 weighted layers, stages of width w, 2w, 4w."""
    n, rest = divmod(depth - 2, 6)
    if rest or n < 1:
        raise ValueError(
            f"resnet_cifar: depth must be 6n + 2 (8, 14, 20, 32, 44, 56, ...), got {depth}"
        )
    return ResNet(
        "basic", [n] * 3, [width, 2 * width, 4 * width], num_classes, in_channels,
        small_input=True, batch_norm=batch_norm, residual=residual,
    )  # fmt: skip
