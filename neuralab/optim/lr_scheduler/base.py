"""The scheduler base class: ``step()`` advances ``last_epoch`` and writes new lrs to the groups.

A subclass computes the lrs in :meth:`LRScheduler.get_lr` (from ``last_epoch``, ``base_lrs`` and
the groups' current ``lr``) and may give a closed form, ``_get_closed_form_lr``, that
``step(epoch)`` uses. A group's ``lr`` that is a Tensor is updated in place, as in torch.
"""

from __future__ import annotations

import warnings
from typing import Any

from neuralab.optim._checks import scalar
from neuralab.optim.optimizer import Optimizer
from neuralab.tensor import Tensor, constant


def check_optimizer(optimizer: Any) -> Optimizer:
    """``optimizer`` itself, or TypeError when it is not an Optimizer."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
    return optimizer


def per_group(name: str, optimizer: Optimizer, value: Any) -> list[Any]:
    """One value per param group: a list/tuple must have one entry per group, a scalar repeats."""
    n = len(optimizer.param_groups)
    if isinstance(value, list | tuple):
        if len(value) != n:
            raise ValueError(
                f"{name} must have one value per param group: got {len(value)} values for "
                f"{n} param groups"
            )
        return [_copy(v) for v in value]
    return [_copy(value)] * n


def group_values(optimizer: Optimizer, key: str) -> list[Any]:
    """Each group's ``key`` (a Tensor value is copied, so it cannot change behind the caller)."""
    return [_copy(group[key]) for group in optimizer.param_groups]


def set_lr(group: dict[str, Any], value: Any) -> None:
    """Write a new ``lr`` into a group; a Tensor ``lr`` is filled in place."""
    if isinstance(group["lr"], Tensor):
        group["lr"].fill_(scalar(value))
    else:
        group["lr"] = value


def _copy(value: Any) -> Any:
    return constant(value._data.copy()) if isinstance(value, Tensor) else value


class LRScheduler:
    """Base class: ``step()`` advances ``last_epoch`` and writes :meth:`get_lr` into the groups."""

    _is_initial = False  # True during the step the constructor makes

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        self.optimizer = check_optimizer(optimizer)
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", _copy(group["lr"]))
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                        f"a scheduler with last_epoch={last_epoch}; load the optimizer's state "
                        "dict first, or use last_epoch=-1 for a fresh run"
                    )
        self.base_lrs: list[Any] = group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """The step for epoch 0 that construction makes."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[Any]:
        """The learning rates for the current ``last_epoch`` (called by :meth:`step`)."""
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    def get_last_lr(self) -> list[Any]:
        """The learning rates of the param groups after the last :meth:`step`."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (``epoch=`` jumps there by the closed form, deprecated as in torch)."""
        self._step_count += 1
        if epoch is not None:
            warnings.warn(
                "scheduler.step(epoch) is deprecated (as in PyTorch): call scheduler.step()",
                UserWarning,
                stacklevel=2,
            )
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        """Set ``last_epoch`` (next, or ``epoch``) and write that epoch's lrs into the groups."""
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            set_lr(group, lr)
        self._last_lr = group_values(self.optimizer, "lr")

    def _current_lrs(self) -> list[Any]:
        return group_values(self.optimizer, "lr")

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore attributes saved by :meth:`state_dict`."""
        self.__dict__.update(state_dict)


class _LRScheduler(LRScheduler):
    """The base class's old name, which older custom schedulers subclass."""
