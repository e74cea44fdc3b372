"""Normalization as fused kernels, forward and backward together: layer, batch, instance and group
norm, RMS norm, and local response normalization across channels.

The first four standardize x to x̂ = (x - mean)/sqrt(var + eps) over some axes (biased variance),
then apply an optional per-feature affine map y = x̂·weight + bias. When the statistics come from
the input itself, the backward pass goes through them too, which gives the classic closed form
    dx = rstd · (dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂)),
with the means over the normalized axes. Semantics follow ``torch.nn.functional``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from neuralab.compiled import load
from neuralab.ops._util import float_tensor, to_tensor
from neuralab.parallel import parallel_for
from neuralab.tensor import Tensor, make

__all__ = [
    "aten_batch_norm", "aten_instance_norm", "batch_norm", "group_norm", "instance_norm",
    "layer_norm", "local_response_norm", "rms_norm",
]  # fmt: skip


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


def _affine_params(
    op: str, weight: Any, bias: Any, param_shape: tuple[int, ...]
) -> list[Tensor | None]:
    """[weight, bias] as tensors (or None when not given), each checked to be ``param_shape``."""
    params = []
    for name, p in (("weight", weight), ("bias", bias)):
        if p is None:
            params.append(None)
            continue
        p = float_tensor(p, op, name)
        if p.shape != param_shape:
            raise ValueError(f"{op}: {name} must have shape {param_shape}, got {p.shape}")
        params.append(p)
    return params


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
    params = _affine_params(op, weight, bias, param_shape)
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


def _normalized_axes(
    op: str, x: Tensor, normalized_shape: Any
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(normalized_shape as a tuple, the trailing axes it covers), checked against the input."""
    shape = (int(normalized_shape),) if np.ndim(normalized_shape) == 0 else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or x.shape[x.ndim - k :] != shape:
        raise ValueError(
            f"{op}: normalized_shape {shape} does not match the last dimensions of input shape "
            f"{x.shape}"
        )
    return shape, tuple(range(x.ndim - k, x.ndim))


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
    shape, axes = _normalized_axes(op, x, normalized_shape)
    kernels = load("neuralab.compiled.layer_norm") if x.dtype in _COMPILED_DTYPES else None
    if kernels is not None and x._data.size:
        return _layer_norm_compiled(op, kernels, x, shape, weight, bias, eps)
    x_hat, rstd, _, _ = _standardize(x._data, axes, eps)

    def input_backward(g_hat: np.ndarray) -> np.ndarray:
        return _standardize_backward(g_hat, x_hat, rstd, axes)

    return _affine(op, x, x_hat, weight, bias, shape, shape, input_backward)


def _layer_norm_compiled(
    op: str, kernels: Any, x: Tensor, shape: tuple[int, ...], weight: Any, bias: Any, eps: float
) -> Tensor:
    """Layer norm by the compiled kernels (:mod:`neuralab.compiled.layer_norm`), rows split over
    threads; x̂ is recomputed in backward from the input and each row's mean and 1/std."""
    w, b = _affine_params(op, weight, bias, shape)
    dt = x._data.dtype
    xd = np.ascontiguousarray(x._data).reshape(-1, math.prod(shape))
    rows, size = xd.shape
    w_row = np.ones(size, dt) if w is None else w._data.astype(dt, copy=False).reshape(-1)
    b_row = np.zeros(size, dt) if b is None else b._data.astype(dt, copy=False).reshape(-1)
    mean, rstd, out = np.empty(rows), np.empty(rows), np.empty_like(xd)

    def forward_chunk(lo: int, hi: int) -> None:
        kernels.forward(xd, lo, hi, w_row, b_row, eps, out, mean, rstd)

    def forward_team(parts: int) -> None:
        kernels.forward_split(xd, w_row, b_row, eps, out, mean, rstd, parts)

    parallel_for(rows, forward_chunk, 4 * xd.size, blas=False, team=forward_team)

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        gd = np.ascontiguousarray(g, dt).reshape(xd.shape)
        gx = np.empty_like(xd) if x.requires_grad else np.empty((0, size), dt)
        sums: list[tuple[np.ndarray, np.ndarray]] = []  # per chunk: Σ g·x̂ and Σ g, float64

        def backward_chunk(lo: int, hi: int) -> None:
            g_weight, g_bias = np.zeros(size), np.zeros(size)
            kernels.backward(gd, xd, lo, hi, w_row, mean, rstd, gx, g_weight, g_bias)
            sums.append((g_weight, g_bias))

        def backward_team(parts: int) -> None:
            g_weights, g_biases = np.zeros((parts, size)), np.zeros((parts, size))
            kernels.backward_split(gd, xd, w_row, mean, rstd, gx, g_weights, g_biases)
            sums.extend(zip(g_weights, g_biases))

        parallel_for(rows, backward_chunk, 6 * xd.size, blas=False, team=backward_team)
        grads: list[np.ndarray | None] = [gx.reshape(x.shape) if x.requires_grad else None]
        for p, k in ((w, 0), (b, 1)):
            if p is not None:
                grads.append(sum(part[k] for part in sums).reshape(shape).astype(p.dtype))
        return tuple(grads)

    parents = (x,) + tuple(p for p in (w, b) if p is not None)
    return make(out.reshape(x.shape), parents, backward)


