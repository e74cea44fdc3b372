"""torch's ``device``: neuralab computes on the CPU only, so every other device is refused.

``nl.device("cuda")`` can be built (as in torch, code often names devices before choosing one),
but putting anything there raises one clear error that says to use the CPU.
"""

from __future__ import annotations

from typing import Any

# Device types torch knows: naming one is allowed, only "cpu" can hold tensors here.
_TYPES = (
    "cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "ipu", "hpu", "mtia", "lazy", "vulkan",
    "mkldnn", "opengl", "opencl", "ideep", "ve", "fpga", "maia", "privateuseone",
)  # fmt: skip


class device:
    """Where a tensor lives: ``device("cpu")``, ``device("cuda:0")``, ``device("cuda", 0)``."""

    __slots__ = ("_type", "_index")

    def __init__(self, type: Any, index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, str):
            type, index = _parse(type, index)
        elif isinstance(type, int) and not isinstance(type, bool):
            raise RuntimeError(
                f"device: a bare index ({type}) names an accelerator and neuralab has none: "
                "it runs on the CPU only; use 'cpu'"
            )
        else:
            raise TypeError(f"device: expected a device string such as 'cpu', got {type!r}")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise RuntimeError(f"device: the index must be a non-negative int, got {index!r}")
        object.__setattr__(self, "_type", type)
        object.__setattr__(self, "_index", index)

    @property
    def type(self) -> str:
        """The device type: 'cpu', 'cuda', ..."""
        return self._type

    @property
    def index(self) -> int | None:
        """The device index, or None when none was given."""
        return self._index

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"device: {name} is read-only")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, device):
            return NotImplemented  # as torch: device("cpu") == "cpu" is False
        return self._type == other._type and self._index == other._index

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self) -> str:
        index = "" if self._index is None else f", index={self._index}"
        return f"device(type='{self._type}'{index})"

    def __reduce__(self) -> tuple:
        return device, (self._type, self._index)

    def __enter__(self) -> device:
        require_cpu(self, "with device(...)")
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _parse(text: str, index: int | None) -> tuple[str, int | None]:
    """Split 'cuda:1' into ('cuda', 1), checking the type and the index."""
    kind, colon, number = text.partition(":")
    if kind not in _TYPES:
        raise RuntimeError(
            f"device: expected one of {', '.join(_TYPES)} at the start of the device string, "
            f"got {text!r}"
        )
    if not colon:
        return kind, index
    if not (number.isascii() and number.isdigit()) or (len(number) > 1 and number[0] == "0"):
        raise RuntimeError(f"device: invalid device string {text!r}")
    if index is not None:
        raise RuntimeError(f"device: {text!r} names an index and index={index} was given too")
    return kind, int(number)


CPU = device("cpu")


def require_cpu(where_to: Any, where: str) -> None:
    """Accept None or any CPU device ('cpu', 'cpu:0', a device); refuse every other device.

    ``where`` names the caller in the error, which says that neuralab runs on the CPU only.
    """
    if where_to is None or where_to == "cpu" or where_to is CPU:
        return
    dev = where_to if isinstance(where_to, device) else device(where_to)
    if dev.type != "cpu":
        raise RuntimeError(
            f"{where}: device '{dev}' is not available: neuralab runs on the CPU only; use "
            "'cpu' (code that picks 'cuda' if torch.cuda.is_available() else 'cpu' gets 'cpu')"
        )


def get_default_device() -> device:
    """The device factories use: always the CPU."""
    return CPU


def set_default_device(where_to: Any) -> None:
    """Accept only the CPU (or None) as the default device, as neuralab has no other."""
    require_cpu(where_to, "set_default_device")
