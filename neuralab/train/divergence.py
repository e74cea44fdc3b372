"""Divergence: telling when training has blown up, written once for every training loop.

A loss diverges when it is NaN or infinite, or when it exceeds ``threshold`` × max(|the first
loss seen|, 1) (a million-fold growth by default); weights diverge when a parameter holds NaN
or infinite values. :class:`~neuralab.train.trainer.Trainer` (and so ``fit``), the estimators
and the playground session all use :class:`DivergenceDetector`; what each does when it fires
(restore the last good epoch, raise, pause) is its own.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["DivergenceDetector", "DivergenceWarning", "TrainingDiverged"]


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss became NaN/infinite or exploded."""


class TrainingDiverged(ArithmeticError):
    """Raised by a training step whose loss (or, at an epoch's end, whose weights) diverged.

    ``what`` says what happened ("the loss is nan"); ``epoch`` and ``step`` (from 0) say where,
    when known.
    """

    def __init__(self, what: str, epoch: int | None = None, step: int | None = None) -> None:
        super().__init__(what)
        self.what, self.epoch, self.step = what, epoch, step


class DivergenceDetector:
    """Checks each loss value of a run against the first one; see the module docstring.

    ``threshold=None`` keeps only the NaN/infinity check. ``reference`` (the first finite
    value seen, or one set by hand to continue an earlier run) is the scale of the bound.
    """

    def __init__(self, threshold: float | None = 1e6, reference: float | None = None) -> None:
        if threshold is not None and not threshold > 0:
            raise ValueError(f"divergence_threshold must be > 0 or None, got {threshold!r}")
        self.threshold = threshold
        self.reference = reference

    def check(self, value: float) -> str | None:
        """None while ``value`` is fine, else what went wrong (the first value sets the scale)."""
        if not math.isfinite(value):
            return f"the loss is {value}"
        if self.reference is None:
            self.reference = value
        if self.threshold is None:
            return None
        bound = self.threshold * max(abs(self.reference), 1.0)
        if value > bound:
            return (
                f"the loss {value:.4g} exploded past {bound:.4g} (divergence_threshold "
                f"{self.threshold:g} × max(first batch's loss {self.reference:.4g}, 1))"
            )
        return None

    @staticmethod
    def check_parameters(model: Any) -> str | None:
        """None while every parameter of ``model`` is finite, else which one is not."""
        for name, p in model.named_parameters():
            if not np.isfinite(p.numpy()).all():
                return f"parameter '{name}' holds NaN or infinite values"
        return None
