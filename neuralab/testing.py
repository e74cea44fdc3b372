"""torch.testing: :func:`assert_close` (tensors, arrays, numbers and nested sequences or mappings
of them, with torch's per-dtype tolerances and failure messages) and :func:`make_tensor` (random
test tensors), so that tests written against torch.testing run unchanged."""

from __future__ import annotations

import cmath
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuralab import random
from neuralab.device import CPU
from neuralab.dtypes import as_dtype, promote_types, strided
from neuralab.sparse import SparseTensor
from neuralab.tensor import Size, Tensor, as_tensor, get_default_dtype

__all__ = ["assert_close", "make_tensor"]

# (rtol, atol) by dtype, torch's table; every other dtype (integers, bool) compares exactly
_TOLERANCES = {
    np.dtype(np.float16): (1e-3, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
    np.dtype(np.complex64): (1.3e-6, 1e-5),
    np.dtype(np.complex128): (1e-7, 1e-7),
}
_NUMBER_DTYPES = {
    int: np.dtype(np.int64),
    float: np.dtype(np.float64),
    complex: np.dtype(np.complex128),
}

Message = str | Callable[[str], str] | None


class _Mismatch(Exception):
    """A failed check: the exception to raise, its message and where in the nested inputs."""

    def __init__(self, kind: type[Exception], text: str, path: tuple = ()) -> None:
        super().__init__(text)
        self.kind, self.text, self.path = kind, text, path

    def error(self, msg: Message) -> Exception:
        if isinstance(msg, str):
            return self.kind(msg)
        text = self.text
        if self.path:
            text += "\n\nThe failure occurred for item " + "".join(str([k]) for k in self.path)
        return self.kind(msg(text) if callable(msg) else text)


@dataclass(frozen=True)
class _Options:
    rtol: float | None
    atol: float | None
    equal_nan: bool
    check_device: bool
    check_dtype: bool
    check_layout: bool
    check_stride: bool
    allow_subclasses: bool


def assert_close(
    actual: Any,
    expected: Any,
    *,
    allow_subclasses: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    check_device: bool = True,
    check_dtype: bool = True,
    check_layout: bool = True,
    check_stride: bool = False,
    msg: Message = None,
) -> None:
    """Raise AssertionError unless ``actual`` and ``expected`` are close (torch.testing's).

    Tensors (or NumPy arrays, compared with arrays) must have the same shape, dtype, device and
    layout, and ``|actual - expected| <= atol + rtol * |expected|`` elementwise, with torch's
    default ``rtol``/``atol`` for the dtype (float32: 1.3e-6/1e-5, float64: 1e-7/1e-7; exact for
    integers and bool) unless both are given. Python and NumPy numbers, bools and None compare
    with each other; sequences and mappings compare item by item. ``msg`` replaces the
    message, or (a callable) rewrites it.
    """
    __tracebackhide__ = True
    options = _Options(
        rtol, atol, equal_nan, check_device, check_dtype, check_layout, check_stride,
        allow_subclasses,
    )  # fmt: skip
    try:
        checks = _checks(actual, expected, (), options)
        for check in checks:
            check()
    except _Mismatch as mismatch:
        raise mismatch.error(msg) from None


def _checks(actual: Any, expected: Any, path: tuple, options: _Options) -> list[Callable]:
    """One check per pair of leaves, made after the whole structure and every leaf's type were
    found to match (as torch does, a structural error wins over an earlier value mismatch)."""
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise _Mismatch(
                AssertionError,
                f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                path,
            )
        pairs = [(actual[i], expected[i], i) for i in range(len(actual))]
    elif isinstance(actual, Mapping) and isinstance(expected, Mapping):
        pairs = [(actual[k], expected[k], k) for k in _same_keys(actual, expected, path)]
    else:
        return [_leaf_check(actual, expected, path, options)]
    checks = []
    for a, e, key in pairs:
        checks += _checks(a, e, (*path, key), options)
    return checks


def _is_sequence(x: Any) -> bool:
    return isinstance(x, Sequence) and not isinstance(x, str)


def _same_keys(actual: Mapping, expected: Mapping, path: tuple) -> list:
    keys, wanted = set(actual.keys()), set(expected.keys())
    if keys != wanted:
        raise _Mismatch(
            AssertionError,
            "The keys of the mappings do not match:\n"
            f"Missing keys in the actual mapping: {sorted(wanted - keys)}\n"
            f"Additional keys in the actual mapping: {sorted(keys - wanted)}",
            path,
        )
    try:
        return sorted(keys)
    except TypeError:
        return list(keys)


def _leaf_check(actual: Any, expected: Any, path: tuple, options: _Options) -> Callable:
    """The check of two leaves, by what they are: None, bools, numbers, or tensor-likes."""
    if actual is None or expected is None:
        return lambda: _check_none(actual, expected, path)
    if isinstance(actual, bool | np.bool_) and isinstance(expected, bool | np.bool_):
        return lambda: _check_bools(bool(actual), bool(expected), path)
    if _is_number(actual) and _is_number(expected):
        a, e = (x.item() if isinstance(x, np.generic) else x for x in (actual, expected))
        dtypes = [_NUMBER_DTYPES.get(type(x), np.int64) for x in (a, e)]
        tolerances = _tolerances(dtypes, options, path)
        return lambda: _check_numbers(a, e, tolerances, options, path)
    if _related(actual, expected, options.allow_subclasses):
        tolerances = _tolerances([actual.dtype, expected.dtype], options, path)
        return lambda: _check_tensors(actual, expected, tolerances, options, path)
    raise _Mismatch(
        TypeError,
        f"No comparison pair was able to handle inputs of type {type(actual)} and "
        f"{type(expected)}.",
        path,
    )


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float | complex | np.number)


