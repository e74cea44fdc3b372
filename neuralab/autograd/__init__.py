"""``torch.autograd``'s names on neuralab's engine: gradients of chosen inputs (:func:`grad`),
user-defined differentiable functions (:class:`Function`), and the legacy ``Variable``.

The chain rule itself stays in :mod:`neuralab.tensor`; this module only chooses what to start
from and where the gradients go.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from neuralab.gradcheck import gradcheck
from neuralab.tensor import (
    Tensor,
    _accumulator,
    _no_create_graph,
    _seed,
    backprop,
    constant,
    enable_grad,
    inference_mode,
    make,
    no_grad,
    set_grad_enabled,
)

__all__ = [
    "Function", "FunctionCtx", "Variable", "backward", "detect_anomaly", "enable_grad", "grad",
    "gradcheck", "inference_mode", "is_anomaly_enabled", "no_grad", "set_detect_anomaly",
    "set_grad_enabled",
]  # fmt: skip


def _as_list(x: Any) -> list:
    return [x] if isinstance(x, Tensor) or x is None else list(x)


def _seeds(outputs: list[Tensor], grad_outputs: Any, where: str) -> list[np.ndarray]:
    given = [None] * len(outputs) if grad_outputs is None else _as_list(grad_outputs)
    if len(given) != len(outputs):
        raise RuntimeError(
            f"{where}: got {len(given)} grad_outputs for {len(outputs)} outputs; give one each"
        )
    return [_seed(o, g, where) for o, g in zip(outputs, given)]


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, returned rather than added to
    any ``.grad`` (torch.autograd.grad)."""
    _no_create_graph(create_graph, "grad()")
    if is_grads_batched:
        raise NotImplementedError("grad(): is_grads_batched=True is not supported")
    outs, ins = _as_list(outputs), _as_list(inputs)
    seeds = _seeds(outs, grad_outputs, "grad()")
    wanted = {id(t): i for i, t in enumerate(ins)}
    found: list[np.ndarray | None] = [None] * len(ins)

    def capture(t: Tensor, g: np.ndarray, sole: bool = False) -> None:
        i = wanted.get(id(t))
        if i is not None:
            g = np.broadcast_to(g, t._data.shape)
            found[i] = g.copy() if found[i] is None else found[i] + g

    retained = [t for t in ins if not t.is_leaf and not t.retains_grad]
    for t in retained:  # an interior input hands its total gradient over as retain_grad would
        t._set_retain(True)
    try:
        backprop(outs, seeds, bool(retain_graph), capture)
    finally:
        for t in retained:
            t._set_retain(False)
    return tuple(
        _result(t, g, i, allow_unused, materialize_grads)
        for i, (t, g) in enumerate(zip(ins, found))
    )


def _result(t: Tensor, g: Any, i: int, allow_unused: Any, materialize: bool) -> Tensor | None:
    if g is not None:
        return constant(g.astype(t._data.dtype, copy=False))
    if materialize:
        return constant(np.zeros_like(t._data))
    if not allow_unused:
        raise RuntimeError(
            f"grad(): input {i} (shape {t._data.shape}) was not used to compute the outputs; "
            "pass allow_unused=True to get None for it"
        )
    return None


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Accumulate the gradients of several outputs at once (torch.autograd.backward)."""
    _no_create_graph(create_graph, "backward()")
    outs = _as_list(tensors)
    seeds = _seeds(outs, grad_tensors, "backward()")
    backprop(outs, seeds, bool(retain_graph), _accumulator(inputs))


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # noqa: N802
    """The pre-0.4 wrapper: today just a tensor sharing ``data``'s values (as in torch)."""
    t = data if isinstance(data, Tensor) else Tensor(data)
    out = constant(t._data)
    if requires_grad:
        out.requires_grad_(True)
    return out


class FunctionCtx:
    """What ``forward`` and ``backward`` of a :class:`Function` share: saved tensors, flags and
    anything else set on it."""

    def __init__(self, inputs: tuple) -> None:
        self.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in inputs)
        self.saved_tensors: tuple = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep ``tensors`` for ``backward`` (read them back as ``ctx.saved_tensors``)."""
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors: Any) -> None:
        """Accepted for compatibility: outputs of a Function here are all differentiable."""

    def set_materialize_grads(self, value: bool) -> None:
        """Whether ``backward`` receives zeros (True, the default) or None for unused outputs."""
        self.materialize_grads = bool(value)


class Function:
    """A differentiable function written by hand, torch.autograd.Function's way::

        class Exp(Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, grad_output):
                (y,) = ctx.saved_tensors
                return grad_output * y

        y = Exp.apply(x)

    ``forward`` runs without recording; its single tensor output joins the graph with
    ``backward`` as its rule, which returns one gradient (or None) per input of ``forward``.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Function subclasses must define forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("Function subclasses must define backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor:
        """Run ``forward`` and record ``backward`` for the output."""
        ctx = FunctionCtx(args)
        with no_grad():
            out = cls.forward(ctx, *args, **kwargs)
        if not isinstance(out, Tensor):
            raise TypeError(
                f"{cls.__name__}.apply: forward must return one Tensor here, got "
                f"{type(out).__name__} (Functions with several outputs are not supported)"
            )
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]

        def backward(g: np.ndarray) -> list[np.ndarray | None]:
            grads = cls.backward(ctx, constant(g))
            grads = grads if isinstance(grads, tuple | list) else (grads,)
            if len(grads) != len(args):
                raise RuntimeError(
                    f"{cls.__name__}.backward returned {len(grads)} gradients for "
                    f"{len(args)} inputs of forward; return one per input (None where none)"
                )
            return [_grad_array(grads[i], args[i], cls.__name__, i) for i in positions]

        return make(out._data, tuple(args[i] for i in positions), backward)


def _grad_array(g: Any, like: Tensor, name: str, i: int) -> np.ndarray | None:
    if g is None:
        return None
    arr = g._data if isinstance(g, Tensor) else np.asarray(g)
    if arr.shape != like._data.shape:
        raise RuntimeError(
            f"{name}.backward: the gradient for input {i} has shape {arr.shape}, but the input "
            f"has shape {like._data.shape}"
        )
    return arr


_anomaly = False


def set_detect_anomaly(mode: bool, check_nan: bool = True) -> None:
    """Accepted for compatibility; the engine does not trace where a NaN came from."""
    global _anomaly
    _anomaly = bool(mode)


@contextlib.contextmanager
def detect_anomaly(check_nan: bool = True) -> Iterator[None]:
    """Accepted for compatibility (see :func:`set_detect_anomaly`)."""
    global _anomaly
    before, _anomaly = _anomaly, True
    try:
        yield
    finally:
        _anomaly = before


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection was asked for (it changes nothing here)."""
    return _anomaly


from neuralab.autograd import functional  # noqa: E402  torch.autograd.functional after import
