"""torch.nn.utils: gradient clipping, flattening parameters to one vector, ``rnn`` (padding
and packing variable-length sequences), weight and spectral normalization (the forward-hook
forms), and ``eval_mode``/``train_mode`` (switch a model's mode
for a block, restoring each module's own mode); ``stateless.functional_call`` is imported on
first use, as are ``parametrize`` and ``parametrizations`` (weight and spectral norm as
parametrizations)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from neuralab.nn.utils import rnn
from neuralab.nn.utils.mode import eval_mode, train_mode
from neuralab.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm
from neuralab.nn.utils.weight_norm import remove_weight_norm, weight_norm
from neuralab.ops.shape import cat, reshape
from neuralab.tensor import Tensor, constant

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "eval_mode",
    "parameters_to_vector",
    "remove_spectral_norm",
    "remove_weight_norm",
    "rnn",
    "spectral_norm",
    "train_mode",
    "vector_to_parameters",
    "weight_norm",
]

Parameters = Tensor | Iterable[Tensor]


def _as_list(parameters: Parameters) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def clip_grad_norm_(
    parameters: Parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale all gradients together so their joint ``norm_type``-norm is at most ``max_norm``.

    The joint norm is the norm of the per-parameter norms (as if all gradients were one
    vector); gradients are multiplied by max_norm / (norm + 1e-6) when that is below 1, like
    torch. Returns the joint norm before clipping, as a 0-d tensor. Guards against exploding
    gradients (RNNs, Transformers) without changing the update's direction. ``foreach`` is
    accepted and changes nothing.
    """
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return constant(np.zeros((), np.float32))
    norm_type = float(norm_type)
    dtype = grads[0]._data.dtype
    if norm_type == math.inf:
        norms = [np.abs(g._data).max(initial=0) for g in grads]
    else:
        norms = [np.linalg.norm(g._data.reshape(-1), norm_type) for g in grads]
    total = np.asarray(np.linalg.norm(np.asarray(norms, dtype), norm_type), dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}; "
            "set error_if_nonfinite=False to clip anyway"
        )
    coef = float(max_norm) / (float(total) + 1e-6)
    if not coef >= 1.0:  # a NaN norm scales by NaN, as in torch
        for g in grads:
            g._data = g._data * np.asarray(coef, g._data.dtype)
    return constant(total)


def clip_grad_value_(
    parameters: Parameters, clip_value: float, foreach: bool | None = None
) -> None:
    """Clamp every gradient element to [-clip_value, clip_value] (``foreach`` changes nothing)."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            p.grad._data = np.clip(p.grad._data, -clip_value, clip_value)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    return cat([reshape(p, -1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters (the inverse of the above)."""
    params = list(parameters)
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        shape = vec.shape if isinstance(vec, Tensor) else type(vec).__name__
        raise TypeError(f"vector_to_parameters: expected a 1-D tensor, got {shape}")
    needed = sum(p.numel() for p in params)
    if vec.numel() != needed:
        raise ValueError(
            f"vector_to_parameters: the vector has {vec.numel()} elements but the parameters "
            f"need {needed}"
        )
    start = 0
    for p in params:
        n = p.numel()
        p._data[...] = vec._data[start : start + n].reshape(p.shape)
        start += n


def __getattr__(name: str) -> object:
    if name in ("stateless", "parametrize", "parametrizations"):  # imported on first use
        import importlib

        return importlib.import_module(f"neuralab.nn.utils.{name}")
    raise AttributeError(f"module 'neuralab.nn.utils' has no attribute {name!r}")
