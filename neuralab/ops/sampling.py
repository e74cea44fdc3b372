"""Random sampling: randperm, multinomial, bernoulli, normal, poisson, binomial, and the Tensor's
random fills (bernoulli_, random_, exponential_, ...), all drawing from the global generator that
``nl.manual_seed`` seeds, or from the ``generator=`` given."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.device import require_cpu
from neuralab.random import numpy_rng
from neuralab.tensor import Tensor, constant, float32, int64


def randperm(
    n: int, *, generator: Any = None, dtype: Any = int64, device: Any = None,
    requires_grad: bool = False, layout: Any = None, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    """A random permutation of 0 .. n-1."""
    require_cpu(device, "randperm")
    if not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}")
    out = Tensor(numpy_rng(generator, "randperm").permutation(int(n)), dtype=dtype)
    return out.requires_grad_() if requires_grad else out


def multinomial(
    input: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None
) -> Tensor:
    """Draw ``num_samples`` category indices per row of non-negative weights (1-D or 2-D)."""
    w = np.asarray(input._data, np.float64)
    if w.ndim not in (1, 2):
        raise ValueError(f"multinomial: input must be 1-D or 2-D, got shape {w.shape}")
    rows = w.reshape(-1, w.shape[-1])
    total = rows.sum(axis=1, keepdims=True)
    if not np.isfinite(rows).all() or (rows < 0).any() or (total <= 0).any():
        raise ValueError("multinomial: weights must be finite, non-negative and sum above 0")
    if num_samples <= 0:
        raise ValueError(f"multinomial: num_samples must be positive, got {num_samples}")
    rng = numpy_rng(generator, "multinomial")
    if replacement:
        cdf = np.cumsum(rows / total, axis=1)
        u = rng.random((len(rows), num_samples))
        picks = np.stack([np.searchsorted(c, v, side="right") for c, v in zip(cdf, u)])
        picks = np.minimum(picks, rows.shape[1] - 1)
    else:
        if num_samples > (rows > 0).sum(axis=1).min():
            raise ValueError(
                f"multinomial: cannot draw {num_samples} samples without replacement from "
                f"{int((rows > 0).sum(axis=1).min())} categories of nonzero weight"
            )
        with np.errstate(divide="ignore"):
            keys = np.log(rows) + rng.gumbel(size=rows.shape)  # Gumbel top-k: weighted draw
        picks = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    return constant(picks.reshape(w.shape[:-1] + (num_samples,)).astype(np.int64))


def _probabilities(p: Any, op: str) -> np.ndarray:
    arr = p._data if isinstance(p, Tensor) else np.asarray(p)
    if ((arr < 0) | (arr > 1)).any() or np.isnan(arr).any():
        raise ValueError(f"{op}: probabilities must be in [0, 1]")
    return arr


def bernoulli(input: Tensor, p: Any = None, *, generator: Any = None) -> Tensor:
    """0/1 draws with probability ``input`` (or ``p``) of 1, in input's shape and dtype."""
    probs = _probabilities(input if p is None else p, "bernoulli")
    u = numpy_rng(generator, "bernoulli").random(input.shape)
    return constant((u < probs).astype(input.dtype))


def normal(
    mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None,
    dtype: Any = None, device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """Normal samples: per element from tensor ``mean``/``std`` (broadcast), or ``size`` of them
    from number ``mean``/``std``."""
    require_cpu(device, "normal")
    m = mean._data if isinstance(mean, Tensor) else np.asarray(mean)
    s = std._data if isinstance(std, Tensor) else np.asarray(std)
    if (s < 0).any():
        raise ValueError("normal: std must be non-negative")
    if size is not None and (m.ndim or s.ndim):
        raise ValueError("normal: give size only with a number mean and std")
    shape = np.broadcast_shapes(m.shape, s.shape) if size is None else tuple(size)
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    out_dtype = np.dtype(dtype) if dtype else (tensors[0].dtype if tensors else float32)
    z = numpy_rng(generator, "normal").standard_normal(shape)
    out = Tensor((m + s * z).astype(out_dtype), dtype=out_dtype)
    return out.requires_grad_() if requires_grad else out


def poisson(input: Tensor, generator: Any = None) -> Tensor:
    """Poisson draws with rates ``input``, in input's dtype."""
    rates = input._data
    if (rates < 0).any():
        raise ValueError("poisson: rates must be non-negative")
    return constant(numpy_rng(generator, "poisson").poisson(rates).astype(input.dtype))


def binomial(count: Tensor, prob: Tensor, generator: Any = None) -> Tensor:
    """Binomial draws: the successes in ``count`` trials (floats, whole numbers) of probability
    ``prob`` (broadcast with them), in count's dtype."""
    c, p = count._data, _probabilities(prob, "binomial")
    if c.dtype.kind != "f" or p.dtype != c.dtype:
        raise TypeError(
            f"binomial: count and prob must share one floating-point dtype, got {c.dtype} "
            f"and {p.dtype}"
        )
    if (c < 0).any() or np.isnan(c).any():
        raise ValueError("binomial: counts must be non-negative")
    draws = numpy_rng(generator, "binomial").binomial(np.floor(c).astype(np.int64), p)
    return constant(np.asarray(draws, c.dtype))


# ----------------------------------------------------------------------------- Tensor fills


def _fill(t: Tensor, op: str, values: np.ndarray) -> Tensor:
    t._check_inplace(op)
    t._data[...] = values
    return t


def bernoulli_(self: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    """Fill with 0/1 draws that are 1 with probability ``p`` (a number or tensor)."""
    probs = _probabilities(p, "bernoulli_")
    return _fill(self, "bernoulli_", numpy_rng(generator).random(self.shape) < probs)


def random_(self: Tensor, from_: int = 0, to: int | None = None, *, generator: Any = None,
            **kwargs: Any) -> Tensor:  # fmt: skip
    """Fill with integers drawn uniformly from [from, to) (``random_(to)`` is [0, to))."""
    from_ = kwargs.pop("from", from_)
    if kwargs:
        raise TypeError(f"random_: unexpected arguments {sorted(kwargs)}")
    if to is None:
        from_, to = (0, from_) if from_ else (0, 2 ** (24 if self.dtype == float32 else 53))
    return _fill(self, "random_", numpy_rng(generator).integers(from_, to, self.shape))


def exponential_(self: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with exponential draws of rate ``lambd``."""
    return _fill(self, "exponential_", numpy_rng(generator).exponential(1 / lambd, self.shape))


def geometric_(self: Tensor, p: float, *, generator: Any = None) -> Tensor:
    """Fill with the number of Bernoulli(p) trials up to the first success."""
    return _fill(self, "geometric_", numpy_rng(generator).geometric(p, self.shape))


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Any = None):
    """Fill with exp of normal(mean, std) draws."""
    return _fill(self, "log_normal_", numpy_rng(generator).lognormal(mean, std, self.shape))


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None):
    """Fill with Cauchy draws."""
    draws = median + sigma * numpy_rng(generator).standard_cauchy(self.shape)
    return _fill(self, "cauchy_", draws)


TENSOR_METHODS = {
    "bernoulli_": bernoulli_, "random_": random_, "exponential_": exponential_,
    "geometric_": geometric_, "log_normal_": log_normal_, "cauchy_": cauchy_,
    "multinomial": multinomial, "bernoulli": bernoulli,
}  # fmt: skip
