"""``torch.autograd.functional`` on neuralab's engine: Jacobians and vector-Jacobian products of
a function of tensors, built from :func:`neuralab.autograd.grad` (first order only).

Inputs and outputs are a Tensor or a tuple of Tensors; results mirror that structure as
torch's do. The engine has reverse mode only, so a Jacobian costs one backward pass per output
element and ``jvp`` is exact but made from the Jacobian. Second derivatives (``hessian``,
``hvp``, ``vhp``) are refused: the engine records no graph of the backward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from neuralab.autograd import grad
from neuralab.tensor import Tensor, _no_create_graph, constant

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]

Tensors = Tensor | tuple[Tensor, ...]


def _as_tuple(x: Any, what: str, where: str) -> tuple[bool, tuple[Tensor, ...]]:
    """Whether ``x`` was a tuple, and its tensors as one; anything but Tensor(s) is a TypeError
    (lists too, as in torch, so the result's structure is never ambiguous)."""
    is_tuple = isinstance(x, tuple)
    items = x if is_tuple else (x,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            which = f"the value at index {i}" if is_tuple else f"the given {what}"
            raise TypeError(
                f"{where}: the {what} must be a Tensor or a tuple of Tensors, but {which} "
                f"has type {type(item).__name__}"
            )
    return is_tuple, items


def _unpack(items: tuple, is_tuple: bool) -> Any:
    return items if is_tuple else items[0]


def _run(func: Callable, inputs: Any, strict: bool, where: str) -> tuple:
    """Call ``func`` on fresh leaves that require grad (cut from the caller's graph, as torch
    does); returns (inputs were a tuple, leaves, outputs were a tuple, outputs)."""
    in_tuple, given = _as_tuple(inputs, "inputs", where)
    leaves = tuple(t.detach().requires_grad_() for t in given)
    out_tuple, outs = _as_tuple(func(*leaves), "outputs of the user-provided function", where)
    for i, out in enumerate(outs):
        if strict and not out.requires_grad:
            raise RuntimeError(
                f"Output {i} of the user-provided function does not require gradients. The "
                "outputs must be computed in a differentiable manner from the input when "
                "running in strict mode."
            )
    return in_tuple, leaves, out_tuple, outs


def _check_v(v: Any, like: tuple[Tensor, ...], like_tuple: bool, where: str) -> tuple:
    """``v``'s tensors, one per tensor of ``like`` with its shape (torch's checks)."""
    _, vs = _as_tuple(v, "v", where)
    if len(vs) != len(like):
        raise RuntimeError(
            f"v is a tuple of invalid length: should be {len(like)} but got {len(vs)}."
            if like_tuple
            else "The given v should contain a single Tensor."
        )
    for i, (a, b) in enumerate(zip(vs, like)):
        if tuple(a.shape) != tuple(b.shape):
            entry = f"Entry {i} in " if like_tuple else ""
            raise RuntimeError(
                f"{entry}v has invalid size: should be {tuple(b.shape)} but got {tuple(a.shape)}."
            )
    return vs


def _pull(outs: tuple, leaves: tuple, seeds: list, strict: bool, who: str) -> list[np.ndarray]:
    """The vector-Jacobian product of ``seeds`` (one array per output) as one array per leaf:
    zeros for a leaf no output depends on, or with ``strict`` torch's RuntimeError."""
    live = [(o, s) for o, s in zip(outs, seeds) if o.requires_grad]
    found: tuple = (None,) * len(leaves)
    if live:
        found = grad(
            [o for o, _ in live],
            list(leaves),
            grad_outputs=[s for _, s in live],
            retain_graph=True,
            allow_unused=True,
        )
    result = []
    for i, (g, leaf) in enumerate(zip(found, leaves)):
        if g is None and strict:
            raise RuntimeError(
                f"{who} of the user-provided function is independent of input {i}. This is "
                "not allowed in strict mode."
            )
        result.append(np.zeros_like(leaf._data) if g is None else g._data)
    return result


def _jacobians(outs: tuple, leaves: tuple, strict: bool) -> list[list[np.ndarray]]:
    """Per output and input, the Jacobian as an array of shape (*output, *input): one backward
    pass per output element, seeded with that element's one-hot."""
    result = []
    for j, out in enumerate(outs):
        size, shape = out._data.size, out._data.shape
        rows = [np.zeros((size, *leaf._data.shape), leaf._data.dtype) for leaf in leaves]
        for k in range(size):
            seed = np.zeros(size, out._data.dtype)
            seed[k] = 1
            for row, g in zip(
                rows, _pull((out,), leaves, [seed.reshape(shape)], strict, f"Output {j}")
            ):
                row[k] = g
        result.append([row.reshape(*shape, *row.shape[1:]) for row in rows])
    return result


def vjp(
    func: Callable,
    inputs: Tensors,
    v: Tensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Tensors, Tensors]:
    """``(func(inputs), vᵀ·J)``: the vector-Jacobian product, shaped like the inputs, by one
    backward pass. ``v`` may be left out only when the output is a single element."""
    _no_create_graph(create_graph, "vjp()")
    in_tuple, leaves, out_tuple, outs = _run(func, inputs, strict, "vjp()")
    if v is None:
        if len(outs) != 1 or outs[0]._data.size != 1:
            raise RuntimeError(
                "The vector v can only be None if the user-provided function returns a single "
                "Tensor with a single element."
            )
        seeds = [np.ones_like(outs[0]._data)]
    else:
        seeds = [t._data for t in _check_v(v, outs, out_tuple, "vjp()")]
    grads = _pull(outs, leaves, seeds, strict, "The output")
    products = tuple(constant(g) for g in grads)
    return _unpack(tuple(o.detach() for o in outs), out_tuple), _unpack(products, in_tuple)


def jvp(
    func: Callable,
    inputs: Tensors,
    v: Tensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Tensors, Tensors]:
    """``(func(inputs), J·v)``: the Jacobian-vector product, shaped like the outputs. Exact,
    but computed here from the full Jacobian (reverse mode, one backward pass per output
    element). ``v`` may be left out only when the input is a single element."""
    _no_create_graph(create_graph, "jvp()")
    in_tuple, leaves, out_tuple, outs = _run(func, inputs, strict, "jvp()")
    if v is None:
        if len(leaves) != 1 or leaves[0]._data.size != 1:
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided function is "
                "a single Tensor with a single element."
            )
        vs = [np.ones_like(leaves[0]._data)]
    else:
        vs = [t._data for t in _check_v(v, leaves, in_tuple, "jvp()")]
    if strict:  # torch's check: every input must reach some output
        _pull(outs, leaves, [np.zeros_like(o._data) for o in outs], True, "The output")
    products = []
    for out, jacs in zip(outs, _jacobians(outs, leaves, False)):
        total = np.zeros_like(out._data)
        for jac, vec in zip(jacs, vs):
            total = total + np.tensordot(jac, vec, axes=vec.ndim)
        products.append(constant(np.asarray(total, out._data.dtype)))
    return _unpack(tuple(o.detach() for o in outs), out_tuple), _unpack(tuple(products), out_tuple)


def jacobian(
    func: Callable,
    inputs: Tensors,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """The Jacobian of ``func`` at ``inputs``: per output and input, shape (*output, *input);
    a Tensor, a tuple, or a tuple (per output) of tuples (per input), as torch nests them.
    Always computed in reverse mode here, one backward pass per output element:
    ``strategy="forward-mode"`` and ``vectorize`` are accepted and give the same values."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError(
            'jacobian(): expected strategy to be "forward-mode" or "reverse-mode", '
            f"got {strategy!r}"
        )
    _no_create_graph(create_graph, "jacobian()")
    in_tuple, leaves, out_tuple, outs = _run(func, inputs, strict, "jacobian()")
    per_output = tuple(
        _unpack(tuple(constant(j) for j in jacs), in_tuple)
        for jacs in _jacobians(outs, leaves, strict)
    )
    return _unpack(per_output, out_tuple)


def _second_order(name: str) -> NoReturn:
    raise NotImplementedError(
        f"{name}: second derivatives are not supported: neuralab records no graph of the "
        "backward pass, so a gradient cannot be differentiated again. If you can write the "
        "gradient as a function, jacobian() of it gives the Hessian (and vjp()/jvp() of it "
        "give vhp/hvp); otherwise compute second-order quantities with another library"
    )


def hessian(
    func: Callable,
    inputs: Tensors,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> NoReturn:
    """torch's Hessian of a scalar function: refused, as it needs second derivatives."""
    _second_order("hessian()")


def vhp(
    func: Callable,
    inputs: Tensors,
    v: Tensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> NoReturn:
    """torch's vector-Hessian product: refused, as it needs second derivatives."""
    _second_order("vhp()")


def hvp(
    func: Callable,
    inputs: Tensors,
    v: Tensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> NoReturn:
    """torch's Hessian-vector product: refused, as it needs second derivatives."""
    _second_order("hvp()")
