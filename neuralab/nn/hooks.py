"""Module hooks: the handle that removes one, and the wiring of full backward hooks.

A full backward hook sees, once per backward pass through a module call, the gradients with
respect to the call's tensor inputs (``grad_input``) and outputs (``grad_output``), and may
replace the former; a backward pre-hook sees ``grad_output`` first and may replace it. The
wiring routes the inputs that require grad, and the outputs, through identity nodes that share
one *junction* node each: the engine runs a junction only after all of its identity nodes, so
it holds every gradient of the group at once, as torch's ``BackwardHook`` does.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from neuralab.tensor import Tensor, constant, make

__all__ = ["BackwardHook", "RemovableHandle"]

_ids = itertools.count()


class RemovableHandle:
    """Returned by ``register_*_hook``: ``handle.remove()`` unregisters the hook.

    Also a context manager (the hook is removed on exit) and callable (same as ``remove``).
    """

    def __init__(self, hooks_dict: dict, *, extra_dict: Any = None) -> None:
        self.id = next(_ids)
        extra = extra_dict if isinstance(extra_dict, list | tuple) else [extra_dict]
        self._dicts = [hooks_dict] + [d for d in extra if d is not None]

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        for d in self._dicts:
            if isinstance(d, set):
                d.discard(self.id)
            else:
                d.pop(self.id, None)

    __call__ = remove

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


Done = Callable[[list[np.ndarray | None]], Sequence[np.ndarray | None]]


def _route(tensors: Sequence[Tensor], done: Done) -> list[Tensor]:
    """Identity copies of ``tensors`` whose gradients reach ``done`` together, in one call.

    ``done`` gets the gradient of each copy (None if it got none) and returns the gradients to
    pass on to the original tensors.
    """
    slots: list[np.ndarray | None] = [None] * len(tensors)
    junction = make(np.zeros(()), tuple(tensors), lambda g: tuple(done(slots)))

    def copy(k: int, t: Tensor) -> Tensor:
        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            slots[k] = g
            return (np.zeros(()),)  # a token that makes the engine run the junction

        return make(t._data, (junction,), backward)

    return [copy(k, t) for k, t in enumerate(tensors)]


def _as_tensors(grads: list[np.ndarray | None]) -> tuple[Tensor | None, ...]:
    return tuple(None if g is None else constant(np.asarray(g)) for g in grads)


def _as_arrays(grads: Any, n: int, what: str) -> list[np.ndarray | None]:
    """A hook's replacement gradients (a tensor or a tuple of n) as arrays, checked."""
    grads = (grads,) if isinstance(grads, Tensor) else tuple(grads)
    if len(grads) != n:
        raise RuntimeError(f"backward hook returned {len(grads)} {what} gradients, expected {n}")
    return [
        None if g is None else g._data if isinstance(g, Tensor) else np.asarray(g) for g in grads
    ]


class BackwardHook:
    """One module call's full backward hooks: wrap its inputs, run forward, wrap its outputs."""

    def __init__(
        self, module: Any, hooks: Sequence[Callable], pre_hooks: Sequence[Callable]
    ) -> None:
        self.module = module
        self.hooks = list(hooks)
        self.pre_hooks = list(pre_hooks)
        self.n_inputs = 0
        self.inputs_routed = False
        self.grad_output: tuple = ()

    def setup_input_hook(self, args: tuple) -> tuple:
        """The call's arguments, tensors that require grad routed to the hooks."""
        self.n_inputs = len(args)
        self.in_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        if not self.in_pos:
            return args
        self.inputs_routed = True
        routed = _route([args[i] for i in self.in_pos], self._inputs_done)
        out = list(args)
        for i, t in zip(self.in_pos, routed):
            out[i] = t
        return tuple(out)

    def setup_output_hook(self, result: Any) -> Any:
        """The call's result (a tensor or a tuple/list of them), routed to the hooks."""
        single = isinstance(result, Tensor)
        if not single and not isinstance(result, tuple | list):
            return result
        items = [result] if single else list(result)
        self.n_outputs = len(items)
        self.out_pos = [i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad]
        if not self.out_pos:
            return result
        for i, t in zip(self.out_pos, _route([items[i] for i in self.out_pos], self._outputs_done)):
            items[i] = t
        return items[0] if single else type(result)(items)

    def _spread(self, positions: list[int], grads: list, n: int) -> tuple:
        full: list = [None] * n
        for i, g in zip(positions, grads):
            full[i] = g
        return _as_tensors(full)

    def _outputs_done(self, slots: list) -> list:
        grad_output = self._spread(self.out_pos, slots, self.n_outputs)
        for hook in self.pre_hooks:
            result = hook(self.module, grad_output)
            if result is not None:
                grad_output = _as_tensors(_as_arrays(result, self.n_outputs, "output"))
        self.grad_output = grad_output
        if not self.inputs_routed:  # no input needs a gradient: the hooks see None for each
            for hook in self.hooks:
                hook(self.module, (None,) * self.n_inputs, grad_output)
        return [None if grad_output[i] is None else grad_output[i]._data for i in self.out_pos]

    def _inputs_done(self, slots: list) -> list:
        grad_input = self._spread(self.in_pos, slots, self.n_inputs)
        for hook in self.hooks:
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = _as_tensors(_as_arrays(result, self.n_inputs, "input"))
        return [None if grad_input[i] is None else grad_input[i]._data for i in self.in_pos]
