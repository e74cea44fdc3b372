"""torch.nn.parameter: Parameter and Buffer (defined in neuralab.nn.module), and the
placeholders a lazy layer (``nn.LazyLinear``, ...) holds until its first input sizes it."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.nn.module import Buffer, Parameter
from neuralab.tensor import Tensor, constant, float32

__all__ = ["Buffer", "Parameter", "UninitializedBuffer", "UninitializedParameter"]

_SLOT = Tensor._data  # the array slot itself, under the property the placeholders put over it


def _refuse(self: Tensor) -> np.ndarray:
    raise ValueError(
        f"this {type(self).__name__} of a lazy layer (nn.LazyLinear, nn.LazyConv2d, ...) has no "
        "shape or values yet: call the layer (or the model) on a batch first, which sets its "
        "sizes from that input, or load a state_dict into it"
    )


def _placeholder_repr(self: Tensor) -> str:
    return f"<{type(self).__name__}>"


class _Uninitialized:
    """What the two placeholders share: no array until :meth:`materialize` gives them one."""

    __slots__ = ()
    cls_to_become: type

    _data = property(_refuse)
    __repr__ = _placeholder_repr

    def materialize(self, shape: tuple[int, ...], device: Any = None, dtype: Any = None) -> None:
        """Become a ``cls_to_become`` (Parameter or Tensor) of ``shape``, uninitialized values,
        in ``dtype`` (default: the dtype the layer was built with)."""
        dtype = np.dtype(dtype) if dtype is not None else _SLOT.__get__(self).dtype
        self.__class__ = self.cls_to_become
        _SLOT.__set__(self, np.empty(tuple(int(s) for s in shape), dtype))

    def detach(self) -> Tensor:
        """The placeholder itself: ``state_dict()`` of a layer not yet called holds it."""
        return self

    def __deepcopy__(self, memo: dict) -> Tensor:
        """Another placeholder of the same dtype (a copied model is sized by its own call)."""
        if id(self) not in memo:
            dtype = _SLOT.__get__(self).dtype
            memo[id(self)] = type(self)(requires_grad=self.requires_grad, dtype=dtype)
        return memo[id(self)]

    @property
    def dtype(self) -> Any:
        from neuralab.dtypes import as_dtype

        return as_dtype(_SLOT.__get__(self).dtype, "dtype")


class UninitializedParameter(_Uninitialized, Parameter):
    """A parameter whose shape is not known yet (torch.nn.UninitializedParameter)."""

    __slots__ = ()
    cls_to_become = Parameter

    def __new__(
        cls, requires_grad: bool = True, device: Any = None, dtype: Any = None
    ) -> UninitializedParameter:
        p = Parameter(requires_grad=requires_grad)
        p._data = np.empty(0, np.dtype(dtype or float32))  # the dtype to materialize in
        p.__class__ = cls
        return p

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Built by ``__new__``."""


class UninitializedBuffer(_Uninitialized, Tensor):
    """A buffer whose shape is not known yet (torch.nn.UninitializedBuffer)."""

    __slots__ = ()
    cls_to_become = Tensor

    def __new__(
        cls, requires_grad: bool = False, device: Any = None, dtype: Any = None
    ) -> UninitializedBuffer:
        t = constant(np.empty(0, np.dtype(dtype or float32)))  # the dtype to materialize in
        t.__class__ = cls
        return t

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Built by ``__new__``."""
