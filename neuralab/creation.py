"""Tensor factories (zeros, ones, full, arange, rand, ...) with torch's overloads and dtype rules,
and torch's legacy tensor types (``FloatTensor``, ``LongTensor``, ...). CPU only: a ``device=``
other than the CPU is refused with an error that says so."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from neuralab.device import require_cpu
from neuralab.dtypes import as_dtype, bool_, check_layout, int64
from neuralab.random import generator as global_generator
from neuralab.tensor import (
    Size,
    Tensor,
    _check_grad_dtype,
    as_tensor,
    constant,
    get_default_dtype,
    legacy_new,
)
from neuralab.tensor_surface import TYPE_NAMES

# --------------------------------------------------------------------------- shared argument checks


def _shape(args: tuple, size: Any, where: str) -> tuple[int, ...]:
    """The shape from ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(size=(2, 3))``."""
    if size is not None:
        if args:
            raise TypeError(f"{where}: the size was given both positionally and as size=")
        args = (size,)
    if not args:
        raise TypeError(f"{where}: missing the size, e.g. {where}(2, 3) or {where}((2, 3))")
    if len(args) == 1 and (
        isinstance(args[0], tuple | list)
        or (isinstance(args[0], np.ndarray | Tensor) and args[0].ndim)
    ):
        args = tuple(args[0])
    try:
        shape = tuple(operator.index(s) for s in args)
    except TypeError:
        raise TypeError(
            f"{where}: size must be ints or one sequence of ints, got {args!r}"
        ) from None
    if any(s < 0 for s in shape):
        raise RuntimeError(f"{where}: sizes must be non-negative, got {shape}")
    return shape


def _dtype(dtype: Any, where: str, default: np.dtype | None = None) -> np.dtype:
    """``dtype`` as a NumPy dtype; the default float dtype (or ``default``) when None."""
    if dtype is None:
        return get_default_dtype() if default is None else default
    return as_dtype(dtype, where)


def _float_dtype(dtype: Any, where: str) -> np.dtype:
    dtype = _dtype(dtype, where)
    if dtype.kind != "f":
        raise TypeError(f"{where}: dtype must be a floating-point dtype, got {dtype}")
    return dtype


def _finish(arr: np.ndarray, where: str, device: Any, layout: Any, requires_grad: bool) -> Tensor:
    """Wrap a factory's array, after checking its device, layout and requires_grad."""
    require_cpu(device, where)
    check_layout(layout, where)
    out = constant(arr)
    if requires_grad:
        _check_grad_dtype(arr)
        out.requires_grad = True
    return out


def _rng(gen: Any, where: str) -> np.random.Generator:
    """The generator to draw from: the global one, or the NumPy Generator given."""
    if gen is None:
        return global_generator()
    if not isinstance(gen, np.random.Generator):
        raise TypeError(f"{where}: generator must be a numpy.random.Generator, got {gen!r}")
    return gen


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, Tensor) else value


def _kind_dtype(value: Any) -> np.dtype:
    """The dtype torch infers for a Python or NumPy scalar: bool, int64, default float, complex."""
    kind = np.asarray(value).dtype.kind
    if kind == "b":
        return bool_
    if kind in "iu":
        return int64
    if kind == "c":
        return np.dtype(np.complex64 if get_default_dtype() == np.float32 else np.complex128)
    return get_default_dtype()


# --------------------------------------------------------------------------- filled tensors


