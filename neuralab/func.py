"""torch.func on neuralab's autograd: ``functional_call``, ``grad``, ``grad_and_value``,
``vmap``, ``jacrev`` and ``jacfwd``.

``functional_call(model, params, args)`` runs a module with other tensors in place of its
parameters and buffers (MAML's fast weights, per-sample gradients). ``grad(f)`` is a function
returning f's gradient with respect to an argument, which may be a tensor or a dict, list or
tuple of them. ``vmap(f)`` maps f over a dimension of its arguments: here it calls f once per
slice and stacks the results, so any f works (random ops draw anew for each slice, as torch's
``randomness="different"``) and gradients flow through it to the outer graph; it is as fast as
that loop. Gradients are first order only: the engine keeps no graph of a backward pass, so
``grad(grad(f))`` and ``hessian`` are not available.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from neuralab import autograd
from neuralab.nn.module import Module
from neuralab.ops.shape import stack
from neuralab.tensor import Tensor, constant, enable_grad

__all__ = ["functional_call", "grad", "grad_and_value", "jacfwd", "jacrev", "vmap"]


# --- pytrees: tensors inside dicts, lists and tuples ------------------------------------------
def _leaves(tree: Any) -> list:
    """The leaves of ``tree`` (dict values in key order, list and tuple items), depth first."""
    if isinstance(tree, Mapping):
        return [leaf for key in tree for leaf in _leaves(tree[key])]
    if isinstance(tree, list | tuple):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [tree]


def _rebuild(tree: Any, leaves: Iterator) -> Any:
    """``tree``'s structure with its leaves taken in order from ``leaves``."""
    if isinstance(tree, Mapping):
        return type(tree)((key, _rebuild(tree[key], leaves)) for key in tree)
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):  # a namedtuple
        return type(tree)(*(_rebuild(item, leaves) for item in tree))
    if isinstance(tree, list | tuple):
        return type(tree)(_rebuild(item, leaves) for item in tree)
    return next(leaves)


def _map(fn: Callable[[Any], Any], tree: Any) -> Any:
    return _rebuild(tree, iter([fn(leaf) for leaf in _leaves(tree)]))


