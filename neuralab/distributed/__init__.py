"""torch.distributed for neuralab: one process group over MPI (mpi4py), launched with
``mpiexec -n N python script.py`` (or ``neuralab train --processes N``), the collectives on
Tensors, and what DistributedDataParallel and the training loop build on.

mpi4py is imported only by :func:`init_process_group`; ``import neuralab`` never loads it.
See docs/distributed.md.
"""

from neuralab.distributed.collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_reduce,
    all_reduce_sum,
    barrier,
    broadcast,
)
from neuralab.distributed.group import (
    NOT_INITIALIZED,
    DistributedError,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
)

__all__ = [
    "DistributedError",
    "ReduceOp",
    "Work",
    "all_gather",
    "all_reduce",
    "all_reduce_sum",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_backend",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "is_mpi_available",
]
