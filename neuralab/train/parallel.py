"""What the training loop (``fit`` / the Trainer) does differently when a process group is
initialised: the model's gradients averaged by DistributedDataParallel (its state dict keeps
its own keys), each process's share of every epoch (DistributedSampler, reshuffled per epoch),
epoch logs averaged over the processes so every process takes the same decisions (early
stopping, schedulers), and process 0 alone showing progress and writing checkpoints."""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from neuralab.data.loader import DataLoader
from neuralab.data.sampler import BatchSampler, DistributedSampler, RandomSampler, SequentialSampler
from neuralab.distributed import group
from neuralab.distributed.launch import under_mpiexec


def is_main_process() -> bool:
    """True in process 0 of the group, and outside data-parallel training."""
    return not group.is_initialized() or group.get_rank() == 0


def join_launched_group() -> bool:
    """If ``mpiexec`` started this process, join its process group and silence the standard
    output of every process but 0; whether this is the main process."""
    if under_mpiexec() and not group.is_initialized():
        group.init_process_group("mpi")
        if group.get_rank() != 0:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (for the process's lifetime)
    return is_main_process()


def shard(loader: Iterable, name: str) -> DataLoader:
    """A copy of ``loader`` that yields this process's share of each epoch: its sampler
    replaced by a DistributedSampler that shuffles as the original did (seed 0, torch's)."""
    if not isinstance(loader, DataLoader) or loader.batch_sampler is None:
        raise TypeError(
            f"{name}: data-parallel training needs a dataset, (X, y) arrays or a DataLoader "
            f"with a batch size to split between the processes, got {type(loader).__name__}"
        )
    sampler = loader.sampler
    if not isinstance(sampler, DistributedSampler):
        if type(sampler) not in (RandomSampler, SequentialSampler) or (
            type(loader.batch_sampler) is not BatchSampler
        ):
            raise TypeError(
                f"{name}: cannot split a DataLoader with a {type(sampler).__name__} between "
                "processes; build it with sampler=DistributedSampler(dataset) instead"
            )
        sampler = DistributedSampler(loader.dataset, shuffle=isinstance(sampler, RandomSampler))
    sharded = copy.copy(loader)
    object.__setattr__(sharded, "sampler", sampler)
    batches = BatchSampler(sampler, loader.batch_sampler.batch_size, loader.drop_last)
    object.__setattr__(sharded, "batch_sampler", batches)
    return sharded


class _Epochs:
    """The sharded loader as the Trainer iterates it: each pass sets the sampler's epoch to
    the Trainer's (so a resumed run draws the same shares) and labels each step for the
    skipped-step check."""

    def __init__(self, loader: DataLoader, trainer: Any, ddp: Any) -> None:
        self.loader, self.trainer, self.ddp = loader, trainer, ddp

    def __len__(self) -> int:
        return len(self.loader)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)

    def __iter__(self) -> Iterator:
        self.loader.sampler.set_epoch(self.trainer.epoch)
        base = self.trainer.epoch * len(self.loader)
        for i, batch in enumerate(self.loader):
            self.ddp.set_step(base + i)
            yield batch


class DataParallelFit:
    """Turns one Trainer run into a data-parallel one (see the module docstring);
    :meth:`close` puts the model and loader back."""

    def __init__(self, trainer: Any) -> None:
        from neuralab.nn.parallel import DistributedDataParallel
        from neuralab.train.callbacks import Callback

        self.trainer = trainer
        self.ddp = DistributedDataParallel(trainer.model)
        self.hook = trainer.model.register_forward_pre_hook(
            lambda module, args: self.ddp.pre_forward()
        )
        self.original_loader = trainer.train_loader
        trainer.train_loader = _Epochs(shard(trainer.train_loader, trainer.name), trainer, self.ddp)

        class AverageLogs(Callback):
            """First in the chain: epoch logs become means over the processes."""

            def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
                average_logs(logs)

        self.callback = AverageLogs()

    def close(self) -> None:
        """Remove the gradient hooks and give the Trainer its own loader back."""
        self.hook.remove()
        self.ddp.reducer.remove()
        self.trainer.train_loader = self.original_loader


def data_parallel(trainer: Any) -> DataParallelFit | None:
    """The data-parallel side of ``trainer``'s run, or None outside data-parallel training."""
    if not group.is_initialized() or group.get_world_size() == 1:
        return None
    return DataParallelFit(trainer)


def average_logs(logs: dict[str, Any] | None) -> None:
    """Replace the numeric values of ``logs`` by their means over the processes (in place)."""
    if not logs:
        return
    keys = sorted(k for k, v in logs.items() if isinstance(v, int | float | np.number))
    if not keys:
        return
    g = group._get()
    values = np.array([float(logs[k]) for k in keys], np.float64)
    group.wait([g.comm.Iallreduce(g.MPI.IN_PLACE, values, op=g.MPI.SUM)], "fit: epoch logs")
    for key, value in zip(keys, values / g.size):
        logs[key] = float(value)
