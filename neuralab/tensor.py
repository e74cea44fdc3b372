"""The Tensor and its autograd graph: reverse-mode differentiation by the chain rule.

A Tensor wraps a NumPy array. Every differentiable op (in ``neuralab.ops``) computes its output
array and calls :func:`make` with its parent tensors and a ``backward`` closure that maps the
output's gradient to one gradient per parent. ``Tensor.backward`` walks that graph in reverse
topological order (iteratively, so a 100,000-op chain does not recurse) and accumulates the
gradients of leaves into ``.grad``. Nothing outside this file knows how gradients flow.
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Callable, Sequence
from sys import getrefcount
from typing import Any

import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
bool_ = np.dtype(np.bool_)

_DEFAULT_FLOAT = float32
_grad_enabled = True
_sequence = itertools.count()  # creation stamps of recorded nodes (see _topological_order)

Backward = Callable[[np.ndarray], Sequence[np.ndarray | None]]


def _freed_backward(g: np.ndarray) -> Sequence[np.ndarray | None]:
    raise RuntimeError(
        "Trying to backward through the graph a second time: its saved values were freed after "
        "the first backward(). Call backward(retain_graph=True) the first time if you need to "
        "backward through it again."
    )


# ----------------------------------------------------------------------------- grad mode


def is_grad_enabled() -> bool:
    """True when operations record the graph for backward (the default)."""
    return _grad_enabled


class _GradMode:
    """Context manager and decorator that sets whether ops record the graph."""

    _mode = True

    def __enter__(self) -> None:
        global _grad_enabled
        self._prev = _grad_enabled
        _grad_enabled = self._mode

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self._prev

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Disable graph recording (inference, parameter updates): ``with nl.no_grad(): ...``."""

    _mode = False


class enable_grad(_GradMode):
    """Re-enable graph recording inside a ``no_grad`` block."""

    _mode = True


# ----------------------------------------------------------------------------- conversion


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """``data`` as an ndarray; floats become float32 unless ``dtype`` says otherwise."""
    if isinstance(data, Tensor):
        arr = data._data
    else:
        arr = np.asarray(data)
    if dtype is not None:
        dtype = np.dtype(dtype)
        return arr if arr.dtype == dtype else arr.astype(dtype)
    kind = arr.dtype.kind
    if kind == "f":
        if isinstance(data, Tensor) or arr.dtype == _DEFAULT_FLOAT:
            return arr
        return arr.astype(_DEFAULT_FLOAT)
    if kind in "iu":
        return arr if arr.dtype == int64 else arr.astype(int64)
    if kind == "b":
        return arr
    raise TypeError(f"tensor: cannot make a tensor from data of dtype {arr.dtype}")


def _check_grad_dtype(arr: np.ndarray) -> None:
    if arr.dtype.kind != "f":
        raise RuntimeError(
            "requires_grad: only floating-point tensors can require gradients, "
            f"got dtype {arr.dtype}"
        )


# ----------------------------------------------------------------------------- Tensor