def rms_norm(
    input: Any,
    normalized_shape: int | Sequence[int],
    weight: Any = None,
    eps: float | None = None,
) -> Tensor:
    """x / sqrt(mean(x²) + eps) over the last dims ``normalized_shape``, times ``weight``;
    ``eps`` defaults to the machine epsilon of the input's dtype (as torch)."""
    op = "rms_norm"
    x = float_tensor(input, op)
    shape, axes = _normalized_axes(op, x, normalized_shape)
    z = x._data
    eps = float(np.finfo(z.dtype).eps) if eps is None else eps
    rrms = 1 / np.sqrt((z * z).mean(axis=axes, keepdims=True) + eps)
    x_hat = z * rrms

    def input_backward(g_hat: np.ndarray) -> np.ndarray:
        return rrms * (g_hat - x_hat * (g_hat * x_hat).mean(axis=axes, keepdims=True))

    return _affine(op, x, x_hat, weight, None, shape, shape, input_backward)


def group_norm(
    input: Any, num_groups: int, weight: Any = None, bias: Any = None, eps: float = 1e-5
) -> Tensor:
    """Standardize each sample's channels (N, C, *) in ``num_groups`` groups of C/num_groups
    channels (statistics per sample and group), then a per-channel affine map."""
    op = "group_norm"
    x = float_tensor(input, op)
    if x.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C, *), got {x.shape}")
    n, channels = x.shape[:2]
    if num_groups <= 0 or channels % num_groups:
        raise ValueError(
            f"{op}: the {channels} channels of input shape {x.shape} do not split into "
            f"num_groups={num_groups} equal groups"
        )
    grouped = x._data.reshape(n, num_groups, -1)
    hat, rstd, _, _ = _standardize(grouped, (2,), eps)

    def input_backward(g_hat: np.ndarray) -> np.ndarray:
        return _standardize_backward(g_hat.reshape(grouped.shape), hat, rstd, (2,)).reshape(x.shape)

    view = (channels,) + (1,) * (x.ndim - 2)
    return _affine(op, x, hat.reshape(x.shape), weight, bias, (channels,), view, input_backward)


def _check_running(op: str, channels: int, *buffers: tuple[str, Any]) -> None:
    """Raise unless each given running buffer has shape (channels,)."""
    for name, buf in buffers:
        if buf is not None and to_tensor(buf).shape != (channels,):
            raise ValueError(
                f"{op}: {name} must have shape ({channels},), one per channel, got "
                f"{to_tensor(buf).shape}"
            )


def _update_running(
    running_mean: Tensor | None,
    running_var: Tensor | None,
    mean: np.ndarray,
    unbiased_var: np.ndarray,
    momentum: float,
) -> None:
    """running ← (1 - momentum)·running + momentum·statistic, in place (no graph)."""
    for buf, stat in ((running_mean, mean), (running_var, unbiased_var)):
        if buf is not None:
            buf._data *= 1 - momentum
            buf._data += momentum * stat


def _channel_input(
    op: str, input: Any, running_mean: Any, running_var: Any
) -> tuple[Tensor, int, tuple[int, ...]]:
    """The float input of shape (N, C, *), its channel count C and the (C, 1, ...) view that
    broadcasts per-channel values over it; the running buffers are checked to be (C,)."""
    x = float_tensor(input, op)
    if x.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C, *), got {x.shape}")
    channels = x.shape[1]
    _check_running(op, channels, ("running_mean", running_mean), ("running_var", running_var))
    return x, channels, (channels,) + (1,) * (x.ndim - 2)


def _normalize_with_running(
    op: str,
    x: Tensor,
    running_mean: Any,
    running_var: Any,
    weight: Any,
    bias: Any,
    view: tuple[int, ...],
    eps: float,
) -> Tensor:
    """Evaluation-mode normalization: standardize with the running statistics (constants),
    then the per-channel affine map."""
    x_hat, input_backward = _running_standardize(op, x, running_mean, running_var, view, eps)
    return _affine(op, x, x_hat, weight, bias, view[:1], view, input_backward)


