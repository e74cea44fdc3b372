"""The Tensor's non-computing surface, as torch has it: device and dtype conversions (``to``,
``cpu``, ``type``, ``float``, ...), memory-layout facts (``stride``, ``element_size``, ...) and
the ``new_*`` factories. :class:`~neuralab.tensor.Tensor` inherits it from :class:`TensorSurface`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab import dtypes
from neuralab.device import CPU, device, require_cpu
from neuralab.dtypes import as_dtype

# Legacy type names, as torch's ``Tensor.type()`` gives them ("torch." + name).
TYPE_NAMES = {
    dtypes.float32: "FloatTensor", dtypes.float64: "DoubleTensor", dtypes.float16: "HalfTensor",
    dtypes.int64: "LongTensor", dtypes.int32: "IntTensor", dtypes.int16: "ShortTensor",
    dtypes.int8: "CharTensor", dtypes.uint8: "ByteTensor", dtypes.bool_: "BoolTensor",
    dtypes.complex64: "ComplexFloatTensor", dtypes.complex128: "ComplexDoubleTensor",
}  # fmt: skip
_TYPES_BY_NAME = {name: dtype for dtype, name in TYPE_NAMES.items()}


def dtype_of_type_name(name: str, where: str) -> np.dtype:
    """The dtype of a legacy type name: 'torch.FloatTensor' (or 'FloatTensor') is float32."""
    module, _, short = name.rpartition(".")
    if module.endswith("cuda"):
        require_cpu("cuda", where)
    if short == "BFloat16Tensor":
        raise TypeError(f"{where}: {dtypes.BFLOAT16_ERROR}")
    if short not in _TYPES_BY_NAME or module not in ("", "torch", "neuralab"):
        raise ValueError(
            f"{where}: invalid type {name!r}; expected a name like 'torch.FloatTensor'"
        )
    return _TYPES_BY_NAME[short]


def _parse_to(args: tuple, kwargs: dict) -> tuple[np.dtype | None, bool]:
    """torch's ``to`` overloads: (device, dtype, non_blocking, copy), (dtype, ...), (tensor, ...)
    and the keywords; the device must be the CPU. Returns (dtype or None, copy)."""
    dtype, where_to = kwargs.pop("dtype", None), kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    for ignored in ("non_blocking", "memory_format"):  # nothing to overlap, NumPy picks layouts
        kwargs.pop(ignored, None)
    if kwargs:
        raise TypeError(f"to(): unexpected keyword argument {next(iter(kwargs))!r}")
    flags = []
    for arg in args:
        if isinstance(arg, TensorSurface):
            dtype = arg.dtype
        elif isinstance(arg, bool):
            flags.append(arg)  # non_blocking, then copy
        elif isinstance(arg, str | device | int):
            where_to = arg
        else:
            dtype = arg
    require_cpu(where_to, "to()")
    return as_dtype(dtype, "to()"), copy or (len(flags) > 1 and flags[1])


class TensorSurface:
    """Device, dtype and layout methods of a Tensor (which holds its array in ``_data``)."""

    __slots__ = ()
    _data: np.ndarray

    # --- device -------------------------------------------------------------------------
    is_cuda = False
    is_cpu = True
    is_meta = is_mps = is_sparse = is_quantized = is_mkldnn = False
    layout = dtypes.strided

    @property
    def device(self) -> device:
        """Where the tensor lives: always ``device(type='cpu')``."""
        return CPU

    def get_device(self) -> int:
        """-1: the CPU's device ordinal, as torch gives it."""
        return -1

    def cpu(self, memory_format: Any = None) -> Any:
        """The tensor itself: it is already on the CPU."""
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False, memory_format: Any = None):
        """Refused: neuralab runs on the CPU only (the error says to use 'cpu')."""
        require_cpu("cuda" if device is None else device, "cuda()")
        return self

    def pin_memory(self, device: Any = None) -> Any:
        """The tensor itself: pinning matters only for copies to a GPU."""
        return self

    def is_pinned(self, device: Any = None) -> bool:
        """False: nothing is pinned on a CPU-only library."""
        return False

    def resize_(self, *sizes: Any, memory_format: Any = None) -> Any:
        """Give the tensor the shape ``sizes`` in place, keeping its first elements in order;
        elements past the old ones are zeros (torch leaves them uninitialized). Like torch,
        refuses a tensor that requires grad."""
        from neuralab.ops.shape import _sizes

        shape = _sizes(sizes)
        if any(n < 0 for n in shape):
            raise RuntimeError(f"resize_: sizes must be non-negative, got {list(shape)}")
        if self.requires_grad:
            raise RuntimeError("cannot resize variables that require grad")
        flat, count = self._array().reshape(-1), int(np.prod(shape, dtype=np.int64))
        if count == flat.size:
            self._data = flat.reshape(shape)
        else:
            grown = np.zeros(count, flat.dtype)
            grown[: min(count, flat.size)] = flat[:count]
            self._data = grown.reshape(shape)
        return self

    def resize_as_(self, other: Any, memory_format: Any = None) -> Any:
        """:meth:`resize_` to ``other``'s shape."""
        return self.resize_(tuple(other.shape))

    def share_memory_(self) -> Any:
        """Move the values into memory shared with the processes forked afterwards (torch's
        ``share_memory_``, for Hogwild training: :mod:`neuralab.multiprocessing`); in place."""
        from neuralab import multiprocessing

        multiprocessing.refuse_copies_to_children(type(self))
        if not multiprocessing.is_shared(self._data):
            self._data = multiprocessing.shared_copy(self._array())
        return self

    def is_shared(self) -> bool:
        """Whether the values are in shared memory (:meth:`share_memory_`)."""
        from neuralab import multiprocessing

        return multiprocessing.is_shared(self._data)

    # --- dtype conversions --------------------------------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> Any:
        """This tensor in another dtype (a differentiable cast), as torch's ``to(device, dtype,
        non_blocking, copy)``, ``to(dtype)`` or ``to(other_tensor)``; itself when nothing changes
        and ``copy`` is False. Any device but the CPU is refused."""
        dtype, copy = _parse_to(args, kwargs)
        if dtype is None or dtype == self._data.dtype:
            return self.clone() if copy else self
        from neuralab.ops.elementwise import cast

        return cast(self, dtype)

    def type(self, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
        """Without an argument, the legacy type name ('torch.FloatTensor'); with a dtype, a type
        name or a legacy class (``nl.LongTensor``), this tensor converted to it."""
        if dtype is None:
            name = TYPE_NAMES.get(self._data.dtype, f"{self._data.dtype.name}Tensor")
            return f"torch.{name}"
        if isinstance(dtype, str):
            dtype = dtype_of_type_name(dtype, "type()")
        elif isinstance(getattr(dtype, "dtype", None), np.dtype) and isinstance(dtype, type):
            dtype = dtype.dtype  # a legacy class such as nl.FloatTensor
        return self.to(dtype)

    def float(self, memory_format: Any = None) -> Any:
        """float32."""
        return self.to(dtypes.float32)

    def double(self, memory_format: Any = None) -> Any:
        """float64."""
        return self.to(dtypes.float64)

    def half(self, memory_format: Any = None) -> Any:
        """float16."""
        return self.to(dtypes.float16)

    def bfloat16(self, memory_format: Any = None) -> Any:
        """Refused: NumPy has no bfloat16."""
        return self.to(dtypes.bfloat16)

    def long(self, memory_format: Any = None) -> Any:
        """int64."""
        return self.to(dtypes.int64)

    def int(self, memory_format: Any = None) -> Any:
        """int32."""
        return self.to(dtypes.int32)

    def short(self, memory_format: Any = None) -> Any:
        """int16."""
        return self.to(dtypes.int16)

    def char(self, memory_format: Any = None) -> Any:
        """int8."""
        return self.to(dtypes.int8)

    def byte(self, memory_format: Any = None) -> Any:
        """uint8."""
        return self.to(dtypes.uint8)

    def bool(self, memory_format: Any = None) -> Any:
        """bool."""
        return self.to(dtypes.bool_)

    def is_complex(self) -> bool:
        """Whether the dtype is complex."""
        return self._data.dtype.kind == "c"

    def is_signed(self) -> bool:
        """Whether the dtype holds negative numbers (every dtype but uint8 and bool)."""
        return self._data.dtype.kind not in "ub"

    # --- memory layout ------------------------------------------------------------------
    def ndimension(self) -> int:
        """The number of dimensions (``dim()``)."""
        return self._data.ndim

    def nelement(self) -> int:
        """The number of elements (``numel()``)."""
        return int(self._data.size)

    def element_size(self) -> int:
        """Bytes per element."""
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        """Bytes per element (``element_size()``)."""
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes of all the elements."""
        return int(self._data.nbytes)

    # --- complex-number views of a real tensor: the tensor itself ----------------------------
    def conj(self) -> Any:
        """The complex conjugate: a real tensor itself (neuralab has no complex dtypes)."""
        return self

    resolve_conj = resolve_neg = conj_physical = conj

    @property
    def real(self) -> Any:
        """The real part: a real tensor itself."""
        return self

    @property
    def imag(self) -> Any:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")

    def is_inference(self) -> bool:
        """False: a tensor made under ``inference_mode`` is an ordinary tensor here (autograd may
        use it later), where torch makes it an inference tensor."""
        return False

    def is_conj(self) -> bool:
        return False

    def is_neg(self) -> bool:
        return False

    def stride(self, dim: int | None = None) -> Any:
        """Steps between neighbours along each dimension, in elements (as torch counts)."""
        arr = np.asarray(self._data)
        steps = tuple(s // arr.itemsize for s in arr.strides)
        return steps if dim is None else steps[dim]

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """Whether the elements lie in row-major order without gaps."""
        return bool(np.asarray(self._data).flags.c_contiguous)

    def data_ptr(self) -> int:
        """The address of the first element."""
        return np.asarray(self._data).__array_interface__["data"][0]

    def storage_offset(self) -> int:
        """Elements between the start of the underlying buffer and the first element."""
        arr = root = np.asarray(self._data)
        while isinstance(root.base, np.ndarray):
            root = root.base
        start = root.__array_interface__["data"][0]
        return (arr.__array_interface__["data"][0] - start) // arr.itemsize

    def __format__(self, spec: str) -> str:
        """A 0-d tensor formats as its value (``f"{loss:.4f}"``), and so does a one-element
        tensor given a format spec; any other tensor only without a spec, as its repr."""
        if self._data.ndim == 0 or (spec and self._data.size == 1):
            return format(self._data.item(), spec)
        return object.__format__(self, spec)

    # --- matrix views -------------------------------------------------------------------
    @property
    def mT(self) -> Any:
        """The last two dimensions swapped (batches of matrices transposed)."""
        if self._data.ndim < 2:
            raise RuntimeError(
                f"mT: needs a matrix or a batch of matrices, got a {self._data.ndim}-D tensor"
            )
        return self.transpose(-2, -1)

    @property
    def mH(self) -> Any:
        """The conjugate transpose of the last two dimensions (``mT`` for real dtypes)."""
        return self.mT.conj() if self.is_complex() else self.mT

    @property
    def H(self) -> Any:
        """The conjugate transpose of a matrix."""
        if self._data.ndim != 2:
            raise RuntimeError(f"H: needs a 2-D tensor, got a {self._data.ndim}-D tensor")
        return self.mH

    # --- new_* factories: this tensor's dtype unless told -------------------------------
    def _new_kwargs(self, where: str, dtype: Any, kwargs: dict) -> dict:
        require_cpu(kwargs.pop("device", None), where)
        return {"dtype": self._data.dtype if dtype is None else dtype, **kwargs}

    def new_zeros(self, *size: Any, dtype: Any = None, **kwargs: Any) -> Any:
        """Zeros of ``size``, this tensor's dtype unless ``dtype`` is given."""
        from neuralab.creation import zeros

        return zeros(*size, **self._new_kwargs("new_zeros", dtype, kwargs))

    def new_ones(self, *size: Any, dtype: Any = None, **kwargs: Any) -> Any:
        """Ones of ``size``, this tensor's dtype unless ``dtype`` is given."""
        from neuralab.creation import ones

        return ones(*size, **self._new_kwargs("new_ones", dtype, kwargs))

    def new_empty(self, *size: Any, dtype: Any = None, **kwargs: Any) -> Any:
        """An uninitialized tensor of ``size``, this tensor's dtype unless ``dtype`` is given."""
        from neuralab.creation import empty

        return empty(*size, **self._new_kwargs("new_empty", dtype, kwargs))

    def new_full(self, size: Any, fill_value: Any, *, dtype: Any = None, **kwargs: Any) -> Any:
        """``fill_value`` everywhere, this tensor's dtype unless ``dtype`` is given."""
        from neuralab.creation import full

        return full(size, fill_value, **self._new_kwargs("new_full", dtype, kwargs))

    def new_tensor(self, data: Any, *, dtype: Any = None, **kwargs: Any) -> Any:
        """A copy of ``data``, this tensor's dtype unless ``dtype`` is given."""
        from neuralab.tensor import tensor

        return tensor(data, **self._new_kwargs("new_tensor", dtype, kwargs))

    def new(self, *args: Any, device: Any = None) -> Any:
        """torch's legacy constructor in this tensor's dtype: ``new(2, 3)``, ``new([1, 2])``."""
        from neuralab.tensor import legacy_new

        return legacy_new(args, self._data.dtype, device, "new()")
