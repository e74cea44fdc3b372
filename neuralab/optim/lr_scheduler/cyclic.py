"""Cyclical schedules, stepped once per batch: CyclicLR, OneCycleLR, CosineAnnealingWarmRestarts.

CyclicLR and OneCycleLR also move the momentum (SGD, RMSprop) or ``betas[0]`` (Adam and its
kin) against the lr, between ``base_momentum`` and ``max_momentum``.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from functools import partial
from typing import Any

from neuralab.optim.lr_scheduler.base import (
    LRScheduler,
    check_optimizer,
    group_values,
    per_group,
    set_lr,
)
from neuralab.optim.optimizer import Optimizer


class _CyclesMomentum:
    """Momentum cycling shared by CyclicLR and OneCycleLR."""

    optimizer: Optimizer
    use_beta1: bool

    def _setup_momentum(
        self, base: Any, high: Any, last_epoch: int
    ) -> tuple[list[float], list[float]]:
        """Check the optimizer has a momentum; on a fresh start set it to ``high`` and record
        ``max_momentum``/``base_momentum`` in each group. Returns (bases, highs) per group."""
        defaults = self.optimizer.defaults
        if "momentum" not in defaults and "betas" not in defaults:
            raise ValueError(
                f"{type(self).__name__}: cycle_momentum=True needs an optimizer with momentum or "
                f"betas; {type(self.optimizer).__name__} has neither (pass cycle_momentum=False)"
            )
        self.use_beta1 = "betas" in defaults
        bases = per_group("base_momentum", self.optimizer, base)
        highs = per_group("max_momentum", self.optimizer, high)
        if last_epoch == -1:
            for group, low, top in zip(self.optimizer.param_groups, bases, highs):
                self._set_momentum(group, top)
                group["max_momentum"] = top
                group["base_momentum"] = low
        return bases, highs

    def _set_momentum(self, group: dict[str, Any], value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value


class CyclicLR(_CyclesMomentum, LRScheduler):
    """Cycle the lr between ``base_lr`` and ``max_lr`` (Smith): triangular, halving or
    exponentially shrinking cycles, or your own ``scale_fn``."""

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | list[float],
        max_lr: float | list[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float = 0.8,
        max_momentum: float = 0.9,
        last_epoch: int = -1,
    ) -> None:
        self.optimizer = check_optimizer(optimizer)
        base_lrs = per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                set_lr(group, lr)
        self.max_lrs = per_group("max_lr", optimizer, max_lr)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(
                f"CyclicLR: mode={mode!r} is invalid (use 'triangular', 'triangular2' or "
                "'exp_range') and no scale_fn was given"
            )
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.base_momentums, self.max_momentums = self._setup_momentum(
                base_momentum, max_momentum, last_epoch
            )
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        if self._scale_fn_custom is not None:
            return
        if self.mode == "exp_range":
            self._scale_fn_ref = partial(_exp_range_scale, self.gamma)
            self.scale_mode = "iterations"
        else:
            self._scale_fn_ref = _triangular_scale if self.mode == "triangular" else _halving_scale
            self.scale_mode = "cycle"

    def scale_fn(self, x: float) -> float:
        """The amplitude factor for cycle (or iteration) ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        return self._scale_fn_ref(x)

    def get_lr(self) -> list[Any]:
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [
            base + (top - base) * scale_factor * scale
            for base, top in zip(self.base_lrs, self.max_lrs)
        ]
        if self.cycle_momentum:
            for group, base, top in zip(
                self.optimizer.param_groups, self.base_momentums, self.max_momentums
            ):
                self._set_momentum(group, top - (top - base) * scale_factor * scale)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        """Attributes; a custom ``scale_fn`` is saved as None (function) or its ``__dict__``."""
        state = super().state_dict()
        state.pop("_scale_fn_ref", None)
        fn = state.pop("_scale_fn_custom")
        keep = fn is not None and not isinstance(fn, types.FunctionType)
        state["_scale_fn_custom"] = fn.__dict__.copy() if keep else None
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore attributes; a callable-object ``scale_fn`` gets its ``__dict__`` back."""
        state = dict(state_dict)
        fn = state.pop("_scale_fn_custom")
        super().load_state_dict(state)
        if fn is not None:
            self._scale_fn_custom.__dict__.update(fn)
        self._init_scale_fn()


def _triangular_scale(x: float) -> float:
    return 1.0


def _halving_scale(x: float) -> float:
    return 1 / (2.0 ** (x - 1))


def _exp_range_scale(gamma: float, x: float) -> float:
    return gamma**x


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing restarted every ``T_i`` epochs (SGDR), ``T_i`` growing by ``T_mult``;
    ``step(epoch)`` takes fractional epochs, e.g. ``epoch + i / iters`` per batch."""

    def __init__(
        self,
        optimizer: Optimizer,
        T_0: int,
        T_mult: int = 1,
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(
                f"CosineAnnealingWarmRestarts: expected positive integer T_0, got {T_0}"
            )
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(
                f"CosineAnnealingWarmRestarts: expected integer T_mult >= 1, got {T_mult}"
            )
        if not isinstance(eta_min, float | int):
            raise ValueError(
                f"CosineAnnealingWarmRestarts: expected float or int eta_min, got {eta_min!r} of "
                f"type {type(eta_min).__name__}"
            )
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[Any]:
        cos = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (base - self.eta_min) * cos / 2 for base in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advance one epoch, or go to ``epoch`` (any non-negative number, not deprecated here)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        elif epoch < 0:
            raise ValueError(
                f"CosineAnnealingWarmRestarts: expected non-negative epoch, got {epoch}"
            )
        elif epoch < self.T_0:
            self.T_i, self.T_cur = self.T_0, epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:
            n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult**n
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            set_lr(group, lr)
        self._last_lr = group_values(self.optimizer, "lr")


class OneCycleLR(_CyclesMomentum, LRScheduler):
    """The 1cycle policy (Smith): warm up to ``max_lr``, then anneal far below the start.

    With ``cycle_momentum`` the momentum (SGD, RMSprop) or ``betas[0]`` (Adam) moves inversely,
    from ``max_momentum`` down to ``base_momentum`` and back. Step it once per batch.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        self.optimizer = check_optimizer(optimizer)
        self.total_steps = _total_steps(total_steps, epochs, steps_per_epoch)
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: pct_start={pct_start!r} must be a float in [0, 1]")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"OneCycleLR: anneal_strategy={anneal_strategy!r} must be 'cos' or 'linear'"
            )
        self.anneal_strategy = anneal_strategy
        self._phases = _phases(pct_start, self.total_steps, three_phase)
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, per_group("max_lr", optimizer, max_lr)):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self._setup_momentum(base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[Any]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {step} times; the schedule has total_steps="
                f"{self.total_steps}"
            )
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, (end_step, lr0, lr1, m0, m1) in enumerate(self._phases):
                if step <= end_step or i == len(self._phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[lr0], group[lr1], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[m0], group[m1], pct))
                    break
                start_step = end_step
        return lrs


def _total_steps(total_steps: int | None, epochs: int | None, per_epoch: int | None) -> int:
    if total_steps is not None:
        if not isinstance(total_steps, int) or total_steps <= 0:
            raise ValueError(
                f"OneCycleLR: expected a positive integer total_steps, got {total_steps!r}"
            )
        return total_steps
    if epochs is None or per_epoch is None:
        raise ValueError("OneCycleLR: give either total_steps or (epochs and steps_per_epoch)")
    for name, value in (("epochs", epochs), ("steps_per_epoch", per_epoch)):
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"OneCycleLR: expected a positive integer {name}, got {value!r}")
    return epochs * per_epoch


def _phases(pct_start: float, total_steps: int, three_phase: bool) -> list[tuple]:
    """(end_step, start_lr, end_lr, start_momentum, end_momentum) of each 1cycle phase."""
    up = float(pct_start * total_steps) - 1
    last = total_steps - 1
    if three_phase:
        down = float(2 * pct_start * total_steps) - 2
        return [
            (up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
            (down, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
            (last, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
        ]
    return [
        (up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
        (last, "max_lr", "min_lr", "base_momentum", "max_momentum"),
    ]
