"""torch.backends, and torch's determinism, matmul-precision and warn-always switches: flags that
programs set for GPU and CPU kernels. They are kept (a program can read back what it set) and
change nothing: neuralab's kernels are NumPy's on the CPU."""

from __future__ import annotations

from neuralab.backends import cuda, cudnn, mkl, mkldnn, mps, openmp

__all__ = [
    "are_deterministic_algorithms_enabled", "cuda", "cudnn", "get_float32_matmul_precision",
    "is_warn_always_enabled", "mkl", "mkldnn", "mps", "openmp", "set_float32_matmul_precision",
    "set_warn_always", "use_deterministic_algorithms",
]  # fmt: skip

_deterministic = False
_matmul_precision = "highest"
_warn_always = False


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record the request; neuralab's ops are deterministic for a given thread count anyway."""
    global _deterministic
    _deterministic = bool(mode)


def are_deterministic_algorithms_enabled() -> bool:
    """What ``use_deterministic_algorithms`` last set."""
    return _deterministic


def set_float32_matmul_precision(precision: str) -> None:
    """Record the precision ('highest', 'high', 'medium'); float32 products here are always
    computed in full float32."""
    global _matmul_precision
    _matmul_precision = precision


def get_float32_matmul_precision() -> str:
    """What ``set_float32_matmul_precision`` last set ('highest' by default)."""
    return _matmul_precision


def set_warn_always(b: bool, /) -> None:
    """Record whether torch's warn-once warnings should repeat; here Python's ``warnings``
    filters decide how often a warning shows."""
    global _warn_always
    if not isinstance(b, bool):
        raise TypeError(f"set_warn_always expects a bool, but got {type(b).__name__}")
    _warn_always = b


def is_warn_always_enabled() -> bool:
    """What ``set_warn_always`` last set (False by default)."""
    return _warn_always
