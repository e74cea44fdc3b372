"""Normalization layers: BatchNorm1d/2d (batch statistics, running averages) and LayerNorm."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from neuralab.nn import functional as F
from neuralab.nn import init
from neuralab.nn.layers._params import check_float_dtype, empty_parameter
from neuralab.nn.module import Module
from neuralab.tensor import Tensor, constant, float32

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


def _affine_parameters(
    module: Module, shape: tuple[int, ...], affine: bool, bias: bool, dtype: Any
) -> None:
    """Register ``weight`` (and ``bias`` if asked) of ``shape`` when ``affine``, else None."""
    module.register_parameter("weight", empty_parameter(shape, dtype) if affine else None)
    module.register_parameter("bias", empty_parameter(shape, dtype) if affine and bias else None)


def _reset_affine(module: Module) -> None:
    """The identity affine map: weight 1, bias 0 (for whichever of them exists)."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class _BatchNorm(Module):
    """Batch normalization over dim 1 (torch's _BatchNorm): see BatchNorm1d / BatchNorm2d.

    Training normalizes with the batch's mean and biased variance and, when
    ``track_running_stats``, updates ``running_mean``/``running_var`` (unbiased variance) by an
    exponential average with factor ``momentum`` — or, with ``momentum=None``, by the cumulative
    average 1/num_batches_tracked. Evaluation normalizes with the running statistics (or with
    the batch's, if they are not tracked). ``affine`` adds a learned per-channel scale (and,
    with ``bias``, a shift).
    """

    _dims: tuple[int, ...]

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        check_float_dtype(dtype, type(self).__name__)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _affine_parameters(self, (num_features,), affine, bias, dtype)
        if track_running_stats:
            float_type = np.dtype(dtype or float32)
            self.register_buffer("running_mean", constant(np.zeros(num_features, float_type)))
            self.register_buffer("running_var", constant(np.ones(num_features, float_type)))
            self.register_buffer("num_batches_tracked", constant(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
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

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in self._dims:
            dims = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(
                f"{type(self).__name__}: expected {dims} input, got {input.ndim}D input of "
                f"shape {input.shape}"
            )
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

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) input, per channel C."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) input, per channel C."""

    _dims = (4,)


class LayerNorm(Module):
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
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_float_dtype(dtype, "LayerNorm")
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Scale 1, shift 0."""
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )
