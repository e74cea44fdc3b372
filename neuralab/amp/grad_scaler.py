"""torch.amp.GradScaler: loss scaling with inf/NaN step skipping and a dynamic scale.

On the CPU it runs as torch's CPU GradScaler does: ``scale`` multiplies the loss, ``unscale_``
divides the gradients and looks for infinities and NaNs, ``step`` skips the optimizer step when
it found any, and ``update`` halves the scale after a skipped step and doubles it after
``growth_interval`` clean ones. A scaler for another device (torch's default is 'cuda') warns
and disables itself, as torch does without that device: every method then passes through.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from neuralab.amp.autocast_mode import device_kind, enabled_on_cpu_only
from neuralab.tensor import Tensor

__all__ = ["GradScaler"]

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


class GradScaler:
    """Scale the loss so small gradients survive low precision; skip steps that overflow."""

    def __init__(
        self,
        device: str = "cuda",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        self._device = device_kind(device, "GradScaler")
        enabled = enabled_on_cpu_only(
            enabled, self._device, "GradScaler", "disabling it: scale, step and update pass through"
        )
        self._enabled = enabled
        if enabled:
            if growth_factor <= 1.0:
                raise ValueError(f"GradScaler: growth_factor must be > 1.0, got {growth_factor}")
            if backoff_factor >= 1.0:
                raise ValueError(f"GradScaler: backoff_factor must be < 1.0, got {backoff_factor}")
        self._init_scale = init_scale
        self._scale: np.float32 | None = None  # set by the first scale() call, as torch
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        self._growth_tracker = 0
        self._per_optimizer_states: dict[int, dict[str, Any]] = {}

    def _state(self, optimizer: Any) -> dict[str, Any]:
        return self._per_optimizer_states.setdefault(id(optimizer), {"stage": _READY})

    def _check_scale(self, method: str) -> np.float32:
        if self._scale is None:
            raise RuntimeError(
                f"GradScaler.{method}: no scale yet; call scaler.scale(loss) earlier in the "
                f"iteration"
            )
        return self._scale

    def scale(self, outputs: Any) -> Any:
        """``outputs`` (a tensor, or lists/tuples of them) times the current scale."""
        if not self._enabled:
            return outputs
        if self._scale is None:
            self._scale = np.float32(self._init_scale)
        factor = float(self._scale)

        def apply(value: Any) -> Any:
            if isinstance(value, Tensor):
                return value * factor
            if isinstance(value, (list, tuple)):
                return type(value)(apply(v) for v in value)
            if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
                return map(apply, value)
            raise ValueError("GradScaler.scale: outputs must be a Tensor or an iterable of Tensors")

        return apply(outputs)

    def unscale_(self, optimizer: Any) -> None:
        """Divide ``optimizer``'s gradients by the scale (in place) and note any inf or NaN."""
        if not self._enabled:
            return
        scale = self._check_scale("unscale_")
        state = self._state(optimizer)
        if state["stage"] == _UNSCALED:
            raise RuntimeError(
                "GradScaler.unscale_: already called on this optimizer since the last update()"
            )
        if state["stage"] == _STEPPED:
            raise RuntimeError("GradScaler.unscale_: called after step() (before update())")
        inverse = np.float32(1.0 / np.float64(scale))
        found_inf = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad._data
                if grad.dtype == np.float16:
                    raise ValueError("GradScaler.unscale_: cannot unscale float16 gradients")
                found_inf = found_inf or not bool(np.isfinite(grad).all())
                p.grad._data = grad * inverse
        state["found_inf"] = found_inf
        state["stage"] = _UNSCALED

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """Unscale if not done yet, then ``optimizer.step()`` unless a gradient was inf or NaN.

        Returns what ``optimizer.step`` returned, or None when the step was skipped.
        """
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("GradScaler.step: a closure is not supported while enabled")
        self._check_scale("step")
        state = self._state(optimizer)
        if state["stage"] == _STEPPED:
            raise RuntimeError("GradScaler.step: already called since the last update()")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Set the next scale: ``new_scale``, or backoff after an inf, growth after clean steps."""
        if not self._enabled:
            return
        scale = self._check_scale("update")
        if new_scale is not None:
            self._scale = np.float32(_one_number(new_scale))
        else:
            found = [
                s["found_inf"] for s in self._per_optimizer_states.values() if "found_inf" in s
            ]
            if not found:
                raise RuntimeError(
                    "GradScaler.update: no inf checks were recorded: call step(optimizer) or "
                    "unscale_(optimizer) first"
                )
            self._scale = self._next_scale(scale, any(found))
        self._per_optimizer_states = {}

    def _next_scale(self, scale: np.float32, found_inf: bool) -> np.float32:
        """Backoff at once after an inf; growth after growth_interval clean steps, if finite."""
        if found_inf:
            self._growth_tracker = 0
            return np.float32(scale * np.float32(self._backoff_factor))
        self._growth_tracker += 1
        if self._growth_tracker < self._growth_interval:
            return scale
        self._growth_tracker = 0
        with np.errstate(over="ignore"):
            grown = np.float32(scale * np.float32(self._growth_factor))
        return grown if np.isfinite(grown) else scale

    # --- accessors -----------------------------------------------------------------------
    def get_scale(self) -> float:
        """The current scale (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return float(self._init_scale if self._scale is None else self._scale)

    def get_growth_factor(self) -> float:
        """Factor the scale grows by after ``growth_interval`` clean steps."""
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        """Set the growth factor."""
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        """Factor the scale shrinks by after a step with an inf or NaN gradient."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        """Set the backoff factor."""
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        """Clean steps needed before the scale grows."""
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        """Set the growth interval."""
        self._growth_interval = new_interval

    def is_enabled(self) -> bool:
        """Whether the scaler scales (False when disabled or made for an absent device)."""
        return self._enabled

    def state_dict(self) -> dict[str, Any]:
        """scale, growth_factor, backoff_factor, growth_interval, _growth_tracker ({} if off)."""
        if not self._enabled:
            return {}
        return {
            "scale": self.get_scale(),
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._growth_tracker,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (ignored when disabled)."""
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError(
                "GradScaler.load_state_dict: the state dict is empty (saved from a disabled "
                "GradScaler?)"
            )
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale = np.float32(self._init_scale)
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])


def _one_number(value: float | Tensor) -> float:
    """``update``'s new_scale as a float: a Python number or a one-element tensor."""
    if isinstance(value, Tensor):
        if value.numel() != 1 or value.requires_grad:
            raise ValueError(
                "GradScaler.update: new_scale must be a float or a one-element tensor without "
                "requires_grad"
            )
        return float(value.numpy().reshape(()))
    if not isinstance(value, (int, float)):
        raise ValueError(
            f"GradScaler.update: new_scale must be a float, got {type(value).__name__}"
        )
    return float(value)
