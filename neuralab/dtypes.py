"""dtypes under torch's names (NumPy dtypes), bfloat16's stand-in, and torch's finfo/iinfo.

neuralab's dtypes are NumPy dtypes, so ``nl.float32 == np.dtype("float32")``. NumPy has no
bfloat16: ``nl.bfloat16`` is a stand-in that raises a clear error wherever NumPy is asked to use
it as a dtype (a factory, ``.to``, ``astype``), while comparing with it stays False.
"""

from __future__ import annotations

from typing import Any

import numpy as np

dtype = np.dtype  # torch.dtype: ``isinstance(t.dtype, nl.dtype)`` holds for every dtype
float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
complex64 = np.dtype(np.complex64)
complex128 = np.dtype(np.complex128)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

BFLOAT16_ERROR = (
    "bfloat16 is not supported here (NumPy has no bfloat16): use float32, or float16 to save memory"
)


class _BFloat16:
    """``nl.bfloat16``: NumPy reads ``.dtype`` of any object it is given as a dtype, so using
    this one anywhere as a dtype raises :data:`BFLOAT16_ERROR`."""

    __slots__ = ()
    is_floating_point = True
    itemsize = 2

    @property
    def dtype(self) -> np.dtype:
        raise TypeError(BFLOAT16_ERROR)

    def __repr__(self) -> str:
        return "neuralab.bfloat16"


bfloat16 = _BFloat16()


def as_dtype(dtype: Any, where: str) -> np.dtype | None:
    """``dtype`` (a NumPy dtype, a NumPy scalar type, a Python type) as a NumPy dtype, or None.

    ``where`` names the caller in the error raised for something that is not a dtype.
    """
    if dtype is None or isinstance(dtype, np.dtype):
        return dtype
    if dtype is bfloat16:
        raise TypeError(f"{where}: {BFLOAT16_ERROR}")
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{where}: expected a dtype such as float32, got {dtype!r}") from None


def promote_types(type1: Any, type2: Any) -> np.dtype:
    """torch.promote_types: the dtype two tensors of these dtypes combine into. The higher
    category (bool < integer < float < complex) keeps its own dtype (int64 with float32 is
    float32, where NumPy says float64); within a category, the wider."""
    a, b = as_dtype(type1, "promote_types"), as_dtype(type2, "promote_types")
    rank_a, rank_b = category(a), category(b)
    if a == b or rank_a == rank_b or {a.kind, b.kind} == {"f", "c"}:
        return np.promote_types(a, b)
    return a if rank_a > rank_b else b


def category(dtype: np.dtype) -> int:
    """torch's dtype category, for its promotion rules: bool 0, integer 1, float 2, complex 3."""
    return _CATEGORY.get(dtype.kind, 0)


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def can_cast(from_: Any, to: Any) -> bool:
    """torch.can_cast: whether torch's casting rules let a value of ``from_`` become ``to``:
    all but complex to real, float to integer or bool, and integer to bool."""
    a, b = as_dtype(from_, "can_cast"), as_dtype(to, "can_cast")
    return category(a) <= category(b)


def _float_dtype(dtype: Any) -> np.dtype:
    if dtype is bfloat16:
        raise TypeError(f"finfo: {BFLOAT16_ERROR}")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"finfo: expected a floating-point dtype, got {dtype}; use iinfo for it")
    return dtype


class finfo:
    """Machine limits of a floating-point dtype (torch's ``finfo``): ``bits``, ``eps``, ``max``,
    ``min``, ``tiny`` (= ``smallest_normal``), ``resolution``, ``dtype`` (its name)."""

    def __init__(self, type: Any = None) -> None:
        from neuralab.tensor import get_default_dtype

        info = np.finfo(_float_dtype(get_default_dtype() if type is None else type))
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)
        self.dtype = str(info.dtype)

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
            f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, "
            f"dtype={self.dtype})"
        )


class iinfo:
    """Limits of an integer dtype (torch's ``iinfo``): ``bits``, ``max``, ``min``, ``dtype``."""

    def __init__(self, type: Any) -> None:
        dtype = np.dtype(type)
        if dtype.kind not in "iu":
            raise TypeError(f"iinfo: expected an integer dtype, got {dtype}; use finfo for it")
        info = np.iinfo(dtype)
        self.bits = int(info.bits)
        self.max = int(info.max)
        self.min = int(info.min)
        self.dtype = str(info.dtype)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


class _Named:
    """A named marker (a layout or a memory format) that prints as its name."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"neuralab.{self.name}"


strided = _Named("strided")  # the only layout: dense arrays
contiguous_format = _Named("contiguous_format")
preserve_format = _Named("preserve_format")
channels_last = _Named("channels_last")  # accepted and ignored: NumPy picks the strides


def check_layout(layout: Any, where: str) -> None:
    """Accept ``layout=None`` or ``strided``; neuralab has no sparse or other layouts."""
    if layout is not None and layout is not strided:
        raise RuntimeError(f"{where}: only the strided (dense) layout is supported, got {layout}")
