"""Normalization layers: BatchNorm1d/2d/3d and InstanceNorm1d/2d/3d (with running statistics),
GroupNorm, LayerNorm, RMSNorm and LocalResponseNorm, with torch.nn's constructor arguments."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from neuralab.device import require_cpu
from neuralab.nn import functional as F
from neuralab.nn import init
from neuralab.nn.layers._params import check_float_dtype, empty_parameter
from neuralab.nn.module import Module
from neuralab.ops.shape import cat
from neuralab.tensor import Tensor, constant, float32

__all__ = [
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "CrossMapLRN2d", "GroupNorm", "InstanceNorm1d",
    "InstanceNorm2d", "InstanceNorm3d", "LayerNorm", "LocalResponseNorm", "RMSNorm",
]  # fmt: skip


def _affine_parameters(
    module: Module, shape: tuple[int, ...], affine: bool, bias: bool, device: Any, dtype: Any
) -> None:
    """Check device and dtype; register ``weight`` (and ``bias`` if asked) of ``shape`` when
    ``affine``, else None."""
    require_cpu(device, type(module).__name__)
    check_float_dtype(dtype, type(module).__name__)
    module.register_parameter("weight", empty_parameter(shape, dtype) if affine else None)
    module.register_parameter("bias", empty_parameter(shape, dtype) if affine and bias else None)


def _reset_affine(module: Module) -> None:
    """The identity affine map: weight 1, bias 0 (for whichever of them exists)."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


