"""Optimizers and learning-rate schedules by name: the one table of each that the ``neuralab``
command, the playground and its script export read.

An :class:`OptimizerChoice` builds its optimizer and writes the same constructor call as Python
source; a :class:`Schedule` is one formula (a Python expression in ``epoch``, ``decay`` and
``every``) that both computes the learning-rate factor and is written into exported scripts, so
the two can never disagree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from neuralab.optim.adagrad import Adagrad
from neuralab.optim.adam import Adam, AdamW
from neuralab.optim.optimizer import Optimizer
from neuralab.optim.rmsprop import RMSprop
from neuralab.optim.sgd import SGD
from neuralab.registry import Registry

__all__ = ["OPTIMIZERS", "SCHEDULES", "OptimizerChoice", "Schedule"]


@dataclass(frozen=True)
class OptimizerChoice:
    """An update rule by name: its class and the fixed settings that make it this rule
    (``momentum`` is SGD with momentum 0.9, ``nesterov`` adds Nesterov's look-ahead)."""

    cls: type[Optimizer]
    fixed: dict[str, Any] = field(default_factory=dict)
    uses_momentum: bool = False

    def arguments(self, lr: float, weight_decay: float = 0.0, momentum: float = 0.9) -> dict:
        """The constructor's keyword arguments (only the ones that differ from its defaults)."""
        args: dict[str, Any] = {"lr": lr}
        if self.uses_momentum:
            args["momentum"] = momentum
        args.update(self.fixed)
        if weight_decay:
            args["weight_decay"] = weight_decay
        return args

    def build(self, params: Iterable[Any], lr: float, **kwargs: Any) -> Optimizer:
        """The optimizer over ``params`` (``weight_decay``, ``momentum`` as :meth:`arguments`)."""
        return self.cls(params, **self.arguments(lr, **kwargs))

    def source(self, lr: float, params: str = "model.parameters()", **kwargs: Any) -> str:
        """The same construction as Python source: ``optim.SGD(model.parameters(), lr=0.1)``."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.arguments(lr, **kwargs).items())
        return f"optim.{self.cls.__name__}({params}, {args})"


OPTIMIZERS: Registry[OptimizerChoice] = Registry("optimizer")
OPTIMIZERS.register("sgd", OptimizerChoice(SGD))
OPTIMIZERS.register("momentum", OptimizerChoice(SGD, uses_momentum=True))
OPTIMIZERS.register("nesterov", OptimizerChoice(SGD, {"nesterov": True}, uses_momentum=True))
OPTIMIZERS.register("adam", OptimizerChoice(Adam))
OPTIMIZERS.register("adamw", OptimizerChoice(AdamW))
OPTIMIZERS.register("rmsprop", OptimizerChoice(RMSprop))
OPTIMIZERS.register("adagrad", OptimizerChoice(Adagrad))


@dataclass(frozen=True)
class Schedule:
    """A learning-rate factor as one Python expression in ``epoch``, ``decay`` and ``every``."""

    formula: str
    description: str

    def factor(self, epoch: float, decay: float, every: int) -> float:
        """The multiplier of the base learning rate at ``epoch``."""
        scope = {"epoch": epoch, "decay": decay, "every": every, "math": math}
        return float(eval(_compiled(self.formula), {"__builtins__": {"min": min}}, scope))

    def source(self, decay: float, every: int) -> str:
        """The formula with ``decay`` and ``every`` written in, for a ``lambda epoch: ...``."""
        values = {"decay": repr(decay), "every": repr(every)}
        return re.sub(r"\b(decay|every)\b", lambda m: values[m.group(1)], self.formula)

    @property
    def imports(self) -> str:
        """The import lines the formula needs in a script."""
        return "import math\n" if "math." in self.formula else ""


_CODE: dict[str, Any] = {}


def _compiled(formula: str) -> Any:
    if formula not in _CODE:
        _CODE[formula] = compile(formula, "<schedule>", "eval")
    return _CODE[formula]


SCHEDULES: Registry[Schedule] = Registry("learning-rate schedule")
SCHEDULES.register("none", Schedule("1.0", "constant"), aliases=("constant",))
SCHEDULES.register("step", Schedule("decay ** (epoch // every)", "× decay every `every` epochs"))
SCHEDULES.register(
    "exp", Schedule("decay ** (epoch / every)", "× decay per `every` epochs, smoothly"),
    aliases=("exponential",),
)  # fmt: skip
SCHEDULES.register(
    "cosine",
    Schedule(
        "0.5 * (1 + math.cos(math.pi * min(epoch, every) / every))",
        "half a cosine from 1 to 0 over `every` epochs, then 0",
    ),
)
