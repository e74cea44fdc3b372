"""torch.func's gradient transforms on the reverse-mode engine: ``grad``, ``grad_and_value``,
``jacrev``/``jacfwd``, ``vjp``, ``jvp`` and ``linearize`` (first order only)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from neuralab import autograd
from neuralab.func._trees import _leaves, _map, _matching_leaves, _rebuild
from neuralab.tensor import (
    Tensor,
    _no_create_graph,
    constant,
    enable_grad,
    is_grad_enabled,
    make,
)


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


def _fresh_leaf(t: Any, leaves: list, where: str = "grad") -> Tensor:
    """A new leaf sharing ``t``'s values that requires grad (and is added to ``leaves``)."""
    if not isinstance(t, Tensor):
        raise TypeError(
            f"{where}: the differentiated argument holds a {type(t).__name__}, not a Tensor"
        )
    leaf = t.detach().requires_grad_(True)
    leaves.append(leaf)
    return leaf


def _output_and_aux(
    result: Any, has_aux: bool, where: str, error: type[Exception] = RuntimeError
) -> tuple[Any, Any]:
    """``func``'s result split into (output, aux); aux is None without ``has_aux``."""
    if not has_aux:
        return result, None
    if not (isinstance(result, tuple) and len(result) == 2):
        raise error(f"{where}: with has_aux=True the function must return (output, aux)")
    return result


def _detached(leaf: Any) -> Any:
    return leaf.detach() if isinstance(leaf, Tensor) else leaf


def _split_aux(out: Any, has_aux: bool) -> tuple[Tensor, Any]:
    """(the scalar to differentiate, the aux output detached) from ``func``'s result."""
    out, aux = _output_and_aux(out, has_aux, "grad", ValueError)
    if has_aux:
        aux = _map(_detached, aux)
    if not isinstance(out, Tensor) or out.numel() != 1:
        shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(f"grad: the function must return a scalar Tensor, got {shape}")
    return out, aux


