"""torch.nn.utils.parametrizations: weight normalization and spectral normalization as
parametrizations (:mod:`neuralab.nn.utils.parametrize`), torch's current form of both."""

from __future__ import annotations

from typing import Any

from neuralab.nn.module import Module
from neuralab.nn.utils.parametrize import register_parametrization
from neuralab.nn.utils.spectral_norm import default_dim, weight_matrix
from neuralab.nn.utils.weight_norm import norm_except_dim
from neuralab.ops.similarity import normalize
from neuralab.random import generator
from neuralab.tensor import Tensor, constant, no_grad

__all__ = ["spectral_norm", "weight_norm"]


class _WeightNorm(Module):
    """w = g · v / ‖v‖ over every dim but ``dim``; from a weight, g = its norm and v = itself."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Parametrize ``module.<name>`` as g · v / ‖v‖: ``parametrizations.<name>.original0`` is
    g, ``original1`` is v."""
    return register_parametrization(module, name, _WeightNorm(dim), unsafe=True)


class _SpectralNorm(Module):
    """w / σ, σ the largest singular value of w's matrix (rows along ``dim``), estimated by
    power iteration on the buffers ``_u``, ``_v`` (one round per training-mode read)."""

    def __init__(self, weight: Tensor, n_power_iterations: int, dim: int, eps: float) -> None:
        super().__init__()
        self.dim = dim % max(weight.ndim, 1)
        self.eps, self.n_power_iterations = eps, n_power_iterations
        if weight.ndim > 1:
            matrix = weight_matrix(weight.detach(), self.dim)
            rng, dtype = generator(), weight._data.dtype
            for name, size in (("_u", matrix.shape[0]), ("_v", matrix.shape[1])):
                start = constant(rng.standard_normal(size).astype(dtype))
                self.register_buffer(name, normalize(start, dim=0, eps=eps))
            self._power_method(matrix, 15)

    def _power_method(self, matrix: Tensor, iterations: int) -> None:
        with no_grad():
            for _ in range(iterations):
                self._u._data[...] = normalize(matrix @ self._v, dim=0, eps=self.eps)._data
                self._v._data[...] = normalize(matrix.t() @ self._u, dim=0, eps=self.eps)._data

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        matrix = weight_matrix(weight, self.dim)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        return weight / u.dot(matrix @ v)

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """Parametrize ``module.<name>`` as itself divided by its spectral norm (rows along
    ``dim``: 1 for transposed convolutions, else 0)."""
    weight: Any = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter {name!r}")
    if dim is None:
        dim = default_dim(module)
    return register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps)
    )
