"""Convolution layers: Conv1d, Conv2d and the transposed (fractionally strided) ConvTranspose1d/2d.

Arguments, defaults, weight shapes and initialization follow torch: weight (out, in/groups, *k)
for a convolution and (in, out/groups, *k) for a transposed one, kaiming_uniform_(a=√5) weight
and U(±1/√fan_in) bias. ``padding`` may be an int, a tuple, 'valid' or 'same' (stride 1 only);
``padding_mode`` 'zeros', 'reflect', 'replicate' or 'circular' (transposed convolutions:
'zeros' only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuralab.nn import functional as F
from neuralab.nn.layers._params import (
    check_factory,
    create_weight_and_bias,
    reset_weight_and_bias,
)
from neuralab.nn.module import Module
from neuralab.tensor import Tensor

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(value: int | Sequence[int], n: int, name: str, layer: str) -> tuple[int, ...]:
    """An int repeated ``n`` times, or a length-``n`` sequence as a tuple of ints."""
    if isinstance(value, int):
        return (value,) * n
    out = tuple(int(v) for v in value)
    if len(out) != n:
        raise ValueError(f"{layer}: {name} must be an int or {n} ints, got {value!r}")
    return out


class _ConvNd(Module):
    """What the convolution layers share: arguments, parameters, initialization and repr."""

    _nd: int
    _transposed: bool = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int],
        padding: str | int | Sequence[int],
        dilation: int | Sequence[int],
        groups: int,
        bias: bool,
        padding_mode: str,
        output_padding: int | Sequence[int],
        device: Any,
        dtype: Any,
    ) -> None:
        super().__init__()
        layer = type(self).__name__
        check_factory(device, dtype, layer)
        self._check_channels(in_channels, out_channels, groups, padding_mode)
        n = self._nd
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", layer)
        self.stride = _tuple(stride, n, "stride", layer)
        self.dilation = _tuple(dilation, n, "dilation", layer)
        self.padding: str | tuple[int, ...] = self._padding(padding, layer)
        self.output_padding = _tuple(output_padding, n, "output_padding", layer)
        self.groups = groups
        self.padding_mode = padding_mode
        self._pad_widths = self._explicit_pad_widths()
        if self._transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        create_weight_and_bias(self, shape, bias, out_channels, dtype)

    def _check_channels(
        self, in_channels: int, out_channels: int, groups: int, padding_mode: str
    ) -> None:
        layer = type(self).__name__
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{layer}: in_channels={in_channels} and out_channels={out_channels} must both "
                f"be divisible by groups={groups}"
            )
        modes = ("zeros",) if self._transposed else _PADDING_MODES
        if padding_mode not in modes:
            raise ValueError(
                f"{layer}: padding_mode={padding_mode!r} is not supported; use one of {modes}"
            )

    def _padding(self, padding: str | int | Sequence[int], layer: str) -> str | tuple[int, ...]:
        """``padding`` checked: 'same' (stride 1 only) or 'valid', or a size per dimension."""
        if not isinstance(padding, str):
            return _tuple(padding, self._nd, "padding", layer)
        if padding not in ("same", "valid") or self._transposed:
            raise ValueError(f"{layer}: padding {padding!r} is not supported")
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError(
                f"{layer}: padding='same' is not supported for strided convolutions "
                f"(stride={self.stride})"
            )
        return padding

    def _explicit_pad_widths(self) -> list[int]:
        """(left, right) widths from the last dimension back, for F.pad's non-zero modes."""
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            widths = [(t // 2, t - t // 2) for t in totals]
        elif self.padding == "valid":
            widths = [(0, 0)] * self._nd
        else:
            widths = [(p, p) for p in self.padding]
        return [w for pair in reversed(widths) for w in pair]

    def reset_parameters(self) -> None:
        """Redraw the weight (kaiming_uniform_, a=√5) and bias (U(±1/√fan_in)), like torch."""
        reset_weight_and_bias(self.weight, self.bias)

    def _padded(self, input: Tensor) -> tuple[Tensor, str | tuple[int, ...]]:
        """The input and the padding to give the op: pre-padded for non-zero padding modes."""
        if self.padding_mode == "zeros":
            return input, self.padding
        return F.pad(input, self._pad_widths, mode=self.padding_mode), 0

    def extra_repr(self) -> str:
        n = self._nd
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    """Conv1d and Conv2d: the same constructor, forward through ``_function`` (F.conv1d/2d)."""

    _function: Any

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: str | int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, 0, device, dtype,
        )  # fmt: skip

    def forward(self, input: Tensor) -> Tensor:
        x, padding = self._padded(input)
        return type(self)._function(
            x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )


class Conv1d(_Conv):
    """1-D convolution (cross-correlation) over (N, C_in, L) → (N, C_out, L_out)."""

    _nd = 1
    _function = staticmethod(F.conv1d)


class Conv2d(_Conv):
    """2-D convolution (cross-correlation) over (N, C_in, H, W) → (N, C_out, H_out, W_out)."""

    _nd = 2
    _function = staticmethod(F.conv2d)


class Conv3d(_Conv):
    """3-D convolution (cross-correlation) over (N, C_in, D, H, W) → (N, C_out, D', H', W')."""

    _nd = 3
    _function = staticmethod(F.conv3d)


class _ConvTransposeNd(_ConvNd):
    """ConvTranspose1d and ConvTranspose2d: torch's constructor and ``output_size`` handling.

    ``forward(input, output_size)`` picks the output_padding that yields ``output_size`` (the
    ambiguity a stride > 1 leaves), as torch does.
    """

    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        output_padding: int | Sequence[int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | Sequence[int] = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, output_padding, device, dtype,
        )  # fmt: skip

    def _output_padding(self, input: Tensor, output_size: Sequence[int] | None) -> tuple[int, ...]:
        """The output_padding that makes the output's spatial size ``output_size``."""
        n, layer = self._nd, type(self).__name__
        if output_size is None:
            return self.output_padding
        size = tuple(output_size)[-n:]
        if len(output_size) not in (n, n + 1, n + 2):
            raise ValueError(
                f"{layer}: output_size must hold {n}, {n + 1} or {n + 2} sizes, got {output_size!r}"
            )
        spatial = input.shape[-n:]
        lo = tuple(
            (m - 1) * s - 2 * p + d * (k - 1) + 1
            for m, s, p, d, k in zip(
                spatial, self.stride, self.padding, self.dilation, self.kernel_size
            )
        )
        hi = tuple(m + s - 1 for m, s in zip(lo, self.stride))
        if any(not a <= want <= b for a, want, b in zip(lo, size, hi)):
            raise ValueError(
                f"{layer}: requested an output size of {size}, but valid sizes range "
                f"from {lo} to {hi} (for an input of spatial size {spatial})"
            )
        return tuple(want - a for want, a in zip(size, lo))


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution over (N, C_in, L) → (N, C_out, L_out): learned upsampling."""

    _nd = 1

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        return F.conv_transpose1d(
            input, self.weight, self.bias, self.stride, self.padding,
            self._output_padding(input, output_size), self.groups, self.dilation,
        )  # fmt: skip


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution (the gradient of Conv2d w.r.t. its input): learned upsampling."""

    _nd = 2

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        return F.conv_transpose2d(
            input, self.weight, self.bias, self.stride, self.padding,
            self._output_padding(input, output_size), self.groups, self.dilation,
        )  # fmt: skip


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-D convolution over (N, C_in, D, H, W): learned volumetric upsampling."""

    _nd = 3

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        return F.conv_transpose3d(
            input, self.weight, self.bias, self.stride, self.padding,
            self._output_padding(input, output_size), self.groups, self.dilation,
        )  # fmt: skip
