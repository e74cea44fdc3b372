"""A Keras-style summary of a model: one forward pass traced with forward hooks.

``model.summary((1, 2))`` (or ``summary(model, (1, 2))``) runs one forward pass on zeros of the
given shape — batch dimension included — and tabulates the model and every submodule in
definition order: dotted name and type, output shape ("--" if it was not called) and the number
of parameters registered directly on it (so the column adds up to the total unless a parameter
is shared; a container without parameters of its own shows "--"). Totals count each shared
parameter once: trainable = requires_grad, non-trainable = frozen parameters (buffers such as
BatchNorm's running statistics are not parameters and are not counted). The pass runs in eval
mode under no_grad, so it changes no state (running statistics, dropout masks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from neuralab.nn.module import Module
from neuralab.nn.utils.mode import eval_mode
from neuralab.tensor import Tensor, constant, float32

__all__ = ["ModelSummary", "summary"]


class ModelSummary(str):
    """The rendered table (a str, so ``"105" in model.summary(...)`` works) with its data.

    Attributes: ``rows`` as (layer, output shape, parameter count or None), ``total_params``,
    ``trainable_params``, ``non_trainable_params``.
    """

    rows: list[tuple[str, str, int | None]]
    total_params: int
    trainable_params: int

    def __new__(
        cls, text: str, rows: list[tuple[str, str, int | None]], total: int, trainable: int
    ) -> ModelSummary:
        self = super().__new__(cls, text)
        self.rows, self.total_params, self.trainable_params = rows, total, trainable
        return self

    @property
    def text(self) -> str:
        """The table as a plain string."""
        return str.__str__(self)

    @property
    def non_trainable_params(self) -> int:
        """Parameters with requires_grad=False (frozen)."""
        return self.total_params - self.trainable_params

    def __repr__(self) -> str:
        return (
            f"ModelSummary(total_params={self.total_params}, "
            f"trainable_params={self.trainable_params})"
        )


def _shape_text(out: Any) -> str:
    """Output shape(s) as text: (N, C), or a list for modules that return several tensors."""
    if isinstance(out, Tensor):
        return str(tuple(out.shape))
    if isinstance(out, list | tuple):
        return "[" + ", ".join(_shape_text(o) for o in out) + "]"
    return "--"


def _bytes_text(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024**2:
        return f"{n / 1024:.2f} KB"
    return f"{n / 1024**2:.2f} MB"


def _inputs(input_shape: Sequence[int] | Sequence[Sequence[int]], dtype: Any) -> list[Tensor]:
    """Zero tensors for one forward pass: one shape, or a sequence of shapes (several inputs)."""
    shapes = input_shape if input_shape and not isinstance(input_shape[0], int) else [input_shape]
    return [constant(np.zeros(tuple(s), dtype)) for s in shapes]


def summary(
    model: Module,
    input_shape: Sequence[int] | Sequence[Sequence[int]],
    dtype: Any = None,
    print_summary: bool = True,
) -> ModelSummary:
    """Trace one forward pass and tabulate each module's output shape and parameter count.

    ``input_shape`` includes the batch dimension; pass a sequence of shapes for a model whose
    forward takes several inputs. ``dtype`` defaults to the parameters' dtype (pass nl.int64 for
    models that start with an Embedding). Prints the table unless ``print_summary`` is False and
    returns it as a :class:`ModelSummary`: a str that also carries the rows and totals.
    """
    if dtype is None:
        first = next(model.parameters(), None)
        dtype = first.dtype if first is not None else float32
    outputs: dict[int, Any] = {}

    def record(module: Module, args: tuple, out: Any) -> None:
        outputs[id(module)] = out  # a module called twice shows its last output

    modules = list(model.named_modules())
    removers = [m.register_forward_hook(record) for _, m in modules]
    try:
        with eval_mode(model):
            model(*_inputs(input_shape, dtype))
    finally:
        for remove in removers:
            remove()
    rows = []
    for name, m in modules:
        own = sum(p.numel() for p in m.parameters(recurse=False))
        count = None if own == 0 and next(m.children(), None) is not None else own
        label = f"{name} ({type(m).__name__})" if name else type(m).__name__
        rows.append((label, _shape_text(outputs.get(id(m))), count))
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    size = sum(p._data.nbytes for p in params)
    result = ModelSummary(_render(rows, total, trainable, size), rows, total, trainable)
    if print_summary:
        print(result)
    return result


def _render(rows: list[tuple[str, str, int | None]], total: int, trainable: int, size: int) -> str:
    """The table: one line per module, then the totals."""
    header = ("Layer (type)", "Output Shape", "Param #")
    cells = [
        (label, shape, "--" if count is None else f"{count:,}") for label, shape, count in rows
    ]
    widths = [max(len(row[i]) for row in [header, *cells]) + 3 for i in range(3)]

    def line(row: tuple[str, str, str]) -> str:
        return row[0].ljust(widths[0]) + row[1].ljust(widths[1]) + row[2].rjust(widths[2] - 3)

    rule = "=" * (sum(widths) - 3)
    lines = [rule, line(header), rule, *(line(c) for c in cells), rule]
    lines += [
        f"Total params: {total:,} ({_bytes_text(size)})",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
        rule,
    ]
    return "\n".join(lines)
