"""torch.utils.checkpoint: activation checkpointing, trading compute for memory.

A checkpointed function runs without recording its graph, so its intermediate activations are
freed at once; backward runs it again with the graph recorded (on the same random stream) and
back-propagates through that recomputed graph.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import types
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from neuralab import random
from neuralab.nn.module import Module
from neuralab.tensor import (
    Tensor,
    constant,
    enable_grad,
    is_grad_enabled,
    make_several,
    nested_backprop,
    no_grad,
)

__all__ = ["checkpoint", "checkpoint_sequential"]


def checkpoint(
    function: Callable[..., Any],
    *args: Any,
    use_reentrant: bool | None = None,
    preserve_rng_state: bool = True,
    **kwargs: Any,
) -> Any:
    """``function(*args, **kwargs)`` without keeping its intermediate activations: backward
    recomputes them (torch.utils.checkpoint.checkpoint).

    The result may be a tensor or a tuple/list holding tensors and other values. Both variants
    run the forward without a graph. ``use_reentrant=True`` (the default when it is not
    passed, with a warning, as in torch) takes no keyword arguments and gives no gradients
    unless a tensor argument requires grad; ``use_reentrant=False`` has neither restriction.

    Gradients reach the tensor arguments, and the parameters (leaf tensors) that ``function``
    can be seen to use (it is a module or its method, or names one in its closure, partial
    arguments or globals) through the backward pass itself, so ``autograd.grad`` and
    ``backward(inputs=...)`` reach them; any other leaf gets its gradient added to ``.grad``
    by the recomputation, as torch's reentrant variant does. Pass tensors computed with a
    graph as arguments rather than through a closure.
    """
    reentrant = _reentrant(use_reentrant, "checkpoint")
    if reentrant and kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if not is_grad_enabled():
        return function(*args, **kwargs)
    inputs = _unique([a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)])
    if reentrant and not any(t.requires_grad for t in inputs):
        warnings.warn(
            "checkpoint: no tensor argument requires grad, so with use_reentrant=True nothing "
            "inside the checkpoint gets a gradient (use_reentrant=False gives its parameters "
            "theirs)",
            UserWarning,
            stacklevel=2,
        )
        sources = inputs
    else:
        sources = _unique(inputs + _leaves_used(function))
    restart_rng = _stash_rng() if preserve_rng_state else None
    with no_grad():
        outputs = function(*args, **kwargs)
    tensors = _differentiable(outputs)
    if not tensors or not any(t.requires_grad for t in sources):
        return outputs

    def backward(grads: list[np.ndarray | None]) -> list[np.ndarray | None]:
        return _recompute(function, args, kwargs, sources, restart_rng, grads)

    wrapped = iter(make_several([t._data for t in tensors], tuple(sources), backward))
    return _rebuild(outputs, lambda t: next(wrapped))


def checkpoint_sequential(
    functions: Module | Sequence[Callable[[Any], Any]],
    segments: int,
    input: Any,
    use_reentrant: bool | None = None,
    **kwargs: Any,
) -> Any:
    """Run ``functions`` in order on ``input``, split into ``segments`` chunks of which all but
    the last are checkpointed (torch.utils.checkpoint.checkpoint_sequential).

    ``functions`` is an ``nn.Sequential`` or a list of modules or functions of one argument;
    the only keyword argument taken is ``preserve_rng_state``.
    """
    reentrant = _reentrant(use_reentrant, "checkpoint_sequential")
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    steps = list(functions.children()) if isinstance(functions, Module) else list(functions)
    size = len(steps) // segments if segments > 0 else 0
    if size == 0:
        raise ValueError(
            f"checkpoint_sequential: cannot split {len(steps)} functions into {segments} segments"
        )
    end = 0
    for start in range(0, size * (segments - 1), size):
        end = start + size
        segment = functools.partial(_run_in_order, tuple(steps[start:end]))
        input = checkpoint(segment, input, use_reentrant=reentrant, preserve_rng_state=preserve)
    return _run_in_order(tuple(steps[end:]), input)


def _run_in_order(steps: tuple[Callable[[Any], Any], ...], value: Any) -> Any:
    for step in steps:
        value = step(value)
    return value


def _reentrant(use_reentrant: bool | None, where: str) -> bool:
    """The variant to run; torch's current default (reentrant) with a warning when not given."""
    if use_reentrant is None:
        warnings.warn(
            f"{where}: pass use_reentrant=True or use_reentrant=False explicitly; without it "
            "the reentrant variant runs, as in torch, which recommends use_reentrant=False",
            UserWarning,
            stacklevel=3,
        )
        return True
    return bool(use_reentrant)


def _unique(tensors: list[Tensor]) -> list[Tensor]:
    return list({id(t): t for t in tensors}.values())


# ----------------------------------------------------------------------------- backward