def jacrev(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """The function returning ``func``'s Jacobian with respect to argument(s) ``argnums``:
    per output tensor and input tensor, shape (*output shape, *input shape), built by one
    backward pass per output element; it mirrors the output's and the arguments' structure."""

    def jacobian(*args: Any, **kwargs: Any) -> Any:
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

        def with_chosen(*chosen: Any) -> Any:
            full = list(args)
            for n, value in zip(nums, chosen):
                full[n] = value
            return func(*full, **kwargs)

        traced = _Traced(with_chosen, tuple(args[n] for n in nums), has_aux, "jacrev")
        per_output = [
            _shaped_jacobians(out, mats, [args[n] for n in nums], isinstance(argnums, int))
            for out, mats in zip(traced.outputs, traced.jacobian()[0])
        ]
        jac = _rebuild(traced.output, iter(per_output))
        return (jac, traced.aux) if has_aux else jac

    return jacobian


def _shaped_jacobians(out: Tensor, mats: list[Tensor], chosen: list, single: bool) -> Any:
    """One output's Jacobian matrices as (*output shape, *input shape) tensors, in the
    structure of the chosen arguments (just the one when ``argnums`` is an int)."""
    found = iter(mats)
    jacs = tuple(_map(lambda t: next(found).reshape(*out.shape, *t.shape), a) for a in chosen)
    return jacs[0] if single else jacs


jacfwd = jacrev  # the same Jacobian, by reverse mode (the engine has no forward mode)


# --- vjp, jvp and linearize -------------------------------------------------------------------
class _Traced:
    """``func(*primals)`` recorded on stand-ins for the primals' tensors, so that its outputs
    can be differentiated with respect to them as often as asked.

    A primal that requires grad (grad mode on) is stood in for by a node passing gradients on
    to it, so the outputs stay on the caller's graph as torch's do; the backward passes made
    here stop at the stand-ins. Any other primal is stood in for by a new leaf. ``output``
    and ``aux`` are for the caller (detached under no_grad), ``outputs`` for differentiating."""

    def __init__(self, func: Callable, primals: tuple, has_aux: bool, where: str) -> None:
        self.inputs: list[Tensor] = []
        self._inside = False  # True while a backward pass of ours runs: stop at the stand-ins
        caller_grad = is_grad_enabled()
        args = tuple(_map(lambda t: self._stand_in(t, where), p) for p in primals)
        with enable_grad():
            result = func(*args)
        output, aux = _output_and_aux(result, has_aux, where)
        self.outputs: list[Tensor] = _leaves(output)
        for out in self.outputs:
            if not isinstance(out, Tensor):
                raise RuntimeError(
                    f"{where}: expected f(*primals) to return only tensors, got unsupported "
                    f"type {type(out).__name__}"
                )
        if not caller_grad:
            output, aux = _map(_detached, output), _map(_detached, aux)
        self.output, self.aux = output, aux

    def _stand_in(self, t: Any, where: str) -> Tensor:
        if not (isinstance(t, Tensor) and t.requires_grad and is_grad_enabled()):
            return _fresh_leaf(t, self.inputs, where)
        node = make(t._data, (t,), lambda g: (None if self._inside else g,))
        self.inputs.append(node)
        return node

    def pullback(self, seeds: Sequence[Any], retain_graph: bool = True) -> list[Tensor | None]:
        """Per input, the gradient of the outputs seeded with ``seeds`` (arrays shaped like
        the outputs, None to skip one); None for an input they do not reach."""
        pairs = [(o, s) for o, s in zip(self.outputs, seeds) if s is not None and o.requires_grad]
        if not pairs:
            return [None] * len(self.inputs)
        self._inside = True
        try:
            return list(
                autograd.grad(
                    [o for o, _ in pairs],
                    self.inputs,
                    [s for _, s in pairs],
                    retain_graph=retain_graph,
                    allow_unused=True,
                )
            )
        finally:
            self._inside = False

    def jacobian(self) -> tuple[list[list[Tensor]], list[bool]]:
        """Per output, its Jacobian with respect to each input as an (output size, input size)
        matrix, row by row: one backward pass per output element. Also, per output, whether it
        depends on the inputs at all."""
        jac, depends = [], []
        for j, out in enumerate(self.outputs):
            mats = [np.zeros((out.numel(), t.numel()), t._data.dtype) for t in self.inputs]
            reached = False
            for k in range(out.numel() if out.requires_grad else 0):
                seed = np.zeros(out._data.shape, out._data.dtype)
                seed.flat[k] = 1
                grads = self.pullback([seed if i == j else None for i in range(len(self.outputs))])
                for mat, g in zip(mats, grads):
                    if g is not None:
                        mat[k] = g._data.ravel()
                        reached = True
            jac.append([constant(m) for m in mats])
            depends.append(reached)
        return jac, depends

    def push_forward(self, jac: list[list[Tensor]], tangents: list[Tensor]) -> Any:
        """J·v in the output's structure: each output's Jacobian times the flattened tangents,
        summed over the inputs; differentiable with respect to the tangents."""
        results = []
        for out, mats in zip(self.outputs, jac):
            total = constant(np.zeros_like(out._data))
            for mat, tangent in zip(mats, tangents):
                total = total + (mat @ tangent.to(mat.dtype).reshape(-1)).reshape(out.shape)
            results.append(total.to(out.dtype))
        return _rebuild(self.output, iter(results))


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``(func(*primals), vjp_fn)`` (``aux`` third with ``has_aux``): ``vjp_fn(cotangents)``,
    cotangents shaped like the output, returns the vector-Jacobian products, one per primal
    (each shaped like its primal), and may be called again. The products carry no graph (first
    order); the output stays on the caller's graph, so call ``vjp_fn`` before a backward pass
    through the output frees it (or keep it with ``retain_graph=True``)."""
    traced = _Traced(func, primals, has_aux, "vjp(f, *primals)")

    def vjp_fn(
        cotangents: Any, retain_graph: bool = True, create_graph: bool | None = None
    ) -> tuple:
        _no_create_graph(bool(create_graph), "vjp_fn")
        seeds = _matching_leaves(cotangents, traced.output, "cotangents", "output", "vjp_fn")
        for k, (seed, out) in enumerate(zip(seeds, traced.outputs)):
            if not isinstance(seed, Tensor):
                raise TypeError(f"vjp_fn: cotangent {k} is a {type(seed).__name__}, not a Tensor")
            if tuple(seed.shape) != tuple(out.shape):
                raise RuntimeError(
                    f"vjp_fn: Mismatch in shape: cotangent {k} has shape {tuple(seed.shape)} and "
                    f"output {k} has shape {tuple(out.shape)}"
                )
        grads = traced.pullback([seed._data for seed in seeds], retain_graph)
        zeros = (constant(np.zeros_like(t._data)) for t in traced.inputs)
        found = iter([g if g is not None else z for g, z in zip(grads, zeros)])
        return tuple(_map(lambda _: next(found), p) for p in primals)

    return (traced.output, vjp_fn, traced.aux) if has_aux else (traced.output, vjp_fn)


def jvp(
    func: Callable, primals: tuple, tangents: tuple, *, strict: bool = False, has_aux: bool = False
) -> tuple:
    """``(func(*primals), J·tangents)`` (``aux`` third with ``has_aux``): the Jacobian-vector
    product, exact, but made by reverse mode (the engine has no forward mode), so it costs one
    backward pass per output element, as :func:`jacrev`. ``strict`` refuses an output that does
    not depend on the primals. The product is differentiable with respect to the tangents only
    (through the primals it would be second order)."""
    where = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{where}: Expected primals to be a tuple, so that f(*primals) runs")
    if not _leaves(primals):
        raise RuntimeError(f"{where}: Expected primals to contain at least one Tensor.")
    flat = _tangent_leaves(tangents, primals, where)
    traced = _Traced(func, primals, has_aux, where)
    jac, depends = traced.jacobian()
    if strict and not all(depends):
        raise RuntimeError(
            "jvp(f, primals, tangents, strict=True): The output of f is independent of the "
            "inputs. This is not allowed with strict=True."
        )
    result = (traced.output, traced.push_forward(jac, flat))
    return (*result, traced.aux) if has_aux else result


def linearize(func: Callable, *primals: Any) -> tuple[Any, Callable]:
    """``(func(*primals), jvp_fn)``: ``jvp_fn(*tangents)`` is the Jacobian-vector product at
    the primals. The Jacobian is built once here (one backward pass per output element, kept
    in memory: output size x input size numbers), so each call is one matrix product."""
    traced = _Traced(func, primals, False, "linearize(f, *primals)")
    jac, _ = traced.jacobian()

    def jvp_fn(*tangents: Any) -> Any:
        return traced.push_forward(jac, _tangent_leaves(tangents, primals, "linearize jvp_fn"))

    return traced.output, jvp_fn


def _tangent_leaves(tangents: Any, primals: tuple, where: str) -> list[Tensor]:
    """The tangents' tensors, checked to mirror the primals: same structure, same shapes,
    floating point."""
    flat = _matching_leaves(tangents, primals, "tangents", "primals", where)
    for i, (tangent, primal) in enumerate(zip(flat, _leaves(primals))):
        if not isinstance(tangent, Tensor):
            raise TypeError(f"{where}: tangent {i} is a {type(tangent).__name__}, not a Tensor")
        if not tangent.is_floating_point():
            raise ValueError(
                f"{where}: Expected tangent {i} to be floating point, but got: {tangent.dtype}"
            )
        if isinstance(primal, Tensor) and tuple(tangent.shape) != tuple(primal.shape):
            raise RuntimeError(
                f"{where}: tangent {i} has size {list(tangent.shape)} but its primal has size "
                f"{list(primal.shape)}; a tangent must have its primal's shape"
            )
    return flat