def _related(actual: Any, expected: Any, allow_subclasses: bool) -> bool:
    """Whether two tensor-likes compare: both neuralab tensors (dense or sparse, as both are
    torch.Tensor in torch) or both arrays, one an instance of the other's type."""
    kinds = (Tensor, SparseTensor, np.ndarray)
    if not (isinstance(actual, kinds) and isinstance(expected, kinds)):
        return False
    if not allow_subclasses:
        return type(actual) is type(expected)
    tensors = (Tensor, SparseTensor)
    if isinstance(actual, tensors) and isinstance(expected, tensors):
        if SparseTensor in (type(actual), type(expected)):
            return True  # a layout mismatch, reported as one
    return isinstance(actual, type(expected)) or isinstance(expected, type(actual))


def _tolerances(dtypes: list, options: _Options, path: tuple) -> tuple[float, float]:
    """The given ``rtol``/``atol``, or the loosest defaults of ``dtypes``."""
    rtol, atol = options.rtol, options.atol
    if (rtol is None) != (atol is None):
        missing = "rtol" if rtol is None else "atol"
        raise _Mismatch(
            ValueError,
            f"Both 'rtol' and 'atol' must be either specified or omitted, but got no {missing}.",
            path,
        )
    if rtol is not None:
        return rtol, atol
    found = [_TOLERANCES.get(np.dtype(d), (0.0, 0.0)) for d in dtypes]
    return max(r for r, _ in found), max(a for _, a in found)


# ----------------------------------------------------------------------------- leaf checks


def _check_none(actual: Any, expected: Any, path: tuple) -> None:
    if not (actual is None and expected is None):
        raise _Mismatch(AssertionError, f"None mismatch: {actual} is not {expected}", path)


def _check_bools(actual: bool, expected: bool, path: tuple) -> None:
    if actual is not expected:
        raise _Mismatch(AssertionError, f"Booleans mismatch: {actual} is not {expected}", path)


def _check_numbers(
    actual: Any, expected: Any, tolerances: tuple[float, float], options: _Options, path: tuple
) -> None:
    if options.check_dtype and type(actual) is not type(expected):
        raise _Mismatch(
            AssertionError,
            f"The (d)types do not match: {type(actual)} != {type(expected)}.",
            path,
        )
    if actual == expected:
        return
    if options.equal_nan and cmath.isnan(actual) and cmath.isnan(expected):
        return
    rtol, atol = tolerances
    diff = abs(actual - expected)
    if cmath.isfinite(diff) and diff <= atol + rtol * abs(expected):
        return
    raise _Mismatch(AssertionError, _scalar_message(actual, expected, rtol, atol), path)