def _running_standardize(
    op: str, x: Tensor, running_mean: Any, running_var: Any, view: tuple[int, ...], eps: float
) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """(x̂, its backward) with given per-channel statistics, which are constants."""
    if running_mean is None or running_var is None:
        raise ValueError(
            f"{op}: running_mean and running_var must be given when the input's own statistics "
            "are not used (evaluation)"
        )
    dtype = x._data.dtype
    mean = to_tensor(running_mean)._data.astype(dtype, copy=False).reshape(view)
    var = to_tensor(running_var)._data.astype(dtype, copy=False).reshape(view)
    rstd = 1 / np.sqrt(var + eps)
    return (x._data - mean) * rstd, lambda g_hat: g_hat * rstd


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
    x, channels, view = _channel_input(op, input, running_mean, running_var)
    if not training:
        return _normalize_with_running(op, x, running_mean, running_var, weight, bias, view, eps)
    axes = (0,) + tuple(range(2, x.ndim))
    count = x._data.size // max(channels, 1)
    if count <= 1:
        raise ValueError(
            f"{op}: expected more than 1 value per channel when training, got input shape {x.shape}"
        )
    # the kernels walk each channel's rows of positions: a (N, C) input's rows are single
    # values, strided by C, which NumPy's whole-array passes handle better
    fast = x.dtype in _COMPILED_DTYPES and count >= _MIN_POSITIONS * x.shape[0]
    kernels = load("neuralab.compiled.batch_norm") if fast else None
    if kernels is not None:
        return _batch_norm_compiled(
            op, kernels, x, (running_mean, running_var), weight, bias, momentum, eps
        )
    x_hat, rstd, mean, var = _standardize(x._data, axes, eps)
    unbiased = var.reshape(channels) * (count / (count - 1))
    _update_running(running_mean, running_var, mean.reshape(channels), unbiased, momentum)

    def input_backward(g_hat: np.ndarray) -> np.ndarray:
        return _standardize_backward(g_hat, x_hat, rstd, axes)

    return _affine(op, x, x_hat, weight, bias, (channels,), view, input_backward)


def aten_batch_norm(
    input: Any,
    weight: Any,
    bias: Any,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
    cudnn_enabled: bool,
) -> Tensor:
    """torch.batch_norm: the affine parameters before the running statistics, every argument
    required (ATen's order, not F.batch_norm's); ``cudnn_enabled`` changes nothing on the CPU."""
    return batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


_COMPILED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_MIN_POSITIONS = 4  # positions per sample and channel from which compiled batch norm pays


def _batch_norm_compiled(
    op: str,
    kernels: Any,
    x: Tensor,
    running: tuple[Any, Any],
    weight: Any,
    bias: Any,
    momentum: float,
    eps: float,
) -> Tensor:
    """Training-mode batch norm by the compiled kernels (:mod:`neuralab.compiled.batch_norm`).

    Two passes forward (moments, then the affine output), two backward (sums, then the input
    gradient); x̂ is recomputed from the input rather than kept. Channels split over threads,
    each chunk filling its own slots of the per-channel arrays.
    """
    channels = x.shape[1]
    w, b = _affine_params(op, weight, bias, (channels,))
    xd = np.ascontiguousarray(x._data).reshape(x.shape[0], channels, -1)
    count, dt = xd.shape[0] * xd.shape[2], xd.dtype
    mean, var, rstd = np.empty(channels), np.empty(channels), np.empty(channels)
    weight64 = np.ones(channels) if w is None else w._data.astype(np.float64)
    factors = np.empty((3, channels), dt)  # per channel: center, scale, shift
    out = np.empty(xd.shape, dt)

    def forward_chunk(lo: int, hi: int) -> None:
        kernels.channel_moments(xd, lo, hi, mean, var)
        rstd[lo:hi] = 1 / np.sqrt(var[lo:hi] + eps)
        factors[0, lo:hi] = mean[lo:hi]
        factors[1, lo:hi] = rstd[lo:hi] * weight64[lo:hi]
        factors[2, lo:hi] = 0 if b is None else b._data[lo:hi]
        kernels.normalize(xd, lo, hi, factors[0], factors[1], factors[2], out)

    parallel_for(channels, forward_chunk, 3 * xd.size, blas=False)
    _update_running(*running, mean.astype(dt), (var * (count / (count - 1))).astype(dt), momentum)

    stats = (mean, rstd, weight64, factors[0])
    backward = _batch_norm_compiled_backward(kernels, x, xd, (w, b), stats)

    parents = (x,) + tuple(p for p in (w, b) if p is not None)
    return make(out.reshape(x.shape), parents, backward)


