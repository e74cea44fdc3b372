"""Covariance and correlation of variables given as rows of observations (torch.cov,
torch.corrcoef), composed from differentiable ops."""

from __future__ import annotations

from neuralab.ops.elementwise import _to_float, clamp, sqrt
from neuralab.tensor import Tensor


def cov(
    input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
    aweights: Tensor | None = None,
) -> Tensor:  # fmt: skip
    """The covariance matrix of the variables in ``input``'s rows (a 0-d tensor for one
    variable), with ``correction`` subtracted from the number of observations."""
    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov: fweights and aweights are not supported")
    if input.ndim > 2:
        raise ValueError(f"cov: expected a 1-D or 2-D input, got shape {tuple(input.shape)}")
    x = _to_float(input if input.ndim == 2 else input.reshape(1, -1))
    centered = x - x.mean(1, keepdim=True)
    c = centered @ centered.T / (x.shape[1] - correction)
    return c if input.ndim == 2 else c.reshape(())


def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation coefficients of the variables in ``input``'s rows, in [-1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    std = sqrt(c.diagonal())
    return clamp(c / std.reshape(-1, 1) / std.reshape(1, -1), -1, 1)
