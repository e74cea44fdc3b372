"""``torch.distributions``' most used families: Categorical, Bernoulli and Normal, with
differentiable ``log_prob`` and ``entropy`` (policy gradients, VAEs) and the reparameterised
``Normal.rsample``. Samples come from neuralab's global generator (``nl.manual_seed``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neuralab.ops import activation, elementwise, reduce, shape
from neuralab.ops.loss import binary_cross_entropy_with_logits
from neuralab.ops.sampling import bernoulli, multinomial
from neuralab.ops.select import gather
from neuralab.random import generator
from neuralab.tensor import Tensor, constant, no_grad, tensor

__all__ = ["Bernoulli", "Categorical", "Distribution", "Normal"]


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def _one_of(name: str, probs: Any, logits: Any) -> None:
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: give exactly one of probs or logits")


class Distribution:
    """The shared surface: shapes, ``sample``/``rsample``, ``log_prob``, ``entropy``."""

    has_rsample = False

    def __init__(self, batch_shape: tuple[int, ...], event_shape: tuple[int, ...] = ()) -> None:
        self.batch_shape, self.event_shape = tuple(batch_shape), tuple(event_shape)

    def _shape(self, sample_shape: Any) -> tuple[int, ...]:
        return tuple(sample_shape) + self.batch_shape

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Draw without gradients."""
        with no_grad():
            return self.rsample(sample_shape) if self.has_rsample else self._draw(sample_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sample")

    def _draw(self, sample_shape: Any) -> Tensor:
        raise NotImplementedError

    @property
    def stddev(self) -> Tensor:
        return elementwise.sqrt(self.variance)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(batch_shape={self.batch_shape})"


class Categorical(Distribution):
    """One of K classes with probabilities ``probs`` (normalised) or ``logits`` over the last
    dimension."""

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: Any = None) -> None:
        _one_of("Categorical", probs, logits)
        if logits is not None:
            logits = _as_tensor(logits)
            self.logits = logits - reduce.logsumexp(logits, -1, keepdim=True)
            self.probs = activation.softmax(logits, -1)
        else:
            probs = _as_tensor(probs)
            self.probs = probs / reduce.sum(probs, -1, keepdim=True)
            self.logits = elementwise.log(self.probs)
        super().__init__(tuple(self.probs.shape[:-1]))

    def _draw(self, sample_shape: Any) -> Tensor:
        rows = constant(self.probs._data.reshape(-1, self.probs.shape[-1]))
        picks = multinomial(rows, max(math.prod(tuple(sample_shape)), 1), replacement=True)
        return constant(picks._data.T.reshape(self._shape(sample_shape)))

    def log_prob(self, value: Any) -> Tensor:
        """log p(value) for class indices ``value`` (broadcast against the batch)."""
        v = _as_tensor(value)._data.astype(np.int64)
        batch = np.broadcast_shapes(v.shape, self.batch_shape)
        logits = shape.expand(self.logits, (*batch, self.logits.shape[-1]))
        index = constant(np.broadcast_to(v, batch)[..., None])
        return shape.squeeze(gather(logits, -1, index), -1)

    def entropy(self) -> Tensor:
        """−Σ p log p over the classes."""
        return -reduce.sum(self.probs * self.logits, -1)

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError("Categorical has no mean (torch returns NaN)")


class Bernoulli(Distribution):
    """1 with probability ``probs`` (or sigmoid(``logits``)), else 0."""

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: Any = None) -> None:
        _one_of("Bernoulli", probs, logits)
        if logits is not None:
            self.logits = _as_tensor(logits)
            self.probs = activation.sigmoid(self.logits)
        else:
            self.probs = _as_tensor(probs)
            p = elementwise.clamp(self.probs, 1e-7, 1 - 1e-7)
            self.logits = elementwise.log(p) - elementwise.log(1 - p)
        super().__init__(tuple(self.probs.shape))

    def _draw(self, sample_shape: Any) -> Tensor:
        return bernoulli(constant(np.broadcast_to(self.probs._data, self._shape(sample_shape))))

    def log_prob(self, value: Any) -> Tensor:
        v = _as_tensor(value)
        logits = shape.expand(self.logits, np.broadcast_shapes(v.shape, self.batch_shape))
        target = constant(np.broadcast_to(v._data, logits.shape).astype(logits._data.dtype))
        return -binary_cross_entropy_with_logits(logits, target, reduction="none")

    def entropy(self) -> Tensor:
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)


class Normal(Distribution):
    """The Gaussian N(``loc``, ``scale``²), elementwise; ``rsample`` = loc + scale·ε keeps the
    gradient to both (the reparameterisation trick)."""

    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: Any = None) -> None:
        self.loc, self.scale = _as_tensor(loc), _as_tensor(scale)
        super().__init__(np.broadcast_shapes(self.loc.shape, self.scale.shape))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        dtype = np.result_type(self.loc._data, self.scale._data)
        eps = constant(generator().standard_normal(self._shape(sample_shape)).astype(dtype))
        return self.loc + self.scale * eps

    def log_prob(self, value: Any) -> Tensor:
        z = (_as_tensor(value) - self.loc) / self.scale
        return -0.5 * z * z - elementwise.log(self.scale) - 0.5 * math.log(2 * math.pi)

    def entropy(self) -> Tensor:
        return shape.expand(
            0.5 + 0.5 * math.log(2 * math.pi) + elementwise.log(self.scale), self.batch_shape
        )

    @property
    def mean(self) -> Tensor:
        return shape.expand(self.loc, self.batch_shape)

    @property
    def variance(self) -> Tensor:
        return shape.expand(self.scale * self.scale, self.batch_shape)
