"""torch.nn.utils.parametrizations: weight normalization, spectral normalization and
orthogonal matrices as parametrizations (:mod:`neuralab.nn.utils.parametrize`), as torch's."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab import linalg
from neuralab.creation import eye
from neuralab.nn.module import Module
from neuralab.nn.utils.parametrize import register_parametrization
from neuralab.nn.utils.spectral_norm import default_dim, weight_matrix
from neuralab.nn.utils.weight_norm import norm_except_dim
from neuralab.ops.shape import cat
from neuralab.ops.similarity import normalize
from neuralab.random import generator
from neuralab.tensor import Tensor, constant, no_grad

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


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


_ORTHOGONAL_MAPS = ("matrix_exp", "cayley", "householder")


def _householder_product(reflectors: Tensor, tau: Tensor) -> Tensor:
    """The first k columns of H₁⋯H_k, H_i = I - τ_i v_i v_iᵀ with v_i column i of the strictly
    lower ``reflectors`` (..., n, k) plus a unit diagonal; built from differentiable ops."""
    n, k = reflectors.shape[-2:]
    v = reflectors + constant(np.eye(n, k, dtype=reflectors._data.dtype))
    q: Tensor = eye(n, dtype=reflectors.dtype)
    for i in range(k):
        vi = v[..., :, i : i + 1]
        q = q - (q @ vi) * tau[..., None, i : i + 1] @ vi.mT
    return q[..., :k]


def _qr_positive(a: np.ndarray) -> np.ndarray:
    """The Q of a = QR with diag(R) ≥ 0 (a unique choice), for a tall NumPy matrix (batch)."""
    q, r = np.linalg.qr(a)
    return (q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]).astype(a.dtype)


def _is_orthogonal(q: np.ndarray) -> bool:
    """Whether the tall ``q`` has orthonormal columns, to a tolerance scaled by its height."""
    n, k = q.shape[-2:]
    eps = 10.0 * n * np.finfo(q.dtype).eps
    return bool(np.allclose(np.swapaxes(q, -1, -2) @ q, np.eye(k), atol=eps))


def _householder_reflectors(q: np.ndarray) -> np.ndarray:
    """LAPACK's geqrf reflectors of the tall ``q``, with the diagonal replaced by the signs
    that make the Householder map give back q (flipped where LAPACK skipped a reflection)."""
    flat = q.reshape(-1, *q.shape[-2:])
    out = np.empty_like(flat)
    for b, matrix in enumerate(flat):
        raw, tau = np.linalg.qr(matrix.astype(np.float64), mode="raw")
        reflectors = raw.T
        signs = np.sign(np.diagonal(reflectors)) * np.where(tau == 0.0, -1.0, 1.0)
        np.fill_diagonal(reflectors, signs)
        out[b] = reflectors
    return out.reshape(q.shape)


class _Orthogonal(Module):
    """A matrix (batch) with orthonormal columns (rows when wide) from an unconstrained one, by
    ``orthogonal_map``; with trivialization it is ``base`` (a buffer) times that map's value."""

    def __init__(self, weight: Tensor, orthogonal_map: str, use_trivialization: bool) -> None:
        super().__init__()
        if weight.is_complex() and orthogonal_map == "householder":
            raise ValueError("orthogonal: the householder map does not support complex tensors")
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def _tall_map(self, x: Tensor) -> Tensor:
        """The orthogonal_map of the tall (..., n, k) ``x``: an (..., n, k) orthonormal frame."""
        n, k = x.shape[-2:]
        if self.orthogonal_map == "householder":
            reflectors = x.tril(-1)
            tau = 2.0 / (1.0 + (reflectors * reflectors).sum(dim=-2))
            signs = np.trunc(np.diagonal(x._data, axis1=-2, axis2=-1))  # ±1, not trained
            return _householder_product(reflectors, tau) * constant(signs[..., None, :])
        lower = x.tril()
        if n != k:  # embed in a square matrix
            pad = constant(np.zeros((*x.shape[:-2], n, n - k), x._data.dtype))
            lower = cat([lower, pad], dim=-1)
        skew = lower - lower.mT
        if self.orthogonal_map == "matrix_exp":
            q = linalg.matrix_exp(skew)
        else:  # Cayley: (I - A/2)⁻¹ (I + A/2)
            ident = eye(n, dtype=x.dtype)
            q = linalg.solve(ident - 0.5 * skew, ident + 0.5 * skew)
        return q[..., :k]

    def forward(self, x: Tensor) -> Tensor:
        wide = x.shape[-2] < x.shape[-1]
        q = self._tall_map(x.mT if wide else x)
        if "base" in self._buffers:
            q = self.base @ q
        return q.mT if wide else q

    def right_inverse(self, value: Tensor) -> Tensor:
        """The original giving ``value``: the Householder reflectors of it, or (trivialization)
        -I with ``base`` set to ``value`` completed to a square orthogonal matrix."""
        if tuple(value.shape) != self.shape:
            raise ValueError(
                f"orthogonal: expected a matrix or batch of matrices of shape {self.shape}, "
                f"got shape {tuple(value.shape)}"
            )
        q = value.detach()._data
        wide = q.shape[-2] < q.shape[-1]
        q = np.swapaxes(q, -1, -2) if wide else q
        if "base" not in self._buffers:
            if self.orthogonal_map != "householder":
                raise NotImplementedError(
                    "orthogonal: values cannot be assigned to the matrix_exp or cayley maps "
                    "without use_trivialization"
                )
            out = _householder_reflectors(q).astype(q.dtype)
            return constant(np.swapaxes(out, -1, -2) if wide else out)
        n, k = q.shape[-2:]
        if n != k:  # complete to a square orthogonal matrix with random columns
            extra = generator().standard_normal((*q.shape[:-2], n, n - k)).astype(q.dtype)
            q = np.concatenate([q, extra], axis=-1)
        self.base = constant(q.copy() if n == k and _is_orthogonal(q) else _qr_positive(q))
        neg_ident = -np.eye(*self.shape[-2:], dtype=q.dtype)  # the maps give I from it
        return constant(np.broadcast_to(neg_ident, self.shape).copy())


def orthogonal(
    module: Module,
    name: str = "weight",
    orthogonal_map: str | None = None,
    *,
    use_trivialization: bool = True,
) -> Module:
    """Parametrize ``module.<name>`` (a matrix or a batch of them) to have orthonormal columns,
    or rows when wide, through ``"matrix_exp"``, ``"cayley"`` or ``"householder"`` (default:
    matrix_exp for square or complex matrices, householder otherwise)."""
    weight: Any = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"orthogonal: {type(module).__name__} has no parameter or buffer {name!r}")
    if weight.ndim < 2:
        raise ValueError(
            f"orthogonal: expected a matrix or batch of matrices, got a tensor of {weight.ndim} "
            "dimensions"
        )
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.is_complex() else "householder"
    if orthogonal_map not in _ORTHOGONAL_MAPS:
        raise ValueError(
            'orthogonal: orthogonal_map has to be one of "matrix_exp", "cayley", "householder"; '
            f"got {orthogonal_map!r}"
        )
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization)
    return register_parametrization(module, name, orth, unsafe=True)
