"""Loss functions as modules, mirroring ``neuralab.nn.functional``'s losses argument for argument.

Every loss takes ``reduction``: 'mean' (default), 'sum' or 'none' (one value per element or
sample). Class weights and ``pos_weight`` are registered as buffers (like torch), so they follow
``model.to(...)`` and appear in the state_dict.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from neuralab.nn import functional as F
from neuralab.nn.module import Module
from neuralab.tensor import Tensor, as_array, constant

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "HingeLoss",
    "L1Loss",
    "LogisticLoss",
    "MSELoss",
    "NLLLoss",
    "PerceptronLoss",
]


def _as_buffer(value: Any) -> Tensor | None:
    """A graph-free tensor for an optional weight argument (kept as given if already a Tensor)."""
    if value is None or isinstance(value, Tensor):
        return value
    return constant(as_array(value))


class _Loss(Module):
    """Stores and checks ``reduction``."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(
                f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', "
                f"got {reduction!r}"
            )
        self.reduction = reduction


class MSELoss(_Loss):
    """Mean squared error (ŷ - y)²: regression, the Gaussian negative log-likelihood."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error |ŷ - y|: regression that is robust to outliers."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class PerceptronLoss(_Loss):
    """max(0, -y·ŷ) for labels y ∈ {-1, +1}: the perceptron criterion (misclassified points)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.perceptron_loss(input, target, reduction=self.reduction)


class HingeLoss(_Loss):
    """max(0, 1 - y·ŷ) for labels y ∈ {-1, +1}: the linear SVM's margin loss."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.hinge_loss(input, target, reduction=self.reduction)


class LogisticLoss(_Loss):
    """log(1 + e^(-y·ŷ)) for labels y ∈ {-1, +1}: logistic regression on a raw score."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.logistic_loss(input, target, reduction=self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1] (after a sigmoid), optional weight."""

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _as_buffer(weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits with the sigmoid fused in; ``pos_weight`` scales positives."""

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _as_buffer(weight))
        self.register_buffer("pos_weight", _as_buffer(pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, self.pos_weight, reduction=self.reduction
        )


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (pair with LogSoftmax) and class indices."""

    def __init__(
        self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _as_buffer(weight))
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


# The double-softmax bug shows from the first batch on; checking the first calls finds it and
# keeps the check off the training loop's hot path afterwards.
_DOUBLE_SOFTMAX_CHECKS = 20


def _rows_sum_to_one(x: np.ndarray) -> bool:
    """True when x is non-negative and sums to 1 along the class axis for every sample."""
    cdim = 0 if x.ndim == 1 else 1
    if x.ndim == 0 or x.shape[cdim] < 2 or x.size == 0:
        return False
    head = x if x.ndim == 1 else x[:1]  # cheap early exit: logits rarely pass on the first row
    if abs(float(head.sum(axis=cdim).ravel()[0]) - 1) > 1e-4:
        return False
    return bool(x.min() >= 0 and np.abs(x.sum(axis=cdim) - 1).max() <= 1e-4)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of LOGITS against class indices or class probabilities.

    Input (C), (N, C) or (N, C, d1, ...) of raw scores: the log-softmax is applied inside, so
    do not end the network with a Softmax. If every row of an input already is a probability
    distribution (non-negative, summing to 1) in one of its first 20 calls, the loss warns
    once: the classic silent bug of softmax applied twice, which flattens the gradients and
    stalls training.
    Options as torch: per-class ``weight``, ``ignore_index``, ``label_smoothing``.
    """

    def __init__(
        self,
        weight: Any = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _as_buffer(weight))
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        self._checks_left = _DOUBLE_SOFTMAX_CHECKS

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        if self._checks_left and _rows_sum_to_one(np.asarray(input)):
            self._checks_left = 0
            warnings.warn(
                f"CrossEntropyLoss: every row of the input (shape {np.shape(input)}) is "
                "non-negative and sums to 1, so it looks like probabilities. CrossEntropyLoss "
                "expects raw logits and applies log-softmax itself; a softmax applied twice "
                "flattens the gradients. Pass the logits (or use NLLLoss on log-probabilities).",
                UserWarning,
                stacklevel=3,
            )
        elif self._checks_left:
            self._checks_left -= 1
        return F.cross_entropy(
            input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing
        )
