"""Record a forward pass as a tape of op calls, for the ONNX exporter.

While a :class:`Tracer` is active, every public function of ``neuralab.ops`` (wherever a module
imported it), the Tensor methods installed from there and ``Module.__call__`` are wrapped: the
outermost call that touches a traced value is written down (name, arguments, output, the layer
it ran in) and the calls it makes inside are not. Layers with their own ONNX mapping (the
recurrent ones) are recorded whole. Values are traced by tensor and by the array they hold, so
``constant(t.numpy())`` stays the same value, and ``t.numpy()`` hands out a
:class:`TracedArray` whose elementwise NumPy functions are recorded as well.
"""

from __future__ import annotations

import inspect
import itertools
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuralab.nn.module import Module
from neuralab.tensor import Tensor

_LOCK = threading.Lock()
_ACTIVE: list[Tracer] = []  # the running trace, for TracedArray


class TracedArray(np.ndarray):
    """A traced tensor's array handed out by ``numpy()`` while tracing: elementwise NumPy
    functions of it (``ids == PAD``) are recorded as ops ``np.<ufunc>``, so masks computed
    with NumPy from the input stay in the graph. Anything else gives plain arrays."""

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        plain = [x.view(np.ndarray) if isinstance(x, TracedArray) else x for x in inputs]
        run = lambda: getattr(ufunc, method)(*plain, **kwargs)  # noqa: E731
        tracer = _ACTIVE[-1] if _ACTIVE else None
        if tracer is None or kwargs.get("out") is not None:
            return run()
        name = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        out = tracer._record(name, ufunc, inputs, kwargs, run)
        if tracer.calls and tracer.calls[-1].out is out and isinstance(out, np.ndarray):
            view = out.view(TracedArray)
            tracer.calls[-1].out = view
            tracer.live[id(view)] = next(tracer.counter)
            tracer.keep.append(view)
            return view
        return out


_TENSOR_METHODS = {  # tensor.py's own methods that compute: traced under these names
    "astype": "astype", "float": "float", "double": "double", "to": "to", "type_as": "type_as",
    "clone": "clone", "detach": "detach", "__iadd__": "add", "__isub__": "sub",
    "__imul__": "mul", "__itruediv__": "div", "add_": "add", "sub_": "sub", "mul_": "mul",
}  # fmt: skip


@dataclass
class Call:
    """One recorded op: its name, function, arguments (bound to names), output and layer."""

    name: str
    fn: Callable
    args: tuple
    kwargs: dict
    out: Any
    where: str
    module: Module | None = None
    params: dict = field(default_factory=dict)

    def bind(self) -> None:
        """Fill ``params``: the arguments by parameter name, defaults included."""
        try:
            bound = inspect.signature(self.fn).bind(*self.args, **self.kwargs)
        except (TypeError, ValueError):
            self.params = {f"arg{i}": a for i, a in enumerate(self.args)} | self.kwargs
            return
        bound.apply_defaults()
        self.params = dict(bound.arguments)
        for name, p in inspect.signature(self.fn).parameters.items():
            if p.kind is p.VAR_POSITIONAL:
                self.params[name] = tuple(self.params.get(name, ()))


def tensors_in(obj: Any) -> Iterator[Tensor]:
    """Every Tensor inside nested tuples, lists and dicts, in order."""
    return (leaf for leaf in leaves_in(obj) if isinstance(leaf, Tensor))


