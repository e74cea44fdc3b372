"""Normalization layers as fused kernels: layer norm and batch norm, forward and backward together.

Both standardize x to x̂ = (x - mean)/sqrt(var + eps) over some axes (biased variance), then apply
an optional per-feature affine map y = x̂·weight + bias. When the statistics come from the input
itself, the backward pass goes through them too, which gives the classic closed form
    dx = rstd · (dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂)),
with the means over the normalized axes. Semantics follow ``torch.nn.functional``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from neuralab.ops._fused import float_tensor, to_tensor
from neuralab.tensor import Tensor, make

__all__ = ["batch_norm", "layer_norm"]


def _standardize(
    x: np.ndarray, axes: tuple[int, ...], eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x̂, rstd, mean, biased var) with statistics over ``axes`` (kept as size-1 dims)."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    rstd = 1 / np.sqrt(var + eps)
    return centered * rstd, rstd, mean, var


def _standardize_backward(
    g_hat: np.ndarray, x_hat: np.ndarray, rstd: np.ndarray, axes: tuple[int, ...]
) -> np.ndarray:
    """Gradient of x̂ = standardize(x) with respect to x, given the gradient of x̂."""
    mean_g = g_hat.mean(axis=axes, keepdims=True)
    mean_gx = (g_hat * x_hat).mean(axis=axes, keepdims=True)
    return rstd * (g_hat - mean_g - x_hat * mean_gx)


def _affine(
    op: str,
    x: Tensor,
    x_hat: np.ndarray,
    weight: Any,
    bias: Any,
    param_shape: tuple[int, ...],
    view: tuple[int, ...],
    input_backward: Callable[[np.ndarray], np.ndarray],
) -> Tensor:
    """y = x̂·weight + bias (each optional, of ``param_shape``, seen as ``view`` to broadcast).

    ``input_backward(g_hat)`` maps the gradient of x̂ to the gradient of x.
    """
    params = []
    for name, p in (("weight", weight), ("bias", bias)):
        if p is None:
            params.append(None)
            continue
        p = float_tensor(p, op, name)
        if p.shape != param_shape:
            raise ValueError(f"{op}: {name} must have shape {param_shape}, got {p.shape}")
        params.append(p)
    w, b = params
    out = x_hat
    if w is not None:
        out = out * w._data.astype(x_hat.dtype, copy=False).reshape(view)
    if b is not None:
        out = out + b._data.astype(x_hat.dtype, copy=False).reshape(view)
    lead = x_hat.ndim - len(view)  # the parameters broadcast against the trailing dims
    param_axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(view) if n == 1)

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        g_hat = g if w is None else g * w._data.astype(g.dtype, copy=False).reshape(view)
        grads = [input_backward(g_hat)]
        if w is not None:
            grads.append((g * x_hat).sum(axis=param_axes).reshape(param_shape).astype(w.dtype))
        if b is not None:
            grads.append(g.sum(axis=param_axes).reshape(param_shape).astype(b.dtype))
        return tuple(grads)

    parents = (x,) + tuple(p for p in params if p is not None)
    return make(out, parents, backward)


def layer_norm(
    input: Any,
    normalized_shape: int | Sequence[int],
    weight: Any = None,
    bias: Any = None,
    eps: float = 1e-5,
) -> Tensor:
    """Standardize each sample over its last dims ``normalized_shape`` (per-sample statistics)."""
    op = "layer_norm"
    x = float_tensor(input, op)
    shape = (int(normalized_shape),) if np.ndim(normalized_shape) == 0 else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or x.shape[x.ndim - k :] != shape:
        raise ValueError(
            f"{op}: normalized_shape {shape} does not match the last dimensions of input shape "
            f"{x.shape}"
        )
    axes = tuple(range(x.ndim - k, x.ndim))
    x_hat, rstd, _, _ = _standardize(x._data, axes, eps)

    def input_backward(g_hat: np.ndarray) -> np.ndarray:
        return _standardize_backward(g_hat, x_hat, rstd, axes)

    return _affine(op, x, x_hat, weight, bias, shape, shape, input_backward)


def batch_norm(
    input: Any,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Standardize each channel (dim 1) of (N, C, *) over the batch and positions.

    Training uses the batch statistics and updates the given running buffers in place:
    ``running = (1 - momentum)·running + momentum·batch_stat``, with the unbiased variance for
    ``running_var`` (like torch). Evaluation uses the running statistics, which are constants.
    """
    op = "batch_norm"
    x = float_tensor(input, op)
    if x.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C, *), got {x.shape}")
    channels = x.shape[1]
    for name, buf in (("running_mean", running_mean), ("running_var", running_var)):
        if buf is not None and to_tensor(buf).shape != (channels,):
            raise ValueError(
                f"{op}: {name} must have shape ({channels},), one per channel, got "
                f"{to_tensor(buf).shape}"
            )
    axes = (0,) + tuple(range(2, x.ndim))
    view = (channels,) + (1,) * (x.ndim - 2)
    if training:
        count = x._data.size // channels
        if count <= 1:
            raise ValueError(
                f"{op}: expected more than 1 value per channel when training, got input shape "
                f"{x.shape}"
            )
        x_hat, rstd, mean, var = _standardize(x._data, axes, eps)
        if running_mean is not None:
            running_mean._data *= 1 - momentum
            running_mean._data += momentum * mean.reshape(channels)
        if running_var is not None:
            running_var._data *= 1 - momentum
            running_var._data += (momentum * count / (count - 1)) * var.reshape(channels)

        def input_backward(g_hat: np.ndarray) -> np.ndarray:
            return _standardize_backward(g_hat, x_hat, rstd, axes)

    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                f"{op}: running_mean and running_var must be given in evaluation mode "
                "(training=False)"
            )
        dtype = x._data.dtype
        mean = to_tensor(running_mean)._data.astype(dtype, copy=False).reshape(view)
        var = to_tensor(running_var)._data.astype(dtype, copy=False).reshape(view)
        rstd = 1 / np.sqrt(var + eps)
        x_hat = (x._data - mean) * rstd

        def input_backward(g_hat: np.ndarray) -> np.ndarray:
            return g_hat * rstd

    return _affine(op, x, x_hat, weight, bias, (channels,), view, input_backward)
