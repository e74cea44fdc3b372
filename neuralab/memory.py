"""Keep freed memory for reuse: training steps allocate the same large arrays over and over.

Every training step makes the same activations, gradients and scratch buffers again — arrays of
hundreds of kilobytes to tens of megabytes. glibc's ``malloc`` hands big blocks back to the
operating system on ``free`` (a block above the *mmap threshold* is unmapped; a free heap top
above the *trim threshold* is trimmed), so the next step gets fresh pages and pays a page fault
and a zeroing per 4 KiB touched: thousands per step, up to a quarter of a convolutional or
recurrent step's time here. PyTorch avoids the same cost with its own caching allocator.

:func:`keep_freed_memory` raises both thresholds so freed blocks stay in the heap and the next
step reuses them; the process's peak memory is unchanged (what a step needs, it needs anyway),
but that much stays reserved until the process ends. ``import neuralab`` calls it once, unless
the environment already sets ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` (your
setting wins) or ``NEURALAB_MALLOC=system`` asks for glibc's defaults. It does nothing where the
C library is not glibc (macOS, Windows, musl).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import os

import numpy as np

__all__ = ["keep_freed_memory", "persistent_zeros"]

_M_TRIM_THRESHOLD = -1  # mallopt parameter numbers, from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 256 * 1024 * 1024  # blocks larger than this are still fresh mappings
FALLBACK_MMAP_THRESHOLD = 32 * 1024 * 1024  # the most that older glibc accepts on 64-bit
TRIM_THRESHOLD = 512 * 1024 * 1024


def _glibc() -> ctypes.CDLL | None:
    """The running glibc, or None on other C libraries."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 (only glibc has it)
        return libc
    except (OSError, AttributeError):
        return None


def keep_freed_memory(
    mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD
) -> bool:
    """Make glibc keep freed blocks below ``mmap_threshold`` bytes and up to ``trim_threshold``
    bytes of free heap for reuse; returns whether the C library accepted the setting.

    A glibc that refuses so large an mmap threshold gets 32 MiB, the most every version accepts.
    """
    libc = _glibc()
    if libc is None:
        return False
    ok_mmap = libc.mallopt(_M_MMAP_THRESHOLD, ctypes.c_int(mmap_threshold))
    if not ok_mmap and mmap_threshold > FALLBACK_MMAP_THRESHOLD:
        ok_mmap = libc.mallopt(_M_MMAP_THRESHOLD, ctypes.c_int(FALLBACK_MMAP_THRESHOLD))
    ok_trim = libc.mallopt(_M_TRIM_THRESHOLD, ctypes.c_int(trim_threshold))
    return bool(ok_mmap and ok_trim)


OWN_PAGES_BYTES = 256 * 1024  # persistent arrays from this size up get a mapping of their own


def persistent_zeros(like: np.ndarray) -> np.ndarray:
    """Zeros shaped and typed as ``like``, for state that lives as long as the model (an
    optimizer's moments): from :data:`OWN_PAGES_BYTES` up, on pages of their own (an anonymous
    mapping, zero-filled by the kernel), not on heap blocks a training step just freed.

    Made after the first step, such state would otherwise take the freed blocks that the next
    step's activations and gradients then have to find anew: the heap grew by the state's size
    on the second step (8 MB of Adam moments for the CIFAR CNN), as if a step needed it.
    """
    if like.nbytes < OWN_PAGES_BYTES or not like.flags.c_contiguous:
        return np.zeros_like(like)
    return np.frombuffer(mmap.mmap(-1, like.nbytes), like.dtype).reshape(like.shape)


configured_at_import = False  # whether ``import neuralab`` applied keep_freed_memory()


def _configure_at_import() -> bool:
    """Apply :func:`keep_freed_memory` unless the environment says otherwise."""
    global configured_at_import
    user_set = any(k in os.environ for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"))
    if user_set or os.environ.get("NEURALAB_MALLOC", "").lower() == "system":
        return False
    configured_at_import = keep_freed_memory()
    return configured_at_import
