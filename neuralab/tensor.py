"""The Tensor and its autograd graph: reverse-mode differentiation by the chain rule.

A Tensor wraps a NumPy array. Every differentiable op (in ``neuralab.ops``) computes its output
array and calls :func:`make` with its parent tensors and a ``backward`` closure that maps the
output's gradient to one gradient per parent. ``Tensor.backward`` walks that graph in reverse
topological order (iteratively, so a 100,000-op chain does not recurse) and accumulates the
gradients of leaves into ``.grad``. Nothing outside this file knows how gradients flow.
"""

from __future__ import annotations

import copy
import functools
import itertools
import math
import operator
import sys
import weakref
from collections.abc import Callable, Sequence
from sys import getrefcount
from typing import Any

import numpy as np

from neuralab.device import require_cpu
from neuralab.dtypes import as_dtype, bool_, complex64, complex128, float32, float64, int64
from neuralab.dtypes import int32 as int32  # re-exported: the package imports dtypes from here
from neuralab.tensor_surface import TensorSurface

_DEFAULT_FLOAT = float32  # set_default_dtype changes it; factories and conversions read it
_grad_enabled = True
_inference_mode = False
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
    """Context manager and decorator that sets whether ops record the graph. Like torch's, it
    also decorates bare (``@nl.no_grad``) and called (``@nl.no_grad()``)."""

    _mode: bool | None = True  # None leaves the grad mode as it is
    _inference = False

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and callable(args[0]) and not kwargs:  # used bare as a decorator
            return cls()(args[0])
        return super().__new__(cls)

    def _copy(self) -> _GradMode:
        """A fresh manager of the same mode, for one call of a decorated function."""
        return self.__class__()

    def __enter__(self) -> None:
        global _grad_enabled, _inference_mode
        self._prev = _grad_enabled, _inference_mode
        if self._mode is not None:
            _grad_enabled = self._mode
            _inference_mode = self._inference

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled, _inference_mode
        _grad_enabled, _inference_mode = self._prev

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._copy():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Disable graph recording (inference, parameter updates): ``with nl.no_grad(): ...``."""

    _mode = False


class enable_grad(_GradMode):
    """Re-enable graph recording inside a ``no_grad`` block."""

    _mode = True


class inference_mode(_GradMode):
    """torch's ``inference_mode``: here the same as ``no_grad`` (``mode=False`` changes nothing)."""

    def __init__(self, mode: bool = True) -> None:
        self._mode, self._inference = (False, True) if mode else (None, False)

    def _copy(self) -> _GradMode:
        return inference_mode(self._inference)