def _batch_norm_compiled_backward(
    kernels: Any, x: Tensor, xd: np.ndarray, affine: tuple[Any, Any], stats: tuple
) -> Callable[[np.ndarray], tuple[np.ndarray | None, ...]]:
    """The compiled batch norm's backward: per-channel sums of g and g·x, then the input's
    gradient in one pass; ``stats`` are the forward's mean, 1/std, weight (float64) and center."""
    (w, b), (mean, rstd, weight64, center) = affine, stats
    channels, count, dt = xd.shape[1], xd.shape[0] * xd.shape[2], xd.dtype

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        gd = np.ascontiguousarray(g, dt).reshape(xd.shape)
        sum_g, sum_gx = np.empty(channels), np.empty(channels)
        gx = np.empty(xd.shape, dt) if x.requires_grad else None
        grad_factors = np.empty((3, channels), dt)  # a, slope, k: dx = a·g + slope·(x-mean) + k

        def backward_chunk(lo: int, hi: int) -> None:
            kernels.grad_sums(gd, xd, lo, hi, mean, sum_g, sum_gx)
            if gx is None:
                return
            scale = rstd[lo:hi] * weight64[lo:hi]  # dx = scale·(g - Σg/n - x̂·Σ(g·x̂)/n)
            grad_factors[0, lo:hi] = scale
            grad_factors[1, lo:hi] = -scale * rstd[lo:hi] ** 2 * sum_gx[lo:hi] / count
            grad_factors[2, lo:hi] = -scale * sum_g[lo:hi] / count
            kernels.input_grad(gd, xd, lo, hi, center, *grad_factors, gx)

        parallel_for(channels, backward_chunk, 4 * xd.size, blas=False)
        grads: list[np.ndarray | None] = [None if gx is None else gx.reshape(x.shape)]
        if w is not None:
            grads.append((rstd * sum_gx).astype(w.dtype) if w.requires_grad else None)
        if b is not None:
            grads.append(sum_g.astype(b.dtype) if b.requires_grad else None)
        return tuple(grads)

    return backward


def instance_norm(
    input: Any,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Any = None,
    bias: Any = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Standardize each (sample, channel) of (N, C, *) over its positions (style transfer, GANs).

    With ``use_input_stats`` the given running buffers are updated with the batch average of the
    per-instance statistics (unbiased variance); without, the running statistics are used.
    """
    op = "instance_norm"
    x, channels, view = _channel_input(op, input, running_mean, running_var)
    if not use_input_stats:
        return _normalize_with_running(op, x, running_mean, running_var, weight, bias, view, eps)
    axes = tuple(range(2, x.ndim))
    count = int(np.prod(x.shape[2:]))
    if count <= 1:
        raise ValueError(
            f"{op}: expected more than 1 spatial element per channel when using the input's "
            f"statistics, got input shape {x.shape}"
        )
    x_hat, rstd, mean, var = _standardize(x._data, axes, eps)
    unbiased = var.reshape(x.shape[:2]).mean(axis=0) * (count / (count - 1))
    _update_running(
        running_mean, running_var, mean.reshape(x.shape[:2]).mean(axis=0), unbiased, momentum
    )

    def input_backward(g_hat: np.ndarray) -> np.ndarray:
        return _standardize_backward(g_hat, x_hat, rstd, axes)

    return _affine(op, x, x_hat, weight, bias, (channels,), view, input_backward)


def aten_instance_norm(
    input: Any,
    weight: Any,
    bias: Any,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    use_input_stats: bool,
    momentum: float,
    eps: float,
    cudnn_enabled: bool,
) -> Tensor:
    """torch.instance_norm: ATen's argument order, as :func:`aten_batch_norm`'s."""
    args = (running_mean, running_var, weight, bias, use_input_stats, momentum, eps)
    return instance_norm(input, *args)


def _channel_window_sum(a: np.ndarray, before: int, after: int) -> np.ndarray:
    """Σ a[:, c - before .. c + after] for every channel c (dim 1), zero beyond the edges."""
    widths = [(0, 0)] * a.ndim
    widths[1] = (before, after)
    padded = np.pad(a, widths)
    channels = a.shape[1]
    out = padded[:, :channels].copy()
    for offset in range(1, before + after + 1):
        out += padded[:, offset : offset + channels]
    return out


def local_response_norm(
    input: Any, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """Divide by (k + alpha/size · Σ x² over ``size`` neighbouring channels)^beta (AlexNet's LRN).

    The window around channel c spans c - size//2 .. c + (size-1)//2, zero beyond the edges.
    """
    op = "local_response_norm"
    x = float_tensor(input, op)
    if x.ndim < 3:
        raise ValueError(f"{op}: expected input (N, C, *) with at least 3 dims, got {x.shape}")
    if size < 1:
        raise ValueError(f"{op}: size must be at least 1, got {size}")
    z = x._data
    scale = alpha / size
    d = k + scale * _channel_window_sum(z * z, size // 2, (size - 1) // 2)
    inv = d**-beta

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        spread = _channel_window_sum(g * z * inv / d, (size - 1) // 2, size // 2)
        return (g * inv - (2 * beta * scale) * z * spread,)

    return make(z * inv, (x,), backward)