def zeros(
    *args: Any, size: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
    requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    """A tensor of zeros: ``zeros(2, 3)``, ``zeros((2, 3))``, ``zeros(size=(2, 3))``."""
    arr = np.zeros(_shape(args, size, "zeros"), _dtype(dtype, "zeros"))
    return _finish(arr, "zeros", device, layout, requires_grad)


def ones(
    *args: Any, size: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
    requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    """A tensor of ones."""
    arr = np.ones(_shape(args, size, "ones"), _dtype(dtype, "ones"))
    return _finish(arr, "ones", device, layout, requires_grad)


def empty(
    *args: Any, size: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
    requires_grad: bool = False, pin_memory: bool = False, memory_format: Any = None,
) -> Tensor:  # fmt: skip
    """An uninitialized tensor."""
    arr = np.empty(_shape(args, size, "empty"), _dtype(dtype, "empty"))
    return _finish(arr, "empty", device, layout, requires_grad)


def empty_strided(
    size: Any, stride: Any, *, dtype: Any = None, layout: Any = None, device: Any = None,
    requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    """An uninitialized tensor of shape ``size`` whose elements lie ``stride`` apart (in
    elements) in a buffer just large enough; a stride of 0 makes elements share memory."""
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    if len(size) != len(stride) or min(size + stride, default=0) < 0:
        raise ValueError(
            f"empty_strided: size {size} and stride {stride} must pair up, non-negative"
        )
    dtype = _dtype(dtype, "empty_strided")
    needed = 0 if 0 in size else 1 + sum((n - 1) * s for n, s in zip(size, stride))
    steps = tuple(s * dtype.itemsize for s in stride)
    arr = np.lib.stride_tricks.as_strided(np.empty(needed, dtype), size, steps)
    return _finish(arr, "empty_strided", device, layout, requires_grad)


def full(
    size: Any, fill_value: Any, *, dtype: Any = None, layout: Any = None, device: Any = None,
    requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    """``fill_value`` everywhere; without ``dtype``, bool for a bool, int64 for an int, the
    default float for a float (as torch)."""
    fill_value = _scalar(fill_value)
    dtype = _dtype(dtype, "full", _kind_dtype(fill_value))
    arr = np.full(_shape((size,), None, "full"), fill_value, dtype)
    return _finish(arr, "full", device, layout, requires_grad)


def eye(
    n: int, m: int | None = None, *, dtype: Any = None, layout: Any = None, device: Any = None,
    requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    """The identity matrix (``n`` x ``m``, square by default)."""
    arr = np.eye(n, m, dtype=_dtype(dtype, "eye"))
    return _finish(arr, "eye", device, layout, requires_grad)


# --------------------------------------------------------------------------- ranges


def arange(
    start: Any = 0, end: Any = None, step: Any = 1, *, dtype: Any = None, layout: Any = None,
    device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """Values from ``start`` to ``end`` (excluded) by ``step``; int64 when all three are
    integers, else the default float dtype (as torch)."""
    if end is None:
        start, end = 0, start
    start, end, step = _scalar(start), _scalar(end), _scalar(step)
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange: the bounds are inconsistent with the step's sign, got start={start}, "
            f"end={end}, step={step}"
        )
    integral = all(np.asarray(v).dtype.kind in "iub" for v in (start, end, step))
    dtype = _dtype(dtype, "arange", int64 if integral else None)
    arr = np.arange(start, end, step, dtype=np.float64 if dtype.kind == "f" else None)
    return _finish(arr.astype(dtype, copy=False), "arange", device, layout, requires_grad)


def inclusive_range(
    start: Any = 0, end: Any = None, step: Any = 1, *, dtype: Any = None, layout: Any = None,
    device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """torch.range, which torch deprecates for :func:`arange`: ``start`` to ``end`` *included*
    by ``step``, in the default float dtype unless ``dtype`` says otherwise."""
    if end is None:
        raise TypeError('range() missing 1 required positional argument: "end"')
    start, end, step = _scalar(start), _scalar(end), _scalar(step)
    if step == 0 or (end - start) * step < 0:
        raise RuntimeError(
            f"range: the bounds are inconsistent with the step, got start={start}, end={end}, "
            f"step={step}"
        )
    count = int(np.floor((end - start) / step + 1e-9)) + 1
    arr = start + step * np.arange(count, dtype=np.float64)
    dtype = _dtype(dtype, "range")
    return _finish(arr.astype(dtype), "range", device, layout, requires_grad)


def asarray(
    obj: Any, *, dtype: Any = None, device: Any = None, copy: bool | None = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """``obj`` as a tensor (torch.asarray): a tensor or an ndarray shares its memory when its
    dtype fits, unless ``copy`` is True; ``copy=False`` refuses to copy."""
    out = as_tensor(obj, dtype)
    source = obj._data if isinstance(obj, Tensor) else obj
    shares = isinstance(source, np.ndarray) and np.shares_memory(out._data, source)
    if copy is False and not shares:
        raise ValueError("asarray: copy=False, but the data cannot be used without a copy")
    arr = out._data.copy() if copy and shares else out._data
    return _finish(arr, "asarray", device, None, requires_grad)


def scalar_tensor(
    s: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A 0-d tensor holding ``s``, in the default float dtype unless ``dtype`` says otherwise."""
    arr = np.array(_scalar(s), dtype=_dtype(dtype, "scalar_tensor"))
    return _finish(arr, "scalar_tensor", device, None, requires_grad)


def linspace(
    start: Any, end: Any, steps: int, *, dtype: Any = None, layout: Any = None,
    device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    if operator.index(steps) < 0:
        raise RuntimeError(f"linspace: steps must be non-negative, got {steps}")
    arr = np.linspace(_scalar(start), _scalar(end), steps).astype(_dtype(dtype, "linspace"))
    return _finish(arr, "linspace", device, layout, requires_grad)


def logspace(
    start: Any, end: Any, steps: int, base: float = 10.0, *, dtype: Any = None,
    layout: Any = None, device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """``base`` to the powers ``linspace(start, end, steps)``."""
    if operator.index(steps) < 0:
        raise RuntimeError(f"logspace: steps must be non-negative, got {steps}")
    powers = np.linspace(_scalar(start), _scalar(end), steps)
    arr = np.power(float(base), powers).astype(_dtype(dtype, "logspace"))
    return _finish(arr, "logspace", device, layout, requires_grad)


def _window(
    where: str, window_length: int, periodic: bool, dtype: Any, layout: Any, device: Any,
    requires_grad: bool, shape: Callable[[np.ndarray], np.ndarray],
) -> Tensor:  # fmt: skip
    """A window of ``window_length`` values: ``shape(t)`` at t = k / N for k < window_length,
    N = window_length (periodic, for spectral analysis) or window_length - 1 (symmetric)."""
    n = operator.index(window_length)
    if n < 0:
        raise RuntimeError(f"{where}: window_length must be non-negative, got {window_length}")
    if n <= 1:
        arr = np.ones(n)
    else:
        arr = shape(np.arange(n) / (n if periodic else n - 1))
    return _finish(arr.astype(_float_dtype(dtype, where)), where, device, layout, requires_grad)


def hann_window(
    window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
    device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """The Hann window, sin²(π t) (torch.hann_window)."""
    return _window("hann_window", window_length, periodic, dtype, layout, device, requires_grad,
                   lambda t: 0.5 - 0.5 * np.cos(2 * np.pi * t))  # fmt: skip


def hamming_window(
    window_length: int, periodic: bool = True, alpha: float = 0.54, beta: float = 0.46, *,
    dtype: Any = None, layout: Any = None, device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """The Hamming window, α − β cos(2π t) (torch.hamming_window)."""
    return _window("hamming_window", window_length, periodic, dtype, layout, device,
                   requires_grad, lambda t: alpha - beta * np.cos(2 * np.pi * t))  # fmt: skip


def blackman_window(
    window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
    device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """The Blackman window, 0.42 − 0.5 cos(2π t) + 0.08 cos(4π t) (torch.blackman_window)."""

    def shape(t: np.ndarray) -> np.ndarray:
        return 0.42 - 0.5 * np.cos(2 * np.pi * t) + 0.08 * np.cos(4 * np.pi * t)

    return _window("blackman_window", window_length, periodic, dtype, layout, device,
                   requires_grad, shape)  # fmt: skip


def bartlett_window(
    window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
    device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """The Bartlett (triangular) window, 1 − |2t − 1| (torch.bartlett_window)."""
    return _window("bartlett_window", window_length, periodic, dtype, layout, device,
                   requires_grad, lambda t: 1 - np.abs(2 * t - 1))  # fmt: skip


def kaiser_window(
    window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype: Any = None,
    layout: Any = None, device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """The Kaiser window, I₀(β √(1 − (2t − 1)²)) / I₀(β) (torch.kaiser_window)."""

    def shape(t: np.ndarray) -> np.ndarray:
        return np.i0(beta * np.sqrt(np.clip(1 - (2 * t - 1) ** 2, 0, None))) / np.i0(beta)

    return _window("kaiser_window", window_length, periodic, dtype, layout, device,
                   requires_grad, shape)  # fmt: skip


def frombuffer(
    buffer: Any, *, dtype: Any, count: int = -1, offset: int = 0, requires_grad: bool = False
) -> Tensor:
    """A 1-D tensor over the bytes of ``buffer`` (bytes, bytearray, memoryview, array), sharing
    them when the buffer is writable (torch.frombuffer)."""
    arr = np.frombuffer(buffer, dtype=as_dtype(dtype, "frombuffer"), count=count, offset=offset)
    return _finish(arr, "frombuffer", None, None, requires_grad)


# --------------------------------------------------------------------------- random


def rand(
    *args: Any, size: Any = None, generator: Any = None, dtype: Any = None, layout: Any = None,
    device: Any = None, requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    """Uniform samples in [0, 1)."""
    dtype = _float_dtype(dtype, "rand")
    arr = _rng(generator, "rand").random(_shape(args, size, "rand")).astype(dtype, copy=False)
    return _finish(arr, "rand", device, layout, requires_grad)


def randn(
    *args: Any, size: Any = None, generator: Any = None, dtype: Any = None, layout: Any = None,
    device: Any = None, requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    """Standard normal samples."""
    dtype = _float_dtype(dtype, "randn")
    shape = _shape(args, size, "randn")
    arr = _rng(generator, "randn").standard_normal(shape).astype(dtype, copy=False)
    return _finish(arr, "randn", device, layout, requires_grad)


def _randint_bounds(args: tuple, low: Any, high: Any, size: Any) -> tuple[Any, Any, Any]:
    """torch's randint overloads: (high, size), (low, high, size), and keywords for each."""
    if size is None and args:
        args, size = args[:-1], args[-1]
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        low, high = (0 if low is None else low, args[0]) if high is None else (args[0], high)
    elif args:
        raise TypeError("randint: expected (high, size) or (low, high, size) positionally")
    if high is None or size is None:
        raise TypeError("randint: needs high and size, as randint(high, size) or (low, high, size)")
    if not isinstance(size, tuple | list | Size):
        raise TypeError(f"randint: size must be a tuple of ints, got {type(size).__name__}")
    return (0 if low is None else _scalar(low)), _scalar(high), size


def randint(
    *args: Any, low: Any = None, high: Any = None, size: Any = None, generator: Any = None,
    dtype: Any = None, layout: Any = None, device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """Integers in [low, high) (int64 unless ``dtype`` says otherwise): ``randint(10, (3,))``,
    ``randint(2, 10, (3,))``, ``randint(low=2, high=10, size=(3,))``."""
    low, high, size = _randint_bounds(args, low, high, size)
    if low >= high:
        raise RuntimeError(f"randint: low must be less than high, got low={low}, high={high}")
    arr = _rng(generator, "randint").integers(low, high, _shape((size,), None, "randint"))
    arr = arr.astype(_dtype(dtype, "randint", int64), copy=False)
    return _finish(arr, "randint", device, layout, requires_grad)


# --------------------------------------------------------------------------- *_like


def _like(where: str, input: Tensor, dtype: Any, kwargs: dict) -> dict:
    """The keywords for a ``*_like`` factory: ``input``'s dtype unless given, the device checked
    under the factory's own name, ``memory_format`` dropped (NumPy picks the layout)."""
    kwargs.pop("memory_format", None)
    require_cpu(kwargs.pop("device", None), where)
    return {"dtype": input.dtype if dtype is None else dtype, **kwargs}


def zeros_like(input: Tensor, *, dtype: Any = None, **kwargs: Any) -> Tensor:
    """Zeros with ``input``'s shape and dtype (unless ``dtype`` is given)."""
    return zeros(input.shape, **_like("zeros_like", input, dtype, kwargs))


def ones_like(input: Tensor, *, dtype: Any = None, **kwargs: Any) -> Tensor:
    """Ones with ``input``'s shape and dtype."""
    return ones(input.shape, **_like("ones_like", input, dtype, kwargs))


def empty_like(input: Tensor, *, dtype: Any = None, **kwargs: Any) -> Tensor:
    """An uninitialized tensor with ``input``'s shape and dtype."""
    return empty(input.shape, **_like("empty_like", input, dtype, kwargs))


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, **kwargs: Any) -> Tensor:
    """``fill_value`` everywhere, with ``input``'s shape and dtype."""
    return full(input.shape, fill_value, **_like("full_like", input, dtype, kwargs))


def rand_like(input: Tensor, *, dtype: Any = None, **kwargs: Any) -> Tensor:
    """Uniform samples with ``input``'s shape and dtype."""
    return rand(input.shape, **_like("rand_like", input, dtype, kwargs))


def randn_like(input: Tensor, *, dtype: Any = None, **kwargs: Any) -> Tensor:
    """Standard normal samples with ``input``'s shape and dtype."""
    return randn(input.shape, **_like("randn_like", input, dtype, kwargs))


def randint_like(
    input: Tensor, low: Any = 0, high: Any = None, *, dtype: Any = None, **kwargs: Any
) -> Tensor:
    """Integers in [low, high) with ``input``'s shape and dtype: ``randint_like(t, 10)`` or
    ``randint_like(t, 2, 10)``."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), **_like("randint_like", input, dtype, kwargs))


# --------------------------------------------------------------------------- legacy tensor types


class _LegacyTensorType(type):
    """The type of ``FloatTensor`` & co: calling one builds a tensor of its dtype as torch's
    legacy constructors do; ``isinstance(t, FloatTensor)`` tells whether ``t`` is float32."""

    dtype: np.dtype

    def __call__(cls, *args: Any, device: Any = None) -> Tensor:
        return legacy_new(args, cls.dtype, device, cls.__name__)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj._data.dtype == cls.dtype


def _legacy_type(name: str) -> _LegacyTensorType:
    dtype = next(d for d, n in TYPE_NAMES.items() if n == name)
    doc = f"torch's legacy {name}: ``{name}(2, 3)`` or ``{name}([1, 2])`` makes a {dtype} tensor."
    return _LegacyTensorType(name, (), {"dtype": dtype, "__module__": "neuralab", "__doc__": doc})


FloatTensor = _legacy_type("FloatTensor")
DoubleTensor = _legacy_type("DoubleTensor")
HalfTensor = _legacy_type("HalfTensor")
LongTensor = _legacy_type("LongTensor")
IntTensor = _legacy_type("IntTensor")
ShortTensor = _legacy_type("ShortTensor")
CharTensor = _legacy_type("CharTensor")
ByteTensor = _legacy_type("ByteTensor")
BoolTensor = _legacy_type("BoolTensor")