def _check_tensors(
    actual: Any, expected: Any, tolerances: tuple[float, float], options: _Options, path: tuple
) -> None:
    _check_attributes(actual, expected, options, path)
    if _layout(actual) is not strided and _layout(expected) is not strided:
        _check_sparse(actual, expected, tolerances, options, path)
        return
    a, e = _values(actual), _values(expected)
    if a.dtype != e.dtype:
        common = promote_types(_signed(a.dtype), _signed(e.dtype))
        a, e = a.astype(common), e.astype(common)
    _check_values(a, e, tolerances, options.equal_nan, path)


def _check_attributes(actual: Any, expected: Any, options: _Options, path: tuple) -> None:
    """Shape always; layout, strides, device and dtype as the ``check_*`` options ask."""

    def differ(name: str, a: Any, e: Any) -> None:
        raise _Mismatch(
            AssertionError, f"The values for attribute '{name}' do not match: {a} != {e}.", path
        )

    if tuple(actual.shape) != tuple(expected.shape):
        differ("shape", Size(actual.shape), Size(expected.shape))
    layouts = _layout(actual), _layout(expected)
    if layouts[0] is not layouts[1]:
        if options.check_layout:
            differ("layout", *layouts)
    elif layouts[0] is strided and options.check_stride:
        strides = _strides(actual), _strides(expected)
        if strides[0] != strides[1]:
            differ("stride()", *strides)
    devices = _device(actual), _device(expected)
    if options.check_device and devices[0] != devices[1]:
        differ("device", *devices)
    if options.check_dtype and actual.dtype != expected.dtype:
        differ("dtype", actual.dtype, expected.dtype)


def _layout(x: Any) -> Any:
    return getattr(x, "layout", strided)


def _device(x: Any) -> Any:
    return getattr(x, "device", CPU) if not isinstance(x, np.ndarray) else CPU


