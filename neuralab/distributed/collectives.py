"""torch.distributed's collectives on neuralab Tensors, in place, over MPI: all_reduce,
broadcast, all_gather, barrier (with ``async_op=True`` they return a :class:`Work`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

import numpy as np

from neuralab.distributed.group import _get, wait
from neuralab.tensor import Tensor, make


class ReduceOp(Enum):
    """How :func:`all_reduce` combines the processes' tensors (torch.distributed.ReduceOp)."""

    SUM = "SUM"
    AVG = "AVG"
    PRODUCT = "PROD"
    MIN = "MIN"
    MAX = "MAX"
    BAND = "BAND"
    BOR = "BOR"
    BXOR = "BXOR"


class Work:
    """An unfinished collective (``async_op=True``): ``wait()`` completes it, then the result is
    in the tensor(s) the call was given."""

    def __init__(self, requests: list[Any], what: str, finish: Callable[[], None] | None) -> None:
        self._requests, self._what, self._finish = requests, what, finish
        self._done = False

    def is_completed(self) -> bool:
        """Whether the collective has finished (without waiting)."""
        if not self._done and _get().MPI.Request.Testall(self._requests):
            self._complete()
        return self._done

    def wait(self, timeout: Any = None) -> bool:
        """Block until done (at most the process group's timeout); True."""
        if not self._done:
            wait(self._requests, self._what)
            self._complete()
        return True

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            self._finish()


def _data(tensor: Any, where: str) -> np.ndarray:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{where}: expected a neuralab Tensor, got {type(tensor).__name__}")
    return tensor._data


def _buffer(tensor: Tensor, where: str) -> tuple[np.ndarray, Callable[[], None] | None]:
    """A contiguous array MPI can write into, and how to copy it back into ``tensor``."""
    data = _data(tensor, where)
    if data.flags.c_contiguous and data.flags.writeable:
        return data, None
    if not data.flags.writeable:
        raise ValueError(f"{where}: the tensor is read-only (a broadcast view); clone() it first")
    buf = np.ascontiguousarray(data)
    return buf, lambda: np.copyto(data, buf)


def _run(requests: list[Any], what: str, finish: Callable[[], None] | None, async_op: bool):
    work = Work(requests, what, finish)
    if async_op:
        return work
    work.wait()
    return None


def _chain(*steps: Callable[[], None] | None) -> Callable[[], None]:
    def run() -> None:
        for step in steps:
            if step is not None:
                step()

    return run


def _mpi_op(op: Any, dtype: np.dtype) -> Any:
    mpi = _get().MPI
    if not isinstance(op, ReduceOp):
        raise TypeError(f"all_reduce: op must be a dist.ReduceOp, got {op!r}")
    if op is ReduceOp.AVG and dtype.kind not in "fc":
        raise ValueError(f"all_reduce: ReduceOp.AVG needs a floating tensor, got {dtype}")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and dtype.kind not in "iub":
        raise ValueError(f"all_reduce: ReduceOp.{op.name} needs an integer or bool tensor")
    return mpi.SUM if op is ReduceOp.AVG else getattr(mpi, op.value)


def all_reduce(
    tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False
) -> Work | None:
    """Combine ``tensor`` across all processes with ``op``; every process gets the result in
    place."""
    g = _get()
    buf, copy_back = _buffer(tensor, "all_reduce")
    mpi_op = _mpi_op(op, buf.dtype)
    request = g.comm.Iallreduce(g.MPI.IN_PLACE, buf, op=mpi_op)

    def average() -> None:
        np.divide(buf, g.size, out=buf, casting="unsafe")

    finish = _chain(average if op is ReduceOp.AVG else None, copy_back)
    return _run([request], "all_reduce", finish, async_op)


def _check_src(src: int, where: str) -> None:
    size = _get().size
    if isinstance(src, bool) or not isinstance(src, int | np.integer) or not 0 <= src < size:
        raise ValueError(f"{where}: src must be a rank in 0..{size - 1}, got src={src!r}")


def broadcast(
    tensor: Tensor, src: int, group: Any = None, async_op: bool = False, group_src: Any = None
) -> Work | None:
    """Copy process ``src``'s ``tensor`` into ``tensor`` on every process (shapes must match)."""
    _check_src(src, "broadcast")
    g = _get()
    buf, copy_back = _buffer(tensor, "broadcast")
    request = g.comm.Ibcast(buf, root=int(src))
    return _run([request], "broadcast", copy_back, async_op)


def all_gather(
    tensor_list: list[Tensor], tensor: Tensor, group: Any = None, async_op: bool = False
) -> Work | None:
    """Fill ``tensor_list[r]`` with process r's ``tensor``, on every process."""
    g = _get()
    data = np.ascontiguousarray(_data(tensor, "all_gather"))
    if not isinstance(tensor_list, list) or len(tensor_list) != g.size:
        raise ValueError(
            f"all_gather: tensor_list must be a list of world_size={g.size} tensors, got "
            f"{len(tensor_list) if isinstance(tensor_list, list) else type(tensor_list).__name__}"
        )
    for r, out in enumerate(tensor_list):
        if _data(out, "all_gather").shape != data.shape or out._data.dtype != data.dtype:
            raise ValueError(
                f"all_gather: tensor_list[{r}] has shape {tuple(out.shape)} and dtype "
                f"{out._data.dtype}, but the tensor is {tuple(data.shape)} {data.dtype}"
            )
    gathered = np.empty((g.size, *data.shape), data.dtype)
    request = g.comm.Iallgather(data, gathered)

    def scatter() -> None:
        for out, part in zip(tensor_list, gathered):
            np.copyto(out._data, part)

    return _run([request], "all_gather", scatter, async_op)


def barrier(group: Any = None, async_op: bool = False, device_ids: Sequence[int] | None = None):
    """Wait until every process reaches this call."""
    return _run([_get().comm.Ibarrier()], "barrier", None, async_op)


def all_reduce_sum(tensor: Tensor) -> Tensor:
    """A new tensor, the sum of ``tensor`` over all processes, that gradients flow through: the
    gradient of each process's input is the sum of the processes' output gradients
    (torch.distributed.nn.functional.all_reduce); what SyncBatchNorm is built on."""
    summed = np.ascontiguousarray(_data(tensor, "all_reduce_sum")).copy()
    _sum_in_place(summed, "all_reduce_sum")

    def backward(grad: np.ndarray) -> tuple[np.ndarray]:
        total = np.array(grad, dtype=summed.dtype, order="C", copy=True)
        _sum_in_place(total, "all_reduce_sum backward")
        return (total,)

    return make(summed, (tensor,), backward)


def _sum_in_place(buf: np.ndarray, what: str) -> None:
    g = _get()
    wait([g.comm.Iallreduce(g.MPI.IN_PLACE, buf, op=g.MPI.SUM)], what)