def leaves_in(obj: Any) -> Iterator[Any]:
    """Every non-container leaf (tensors, arrays, numbers, slices, ...) in order."""
    if isinstance(obj, tuple | list):
        for o in obj:
            yield from leaves_in(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from leaves_in(o)
    else:
        yield obj


class Tracer:
    """Context manager recording the outermost op calls on values derived from the inputs."""

    def __init__(self, model: Module, whole: tuple[type, ...]) -> None:
        self.calls: list[Call] = []
        self.whole = whole
        self.model = model
        self.names = {id(m): name or "(model)" for name, m in model.named_modules()}
        self.path: list[str] = []
        self.depth = 0
        self.live: dict[int, int] = {}  # id(tensor) or id(array) -> value number
        self.counter = itertools.count()
        self.keep: list[Any] = []  # traced objects stay alive so their ids stay unique
        self._undo: list[tuple[Any, str, Any]] = []

    # --- values -----------------------------------------------------------------------------
    def mark(self, t: Tensor, value: int) -> None:
        """Record that ``t`` (and the array it holds) carries traced value number ``value``."""
        self.live[id(t)] = value
        self.live[id(t._data)] = value
        self.keep += [t, t._data]

    def value_of(self, t: Tensor) -> int | None:
        """The traced value number of ``t``, or None for constants and parameters."""
        v = self.live.get(id(t))
        return v if v is not None else self.live.get(id(t._data))

    def _touches(self, args: tuple, kwargs: dict) -> bool:
        if any(self.value_of(t) is not None for t in tensors_in((args, kwargs))):
            return True
        return any(
            isinstance(a, TracedArray) and id(a) in self.live for a in leaves_in((args, kwargs))
        )

    def numpy_view(self, t: Tensor, original: Callable) -> Callable:
        """``Tensor.numpy`` that hands out a traced value's array as a :class:`TracedArray`."""

        def numpy(tensor: Tensor, force: bool = False) -> np.ndarray:
            arr = original(tensor, force)
            key = self.value_of(tensor)
            if self.depth or key is None:
                return arr
            view = arr.view(TracedArray)
            self.live[id(view)] = key
            self.keep.append(view)
            return view

        return numpy

    def where(self) -> str:
        """The innermost running layer, as 'path (Class)'."""
        return self.path[-1] if self.path else "(model)"

    # --- recording --------------------------------------------------------------------------
    def _record(self, name: str, fn: Callable, args: tuple, kwargs: dict, run: Callable) -> Any:
        if self.depth or not self._touches(args, kwargs):
            return run()
        self.depth += 1
        try:
            out = run()
        finally:
            self.depth -= 1
        call = Call(name, fn, args, kwargs, out, self.where())
        self.calls.append(call)
        for t in tensors_in(out):
            self.mark(t, next(self.counter))
        self.keep.append((args, kwargs, out))
        return out

    def _wrap(self, name: str, fn: Callable) -> Callable:
        def traced(*args: Any, **kwargs: Any) -> Any:
            return self._record(name, fn, args, kwargs, lambda: fn(*args, **kwargs))

        traced.__wrapped__ = fn
        return traced

    def _module_call(self, original: Callable) -> Callable:
        tracer = self

        def call(module: Module, *args: Any, **kwargs: Any) -> Any:
            name = tracer.names.get(id(module), "?")
            tracer.path.append(f"{name} ({type(module).__name__})")
            try:
                if isinstance(module, tracer.whole):
                    run = lambda: original(module, *args, **kwargs)  # noqa: E731
                    out = tracer._record(type(module).__name__, original, args, kwargs, run)
                    if tracer.calls and tracer.calls[-1].out is out:
                        tracer.calls[-1].module = module
                    return out
                return original(module, *args, **kwargs)
            finally:
                tracer.path.pop()

        return call

    # --- patching ---------------------------------------------------------------------------
    def _set(self, owner: Any, name: str, value: Any) -> None:
        self._undo.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, value)

    def _op_functions(self, extra: dict[Callable, str]) -> dict[Callable, Callable]:
        wrapped: dict[Callable, Callable] = {}
        for modname, mod in list(sys.modules.items()):
            if mod is None or not modname.startswith("neuralab.ops.") or "._" in modname:
                continue
            for name, fn in vars(mod).items():
                if inspect.isfunction(fn) and fn.__module__ == modname and name[0] != "_":
                    wrapped[fn] = self._wrap(name, fn)
        for fn, name in extra.items():
            wrapped[fn] = self._wrap(name, fn)
        return wrapped

    def _patch_static(self, cls: type, wrapped: dict[Callable, Callable]) -> None:
        """Layers holding an op as a class attribute (``_fn = staticmethod(F.relu)``)."""
        for name, value in list(vars(cls).items()):
            if isinstance(value, staticmethod) and value.__func__ in wrapped:
                self._set(cls, name, staticmethod(wrapped[value.__func__]))

    def __enter__(self) -> Tracer:
        _LOCK.acquire()  # one trace at a time: the patches are process-wide
        try:
            self._patch()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _patch(self) -> None:
        from neuralab.onnx.symbolic import SYMBOLIC_FUNCTIONS

        wrapped = self._op_functions(SYMBOLIC_FUNCTIONS)
        for modname, mod in list(sys.modules.items()):
            if (
                mod is None
                or not modname.startswith("neuralab")
                or modname.startswith("neuralab.onnx")
            ):
                continue
            for name, value in list(vars(mod).items()):
                if inspect.isfunction(value) and value in wrapped:
                    self._set(mod, name, wrapped[value])
                elif inspect.isclass(value) and value.__module__ == modname:
                    self._patch_static(value, wrapped)
        for m in self.model.modules():  # ops held by a layer (activation=F.gelu)
            for name, value in list(vars(m).items()):
                if inspect.isfunction(value) and value in wrapped:
                    self._set(m, name, wrapped[value])
        for name, value in list(vars(Tensor).items()):
            if name in _TENSOR_METHODS:
                self._set(Tensor, name, self._wrap(_TENSOR_METHODS[name], value))
            elif inspect.isfunction(value) and value.__module__.startswith("neuralab.ops"):
                label = name if value.__name__ in ("<lambda>", "method") else value.__name__
                self._set(Tensor, name, self._wrap(label, value))
        self._set(Module, "__call__", self._module_call(Module.__call__))
        self._set(Tensor, "numpy", self.numpy_view(Tensor, Tensor.numpy))
        _ACTIVE.append(self)

    def __exit__(self, *exc: object) -> None:
        if self in _ACTIVE:
            _ACTIVE.remove(self)
        for owner, name, value in reversed(self._undo):
            setattr(owner, name, value)
        self._undo.clear()
        _LOCK.release()


def resized(x: Any, axes: dict[int, int]) -> Any:
    """``x`` with each axis in ``axes`` grown by its count, rows taken round-robin (rotated)."""
    arr = x.numpy() if isinstance(x, Tensor) else np.asarray(x)
    for axis, grow in axes.items():
        n = arr.shape[axis]
        arr = np.take(arr, np.arange(1, n + grow + 1) % n, axis=axis)
    return Tensor(arr, dtype=arr.dtype) if isinstance(x, Tensor) else arr