def _strides(x: Any) -> tuple[int, ...]:
    arr = _values(x)
    return tuple(s // arr.itemsize for s in arr.strides)


def _values(x: Any) -> np.ndarray:
    """The dense values of a tensor-like as an array (outside any graph)."""
    if isinstance(x, SparseTensor):
        x = x.to_dense()
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _signed(dtype: np.dtype) -> np.dtype:
    """torch promotes the wide unsigned integers as int64."""
    return np.dtype(np.int64) if dtype.kind == "u" and dtype.itemsize > 1 else dtype


def _check_sparse(
    actual: SparseTensor,
    expected: SparseTensor,
    tolerances: tuple[float, float],
    options: _Options,
    path: tuple,
) -> None:
    """Sparse COO tensors: the same number of sparse dimensions and of stored values, equal
    indices and close values."""
    for what, a, e in [
        ("number of sparse dimensions", actual.sparse_dim(), expected.sparse_dim()),
        ("number of specified values", actual._nnz(), expected._nnz()),
    ]:
        if a != e:
            raise _Mismatch(
                AssertionError, f"The {what} in sparse COO tensors does not match: {a} != {e}", path
            )
    a_idx, e_idx = _values(actual.indices()), _values(expected.indices())
    _check_values(a_idx, e_idx, (0.0, 0.0), False, path, "Sparse COO indices")
    a_val, e_val = _values(actual.values()), _values(expected.values())
    if a_val.dtype != e_val.dtype:
        common = promote_types(a_val.dtype, e_val.dtype)
        a_val, e_val = a_val.astype(common), e_val.astype(common)
    _check_values(a_val, e_val, tolerances, options.equal_nan, path, "Sparse COO values")


# ----------------------------------------------------------------------------- values


def _isclose(a: np.ndarray, e: np.ndarray, rtol: float, atol: float, equal_nan: bool) -> Any:
    """torch.isclose: equal, or both NaN (``equal_nan``), or a finite ``|a - e|`` within
    ``atol + |rtol * e|``, computed as torch does: in the inputs' float dtype, in the default
    float dtype for bools and (the allowed error of) integers."""
    close = a == e
    if equal_nan and a.dtype.kind in "fc":
        close |= np.isnan(a) & np.isnan(e)
    if rtol == 0 and atol == 0:
        return close
    if a.dtype.kind == "b":
        a, e = a.astype(get_default_dtype()), e.astype(get_default_dtype())
    scale = e.astype(get_default_dtype()) if e.dtype.kind in "iu" else e
    with np.errstate(invalid="ignore", over="ignore"):
        error = np.abs(a - e)
        return close | (np.isfinite(error) & (error <= atol + np.abs(rtol * scale)))


def _check_values(
    a: np.ndarray,
    e: np.ndarray,
    tolerances: tuple[float, float],
    equal_nan: bool,
    path: tuple,
    identifier: str | None = None,
) -> None:
    rtol, atol = tolerances
    matches = _isclose(a, e, rtol, atol, equal_nan)
    if np.all(matches):
        return
    if a.ndim == 0:
        text = _scalar_message(a.item(), e.item(), rtol, atol, identifier or "Scalars")
    else:
        text = _tensor_message(a, e, matches, rtol, atol, identifier or "Tensor-likes")
    raise _Mismatch(AssertionError, text, path)


def _scalar_message(
    actual: Any, expected: Any, rtol: float, atol: float, identifier: str = "Scalars"
) -> str:
    diff = abs(actual - expected)
    relative = math.inf if expected == 0 else diff / abs(expected)
    return _message(
        identifier,
        f"Expected {expected} but got {actual}.",
        [("Absolute difference", diff, atol), ("Relative difference", relative, rtol)],
        rtol == 0 and atol == 0,
    )


def _tensor_message(
    a: np.ndarray, e: np.ndarray, matches: np.ndarray, rtol: float, atol: float, identifier: str
) -> str:
    """How many elements differ, and the greatest absolute and relative differences among
    them with where they are."""
    total = matches.size
    wrong = total - int(np.count_nonzero(matches))
    if a.dtype.kind not in "fc":
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        diff = np.abs(a - e).ravel()
        diff[matches.ravel()] = 0
        scale = np.abs(e).ravel()
        if diff.dtype.kind not in "fc":  # torch divides integers in the default float dtype
            diff_f, scale = diff.astype(get_default_dtype()), scale.astype(get_default_dtype())
        else:
            diff_f = diff
        relative = diff_f / scale
        relative[matches.ravel()] = 0
    lines = []
    for name, values, tol in [("absolute", diff, atol), ("relative", relative, rtol)]:
        i = int(np.argmax(values))
        where = tuple(int(k) for k in np.unravel_index(i, a.shape))
        lines.append((f"Greatest {name} difference", values[i].item(), tol, where))
    return _message(
        identifier,
        f"Mismatched elements: {wrong} / {total} ({wrong / total:.1%})",
        lines,
        rtol == 0 and atol == 0,
    )


def _message(identifier: str, extra: str, lines: list[tuple], exact: bool) -> str:
    """torch's layout: a header, ``extra``, then one line per difference with its index (when
    given) and the tolerance allowed (unless the comparison is exact)."""
    text = f"{identifier} are not {'equal' if exact else 'close'}!\n\n{extra}"
    for name, value, tol, *where in lines:
        text += f"\n{name}: {value}" + (f" at index {where[0]}" if where else "")
        if not exact:
            text += f" (up to {tol} allowed)"
    return text


# ----------------------------------------------------------------------------- make_tensor


def make_tensor(
    *shape: int | Sequence[int],
    dtype: Any,
    device: Any = None,
    low: float | None = None,
    high: float | None = None,
    requires_grad: bool = False,
    noncontiguous: bool = False,
    exclude_zero: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """A tensor of ``shape`` and ``dtype`` filled with values drawn uniformly from
    ``[low, high)`` by the global random stream (torch.testing.make_tensor).

    The range defaults to [-9, 9) for floats, [-9, 10) for signed integers, [0, 10) for
    unsigned ones and [0, 2) for bool, and is clamped to what ``dtype`` represents.
    ``noncontiguous`` gives a strided view, ``exclude_zero`` replaces zeros by the smallest
    positive value (1 for integers and bool).
    """
    if len(shape) == 1 and isinstance(shape[0], Sequence):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    dt = as_dtype(dtype, "make_tensor")
    if noncontiguous and memory_format is not None:
        raise ValueError(
            "The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
            f"noncontiguous={noncontiguous} and memory_format={memory_format}"
        )
    if requires_grad and dt.kind not in "fc":
        raise ValueError(
            "`requires_grad=True` is not supported for boolean and integral dtypes, but got "
            f"dtype={dt}"
        )
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:  # twice as long in the last dimension, every other element kept
        shape = (*shape[:-1], 2 * shape[-1])
    values = _random_values(shape, dt, low, high)
    if noncontiguous:
        values = values[..., 1::2]
    if exclude_zero:
        values[values == 0] = 1 if dt.kind in "biu" else _smallest_positive(dt)
    out = as_tensor(values, device=device)
    if requires_grad:
        out.requires_grad_(True)
    return out


def _random_values(shape: tuple, dt: np.dtype, low: Any, high: Any) -> np.ndarray:
    rng = random.generator()
    if dt.kind in "biu":
        lowest, highest = (0, 2) if dt.kind == "b" else _integer_range(dt)
        default = (0, 2) if dt.kind == "b" else (-9, 10)
        lo, hi = _interval(low, high, default, lowest, highest, dt)
        lo, hi = math.ceil(lo), math.ceil(hi)
        draws = rng.integers(lo, hi, shape, dtype=np.int64 if dt.kind == "b" else dt)
        return draws.astype(dt, copy=False)
    if dt.kind not in "fc":
        raise TypeError(f"The requested dtype '{dt}' is not supported by make_tensor()")
    part = np.dtype(dt.char.lower()) if dt.kind == "c" else dt  # a complex's real dtype
    info = np.finfo(part)
    lo, hi = _interval(low, high, (-9, 9), float(info.min), float(info.max), dt)
    parts = [_uniform(rng, shape, lo, hi, part) for _ in range(2 if dt.kind == "c" else 1)]
    return (parts[0] + 1j * parts[1]).astype(dt) if dt.kind == "c" else parts[0]


def _integer_range(dt: np.dtype) -> tuple[int, int]:
    """Where integers can be drawn: [min, max + 1), but only up to max for int64 (as torch)."""
    info = np.iinfo(dt)
    return int(info.min), int(info.max) + (0 if dt == np.int64 else 1)


def _uniform(rng: np.random.Generator, shape: tuple, lo: float, hi: float, dt: Any) -> Any:
    """Uniform in [lo, hi) in ``dt``, without overflow for the widest ranges."""
    u = rng.random(shape)
    values = (lo * (1 - u) + hi * u).astype(dt)
    below = np.nextafter(np.asarray(hi, dt), np.asarray(lo, dt))
    return np.minimum(values, below) if lo < hi else values


def _interval(
    low: Any, high: Any, default: tuple, lowest: float, highest: float, dt: np.dtype
) -> tuple[float, float]:
    """torch's rules for ``low``/``high``: defaults, no NaN, low < high (low == high only for
    floats, deprecated), inside what the dtype holds, then clamped to it."""
    low = default[0] if low is None else low
    high = default[1] if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and dt.kind in "fc":
        warnings.warn(
            "make_tensor: low == high for a floating or complex dtype is deprecated (as in "
            "torch); use neuralab.full instead",
            FutureWarning,
            stacklevel=4,
        )
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(
            f"The value interval specified by `low` and `high` is [{low}, {high}), but {dt} "
            f"only supports [{lowest}, {highest})"
        )
    return min(max(low, lowest), highest), min(max(high, lowest), highest)


def _smallest_positive(dt: np.dtype) -> Any:
    tiny = np.finfo(dt).tiny
    return complex(tiny, tiny) if dt.kind == "c" else tiny
