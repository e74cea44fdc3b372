"""torch.nn.utils.spectral_norm: divide a weight by its largest singular value σ (Miyato et al.,
2018), estimated by power iteration: one step per training-mode forward pass, continuing from
the vectors ``u`` and ``v`` kept as buffers (so a checkpoint keeps the estimate)."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.nn.module import Module
from neuralab.nn.utils.weight_norm import hook_key, hooked_parameter, restore_parameter
from neuralab.ops.similarity import normalize
from neuralab.random import generator
from neuralab.tensor import Tensor, constant, no_grad

__all__ = ["remove_spectral_norm", "spectral_norm"]


def weight_matrix(weight: Tensor, dim: int) -> Tensor:
    """``weight`` as a matrix whose rows run along ``dim``."""
    if dim != 0:
        order = [dim, *(d for d in range(weight.ndim) if d != dim)]
        weight = weight.permute(*order)
    return weight.reshape(weight.shape[0], -1)


def default_dim(module: Module) -> int:
    """torch's default rows for σ: the output channels, dim 1 of a transposed convolution."""
    return 1 if "ConvTranspose" in type(module).__name__ else 0


class _SpectralNormHook:
    """The forward pre-hook: ``module.<name> = weight_orig / σ``."""

    def __init__(self, name: str, iterations: int, dim: int, eps: float) -> None:
        self.name, self.iterations, self.dim, self.eps = name, iterations, dim, eps

    def compute(self, module: Module, iterate: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        matrix = weight_matrix(weight, self.dim)
        if iterate and self.iterations > 0:
            with no_grad():
                for _ in range(self.iterations):
                    v._data[...] = normalize(matrix.t() @ u, dim=0, eps=self.eps)._data
                    u._data[...] = normalize(matrix @ v, dim=0, eps=self.eps)._data
            u, v = u.clone(), v.clone()
        sigma = u.dot(matrix @ v)
        return weight / sigma

    def __call__(self, module: Module, args: Any) -> None:
        object.__setattr__(module, self.name, self.compute(module, module.training))


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """Keep parameter ``name`` as ``name_orig`` and use ``name_orig / σ`` in its place, σ its
    largest singular value over rows along ``dim`` (1 for transposed convolutions, else 0)
    (torch's ``nn.utils.spectral_norm``; returns the module)."""
    weight = hooked_parameter("spectral_norm", module, name, _SpectralNormHook)
    if n_power_iterations < 0:
        raise ValueError(
            f"spectral_norm: n_power_iterations must be >= 0, got {n_power_iterations}"
        )
    if dim is None:
        dim = default_dim(module)
    hook = _SpectralNormHook(name, n_power_iterations, dim, eps)
    rows, cols = weight_matrix(weight, dim).shape
    rng = generator()  # the global generator: nl.manual_seed makes u and v reproducible
    dtype = weight._data.dtype
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)
    for suffix, size in (("_u", rows), ("_v", cols)):
        start = rng.standard_normal(size).astype(dtype)
        module.register_buffer(name + suffix, constant(start / max(np.linalg.norm(start), eps)))
    object.__setattr__(module, name, weight.detach())
    module.register_forward_pre_hook(hook)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`spectral_norm`: ``name`` is a parameter again, holding weight_orig / σ."""
    key = hook_key(module, name, _SpectralNormHook)
    if key is None:
        raise ValueError(f"remove_spectral_norm: spectral_norm of {name!r} not found in {module}")
    with no_grad():
        weight = module._forward_pre_hooks[key].compute(module, iterate=False).detach()
    del module._parameters[name + "_orig"]
    for suffix in ("_u", "_v"):
        del module._buffers[name + suffix]
    return restore_parameter(module, name, key, weight)
