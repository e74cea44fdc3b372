"""Weight averaging (SWA and EMA) with torch.optim.swa_utils' names and arithmetic.

``AveragedModel`` keeps a running (or exponential) average of a model's weights, ``SWALR`` anneals
the lr to a constant SWA lr, ``update_bn`` recomputes BatchNorm statistics for averaged weights.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from neuralab.dtypes import int64
from neuralab.nn.layers.normalization import _BatchNorm
from neuralab.nn.module import Module
from neuralab.optim.lr_scheduler.base import LRScheduler, check_optimizer, per_group
from neuralab.optim.optimizer import Optimizer
from neuralab.tensor import Tensor, no_grad, tensor

__all__ = [
    "SWALR", "AveragedModel", "get_ema_avg_fn", "get_ema_multi_avg_fn", "get_swa_avg_fn",
    "get_swa_multi_avg_fn", "update_bn",
]  # fmt: skip

AvgFn = Callable[[Tensor, Tensor, Tensor | int], Tensor]
MultiAvgFn = Callable[[Sequence[Tensor], Sequence[Tensor], Tensor | int], None]


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(
            f"Invalid decay value {decay} provided. Please provide a value in [0,1] range."
        )


def _is_inexact(t: Tensor) -> bool:
    """Floating point or complex: the dtypes torch's list averages interpolate with lerp."""
    return t.dtype.kind in "fc"


def _lerp_(start: Tensor, end: Tensor, weight: float) -> None:
    """start ← start + weight·(end - start) in place, as torch's CPU kernel computes it: the
    weight in the tensor's precision, from ``end``'s side (end + (weight - 1)·diff) when it is
    0.5 or more, and the multiply-add fused: for float32 and narrower the product is exact in
    float64, so one rounding as torch's; float64 and complex round twice (within an ulp)."""
    w = np.dtype(start.dtype).type(weight)
    coeff, base = (w, start) if abs(w) < 0.5 else (w - 1, end)
    diff = end - start
    if start.dtype.kind == "f" and start.dtype.itemsize < 8:
        start.copy_(diff.double() * float(coeff) + base.double())
    else:
        start.copy_(diff * coeff + base)