class Tensor:
    """An n-dimensional array with an optional gradient, PyTorch-shaped."""

    __slots__ = (
        "_data", "grad", "requires_grad", "_parents", "_backward", "_retain", "_seq", "__weakref__",
    )  # fmt: skip
    __array_priority__ = 1000  # so ndarray <op> Tensor defers to Tensor's reflected operators

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        self._data = as_array(data, dtype)
        self.grad: Tensor | None = None
        self._parents: tuple[Tensor, ...] = ()
        self._backward: Backward | None = None
        self._retain = False
        if requires_grad:
            _check_grad_dtype(self._data)
        self.requires_grad = bool(requires_grad)

    # --- basic properties ---------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """The values as a new tensor sharing this one's storage, outside the graph (torch's
        ``.data``): in-place changes through it bypass autograd. ``.numpy()`` gives the array."""
        return constant(self._data)

    @data.setter
    def data(self, value: Any) -> None:
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user (not by a recorded op)."""
        return self._backward is None

    @property
    def grad_fn(self) -> Backward | None:
        """The backward function the op that made this tensor recorded (gradient in, one
        gradient per parent out); None for leaves and for tensors made without a graph."""
        return self._backward

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        return self._data.shape if dim is None else self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def item(self) -> float | int | bool:
        if self._data.size != 1:
            raise ValueError(
                "item(): only a one-element tensor converts to a Python scalar, "
                f"got shape {self.shape}"
            )
        return self._data.item()

    def numpy(self, force: bool = False) -> np.ndarray:
        """The values as an ndarray sharing this tensor's memory."""
        return np.asarray(self._data)

    def tolist(self) -> Any:
        return self._data.tolist()

    def detach(self) -> Tensor:
        """A new tensor sharing the data, cut from the graph."""
        return constant(self._data)

    def clone(self) -> Tensor:
        from neuralab.ops import elementwise

        return elementwise.clone(self)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad:
            _check_grad_dtype(self._data)
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("requires_grad_(False) applies to leaf tensors only; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        self._retain = True

    @property
    def retains_grad(self) -> bool:
        """Whether :meth:`retain_grad` was called on this tensor."""
        return self._retain

    def astype(self, dtype: Any) -> Tensor:
        from neuralab.ops import elementwise

        return elementwise.cast(self, np.dtype(dtype))

    to = astype

    def float(self) -> Tensor:
        return self.astype(float32)

    def double(self) -> Tensor:
        return self.astype(float64)

    def long(self) -> Tensor:
        return self.astype(int64)

    def int(self) -> Tensor:
        return self.astype(int32)

    def bool(self) -> Tensor:
        return self.astype(bool_)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    # --- python protocol ----------------------------------------------------------------
    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"The truth value of a tensor with {self._data.size} elements is ambiguous"
            )
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu":
            raise TypeError("only integer tensors can be used as an index")
        return int(self.item())

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        arr = np.asarray(self._data)  # an op may leave a NumPy scalar where a 0-d array was
        return arr if dtype is None else arr.astype(dtype)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="tensor(", precision=4)
        extra = ""
        if self._data.dtype not in (float32, int64, bool_):
            extra += f", dtype={self._data.dtype}"
        if self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # --- in-place updates on data (no graph) --------------------------------------------
    def _check_inplace(self, op: str) -> None:
        if _grad_enabled and self.requires_grad:
            raise RuntimeError(
                f"{op}: a tensor that requires grad cannot be modified in place while the graph "
                "is recorded; wrap the update in `with nl.no_grad():`"
            )

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_inplace("__setitem__")
        self._data[_index(index)] = value._data if isinstance(value, Tensor) else value

    def copy_(self, src: Any) -> Tensor:
        self._check_inplace("copy_")
        self._data[...] = as_array(src, self._data.dtype)
        return self

    def fill_(self, value: float) -> Tensor:
        self._check_inplace("fill_")
        self._data.fill(value)
        return self

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def add_(self, other: Any, alpha: float = 1.0) -> Tensor:
        self._check_inplace("add_")
        other = other._data if isinstance(other, Tensor) else other
        if alpha == 1.0:
            self._data += other
        else:
            self._data += alpha * other
        return self

    def sub_(self, other: Any, alpha: float = 1.0) -> Tensor:
        return self.add_(other, -alpha)

    def mul_(self, other: Any) -> Tensor:
        self._check_inplace("mul_")
        self._data *= other._data if isinstance(other, Tensor) else other
        return self

    def _inplace(self, op: str, other: Any) -> Tensor:
        # In-place on data when no graph is being recorded (parameter updates under no_grad);
        # otherwise an ordinary op, so gradients stay correct.
        if _grad_enabled and (self.requires_grad or getattr(other, "requires_grad", False)):
            return getattr(self, f"__{op}__")(other)
        arr = other._data if isinstance(other, Tensor) else other
        getattr(self._data, f"__i{op}__")(arr)
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace("add", other)

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace("sub", other)

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace("mul", other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace("truediv", other)

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:
        self._check_inplace("clamp_")
        np.clip(self._data, min, max, out=self._data)
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        from neuralab.random import generator

        self._check_inplace("uniform_")
        self._data[...] = generator().uniform(a, b, self.shape)
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        from neuralab.random import generator

        self._check_inplace("normal_")
        self._data[...] = generator().normal(mean, std, self.shape)
        return self

    # --- autograd -----------------------------------------------------------------------
    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` by the chain rule."""
        if not self.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require grad and has no graph; did you create "
                "the inputs with requires_grad=True, or compute it under no_grad()?"
            )
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(
                    f"backward(): a gradient is needed for a non-scalar output of shape "
                    f"{self.shape}; call loss.backward() on a scalar or pass gradient=..."
                )
            shape, dtype = self._data.shape, self._data.dtype
            seed = np.ones(shape, dtype) if shape else np.array(1, dtype)  # 0-d: 3x cheaper
        else:
            seed = as_array(gradient, self._data.dtype)
            if seed.shape != self.shape:
                raise RuntimeError(
                    f"backward(): gradient of shape {seed.shape} does not match the output's "
                    f"shape {self.shape}"
                )
        if self._backward is None:  # a leaf: its gradient is the seed
            _accumulate(self, seed)
            return
        order = _topological_order(self)
        # Gradients waiting for each interior node, keyed by the node itself (identity hash).
        grads: dict[Tensor, np.ndarray] = {self: seed}
        pop, accumulate = grads.pop, _accumulate
        for node in order:
            g = pop(node, None)
            if g is None:
                continue
            if node._retain:
                accumulate(node, g)
            for parent, pg in zip(node._parents, node._backward(g)):
                if pg is None or not parent.requires_grad:
                    continue
                if parent._backward is None:
                    sole = getrefcount(pg) <= _SOLE_REFS  # on its own: call arguments add refs
                    accumulate(parent, pg, sole)
                else:
                    prev = grads.get(parent)
                    grads[parent] = pg if prev is None else prev + pg
            if not retain_graph:
                node._backward = _freed_backward
                node._parents = ()


def _topological_order(root: Tensor) -> list[Tensor]:
    """Interior nodes reachable from ``root``, each after every node that consumes it.

    Every node is created after its parents, so reverse creation order (``_seq``, stamped by
    :func:`make`) is a topological order: one flat traversal and a sort, no recursion.
    """
    nodes = [root]
    seen = {id(root)}
    stack = [root]
    while stack:
        for parent in stack.pop()._parents:
            if parent._backward is not None and id(parent) not in seen:
                seen.add(id(parent))
                nodes.append(parent)
                stack.append(parent)
    nodes.sort(key=_creation, reverse=True)
    return nodes


_creation = operator.attrgetter("_seq")


def _sole_refs() -> int:
    """References to a gradient array that only the backward loop holds, at the point where the
    loop hands it to a leaf: measured on a fresh array in a loop of the same shape, so it follows
    whatever the interpreter's ``zip`` keeps (the returned tuple, zip's result tuple, the loop
    variable and getrefcount's own argument, in CPython 3.11)."""
    for _, fresh in zip((None,), (np.empty(1),)):
        return getrefcount(fresh)
    raise AssertionError("unreachable")


_SOLE_REFS = _sole_refs()


def _accumulate(t: Tensor, g: np.ndarray, sole: bool = False) -> None:
    """Add ``g`` into ``t.grad`` (PyTorch semantics: gradients accumulate across backward calls).

    A first gradient is copied, unless ``sole`` says that nothing but the backward loop refers
    to ``g``: an array that owns its memory is then adopted as it is, sparing the copy of every
    weight's gradient in every step (torch's engine steals such gradients too).
    """
    if g.shape != t._data.shape:  # an op's backward returned a broadcast gradient
        g = np.broadcast_to(g, t._data.shape)
    if t.grad is None:
        if g.dtype != t._data.dtype:
            g = g.astype(t._data.dtype)
        elif not (sole and g.base is None and g.flags.writeable):
            g = g.copy()
        t.grad = constant(g)
    else:
        total = t.grad._data + g
        t.grad._data = total if total.dtype == t._data.dtype else total.astype(t._data.dtype)


def make(data: np.ndarray, parents: tuple[Tensor, ...], backward: Backward) -> Tensor:
    """Wrap an op's output; record ``backward`` when grad mode is on and a parent needs grad."""
    out = Tensor.__new__(Tensor)
    out._data = data
    out.grad = None
    out._retain = False
    if _grad_enabled:
        for p in parents:
            if p.requires_grad:
                out.requires_grad = True
                out._parents = parents
                out._backward = backward
                out._seq = next(_sequence)
                return out
    out.requires_grad = False
    out._parents = ()
    out._backward = None
    return out


def constant(data: np.ndarray) -> Tensor:
    """Wrap an array as a tensor outside the graph (no conversion, no copy)."""
    out = Tensor.__new__(Tensor)
    out._data = data
    out.grad = None
    out.requires_grad = False
    out._parents = ()
    out._backward = None
    out._retain = False
    return out


def _index(index: Any) -> Any:
    """Turn tensors inside an index into arrays, so NumPy indexing rules apply."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    return index


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Make a tensor from data (copied). Floats become float32 unless ``dtype`` says otherwise."""
    arr = as_array(data, dtype)
    if arr is data or (isinstance(data, Tensor) and arr is data._data):
        arr = arr.copy()
    return Tensor(arr, dtype=arr.dtype, requires_grad=requires_grad)


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing ``arr``'s memory and keeping its dtype (like ``torch.from_numpy``)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"from_numpy: expected an ndarray, got {type(arr).__name__}")
    return constant(arr)


import neuralab.ops  # noqa: E402, F401  (the op families give Tensor its methods)