def _recompute(
    function: Callable[..., Any],
    args: tuple,
    kwargs: dict,
    sources: list[Tensor],
    restart_rng: Callable[[], np.random.Generator] | None,
    grads: list[np.ndarray | None],
) -> list[np.ndarray | None]:
    """Run ``function`` again with the graph recorded, on detached copies of the tensor
    arguments and from the random state of the first run, and return the gradients that the
    outputs' ``grads`` give each of ``sources`` (the tensor arguments, then the leaves used)."""
    arguments = {id(a) for a in (*args, *kwargs.values()) if isinstance(a, Tensor)}
    copies = {id(t): _detached(t) for t in sources if id(t) in arguments}

    def swap(a: Any) -> Any:
        return copies.get(id(a), a) if isinstance(a, Tensor) else a

    again_args = tuple(swap(a) for a in args)
    again_kwargs = {k: swap(v) for k, v in kwargs.items()}
    with enable_grad(), _random_stream(restart_rng):
        outputs = function(*again_args, **again_kwargs)
    pairs = [
        (t, g) for t, g in zip(_differentiable(outputs), grads) if g is not None and t.requires_grad
    ]
    if not pairs:
        return [None] * len(sources)
    wanted = [copies.get(id(t), t) for t in sources]
    return nested_backprop(wanted, [t for t, _ in pairs], [g for _, g in pairs])


def _detached(t: Tensor) -> Tensor:
    copy_ = constant(t._data)
    copy_.requires_grad = t.requires_grad
    return copy_


@contextlib.contextmanager
def _random_stream(restart: Callable[[], np.random.Generator] | None) -> Iterator[None]:
    """Inside the block the global random stream restarts from the state stashed at the first
    run (when there is one); afterwards it continues where it was."""
    if restart is None:
        yield
        return
    with random.use_generator(restart()):
        yield


def _stash_rng() -> Callable[[], np.random.Generator]:
    """A factory of fresh generators in the global generator's current state."""
    rng = random.generator()
    if isinstance(rng, random.Generator):
        state = rng.get_state()
        return lambda: random.Generator().set_state(state)
    saved = copy.deepcopy(rng)  # a plain NumPy generator put in place by use_generator
    return lambda: copy.deepcopy(saved)


# ----------------------------------------------------------------------------- structure


def _differentiable(outputs: Any) -> list[Tensor]:
    """The floating-point tensors of a result: itself, or the items of a tuple or list."""
    items = outputs if isinstance(outputs, tuple | list) else (outputs,)
    return [t for t in items if _is_float_tensor(t)]


def _is_float_tensor(t: Any) -> bool:
    return isinstance(t, Tensor) and t._data.dtype.kind in "fc"


def _rebuild(outputs: Any, replace: Callable[[Tensor], Tensor]) -> Any:
    """``outputs`` with each floating-point tensor replaced, in the same structure."""
    if not isinstance(outputs, tuple | list):
        return replace(outputs)
    items = [replace(t) if _is_float_tensor(t) else t for t in outputs]
    if hasattr(outputs, "_fields"):  # a named tuple
        return type(outputs)(*items)
    return type(outputs)(items)


def _leaves_used(function: Callable[..., Any]) -> list[Tensor]:
    """The leaf tensors requiring grad that ``function`` can reach: the parameters of the
    modules it is, is bound to, or refers to (closure, partial arguments, global names), and
    such tensors referred to directly. The outer backward hands them their gradients."""
    found: list[Tensor] = []
    for obj in _referred(function, depth=2, seen=set()):
        tensors = obj.parameters() if isinstance(obj, Module) else (obj,)
        found += [t for t in tensors if t.requires_grad and t.is_leaf]
    return _unique(found)


def _referred(obj: Any, depth: int, seen: set[int]) -> Iterator[Module | Tensor]:
    """The modules and tensors ``obj`` is or refers to, following functions ``depth`` deep."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, Module | Tensor):
        yield obj
        return
    if depth < 0:
        return
    for ref in _references(obj):
        for item in ref if isinstance(ref, list | tuple) else (ref,):
            yield from _referred(item, depth - 1, seen)


def _references(obj: Any) -> list[Any]:
    """What a callable refers to: a partial's function and arguments, a method's object, a
    function's closure cells and the global names its code reads."""
    if isinstance(obj, functools.partial):
        return [obj.func, *obj.args, *obj.keywords.values()]
    if isinstance(obj, types.MethodType):
        return [obj.__self__, obj.__func__]
    if not isinstance(obj, types.FunctionType):
        return []
    refs = []
    for cell in obj.__closure__ or ():
        try:
            refs.append(cell.cell_contents)
        except ValueError:  # a cell not filled yet
            continue
    names = obj.__code__.co_names
    return refs + [obj.__globals__[n] for n in names if n in obj.__globals__]