def _as_shape(normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    return (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)


class _AffineNorm(Module):
    """GroupNorm, LayerNorm and RMSNorm: an optional learned elementwise scale (and shift)."""

    def _init_affine(
        self, shape: tuple[int, ...], affine: bool, bias: bool, device: Any, dtype: Any
    ) -> None:
        """Register the affine parameters of ``shape`` (see _affine_parameters), then reset."""
        _affine_parameters(self, shape, affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Scale 1, shift 0 (where the layer has them)."""
        _reset_affine(self)


class _NormBase(Module):
    """Per-channel normalization with optional running statistics (torch's _NormBase).

    ``affine`` adds a learned per-channel scale (and, with ``bias``, a shift).
    ``track_running_stats`` keeps ``running_mean``/``running_var`` (unbiased variance) as an
    exponential average with factor ``momentum`` (or, with ``momentum=None``, the cumulative
    average 1/num_batches_tracked), and ``num_batches_tracked``, all buffers in the state_dict.
    """

    _dims: tuple[int, ...]

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _affine_parameters(self, (num_features,), affine, bias, device, dtype)
        stats = track_running_stats
        float_type = np.dtype(dtype or float32)
        for name, value in (
            ("running_mean", np.zeros(num_features, float_type)),
            ("running_var", np.ones(num_features, float_type)),
            ("num_batches_tracked", np.array(0, np.int64)),
        ):
            self.register_buffer(name, constant(value) if stats else None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self) -> None:
        """Reset the running statistics, and the affine map to the identity (scale 1, shift 0)."""
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in self._dims:
            dims = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(
                f"{type(self).__name__}: expected {dims} input, got {input.ndim}D input of "
                f"shape {input.shape}"
            )

    def _load_from_state_dict(
        self, state_dict: Mapping, prefix: str, local_metadata: dict, strict: bool,
        missing_keys: list, unexpected_keys: list, error_msgs: list,
    ) -> None:  # fmt: skip
        """As torch: a checkpoint without ``num_batches_tracked`` (older torch) loads with 0."""
        key = prefix + "num_batches_tracked"
        if self.track_running_stats and key not in state_dict:
            state_dict = {**state_dict, key: constant(np.array(0, np.int64))}
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    """Batch normalization over dim 1: training normalizes with the batch's statistics (and
    updates the running ones), evaluation with the running statistics (or the batch's, if they
    are not tracked)."""

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked._data)
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) input, per channel C."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) input, per channel C."""

    _dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalization of (N, C, D, H, W) input, per channel C."""

    _dims = (5,)


class SyncBatchNorm(_BatchNorm):
    """Batch normalization whose training statistics are those of the global batch: the mean
    and variance are summed over every process of the group (and gradients flow through the
    sums), so N processes normalise as one process would on their concatenated batches.
    Without a process group (or in eval mode) it is BatchNorm over (N, C, ...) input."""

    _dims = tuple(range(2, 9))

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        process_group: Any = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def forward(self, input: Tensor) -> Tensor:
        from neuralab import distributed

        if not (self.training and distributed.is_initialized()):
            return super().forward(input)
        self._check_input_dim(input)
        if distributed.get_world_size() == 1:
            return super().forward(input)
        return self._global_batch_norm(input, distributed.all_reduce_sum)

    def _global_batch_norm(self, x: Tensor, all_sum: Any) -> Tensor:
        """Normalise with the mean and (biased) variance over all processes' batches; update
        the running statistics with the unbiased variance, as BatchNorm does."""
        dims = (0, *range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        count = constant(np.array([x.numel() // x.shape[1]], x._data.dtype))
        totals = all_sum(cat([x.sum(dims), count]))
        n = float(totals._data[-1])
        mean = totals[:-1] / n
        centered = x - mean.reshape(shape)
        var = all_sum((centered * centered).sum(dims)) / n
        out = centered / (var + self.eps).sqrt().reshape(shape)
        if self.weight is not None:
            out = out * self.weight.reshape(shape)
        if self.bias is not None:
            out = out + self.bias.reshape(shape)
        if self.track_running_stats:
            self._update_running_stats(mean._data, var._data * (n / max(n - 1.0, 1.0)))
        return out

    def _update_running_stats(self, mean: np.ndarray, unbiased_var: np.ndarray) -> None:
        self.num_batches_tracked._data += 1
        factor = self.momentum
        if factor is None:
            factor = 1.0 / float(self.num_batches_tracked._data)
        for stat, value in ((self.running_mean, mean), (self.running_var, unbiased_var)):
            stat._data[...] = (1 - factor) * stat._data + factor * value

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """``module`` with every BatchNorm*d replaced by a SyncBatchNorm holding the same
        parameters and running statistics (torch's helper; returns the new root)."""
        converted = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = cls(
                module.num_features, module.eps, module.momentum, module.affine,
                module.track_running_stats, process_group,
            )  # fmt: skip
            for name in ("weight", "bias"):
                setattr(converted, name, getattr(module, name))
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                setattr(converted, name, getattr(module, name))
            converted.train(module.training)
        for name, child in list(module.named_children()):
            setattr(converted, name, cls.convert_sync_batchnorm(child, process_group))
        return converted


class _InstanceNorm(_NormBase):
    """Instance normalization: each (sample, channel) standardized over its own positions.

    Defaults differ from batch norm (as torch): ``affine=False``, ``track_running_stats=False``.
    The last rank in ``_dims`` is batched; one less is an unbatched input (C, ...).
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias
        )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        batched = input.ndim == self._dims[-1]
        feature_dim = 1 if batched else 0
        if input.shape[feature_dim] != self.num_features:
            message = (
                f"{type(self).__name__}: input's size at dim={feature_dim} "
                f"({input.shape[feature_dim]}) does not match num_features ({self.num_features})"
            )
            if self.affine:
                raise ValueError(message)
            warnings.warn(message + "; num_features is unused since affine=False", stacklevel=3)
        x = input if batched else input.unsqueeze(0)
        out = F.instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            0.0 if self.momentum is None else self.momentum,
            self.eps,
        )
        return out if batched else out.squeeze(0)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) or unbatched (C, L) input."""

    _dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) or unbatched (C, H, W) input."""

    _dims = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of (N, C, D, H, W) or unbatched (C, D, H, W) input."""

    _dims = (4, 5)


class GroupNorm(_AffineNorm):
    """Normalize each sample's channels in ``num_groups`` groups (batch-size independent), then
    a per-channel affine map."""

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                f"({num_groups})"
            )
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        self._init_affine((num_channels,), affine, bias, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class LayerNorm(_AffineNorm):
    """Normalize each sample over its last dims ``normalized_shape`` (no batch statistics).

    With ``elementwise_affine`` (and ``bias``) a learned elementwise scale (ones) and shift
    (zeros) of shape ``normalized_shape`` follow.
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self._init_affine(self.normalized_shape, elementwise_affine, bias, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class RMSNorm(_AffineNorm):
    """Divide each sample by the root mean square over its last dims ``normalized_shape``, then
    a learned elementwise scale; ``eps=None`` is the dtype's machine epsilon."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float | None = None,
        elementwise_affine: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self._init_affine(self.normalized_shape, elementwise_affine, False, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class LocalResponseNorm(Module):
    """Local response normalization across ``size`` neighbouring channels (AlexNet).

    Note torch divides ``alpha`` by ``size``; the paper's α = 1e-4 with n = 5 is alpha = 5e-4 here.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class CrossMapLRN2d(LocalResponseNorm):
    """torch's legacy (Lua Torch) LRN across channels, on (N, C, H, W) input only: the same
    normalization as :class:`LocalResponseNorm` (whose window and gradient it uses; torch's own
    loop differs, see docs/porting.md)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1) -> None:
        super().__init__(size, alpha, beta, k)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D instead.")
        return super().forward(input)
