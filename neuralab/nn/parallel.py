"""torch.nn.parallel: DataParallel, which on a machine without GPUs simply runs its module (as
torch's does), and the DistributedDataParallel name, which needs a process group."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuralab.distributed import NOT_INITIALIZED
from neuralab.nn.module import Module

__all__ = ["DataParallel", "DistributedDataParallel"]


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


class DistributedDataParallel(Module):
    """torch's multi-process data parallelism: needs an initialised process group, which
    neuralab cannot create yet, so constructing one raises."""

    def __init__(self, module: Module, *args: Any, **kwargs: Any) -> None:
        raise ValueError(
            f"DistributedDataParallel: {NOT_INITIALIZED} (data-parallel training over MPI is not "
            "available yet in neuralab, so there is no process group to initialise)"
        )