# --- functional_call ---------------------------------------------------------------------------
def functional_call(
    module: Module,
    parameter_and_buffer_dicts: Mapping[str, Tensor] | Sequence[Mapping[str, Tensor]],
    args: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """``module(*args, **kwargs)`` with the named tensors in place of its parameters and buffers
    (dotted names, as ``named_parameters()``), put back afterwards. A tensor given for one of
    several names of a tied weight stands for all of them (``tie_weights``); ``strict``
    requires a tensor for every parameter and buffer."""
    dicts = parameter_and_buffer_dicts
    dicts = [dicts] if isinstance(dicts, Mapping) else list(dicts)
    given: dict[str, Tensor] = {}
    for d in dicts:
        repeated = sorted(set(given) & set(d))
        if repeated:
            raise ValueError(f"functional_call: {repeated} given in more than one dict")
        given.update(d)
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    with _swapped(module, _with_ties(module, given) if tie_weights else given, strict):
        return module(*args, **(kwargs or {}))


def _with_ties(module: Module, given: dict[str, Tensor]) -> dict[str, Tensor]:
    """``given`` plus every other name of a tied parameter or buffer that it replaces."""
    names: dict[int, list[str]] = {}
    members = [
        *module.named_parameters(remove_duplicate=False),
        *module.named_buffers(remove_duplicate=False),
    ]
    for name, t in members:
        names.setdefault(id(t), []).append(name)
    out = dict(given)
    for name, t in members:
        for other in names[id(t)]:
            if other in given and name not in given:
                out[name] = given[other]
    return out


@contextlib.contextmanager
def _swapped(module: Module, tensors: dict[str, Tensor], strict: bool) -> Iterator[None]:
    """Put ``tensors`` into the module's registries for the block, then restore them."""
    known = {n for n, _ in module.named_parameters(remove_duplicate=False)}
    known |= {n for n, _ in module.named_buffers(remove_duplicate=False)}
    unexpected, missing = sorted(set(tensors) - known), sorted(known - set(tensors))
    if unexpected or (strict and missing):
        raise RuntimeError(
            f"functional_call: unexpected key(s) {unexpected}"
            + (f", missing key(s) {missing}" if strict and missing else "")
        )
    saved = []
    try:
        for name, t in tensors.items():
            owner, _, leaf = name.rpartition(".")
            sub = module.get_submodule(owner)
            table = sub._parameters if leaf in sub._parameters else sub._buffers
            saved.append((table, leaf, table[leaf]))
            table[leaf] = t
        yield
    finally:
        for table, leaf, old in reversed(saved):
            table[leaf] = old


# --- grad and friends --------------------------------------------------------------------------
def grad(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """The function returning ``func``'s gradient with respect to its argument ``argnums`` (a
    tuple of argument indices gives a tuple); ``func`` returns a scalar tensor, or
    ``(scalar, aux)`` with ``has_aux``, and then the gradient comes with aux."""

    def gradient(*args: Any, **kwargs: Any) -> Any:
        grads, (_, aux) = _gradient_and_value(func, argnums, has_aux, args, kwargs)
        return (grads, aux) if has_aux else grads

    return gradient


def grad_and_value(
    func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False
) -> Callable:
    """Like :func:`grad`, returning ``(gradient, value)`` (value ``(scalar, aux)`` with
    ``has_aux``)."""

    def gradient_and_value(*args: Any, **kwargs: Any) -> Any:
        grads, (value, aux) = _gradient_and_value(func, argnums, has_aux, args, kwargs)
        return grads, ((value, aux) if has_aux else value)

    return gradient_and_value


def _gradient_and_value(
    func: Callable, argnums: Any, has_aux: bool, args: tuple, kwargs: dict
) -> tuple[Any, tuple[Tensor, Any]]:
    """The gradients (shaped like the chosen arguments), the value and the aux output."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for n in nums:
        if not -len(args) <= n < len(args):
            raise ValueError(f"grad: argnums {argnums!r} out of range for {len(args)} argument(s)")
    args = list(args)
    leaves = []
    for n in nums:
        args[n] = _map(lambda t: _fresh_leaf(t, leaves), args[n])
    with enable_grad():
        out = func(*args, **kwargs)
    value, aux = _split_aux(out, has_aux)
    if value.requires_grad:
        found = iter(autograd.grad(value, leaves, allow_unused=True, materialize_grads=True))
    else:  # the value does not depend on the arguments at all: zero gradients, as torch's
        found = iter([constant(np.zeros_like(leaf._data)) for leaf in leaves])
    grads = [_map(lambda _: next(found), args[n]) for n in nums]
    return (grads[0] if isinstance(argnums, int) else tuple(grads)), (value.detach(), aux)


def _fresh_leaf(t: Any, leaves: list) -> Tensor:
    """A new leaf sharing ``t``'s values that requires grad (and is added to ``leaves``)."""
    if not isinstance(t, Tensor):
        raise TypeError(
            f"grad: the differentiated argument holds a {type(t).__name__}, not a Tensor"
        )
    leaf = t.detach().requires_grad_(True)
    leaves.append(leaf)
    return leaf


def _split_aux(out: Any, has_aux: bool) -> tuple[Tensor, Any]:
    """(the scalar to differentiate, the aux output detached) from ``func``'s result."""
    aux = None
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise ValueError("grad: with has_aux=True the function must return (output, aux)")
        out, aux = out
        aux = _map(lambda t: t.detach() if isinstance(t, Tensor) else t, aux)
    if not isinstance(out, Tensor) or out.numel() != 1:
        shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(f"grad: the function must return a scalar Tensor, got {shape}")
    return out, aux


def jacrev(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """The function returning ``func``'s Jacobian with respect to tensor argument(s)
    ``argnums``: shape (*output shape, *input shape), one backward pass per output element."""

    def jacobian(*args: Any, **kwargs: Any) -> Any:
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        args = list(args)
        ins = [args[n].detach().requires_grad_(True) for n in nums]
        for n, leaf in zip(nums, ins):
            args[n] = leaf
        with enable_grad():
            out = func(*args, **kwargs)
        out, aux = out if has_aux else (out, None)
        flat = out.reshape(-1)
        rows = [
            autograd.grad(
                flat[k], ins, retain_graph=True, allow_unused=True, materialize_grads=True
            )
            for k in range(flat.numel())
        ]
        jacs = tuple(
            stack([row[i] for row in rows]).reshape(*out.shape, *ins[i].shape)
            for i in range(len(ins))
        )
        jac = jacs[0] if isinstance(argnums, int) else jacs
        return (jac, aux) if has_aux else jac

    return jacobian


jacfwd = jacrev  # the same Jacobian, by reverse mode (the engine has no forward mode)


# --- vmap --------------------------------------------------------------------------------------
def vmap(
    func: Callable,
    in_dims: int | None | tuple = 0,
    out_dims: int | tuple[int, ...] = 0,
    randomness: str = "error",
    *,
    chunk_size: int | None = None,
) -> Callable:
    """``func`` mapped over dimension ``in_dims`` of its arguments (one per argument, None for
    an argument passed whole; an argument may be a dict, list or tuple of tensors), the results
    stacked along ``out_dims``."""

    def mapped(*args: Any, **kwargs: Any) -> Any:
        dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(
                f"vmap: in_dims has {len(dims)} entries for {len(args)} positional argument(s)"
            )
        size = _batch_size(args, dims)
        results = [
            func(*(_slice(a, d, i) for a, d in zip(args, dims)), **kwargs) for i in range(size)
        ]
        return _stack_results(results, out_dims)

    return mapped


def _batch_size(args: Sequence, dims: Sequence) -> int:
    """The one size of every mapped dimension."""
    sizes = {
        leaf.shape[d]
        for a, d in zip(args, dims)
        if d is not None
        for leaf in _leaves(a)
        if isinstance(leaf, Tensor)
    }
    if len(sizes) != 1:
        raise ValueError(
            "vmap: expected the mapped dimensions of the tensors to have one size, got "
            f"{sorted(sizes) or 'no mapped tensor'}"
        )
    return sizes.pop()


def _slice(arg: Any, dim: int | None, i: int) -> Any:
    if dim is None:
        return arg
    return _map(lambda t: t.select(dim, i) if isinstance(t, Tensor) else t, arg)


def _stack_results(results: list, out_dims: int | tuple) -> Any:
    """The per-slice results (tensors, or dicts/lists/tuples of them) stacked leaf by leaf."""
    leaves = [_leaves(r) for r in results]
    count = len(leaves[0])
    dims = out_dims if isinstance(out_dims, tuple) else (out_dims,) * count
    stacked = []
    for k in range(count):
        column = [row[k] for row in leaves]
        if not all(isinstance(t, Tensor) for t in column):
            raise ValueError("vmap: the function must return tensors (or containers of them)")
        stacked.append(stack(column, dim=dims[k]))
    return _rebuild(results[0], iter(stacked))
