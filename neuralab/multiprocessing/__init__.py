"""torch.multiprocessing: Python's :mod:`multiprocessing`, plus tensors in shared memory.

``Tensor.share_memory_()`` and ``Module.share_memory()`` move values into memory that processes
forked afterwards share with their parent, so that several processes can train one model at once
(Hogwild, as in PyTorch's examples): each updates the shared parameters in place, and the parent
sees every update. Sharing goes through ``fork`` (Linux's default start method up to Python 3.13):
a child started by ``spawn`` or ``forkserver``, or a queue, would only pass a copy of a shared
tensor, so sending one that way raises an error instead of training a copy silently.
"""

from __future__ import annotations

import mmap
from multiprocessing import (
    Array,
    Barrier,
    Condition,
    Event,
    JoinableQueue,
    Lock,
    Manager,
    Pipe,
    Pool,
    Process,
    Queue,
    RLock,
    Semaphore,
    SimpleQueue,
    Value,
    active_children,
    cpu_count,
    current_process,
    get_all_start_methods,
    get_context,
    get_start_method,
    set_start_method,
)
from multiprocessing.reduction import ForkingPickler
from typing import Any

import numpy as np

__all__ = [
    "Array", "Barrier", "Condition", "Event", "JoinableQueue", "Lock", "Manager", "Pipe", "Pool",
    "Process", "Queue", "RLock", "Semaphore", "SimpleQueue", "Value", "active_children",
    "cpu_count", "current_process", "get_all_start_methods", "get_context", "get_start_method",
    "is_shared", "set_start_method", "shared_copy",
]  # fmt: skip

_registered: set[type] = set()


def shared_copy(array: np.ndarray) -> np.ndarray:
    """A copy of ``array`` in an anonymous shared mapping, which forked children share."""
    buffer = mmap.mmap(-1, max(array.nbytes, 1))
    shared = np.frombuffer(buffer, array.dtype, count=array.size).reshape(array.shape)
    shared[...] = array
    return shared


def is_shared(array: np.ndarray) -> bool:
    """Whether ``array`` lies in memory made by :func:`shared_copy` (a view of it included)."""
    base: Any = array
    while isinstance(base, np.ndarray):
        base = base.base
    return isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)


def refuse_copies_to_children(cls: type) -> None:
    """Make multiprocessing's pickler (queues, pipes, the arguments of a child that is not
    forked) refuse a shared tensor of ``cls``: the other process would get a copy and train it
    without a word. A forked child's arguments are not pickled: it shares them."""
    if cls in _registered:
        return
    _registered.add(cls)

    def reduce(tensor: Any) -> Any:
        if is_shared(tensor._data):
            raise RuntimeError(
                "a tensor in shared memory (share_memory_) reaches another process only through "
                "fork: pass it as an argument of a Process started by the 'fork' start method; "
                "sent through a queue or pipe, or to a 'spawn' or 'forkserver' child, it would "
                "arrive as a copy that the sender never sees again"
            )
        return tensor.__reduce_ex__(2)

    ForkingPickler.register(cls, reduce)
