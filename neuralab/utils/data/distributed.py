"""torch.utils.data.distributed's module path: :class:`DistributedSampler`."""

from neuralab.data.sampler import DistributedSampler

__all__ = ["DistributedSampler"]