def get_ema_multi_avg_fn(decay: float = 0.999) -> MultiAvgFn:
    """An in-place exponential moving average of lists of tensors: ema ← lerp(ema, current,
    1 - decay) (integer tensors: ema·decay + current·(1 - decay), truncated)."""
    _check_decay(decay)

    def ema_update(
        ema_param_list: Sequence[Tensor], current_param_list: Sequence[Tensor], _: Any
    ) -> None:
        inexact = _is_inexact(ema_param_list[0])
        with no_grad():
            for ema, current in zip(ema_param_list, current_param_list, strict=True):
                if inexact:
                    _lerp_(ema, current, 1 - decay)
                else:
                    ema.copy_(ema * decay + current * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> MultiAvgFn:
    """An in-place running mean of lists of tensors: avg ← lerp(avg, current, 1/(n + 1)).

    Integer tensors are refused with a RuntimeError, as torch's foreach kernels refuse them.
    """

    def swa_update(
        averaged_param_list: Sequence[Tensor],
        current_param_list: Sequence[Tensor],
        num_averaged: Tensor | int,
    ) -> None:
        if not _is_inexact(averaged_param_list[0]):
            raise RuntimeError(
                "get_swa_multi_avg_fn: integer tensors cannot be averaged in place (torch's "
                "foreach addcdiv/add refuse integer division too); use avg_fn=get_swa_avg_fn(), "
                "which truncates, or use_buffers=False"
            )
        weight = float(1 / (num_averaged + 1))  # a float32 tensor for a Tensor count, as torch
        with no_grad():
            for averaged, current in zip(averaged_param_list, current_param_list, strict=True):
                _lerp_(averaged, current, weight)

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> AvgFn:
    """The exponential moving average of one tensor: decay·ema + (1 - decay)·current."""
    _check_decay(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> AvgFn:
    """The running mean of one tensor: averaged + (current - averaged)/(n + 1)."""

    def swa_update(
        averaged_param: Tensor, current_param: Tensor, num_averaged: Tensor | int
    ) -> Tensor:
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _group_by_dtype(
    averaged: list[Tensor], current: list[Tensor]
) -> list[tuple[list[Tensor], list[Tensor]]]:
    """Pairs of lists of the same dtype, in order of first appearance (torch groups so)."""
    groups: dict[Any, tuple[list[Tensor], list[Tensor]]] = {}
    for a, c in zip(averaged, current, strict=True):
        ours, theirs = groups.setdefault(a.dtype, ([], []))
        ours.append(a)
        theirs.append(c)
    return list(groups.values())


class AveragedModel(Module):
    """A copy of ``model`` (``self.module``) whose weights are averaged by
    :meth:`update_parameters`: an equal-weight mean by default (SWA), or ``avg_fn(averaged,
    current, n_averaged)`` per tensor, or ``multi_avg_fn(averaged_list, current_list,
    n_averaged)`` in place per dtype group (e.g. :func:`get_ema_multi_avg_fn`).

    With ``use_buffers=True`` the buffers (BatchNorm statistics) are averaged too; otherwise
    they are copied from the model at every update. ``n_averaged`` (an int64 buffer) counts the
    updates. The first update copies the model's weights.
    """

    def __init__(
        self,
        model: Module,
        device: Any = None,
        avg_fn: AvgFn | None = None,
        multi_avg_fn: MultiAvgFn | None = None,
        use_buffers: bool = False,
    ) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The averaged module's forward."""
        return self.module(*args, **kwargs)

    def _averaged_tensors(self, model: Module) -> tuple[list[Tensor], list[Tensor]]:
        """Ours and the model's tensors to average, paired in order (the shorter list decides,
        as torch's zip does)."""
        if self.use_buffers:
            ours = [*self.module.parameters(), *self.module.buffers()]
            theirs = [*model.parameters(), *model.buffers()]
        else:
            ours, theirs = list(self.parameters()), list(model.parameters())
        n = min(len(ours), len(theirs))
        return ours[:n], [t.detach() for t in theirs[:n]]

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current weights into the average (the first call copies them)."""
        ours, theirs = self._averaged_tensors(model)
        with no_grad():
            if self.n_averaged == 0:
                for averaged, current in zip(ours, theirs):
                    averaged.copy_(current)
            elif self.multi_avg_fn is not None:
                for averaged_group, current_group in _group_by_dtype(ours, theirs):
                    self.multi_avg_fn(averaged_group, current_group, self.n_averaged)
            else:
                avg_fn = self.avg_fn or get_swa_avg_fn()
                for averaged, current in zip(ours, theirs):
                    averaged.copy_(avg_fn(averaged, current, self.n_averaged))
            if not self.use_buffers:
                for ours_b, theirs_b in zip(self.module.buffers(), model.buffers(), strict=True):
                    ours_b.copy_(theirs_b.detach())
            self.n_averaged += 1


def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recompute every BatchNorm's running statistics with one pass over ``loader``.

    The statistics are reset and accumulated as a cumulative average (momentum None) in training
    mode; the momenta and the model's training mode are restored afterwards. A batch that is a
    list or tuple contributes its first element (the inputs).
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    try:
        with no_grad():
            for batch in loader:
                if isinstance(batch, list | tuple):
                    batch = batch[0]
                if device is not None:
                    batch = batch.to(device)
                model(batch)
    finally:
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to its ``swa_lr`` over ``anneal_epochs`` epochs ("cos" or
    "linear"), then hold it there. ``swa_lr`` is one value or one per group; each group records
    it as ``group["swa_lr"]``."""

    def __init__(
        self,
        optimizer: Optimizer,
        swa_lr: float | list[float],
        anneal_epochs: int = 10,
        anneal_strategy: str = "cos",
        last_epoch: int = -1,
    ) -> None:
        swa_lrs = per_group("swa_lr", check_optimizer(optimizer), swa_lr)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        for group, lr in zip(optimizer.param_groups, swa_lrs):
            group["swa_lr"] = lr
        self._anneal_strategy = anneal_strategy
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def anneal_func(self, t: float) -> float:
        """The fraction of the way to ``swa_lr`` at progress ``t`` in [0, 1]."""
        if self._anneal_strategy == "linear":
            return t
        return (1 - math.cos(math.pi * t)) / 2

    def _alpha(self, step: int) -> float:
        return self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))

    def get_lr(self) -> list[Any]:
        # As torch: recover the lr the annealing started from out of the current lr and the
        # previous step's fraction, then move that fraction's way to swa_lr.
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha, alpha = self._alpha(step - 1), self._alpha(step)
        lrs = []
        for group, lr in zip(self.optimizer.param_groups, self._current_lrs()):
            swa_lr = group["swa_lr"]
            start = swa_lr if prev_alpha == 1 else (lr - prev_alpha * swa_lr) / (1 - prev_alpha)
            lrs.append(swa_lr * alpha + start * (1 - alpha))
        return lrs