class set_grad_enabled(_GradMode):
    """Set grad mode on or off: at once when called, for a block with ``with``, or for a function
    as a decorator, as in torch."""

    def __init__(self, mode: bool) -> None:
        global _grad_enabled
        self._mode = bool(mode)
        self._prev = _grad_enabled, _inference_mode
        _grad_enabled = self._mode

    def __enter__(self) -> None:  # the mode was set by the call itself
        pass

    def __call__(self, fn: Callable) -> Callable:
        global _grad_enabled
        _grad_enabled = self._prev[0]  # as a decorator, the call must not change the mode
        return super().__call__(fn)

    def _copy(self) -> _GradMode:
        return enable_grad() if self._mode else no_grad()


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()``."""
    return _inference_mode


# ----------------------------------------------------------------------------- conversion


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """``data`` as an ndarray; floats become the default float dtype unless ``dtype`` says
    otherwise, ints int64."""
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
    if kind == "c":
        complex_dtype = complex64 if _DEFAULT_FLOAT == float32 else complex128
        return arr if isinstance(data, Tensor) else arr.astype(complex_dtype, copy=False)
    raise TypeError(f"tensor: cannot make a tensor from data of dtype {arr.dtype}")


def _check_grad_dtype(arr: np.ndarray) -> None:
    if arr.dtype.kind != "f":
        raise RuntimeError(
            "requires_grad: only floating-point tensors can require gradients, "
            f"got dtype {arr.dtype}"
        )


# ----------------------------------------------------------------------------- Tensor


class Size(tuple):
    """A tensor's shape (torch's ``Size``): a tuple of ints that also has ``numel()``."""

    __slots__ = ()

    def __new__(cls, sizes: Any = ()) -> Size:
        try:
            return tuple.__new__(cls, (operator.index(s) for s in sizes))
        except TypeError:
            raise TypeError(f"Size: expected an iterable of ints, got {sizes!r}") from None

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        return math.prod(self)


_new_size = tuple.__new__
_NO_DATA: Any = object()  # Tensor() without arguments


def _is_dim(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _legacy_data(data: Any, size: tuple, dtype: np.dtype | None) -> np.ndarray:
    """torch's ``Tensor(...)`` constructor: ``()`` empty, ints (or a Size) an uninitialized
    shape, a tensor its own array, anything else its values in ``dtype`` (the default float)."""
    if data is _NO_DATA:
        return np.empty(0, _DEFAULT_FLOAT if dtype is None else dtype)
    if size or _is_dim(data) or isinstance(data, Size):
        dims = (data, *size) if size or _is_dim(data) else data
        shape = tuple(Size(dims))
        if any(d < 0 for d in shape):
            raise RuntimeError(f"Tensor: sizes must be non-negative, got {shape}")
        return np.empty(shape, _DEFAULT_FLOAT if dtype is None else dtype)
    if isinstance(data, Tensor) and dtype is None:
        return data._data
    return as_array(data, _DEFAULT_FLOAT if dtype is None else dtype)


def legacy_new(args: tuple, dtype: Any, device: Any, where: str) -> Tensor:
    """``Tensor(*args)`` in ``dtype`` (``FloatTensor(2, 3)``, ``t.new([1, 2])``), on the CPU."""
    require_cpu(device, where)
    data, size = (args[0], args[1:]) if args else (_NO_DATA, ())
    return constant(_legacy_data(data, size, as_dtype(dtype, where)))


class Tensor(TensorSurface):
    """An n-dimensional array with an optional gradient, PyTorch-shaped.

    ``Tensor(data, dtype=..., requires_grad=...)`` takes ``data`` as values in ``dtype``. Without
    ``dtype`` it is torch's constructor: ``Tensor(2, 3)`` is uninitialized of shape (2, 3),
    ``Tensor([1, 2])`` and ``Tensor(ndarray)`` are in the default float dtype, ``Tensor(t)``
    shares ``t``'s array and dtype, ``Tensor()`` is empty.
    """

    __slots__ = (
        "_data", "_grad", "requires_grad", "_parents", "_backward", "_retain", "_seq", "_prior",
        "_base", "__weakref__",
    )  # fmt: skip
    __array_priority__ = 1000  # so ndarray <op> Tensor defers to Tensor's reflected operators

    def __init__(
        self, data: Any = _NO_DATA, *size: Any, dtype: Any = None, requires_grad: bool = False,
        device: Any = None,
    ) -> None:  # fmt: skip
        if dtype is not None and not size:
            self._data = as_array(data, dtype)
        elif not size and type(data) is np.ndarray:  # torch: its values in the default float
            dflt = _DEFAULT_FLOAT
            self._data = data if data.dtype == dflt else data.astype(dflt)
        else:
            self._data = _legacy_data(data, size, as_dtype(dtype, "Tensor"))
        if device is not None:
            require_cpu(device, "Tensor")
        self._grad: Tensor | None = None
        self._parents: tuple[Tensor, ...] = ()
        self._backward: Backward | None = None
        self._retain = False
        if requires_grad:
            _check_grad_dtype(self._data)
        self.requires_grad = bool(requires_grad)

    # --- gradient (read through a C getter: as fast as a plain attribute) -----------------
    def _set_grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"grad: expected a Tensor or None, got {type(value).__name__}")
            if value._data.shape != self._data.shape or value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"grad: a gradient of shape {value._data.shape} and dtype {value._data.dtype} "
                    f"cannot be assigned to a tensor of shape {self._data.shape} and dtype "
                    f"{self._data.dtype}"
                )
        self._grad = value

    grad = property(
        operator.attrgetter("_grad"),
        _set_grad,
        doc="The gradient accumulated by ``backward()``; assign None to clear it.",
    )

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place: it becomes a leaf that does not require
        grad."""
        self._backward = None
        self._parents = ()
        self.requires_grad = False
        return self

    def __deepcopy__(self, memo: dict) -> Tensor:
        """A copy of a leaf with its own data (and its gradient, for a plain Tensor; a Parameter's
        copy starts without one, as in torch). Tensors inside a graph cannot be deep-copied."""
        if self._backward is not None:
            raise RuntimeError(
                "deepcopy: only leaf tensors (created by the user, not by an op that records the "
                "graph) can be deep-copied; detach() it first"
            )
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        new._data = self._data.copy()
        new._grad = copy.deepcopy(self._grad, memo) if type(self) is Tensor else None
        new.requires_grad = self.requires_grad
        new._parents, new._backward, new._retain = (), None, self._retain
        if hasattr(self, "__dict__"):
            new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return new

    def __getstate__(self) -> Any:
        """What pickle and ``copy`` keep: every slot but the links in-place updates follow (a
        view's base tensor, a weak reference), so a pickled row of a dataset is only the row."""
        state = super().__getstate__()
        if isinstance(state, tuple):
            extra, slots = state
            return extra, {k: v for k, v in slots.items() if k not in ("_base", "_prior")}
        return state

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
    def shape(self) -> Size:
        """The size of each dimension."""
        return _new_size(Size, self._data.shape)

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

    def size(self, dim: int | None = None) -> Size | int:
        """The shape, or the size of dimension ``dim``."""
        return _new_size(Size, self._data.shape) if dim is None else self._data.shape[dim]

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
        self._set_retain(True)

    def _set_retain(self, flag: bool) -> None:
        if isinstance(self._retain, _GradHooks):
            self._retain.retain = flag
        else:
            self._retain = flag

    @property
    def retains_grad(self) -> bool:
        """Whether :meth:`retain_grad` was called on this tensor."""
        return bool(getattr(self._retain, "retain", self._retain))

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> _HookHandle:
        """Call ``hook(tensor)`` once a backward pass has put this leaf's whole gradient into
        its ``.grad`` (torch's; e.g. to step an optimizer per parameter during backward)."""
        if self._backward is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if not isinstance(self._retain, _GradHooks):
            self._retain = _GradHooks(retain=bool(self._retain))
        self._retain.post.append(hook)
        _post_hooks_used[0] = True
        return _HookHandle(self._retain.post, hook)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> _HookHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a tensor it returns
        replaces the gradient (torch's ``Tensor.register_hook``). ``.remove()`` undoes it."""
        if not self.requires_grad:
            raise RuntimeError(
                "register_hook: cannot register a hook on a tensor that doesn't require gradient"
            )
        if not isinstance(self._retain, _GradHooks):
            self._retain = _GradHooks(retain=bool(self._retain))
        self._retain.append(hook)
        return _HookHandle(self._retain, hook)

    def astype(self, dtype: Any) -> Tensor:
        from neuralab.ops import elementwise

        return elementwise.cast(self, as_dtype(dtype, "astype"))

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
        body = _array_text(self._data)
        extra = ""
        if self._data.dtype not in (_DEFAULT_FLOAT, int64, bool_):
            extra += f", dtype={self._data.dtype}"
        if self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # --- in-place updates ---------------------------------------------------------------
    # Outside the graph (parameter updates under no_grad, .data) they write the array itself.
    # While the graph is recorded, a tensor that is not a leaf becomes the op's output
    # (neuralab.ops.inplace, torch's semantics); a leaf that requires grad refuses.
    def _check_inplace(self, op: str) -> None:
        if _grad_enabled and self.requires_grad:
            raise RuntimeError(
                f"{op}: a tensor that requires grad cannot be modified in place while the graph "
                "is recorded; wrap the update in `with nl.no_grad():`"
            )

    def _recorded(self, other: Any = None) -> bool:
        """Whether an in-place update with ``other`` must be recorded in the graph."""
        return _grad_enabled and (self.requires_grad or getattr(other, "requires_grad", False))

    def _graph_update(self, op: str, fn: Callable, *args: Any, **kwargs: Any) -> Tensor:
        from neuralab.ops.inplace import apply_inplace

        return apply_inplace(self, op, fn, *args, **kwargs)

    def _array(self) -> np.ndarray:
        """The array to write into (an op may have left a NumPy scalar for a 0-d result)."""
        if type(self._data) is not np.ndarray:
            self._data = np.array(self._data)
        return self._data

    def __setitem__(self, index: Any, value: Any) -> None:
        if self._recorded(value):
            from neuralab.ops.select import index_put

            where = index if isinstance(index, tuple) else (index,)
            self._graph_update("__setitem__", index_put, where, value)
            return
        self._array()[_index(index)] = value._data if isinstance(value, Tensor) else value

    def copy_(self, src: Any) -> Tensor:
        if self._recorded(src):
            return self._graph_update("copy_", _copied, src)
        self._array()[...] = as_array(src, self._data.dtype)
        return self

    def fill_(self, value: float) -> Tensor:
        if self._recorded(value):
            return self._graph_update("fill_", _filled, value)
        self._array().fill(value)
        return self

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def add_(self, other: Any, alpha: float = 1.0) -> Tensor:
        if self._recorded(other):
            from neuralab.ops.elementwise import add

            return self._graph_update("add_", add, other, alpha=alpha)
        other = other._data if isinstance(other, Tensor) else other
        if alpha == 1.0:
            self._array().__iadd__(other)
        else:
            self._array().__iadd__(alpha * other)
        return self

    def sub_(self, other: Any, alpha: float = 1.0) -> Tensor:
        return self.add_(other, -alpha)

    def mul_(self, other: Any) -> Tensor:
        if self._recorded(other):
            from neuralab.ops.elementwise import mul

            return self._graph_update("mul_", mul, other)
        self._array().__imul__(other._data if isinstance(other, Tensor) else other)
        return self

    def _inplace(self, op: str, other: Any) -> Tensor:
        # ``x += y``: in place on the array when no graph is recorded; otherwise an ordinary op
        # whose result Python binds to the name, so gradients stay correct.
        if self._recorded(other):
            return getattr(self, f"__{op}__")(other)
        arr = other._data if isinstance(other, Tensor) else other
        getattr(self._array(), f"__i{op}__")(arr)
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
        if self._recorded(min) or self._recorded(max):
            from neuralab.ops.elementwise import clamp

            return self._graph_update("clamp_", clamp, min, max)
        np.clip(self._array(), min, max, out=self._data)
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
    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` by the chain rule (only into
        ``inputs`` when given)."""
        _no_create_graph(create_graph, "backward()")
        seed = _seed(self, gradient, "backward()")
        backprop([self], [seed], bool(retain_graph), _accumulator(inputs))


def _no_create_graph(create_graph: bool, where: str) -> None:
    if create_graph:
        raise NotImplementedError(
            f"{where}: create_graph=True is not supported: neuralab records no graph of the "
            "backward pass, so higher-order gradients are not available"
        )


def _seed(t: Tensor, gradient: Any, where: str) -> np.ndarray:
    """The gradient to start from at output ``t``: ones for a scalar, else ``gradient``."""
    if not t.requires_grad:
        raise RuntimeError(
            f"{where}: this tensor does not require grad and has no graph; did you create "
            "the inputs with requires_grad=True, or compute it under no_grad()?"
        )
    if gradient is None:
        if t._data.size != 1:
            raise RuntimeError(
                f"{where}: a gradient is needed for a non-scalar output of shape "
                f"{t._data.shape}; call loss.backward() on a scalar or pass gradient=..."
            )
        shape, dtype = t._data.shape, t._data.dtype
        return np.ones(shape, dtype) if shape else np.array(1, dtype)  # 0-d: 3x cheaper
    seed = as_array(gradient, t._data.dtype)
    if seed.shape != t._data.shape:
        raise RuntimeError(
            f"{where}: gradient of shape {seed.shape} does not match the output's "
            f"shape {t._data.shape}"
        )
    return seed


def _accumulator(inputs: Any) -> Callable:
    """What hands gradients to ``.grad``: every leaf's, or with ``inputs`` only theirs."""
    if inputs is None:
        return _accumulate
    chosen = {id(t) for t in ([inputs] if isinstance(inputs, Tensor) else inputs)}

    def accumulate(t: Tensor, g: np.ndarray, sole: bool = False) -> None:
        if id(t) in chosen:
            _accumulate(t, g)

    return accumulate


_end_of_backward: list[Callable[[], None]] = []


def queue_callback(callback: Callable[[], None]) -> None:
    """Run ``callback()`` once, when the backward pass now running has finished (torch's
    ``Variable._execution_engine.queue_callback``): DistributedDataParallel waits for its
    gradient all-reduces there. A failure drops the callbacks still queued."""
    _end_of_backward.append(callback)


def backprop(
    roots: Sequence[Tensor], seeds: Sequence[np.ndarray], retain_graph: bool, accumulate: Callable
) -> None:
    """:func:`_backprop`, then the callbacks it queued (:func:`queue_callback`)."""
    try:
        if _post_hooks_used[0]:  # (the wrapper costs every leaf a call otherwise saved)
            accumulate = _noting_post_hooks(accumulate)
        _backprop(roots, seeds, retain_graph, accumulate)
        while _end_of_backward:
            _end_of_backward.pop(0)()
    except BaseException:
        _end_of_backward.clear()
        raise


_post_hooks_used = [False]  # set by the first register_post_accumulate_grad_hook


def nested_backprop(
    wanted: Sequence[Tensor], roots: Sequence[Tensor], seeds: Sequence[np.ndarray]
) -> list[np.ndarray | None]:
    """Back-propagate ``seeds`` from ``roots`` inside a running backward pass, through a graph
    an op's backward built for itself (activation checkpointing recomputes one): the gradients
    of the ``wanted`` leaves are returned, for the outer pass to hand on (running their hooks
    there); any other leaf reached gets its gradient added to ``.grad`` as a backward pass
    would. The outer pass runs the queued end-of-backward callbacks, so this runs none."""
    index = {id(t): i for i, t in enumerate(wanted)}
    found: list[np.ndarray | None] = [None] * len(wanted)
    others = _noting_post_hooks(_accumulate) if _post_hooks_used[0] else _accumulate

    def capture(t: Tensor, g: np.ndarray, sole: bool = False) -> None:
        i = index.get(id(t))
        if i is None:
            others(t, g, sole)
            return
        g = np.broadcast_to(g, t._data.shape)
        found[i] = g if found[i] is None else found[i] + g

    hooks = [(t, t._retain) for t in wanted if t._retain]
    for t, _ in hooks:  # their hooks run once, in the outer pass
        t._retain = False
    try:
        _backprop(roots, seeds, False, capture)
    finally:
        for t, saved in hooks:
            t._retain = saved
    return found


def _noting_post_hooks(accumulate: Callable) -> Callable:
    """``accumulate`` that also queues, once per backward pass, the post-accumulate hooks of
    each leaf it hands a gradient to (they run when the pass is done)."""
    noted: set[int] = set()

    def accumulate_and_note(t: Tensor, g: np.ndarray, sole: bool = False) -> None:
        accumulate(t, g, sole)
        hooks = t._retain
        if hooks.__class__ is _GradHooks and hooks.post and id(t) not in noted:
            noted.add(id(t))

            def run_post_hooks() -> None:
                for hook in list(hooks.post):
                    hook(t)

            queue_callback(run_post_hooks)

    return accumulate_and_note


def _backprop(
    roots: Sequence[Tensor], seeds: Sequence[np.ndarray], retain_graph: bool, accumulate: Callable
) -> None:
    """Walk the graph below ``roots`` in reverse, handing each leaf (and each node marked by
    ``retain_grad``) its total gradient through ``accumulate(tensor, gradient, sole)``."""
    grads: dict[Tensor, np.ndarray] = {}  # gradients waiting at interior nodes, by identity
    for root, seed in zip(roots, seeds):
        if root._backward is None:  # a leaf: its gradient is the seed
            accumulate(root, seed)
        else:
            prev = grads.get(root)
            grads[root] = seed if prev is None else prev + seed
    if not grads:
        return
    pop = grads.pop
    kept: list[Tensor] = []
    for node in _topological_order(list(grads), kept):
        g = pop(node, None)
        if g is None:
            continue
        if node._retain:  # retain_grad() or register_hook() was called on it
            g = _reached(node, g, accumulate)
        for parent, pg in zip(node._parents, node._backward(g)):
            if pg is None or not parent.requires_grad:
                continue
            if parent._backward is not None and parent._seq > node._seq:
                parent = _as_consumed(parent, node._seq)
                if not parent.requires_grad:
                    continue
            if parent._backward is None:
                if parent._retain.__class__ is _GradHooks:
                    pg = parent._retain.run(pg)
                sole = getrefcount(pg) <= _SOLE_REFS  # on its own: call arguments add refs
                accumulate(parent, pg, sole)
            else:
                prev = grads.get(parent)
                grads[parent] = pg if prev is None else prev + pg
        if not retain_graph:
            node._backward = _freed_backward
            node._parents = ()


class _GradHooks(list):
    """The hooks registered on a tensor (kept in its ``_retain`` slot, which backprop checks
    anyway), whether it also retains its gradient, and (a leaf's) the hooks to call once its
    ``.grad`` holds a backward pass's whole gradient (``post``)."""

    def __init__(self, retain: bool) -> None:
        super().__init__()
        self.retain = retain
        self.post: list[Callable[[Tensor], None]] = []

    def __bool__(self) -> bool:
        return True

    def run(self, g: np.ndarray) -> np.ndarray:
        """The gradient after every hook, in the order they were registered."""
        for hook in list(self):
            out = hook(constant(g))
            if out is not None:
                g = out._data if isinstance(out, Tensor) else np.asarray(out)
        return g


class _HookHandle:
    """What ``register_hook`` returns: ``remove()`` takes the hook off again."""

    def __init__(self, hooks: _GradHooks, hook: Callable) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _reached(node: Tensor, g: np.ndarray, accumulate: Callable) -> np.ndarray:
    """At an interior node whose gradient is complete: run its hooks, keep ``.grad`` if asked."""
    hooks = node._retain
    if hooks is not True:
        g = hooks.run(g)
        if not hooks.retain:
            return g
    accumulate(node, g)
    return g


def _topological_order(roots: list[Tensor], kept: list[Tensor]) -> list[Tensor]:
    """Interior nodes reachable from ``roots``, each after every node that consumes it.

    Every node is created after its parents, so reverse creation order (``_seq``, stamped by
    :func:`make`) is a topological order: one flat traversal and a sort, no recursion. The
    earlier values of tensors updated in place are appended to ``kept``, which holds them for
    the backward pass (only the updated node refers to them, and it is freed first).
    """
    nodes = list(roots)
    seen = {id(r) for r in roots}
    stack = list(roots)
    while stack:
        node = stack.pop()
        for parent in node._parents:
            if parent._backward is not None and parent._seq > node._seq:
                parent = _as_consumed(parent, node._seq)
                kept.append(parent)
            if parent._backward is not None and id(parent) not in seen:
                seen.add(id(parent))
                nodes.append(parent)
                stack.append(parent)
    nodes.sort(key=_creation, reverse=True)
    return nodes


_creation = operator.attrgetter("_seq")


def _as_consumed(t: Tensor, seq: int) -> Tensor:
    """``t`` as the node stamped ``seq`` consumed it: a tensor updated in place after that op
    read it now stands for its new value, and its value before the update is the op's parent."""
    while t._backward is not None and t._seq > seq:
        prior = t._prior()
        if prior is None:
            raise RuntimeError(
                "backward: a tensor was updated in place after an op used it, and the graph of "
                "its earlier value has already been freed by a backward pass; pass "
                "retain_graph=True to the first backward"
            )
        t = prior
    return t


def updated_in_place(t: Tensor, out: Tensor, before: Tensor) -> None:
    """Make ``t`` the node of ``out``, the result of updating it in place (torch's in-place ops
    while the graph is recorded); ``before`` is ``t`` as it was, a parent of ``out``. Ops that read
    ``t`` earlier keep their gradient going to ``before`` (see :func:`_as_consumed`)."""
    t._data, t.requires_grad = out._data, out.requires_grad
    t._parents, t._backward = out._parents, out._backward
    if out._backward is not None:
        t._seq = out._seq
    t._prior = weakref.ref(before)


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
    grad = t._grad
    if grad is None:
        if g.dtype != t._data.dtype:
            g = g.astype(t._data.dtype)
        elif not (sole and g.base is None and g.flags.writeable):
            g = g.copy()
        t._grad = constant(g)
    else:
        total = grad._data + g
        grad._data = total if total.dtype == t._data.dtype else total.astype(t._data.dtype)


def make(data: np.ndarray, parents: tuple[Tensor, ...], backward: Backward) -> Tensor:
    """Wrap an op's output; record ``backward`` when grad mode is on and a parent needs grad."""
    out = Tensor.__new__(Tensor)
    out._data = data
    out._grad = None
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


def make_view(data: np.ndarray, base: Tensor, backward: Backward) -> Tensor:
    """:func:`make` for an op whose output may view ``base``'s array (slicing, reshaping,
    transposing): an in-place update of the output while the graph is recorded then reaches
    ``base`` too, as in torch (:mod:`neuralab.ops.inplace`)."""
    out = make(data, (base,), backward)
    out._base = base
    return out


def make_several(
    outputs: Sequence[np.ndarray],
    parents: tuple[Tensor, ...],
    backward: Callable[[list], tuple],
) -> tuple[Tensor, ...]:
    """Wrap the outputs of one op that has several, all sharing one ``backward``.

    A hidden node holds the op's parents and each output is a node whose parent is that one,
    so the engine runs every output's backward before the op's: each hands its gradient over
    and passes the hidden node a scalar zero, and ``backward(grads)`` then sees all the outputs'
    gradients at once (None for an output that nothing used). The node stays hidden so that an
    in-place update of one output cannot reorder it after the others (see ``_topological_order``).
    """
    received: list[np.ndarray | None] = [None] * len(outputs)

    def op_backward(g: np.ndarray) -> tuple:
        grads = list(received)
        received[:] = [None] * len(received)
        return backward(grads)

    zero = np.zeros((), outputs[0].dtype)
    hub = make(zero, parents, op_backward)

    def output(k: int, arr: np.ndarray) -> Tensor:
        def output_backward(g: np.ndarray) -> tuple:
            received[k] = g
            return (zero,)

        return make(arr, (hub,), output_backward)

    return tuple(output(k, a) for k, a in enumerate(outputs))


def constant(data: np.ndarray) -> Tensor:
    """Wrap an array as a tensor outside the graph (no conversion, no copy)."""
    out = Tensor.__new__(Tensor)
    out._data = data
    out._grad = None
    out.requires_grad = False
    out._parents = ()
    out._backward = None
    out._retain = False
    return out


def _copied(t: Tensor, src: Any) -> Tensor:
    """``src`` broadcast to ``t``'s shape: what ``t.copy_(src)`` holds (the graph form)."""
    from neuralab.ops.shape import expand

    src = src if isinstance(src, Tensor) else constant(as_array(src, t._data.dtype))
    return expand(src, t.shape)


def _filled(t: Tensor, value: Any) -> Tensor:
    """``t`` with every element set to ``value``: what ``t.fill_(value)`` holds (graph form)."""
    from neuralab.ops.select import masked_fill

    return masked_fill(t, constant(np.ones(t.shape, bool_)), value)


def _index(index: Any) -> Any:
    """Turn tensors inside an index into arrays, so NumPy indexing rules apply."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    return index


def tensor(
    data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    """Make a tensor from data (copied): Python floats (and float arrays) become the default
    float dtype, ints int64, bools bool, unless ``dtype`` says otherwise. CPU only."""
    require_cpu(device, "tensor")
    arr = as_array(data, as_dtype(dtype, "tensor"))
    if arr is data or (isinstance(data, Tensor) and arr is data._data):
        arr = arr.copy()
    out = constant(arr)
    if requires_grad:
        out.requires_grad_()
    return out


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a tensor without copying when it can be: a tensor is returned as it is (cast
    if ``dtype`` differs), an ndarray shares its memory and keeps its dtype (as
    ``from_numpy``), anything else is copied as by :func:`tensor`."""
    require_cpu(device, "as_tensor")
    dtype = as_dtype(dtype, "as_tensor")
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray):
        return constant(as_array(data, data.dtype if dtype is None else dtype))
    return tensor(data, dtype)


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing ``arr``'s memory and keeping its dtype (like ``torch.from_numpy``)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"from_numpy: expected an ndarray, got {type(arr).__name__}")
    return constant(arr)


# ----------------------------------------------------------------------------- module functions


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a Tensor (or a Parameter)."""
    return isinstance(obj, Tensor)


def typename(obj: Any, /) -> str:
    """torch.typename: a tensor's type string ('torch.FloatTensor', ...), else the qualified
    name of the object (a class or function) or of its class."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if qualname is None:
        module, qualname = type(obj).__module__ or "", type(obj).__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def is_floating_point(input: Tensor) -> bool:
    """Whether ``input``'s dtype is a floating-point one."""
    return input.is_floating_point()


def numel(input: Tensor) -> int:
    """The number of elements of ``input``."""
    return input.numel()


def get_default_dtype() -> np.dtype:
    """The dtype that Python floats and the float factories give (float32 unless changed)."""
    return _DEFAULT_FLOAT


def set_default_dtype(d: Any) -> None:
    """Make ``d`` (float32 or float64) the dtype of Python floats, float factories and
    ``Tensor(...)``; ops keep their own dtype rules."""
    global _DEFAULT_FLOAT
    dtype = as_dtype(d, "set_default_dtype")
    if dtype not in (float32, float64):
        raise TypeError(f"set_default_dtype: only float32 and float64 are supported, got {dtype}")
    _DEFAULT_FLOAT = dtype


def set_default_tensor_type(t: Any) -> None:
    """torch's older spelling: ``set_default_tensor_type(nl.DoubleTensor)`` or
    ``"torch.DoubleTensor"`` sets the default dtype."""
    from neuralab.tensor_surface import dtype_of_type_name

    dtype = t if not isinstance(t, str) else dtype_of_type_name(t, "set_default_tensor_type")
    set_default_dtype(getattr(dtype, "dtype", dtype) if isinstance(dtype, type) else dtype)


_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "max_line_width": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "max_line_width": 80},
    "full": {"precision": 4, "threshold": sys.maxsize, "edgeitems": 3, "max_line_width": 80},
}
_print_options = dict(_PROFILES["default"])  # set_printoptions changes it


def set_printoptions(
    precision: int | None = None, threshold: float | None = None, edgeitems: int | None = None,
    linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None,
) -> None:  # fmt: skip
    """How tensors print, as torch's ``set_printoptions`` (a ``profile`` of 'default', 'short'
    or 'full', then each option given); ``sci_mode`` forces (True) or forbids (False) e-notation
    until the next call."""
    global _print_options
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {list(_PROFILES)}")
        _print_options = dict(_PROFILES[profile])
    if threshold is not None:
        threshold = sys.maxsize if threshold == math.inf else int(threshold)
    given = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems,
             "max_line_width": linewidth}  # fmt: skip
    _print_options.update({k: v for k, v in given.items() if v is not None})
    _print_options["sci_mode"] = sci_mode  # as torch: every call sets it (None: automatic)


def _array_text(arr: np.ndarray) -> str:
    """The values as ``repr`` shows them inside ``tensor(...)``, under the print options."""
    options = dict(_print_options)
    sci_mode = options.pop("sci_mode", None)
    if sci_mode is not None and np.asarray(arr).dtype.kind == "f":
        digits, mark = options["precision"], "e" if sci_mode else "f"
        options["formatter"] = {"float_kind": lambda v: f"{v:.{digits}{mark}}"}
    return np.array2string(np.asarray(arr), separator=", ", prefix="tensor(", **options)


import neuralab.ops  # noqa: E402, F401  (the op families give Tensor its methods)
