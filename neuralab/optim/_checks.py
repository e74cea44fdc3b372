"""Hyperparameter checks of the built-in optimizers, with torch.optim's error messages.

Each built-in optimizer lists the options it checks in ``_checked``; :func:`check_group` runs
those checks on its defaults and on every parameter group added later. A message starts with
torch's text (``Invalid learning rate: -1``) and then says which optimizer and which rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from neuralab.tensor import Tensor

# option -> (test on the value, torch's message prefix, the rule in words)
_RULES: dict[str, tuple[Callable[[float], bool], str, str]] = {
    "lr": (lambda v: v >= 0, "Invalid learning rate", "lr must be >= 0"),
    "eps": (lambda v: v >= 0, "Invalid epsilon value", "eps must be >= 0"),
    "weight_decay": (lambda v: v >= 0, "Invalid weight_decay value", "must be >= 0"),
    "momentum": (lambda v: v >= 0, "Invalid momentum value", "must be >= 0"),
    "alpha": (lambda v: v >= 0, "Invalid alpha value", "must be >= 0"),
    "lr_decay": (lambda v: v >= 0, "Invalid lr_decay value", "must be >= 0"),
    "initial_accumulator_value": (
        lambda v: v >= 0,
        "Invalid initial_accumulator_value value",
        "must be >= 0",
    ),
    "momentum_decay": (lambda v: v >= 0, "Invalid momentum_decay value", "must be >= 0"),
    "rho": (lambda v: 0 <= v <= 1, "Invalid rho value", "rho must be in [0, 1]"),
}


def scalar(value: Any, name: str = "lr") -> float:
    """A hyperparameter as a float: a number, or a one-element Tensor (torch allows ``lr`` so)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(
                f"Tensor {name} must be 1-element, got a Tensor of shape {tuple(value.shape)}"
            )
        return float(value.item())
    return float(value)


def adam_hyperparameters(group: dict[str, Any]) -> tuple[float, float, float, float, float]:
    """An Adam-family group's ``lr``, β1, β2, ``eps`` and ``weight_decay`` as floats."""
    lr = scalar(group["lr"])
    beta1, beta2 = (scalar(b, "betas") for b in group["betas"])
    return lr, beta1, beta2, float(group["eps"]), float(group["weight_decay"])


def check_group(optimizer: str, group: dict[str, Any], checked: tuple[str, ...]) -> None:
    """Raise ValueError for an out-of-range option of ``group`` among ``checked``."""
    for key in checked:
        if key == "betas":
            check_betas(optimizer, group["betas"])
        elif key == "etas":
            _check_etas(optimizer, group["etas"])
        else:
            test, message, rule = _RULES[key]
            value = group[key]
            if not test(scalar(value, key)):
                raise ValueError(f"{message}: {value} ({optimizer}: {rule})")
    if group.get("differentiable"):
        raise ValueError(
            f"{optimizer}: differentiable=True is not supported: neuralab's optimizer steps are "
            "not recorded by autograd"
        )
    if group.get("fused") and group.get("foreach"):
        raise RuntimeError(f"`fused` and `foreach` cannot be `True` together ({optimizer})")


def check_betas(optimizer: str, betas: Any) -> None:
    """Raise torch's ValueError unless ``betas`` is a pair of values in [0, 1)."""
    if len(betas) != 2:
        raise ValueError(f"{optimizer}: betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas):
        if not 0.0 <= scalar(beta, f"betas[{i}]") < 1.0:
            raise ValueError(
                f"Invalid beta parameter at index {i}: {beta} ({optimizer}: betas[{i}] must be "
                "in [0, 1))"
            )


def _check_etas(optimizer: str, etas: Any) -> None:
    if len(etas) != 2 or not 0.0 < etas[0] < 1.0 < etas[1]:
        raise ValueError(
            f"Invalid eta values: {', '.join(map(str, etas))} ({optimizer}: etas must be "
            "(etaminus, etaplus) with 0 < etaminus < 1 < etaplus)"
        )
