"""Loss functions as modules, mirroring ``neuralab.nn.functional``'s losses argument for argument.

Every loss takes ``reduction``: 'mean' (default), 'sum' or 'none' (one value per element or
sample), and torch's deprecated ``size_average``/``reduce`` where torch has them. Class weights and
``pos_weight`` are registered as buffers (like torch), so they follow ``model.to(...)`` and appear
in the state_dict. ``_Loss`` and ``_WeightedLoss`` are torch's bases, for user-defined losses.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from neuralab.nn import functional as F
from neuralab.nn.layers.distance import PairwiseDistance
from neuralab.nn.module import Module
from neuralab.ops._loss_util import REDUCTIONS, check_reduction, legacy_reduction
from neuralab.tensor import Tensor, as_array, constant

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CTCLoss", "CosineEmbeddingLoss", "CrossEntropyLoss",
    "GaussianNLLLoss",
    "HingeEmbeddingLoss", "HingeLoss", "HuberLoss", "KLDivLoss", "L1Loss", "LogisticLoss",
    "MSELoss", "MarginRankingLoss", "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss",
    "MultiMarginLoss", "NLLLoss", "NLLLoss2d", "PerceptronLoss", "PoissonNLLLoss",
    "SmoothL1Loss", "SoftMarginLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss",
]  # fmt: skip


def _as_buffer(value: Any) -> Tensor | None:
    """A graph-free tensor for an optional weight argument (kept as given if already a Tensor)."""
    if value is None or isinstance(value, Tensor):
        return value
    return constant(as_array(value))


class _Loss(Module):
    """torch's base of the losses: stores ``reduction`` (from the legacy ``size_average`` and
    ``reduce`` when given), checked."""

    _reductions: tuple[str, ...] = REDUCTIONS

    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if size_average is not None or reduce is not None:
            reduction = legacy_reduction(name, size_average, reduce, reduction, stacklevel=4)
        check_reduction(reduction, name, self._reductions)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss with an optional per-class ``weight``, kept as a buffer."""

    def __init__(
        self,
        weight: Any = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_buffer(weight))


# ----------------------------------------------------------------------------- regression


class MSELoss(_Loss):
    """Mean squared error (ŷ - y)²: regression, the Gaussian negative log-likelihood."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error |ŷ - y|: regression that is robust to outliers."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic within ±beta, absolute beyond (Huber loss divided by beta)."""

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        beta: float = 1.0,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Quadratic within ±delta, linear beyond: robust regression."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


# ----------------------------------------------------------------------------- probabilistic


class KLDivLoss(_Loss):
    """KL divergence of log-probabilities ``input`` from ``target`` (use reduction='batchmean')."""

    _reductions = REDUCTIONS + ("batchmean",)

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        log_target: bool = False,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood of counts given a (log-)rate."""

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        size_average: bool | None = None,
        eps: float = 1e-8,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return F.poisson_nll_loss(
            log_input, target, self.log_input, self.full, eps=self.eps, reduction=self.reduction
        )


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood with a predicted variance: forward(input, target, var)."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full = full
        self.eps = eps

    def forward(self, input: Tensor, target: Tensor, var: Any) -> Tensor:
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


# ----------------------------------------------------------------------------- binary


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1] (after a sigmoid), optional weight."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits with the sigmoid fused in; ``pos_weight`` scales positives."""

    def __init__(
        self,
        weight: Any = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: Any = None,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_buffer(weight))
        self.register_buffer("pos_weight", _as_buffer(pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


# ----------------------------------------------------------------------------- margin


class _Margin(_Loss):
    """A loss with a ``margin`` before torch's legacy arguments."""

    def __init__(
        self,
        margin: float = 0.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin


class MarginRankingLoss(_Margin):
    """max(0, -y·(x1 - x2) + margin): forward(input1, input2, target) with y = ±1."""

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_Margin):
    """x where y = 1, max(0, margin - x) where y = -1 (x: a distance)."""

    def __init__(
        self,
        margin: float = 1.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(margin, size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(_Margin):
    """1 - cos(x1, x2) where y = 1, max(0, cos - margin) where y = -1."""

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(
            input1, input2, target, self.margin, reduction=self.reduction
        )


class SoftMarginLoss(_Loss):
    """log(1 + exp(-y·x)) for labels y = ±1."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Per-label binary cross-entropy of logits, averaged over the labels."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multilabel_soft_margin_loss(input, target, self.weight, reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge: target rows list class indices, ended by -1."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge Σ_{i≠y} max(0, margin - x[y] + x[i])^p / C."""

    def __init__(
        self,
        p: int = 1,
        margin: float = 1.0,
        weight: Any = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p = 1 and p = 2 are supported, got {p}")
        self.p = p
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multi_margin_loss(
            input, target, self.p, self.margin, self.weight, reduction=self.reduction
        )


class TripletMarginLoss(_Loss):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) with p-norm distances."""

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_loss(
            anchor, positive, negative, self.margin, self.p, self.eps, self.swap,
            reduction=self.reduction,
        )  # fmt: skip


class TripletMarginWithDistanceLoss(_Loss):
    """The triplet loss with any ``distance_function`` (default: a ``PairwiseDistance()``)."""

    def __init__(
        self,
        *,
        distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
        margin: float = 1.0,
        swap: bool = False,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction=reduction)
        if margin <= 0:
            raise ValueError(
                f"TripletMarginWithDistanceLoss: margin must be greater than 0, got {margin}"
            )
        self.distance_function = (
            PairwiseDistance() if distance_function is None else distance_function
        )
        self.margin = margin
        self.swap = swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction,
        )  # fmt: skip


# ----------------------------------------------------------------------------- score margins


class _ScoreLoss(_Loss):
    """neuralab's losses of a score and labels ±1 (not in torch): ``reduction`` comes first."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)


class PerceptronLoss(_ScoreLoss):
    """max(0, -y·ŷ) for labels y ∈ {-1, +1}: the perceptron criterion (misclassified points)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.perceptron_loss(input, target, reduction=self.reduction)


class HingeLoss(_ScoreLoss):
    """max(0, 1 - y·ŷ) for labels y ∈ {-1, +1}: the linear SVM's margin loss."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.hinge_loss(input, target, reduction=self.reduction)


class LogisticLoss(_ScoreLoss):
    """log(1 + e^(-y·ŷ)) for labels y ∈ {-1, +1}: logistic regression on a raw score."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.logistic_loss(input, target, reduction=self.reduction)


# ----------------------------------------------------------------------------- classes


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (pair with LogSoftmax) and class indices."""

    def __init__(
        self,
        weight: Any = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class NLLLoss2d(NLLLoss):
    """torch's deprecated alias of NLLLoss for (N, C, H, W) input (NLLLoss handles any rank)."""


class CTCLoss(_Loss):
    """Connectionist temporal classification: the loss of a label sequence over every alignment
    of it to the input frames (speech, handwriting); ``forward(log_probs, targets,
    input_lengths, target_lengths)`` with (T, N, C) log-probabilities."""

    def __init__(
        self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False
    ) -> None:
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(
        self, log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any
    ) -> Tensor:
        return F.ctc_loss(
            log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
            self.zero_infinity,
        )  # fmt: skip


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


class CrossEntropyLoss(_WeightedLoss):
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
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
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
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )
