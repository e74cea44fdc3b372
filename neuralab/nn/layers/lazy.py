"""Lazy layers (torch's ``nn.LazyLinear``, ``nn.LazyConv2d``, ``nn.LazyBatchNorm2d``, ...): the
input size is left out and read from the first input.

``nn.LazyLinear(10)`` holds :class:`~neuralab.nn.parameter.UninitializedParameter` placeholders
until its first call, which sets ``in_features`` from the input, gives the parameters their
shapes (the same objects, so an optimizer built before that call updates them), initializes them
as the eager layer does, and turns the layer into that layer (``type(layer) is nn.Linear``).
Loading a state_dict into a lazy layer gives the parameters the checkpoint's shapes.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from neuralab.nn.layers.conv import (
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
)
from neuralab.nn.layers.linear import Linear
from neuralab.nn.layers.normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    _InstanceNorm,
)
from neuralab.nn.parameter import UninitializedBuffer, UninitializedParameter, _Uninitialized
from neuralab.tensor import Tensor

__all__ = [
    "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv1d", "LazyConv2d",
    "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d", "LazyInstanceNorm3d", "LazyLinear", "LazyModuleMixin",
]  # fmt: skip


class LazyModuleMixin:
    """What every lazy layer shares (torch.nn.modules.lazy.LazyModuleMixin): placeholders for
    the size-dependent parameters and buffers, filled in by the first call's input."""

    cls_to_become: type | None = None

    def _make_lazy(self: Any, parameters: Sequence[str], buffers: Sequence[str] = ()) -> None:
        """Swap the named parameters and buffers (made with size 0) for placeholders of their
        dtype, and have the first call fill them in."""
        for name in parameters:
            p = getattr(self, name)
            if p is not None:
                setattr(self, name, UninitializedParameter(p.requires_grad, dtype=p._data.dtype))
        for name in buffers:
            b = getattr(self, name)
            if b is not None:
                setattr(self, name, UninitializedBuffer(dtype=b._data.dtype))
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

    def has_uninitialized_params(self: Any) -> bool:
        """Whether a parameter or buffer is still a placeholder."""
        held = (*self._parameters.values(), *self._buffers.values())
        return any(isinstance(t, _Uninitialized) for t in held)

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        """Set the sizes from the first call's arguments and give the placeholders shapes."""
        raise NotImplementedError(f"{type(self).__name__} must define initialize_parameters")

    def _reset_when_sized(self: Any, size: int) -> None:
        """The eager layer's reset_parameters once its input size is known (not at size 0)."""
        if size and not self.has_uninitialized_params():
            self.cls_to_become.reset_parameters(self)

    def _load_from_state_dict(
        self: Any, state_dict: Mapping, prefix: str, local_metadata: dict, strict: bool,
        missing_keys: list, unexpected_keys: list, error_msgs: list,
    ) -> None:  # fmt: skip
        """Placeholders take the shapes of the checkpoint's entries, then load as usual."""
        for registry in (self._parameters, self._buffers):
            for name, t in registry.items():
                value = state_dict.get(prefix + name)
                if isinstance(t, _Uninitialized) and value is not None:
                    shape = value.shape if isinstance(value, Tensor) else tuple(value.shape)
                    t.materialize(tuple(shape))
        super()._load_from_state_dict(  # type: ignore[misc]
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )


def _infer_parameters(module: Any, args: tuple) -> None:
    """The forward pre-hook of a lazy layer: size it from ``args``, then become the eager
    layer."""
    if not args:
        raise ValueError(f"{type(module).__name__}: the first call needs the input tensor")
    module.initialize_parameters(*args)
    if module.has_uninitialized_params():
        raise RuntimeError(f"{type(module).__name__}: parameters still unset after the first call")
    module._initialize_hook.remove()
    del module.__dict__["_initialize_hook"]
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


