"""torch.nn.parallel: DataParallel, which on a machine without GPUs simply runs its module (as
torch's does), and DistributedDataParallel, which trains one model on several processes (or
machines) over MPI, averaging gradients during backward. See docs/distributed.md."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from neuralab.distributed.group import NOT_INITIALIZED, DistributedError, _get, is_initialized, wait
from neuralab.distributed.reducer import Reducer
from neuralab.nn.module import Module
from neuralab.tensor import is_grad_enabled

__all__ = ["DataParallel", "DistributedDataParallel"]

FIRST_BUCKET_MB = 1.0  # torch's first bucket: small, so communication starts early
DEFAULT_BUCKET_MB = 25.0


class DataParallel(Module):
    """Wraps ``module`` and calls it: there are no GPUs to split the batch over, so, as torch
    does without GPUs, ``device_ids`` stays empty and the state dict keys gain 'module.'."""

    def __init__(
        self,
        module: Module,
        device_ids: Sequence[Any] | None = None,
        output_device: Any = None,
        dim: int = 0,
    ) -> None:
        super().__init__()
        self.module = module
        self.device_ids: list = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)


def _broadcast_arrays(arrays: list[np.ndarray], what: str) -> None:
    """Overwrite ``arrays`` on every process with process 0's, one message per dtype."""
    g = _get()
    for dtype in sorted({a.dtype for a in arrays}, key=str):
        group = [a for a in arrays if a.dtype == dtype]
        flat = np.concatenate([a.ravel() for a in group]) if group else np.empty(0, dtype)
        wait([g.comm.Ibcast(flat, root=0)], what)
        start = 0
        for a in group:
            a[...] = flat[start : start + a.size].reshape(a.shape)
            start += a.size


def _check_same_model(module: Module) -> None:
    """Raise if any process's parameters or buffers differ in name, shape or dtype from
    process 0's (their gradients would otherwise be averaged elementwise regardless)."""
    g = _get()
    tensors = [*module.named_parameters(), *module.named_buffers()]
    mine = [(name, tuple(t.shape), str(t._data.dtype)) for name, t in tensors]
    everyone = g.comm.allgather(mine)
    reference = everyone[0]
    for rank, theirs in enumerate(everyone):
        if theirs == reference:
            continue
        for ours_entry, ref_entry in zip(theirs, reference):
            if ours_entry != ref_entry:
                raise DistributedError(
                    f"DistributedDataParallel: the model differs between processes: process "
                    f"{rank} has {ours_entry[0]!r} of shape {ours_entry[1]} ({ours_entry[2]}) "
                    f"where process 0 has {ref_entry[0]!r} of shape {ref_entry[1]} "
                    f"({ref_entry[2]})"
                )
        raise DistributedError(
            f"DistributedDataParallel: the model differs between processes: process {rank} "
            f"has {len(theirs)} parameters and buffers, process 0 has {len(reference)}"
        )


class DistributedDataParallel(Module):
    """torch's DistributedDataParallel over MPI: every process starts from process 0's weights
    and buffers, and ``loss.backward()`` returns with each gradient averaged over the
    processes (bucketed all-reduces started during backward); ``no_sync()`` skips that for
    gradient accumulation. Needs :func:`neuralab.distributed.init_process_group`."""

    def __init__(
        self,
        module: Module,
        device_ids: Sequence[Any] | None = None,
        output_device: Any = None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        init_sync: bool = True,
        process_group: Any = None,
        bucket_cap_mb: float | None = None,
        find_unused_parameters: bool = False,
        **kwargs: Any,
    ) -> None:
        if not is_initialized():
            raise ValueError(f"DistributedDataParallel: {NOT_INITIALIZED}")
        if not isinstance(module, Module):
            raise TypeError(
                f"DistributedDataParallel: module must be an nn.Module, got {type(module).__name__}"
            )
        cap = DEFAULT_BUCKET_MB if bucket_cap_mb is None else float(bucket_cap_mb)
        if not cap > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got {cap}")
        super().__init__()
        self.module = module
        self.device_ids: list = []
        self.output_device = None
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        _check_same_model(module)
        if init_sync:
            tensors = [*module.parameters(), *module.buffers()]
            _broadcast_arrays([t._data for t in tensors], "DistributedDataParallel init")
        params = [p for p in module.parameters() if p.requires_grad]
        self.reducer = Reducer(params, cap, min(cap, FIRST_BUCKET_MB))

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        self.pre_forward()
        return self.module(*inputs, **kwargs)

    def pre_forward(self) -> None:
        """Before a training forward: process 0's buffers to every process (torch's
        ``broadcast_buffers``), and the gradient averaging armed for the coming backward."""
        if not (self.module.training and is_grad_enabled()):
            return
        if self.broadcast_buffers:
            buffers = [b._data for b in self.module.buffers()]
            if buffers and _get().size > 1:
                _broadcast_arrays(buffers, "DistributedDataParallel buffer broadcast")
        if self.require_backward_grad_sync:
            self.reducer.prepare()

    def set_step(self, step: int) -> None:
        """Label the coming synchronised backward with the training loop's step number (the
        fit loop does this). Every backward compares the labels across processes, so a process
        that skipped or repeated a step is reported there, instead of its gradients being
        averaged with another step's; unlabelled backwards count 0, 1, 2, ..."""
        self.reducer.step = int(step)

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside, backward accumulates gradients locally without averaging; the first
        backward after it averages everything accumulated (gradient accumulation)."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous
