"""Padding layers: constant (zero) padding and the reflect, replicate and circular border
modes, 1-D to 3-D.

``padding`` is an int (the same on every side) or torch's tuple (left, right[, top, bottom[,
front, back]]), last dimension first, as ``F.pad`` takes it.
"""

from __future__ import annotations

from collections.abc import Sequence

from neuralab.nn import functional as F
from neuralab.nn.module import Module
from neuralab.tensor import Tensor

__all__ = [
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
]


class _PadNd(Module):
    """Pad the last ``_nd`` dimensions with ``F.pad`` in ``_mode``."""

    _nd: int
    _mode: str

    def __init__(self, padding: int | Sequence[int], value: float = 0.0) -> None:
        super().__init__()
        widths = (padding,) * (2 * self._nd) if isinstance(padding, int) else tuple(padding)
        if len(widths) != 2 * self._nd:
            raise ValueError(
                f"{type(self).__name__}: padding must be an int or {2 * self._nd} ints, got "
                f"{padding!r}"
            )
        self.padding = widths
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        if self._mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    _mode = "constant"

    def __init__(self, padding: int | Sequence[int], value: float) -> None:
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dimension with ``value``."""

    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dimensions with ``value``."""

    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dimensions with ``value``."""

    _nd = 3


class _ZeroPadNd(_PadNd):
    _mode = "constant"

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dimension with zeros."""

    _nd = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last two dimensions with zeros."""

    _nd = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last three dimensions with zeros."""

    _nd = 3


class _BorderPadNd(_PadNd):
    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding)


class ReflectionPad1d(_BorderPadNd):
    """Pad the last dimension with its mirror image (the border value not repeated)."""

    _nd, _mode = 1, "reflect"


class ReflectionPad2d(_BorderPadNd):
    """Pad the last two dimensions with their mirror image (the border not repeated)."""

    _nd, _mode = 2, "reflect"


class ReflectionPad3d(_BorderPadNd):
    """Pad the last three dimensions with their mirror image (the border not repeated)."""

    _nd, _mode = 3, "reflect"


class ReplicationPad1d(_BorderPadNd):
    """Pad the last dimension by repeating its border value."""

    _nd, _mode = 1, "replicate"


class ReplicationPad2d(_BorderPadNd):
    """Pad the last two dimensions by repeating their border values."""

    _nd, _mode = 2, "replicate"


class ReplicationPad3d(_BorderPadNd):
    """Pad the last three dimensions by repeating their border values."""

    _nd, _mode = 3, "replicate"


class CircularPad1d(_BorderPadNd):
    """Pad the last dimension by wrapping around (the far end's values continue)."""

    _nd, _mode = 1, "circular"


class CircularPad2d(_BorderPadNd):
    """Pad the last two dimensions by wrapping around."""

    _nd, _mode = 2, "circular"


class CircularPad3d(_BorderPadNd):
    """Pad the last three dimensions by wrapping around."""

    _nd, _mode = 3, "circular"
