"""Learning-rate schedules: change each param group's ``lr`` as training progresses.

Same classes, arguments and learning-rate sequences as ``torch.optim.lr_scheduler`` (the
recursive, "chainable" forms are computed in the same order, so the floats agree exactly).
Usage is torch's: call ``scheduler.step()`` once per epoch (or per batch for OneCycleLR and
CyclicLR) after ``optimizer.step()``; ``ReduceLROnPlateau.step(metric)`` takes the monitored
value.

Creating a scheduler stores each group's starting ``lr`` as ``group["initial_lr"]`` and performs
the step for epoch 0. ``state_dict()`` holds every attribute except the optimizer (plain numbers
and lists); restore it with ``load_state_dict``.

Modules: ``base`` (LRScheduler), ``decay`` (formulas of the epoch), ``cyclic`` (per-batch
cycles), ``plateau`` (ReduceLROnPlateau), ``composite`` (SequentialLR, ChainedScheduler).
"""

from neuralab.optim.lr_scheduler.base import LRScheduler, _LRScheduler
from neuralab.optim.lr_scheduler.composite import ChainedScheduler, SequentialLR
from neuralab.optim.lr_scheduler.cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from neuralab.optim.lr_scheduler.decay import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from neuralab.optim.lr_scheduler.plateau import ReduceLROnPlateau

__all__ = [
    "ChainedScheduler", "ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
    "CyclicLR", "ExponentialLR", "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR",
    "MultiplicativeLR", "OneCycleLR", "PolynomialLR", "ReduceLROnPlateau", "SequentialLR",
    "StepLR", "_LRScheduler",
]  # fmt: skip