def _quietly(build: Any, *args: Any, **kwargs: Any) -> None:
    """Build the eager layer at size 0 without init's warning about empty tensors."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Initializing zero-element tensors")
        build(*args, **kwargs)


class LazyLinear(LazyModuleMixin, Linear):
    """nn.Linear whose ``in_features`` is the last dimension of its first input."""

    cls_to_become = Linear

    def __init__(
        self, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        _quietly(super().__init__, 0, out_features, bias, device, dtype)
        self._make_lazy(("weight", "bias"))

    def reset_parameters(self) -> None:
        self._reset_when_sized(self.in_features)

    def initialize_parameters(self, input: Tensor) -> None:
        self.in_features = int(input.shape[-1])
        if self.has_uninitialized_params():
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()


class _LazyConv(LazyModuleMixin):
    """The lazy convolutions: ``in_channels`` from the first input's channel dimension."""

    def reset_parameters(self: Any) -> None:
        self._reset_when_sized(self.in_channels)

    def initialize_parameters(self: Any, input: Tensor, *args: Any) -> None:
        batched = input.ndim == self._nd + 2
        self.in_channels = int(input.shape[1 if batched else 0])
        if self.in_channels % self.groups:
            raise ValueError(
                f"{type(self).__name__}: the input's {self.in_channels} channels are not "
                f"divisible by groups={self.groups}"
            )
        if self.has_uninitialized_params():
            per_group = (self.out_channels if self._transposed else self.in_channels) // self.groups
            first = self.in_channels if self._transposed else self.out_channels
            self.weight.materialize((first, per_group, *self.kernel_size))
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()


class _LazyConvForward(_LazyConv):
    """LazyConv1d and LazyConv2d: torch's arguments without ``in_channels``."""

    def __init__(
        self,
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
        _quietly(
            super().__init__, 0, out_channels, kernel_size, stride, padding, dilation, groups,
            bias, padding_mode, device, dtype,
        )  # fmt: skip
        self._make_lazy(("weight", "bias"))


class _LazyConvTranspose(_LazyConv):
    """LazyConvTranspose1d and LazyConvTranspose2d: torch's arguments without ``in_channels``."""

    def __init__(
        self,
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
        _quietly(
            super().__init__, 0, out_channels, kernel_size, stride, padding, output_padding,
            groups, bias, dilation, padding_mode, device, dtype,
        )  # fmt: skip
        self._make_lazy(("weight", "bias"))


class LazyConv1d(_LazyConvForward, Conv1d):
    """nn.Conv1d whose ``in_channels`` comes from its first input."""

    cls_to_become = Conv1d


class LazyConv2d(_LazyConvForward, Conv2d):
    """nn.Conv2d whose ``in_channels`` comes from its first input."""

    cls_to_become = Conv2d


class LazyConv3d(_LazyConvForward, Conv3d):
    """nn.Conv3d whose ``in_channels`` comes from its first input."""

    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    """nn.ConvTranspose1d whose ``in_channels`` comes from its first input."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    """nn.ConvTranspose2d whose ``in_channels`` comes from its first input."""

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    """nn.ConvTranspose3d whose ``in_channels`` comes from its first input."""

    cls_to_become = ConvTranspose3d


class _LazyNorm(LazyModuleMixin):
    """The lazy batch and instance norms: ``num_features`` from the first input's channels."""

    def __init__(
        self,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        # torch's lazy instance norms keep these defaults too, unlike the eager ones
        stats = track_running_stats
        _quietly(super().__init__, 0, eps, momentum, affine, stats, device, dtype, bias=bias)
        self._make_lazy(("weight", "bias"), ("running_mean", "running_var"))

    def reset_parameters(self: Any) -> None:
        self._reset_when_sized(self.num_features)

    def initialize_parameters(self: Any, input: Tensor) -> None:
        unbatched = issubclass(self.cls_to_become, _InstanceNorm) and input.ndim == self._dims[0]
        self.num_features = int(input.shape[0 if unbatched else 1])
        if self.has_uninitialized_params():
            for name in ("weight", "bias", "running_mean", "running_var"):
                t = getattr(self, name)
                if isinstance(t, _Uninitialized):
                    t.materialize((self.num_features,))
            self.reset_parameters()


class LazyBatchNorm1d(_LazyNorm, BatchNorm1d):
    """nn.BatchNorm1d whose ``num_features`` comes from its first input."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNorm, BatchNorm2d):
    """nn.BatchNorm2d whose ``num_features`` comes from its first input."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNorm, BatchNorm3d):
    """nn.BatchNorm3d whose ``num_features`` comes from its first input."""

    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyNorm, InstanceNorm1d):
    """nn.InstanceNorm1d whose ``num_features`` comes from its first input."""

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyNorm, InstanceNorm2d):
    """nn.InstanceNorm2d whose ``num_features`` comes from its first input."""

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyNorm, InstanceNorm3d):
    """nn.InstanceNorm3d whose ``num_features`` comes from its first input."""

    cls_to_become = InstanceNorm3d
