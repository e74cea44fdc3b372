"""torch.utils.data's module path: the datasets, samplers and DataLoader of :mod:`neuralab.data`.

One implementation lives in neuralab/data/; this package and its submodules (``dataset``,
``sampler``, ``dataloader``) only re-export it under torch's names. See docs/data.md.
"""

from neuralab.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from neuralab.data.loader import DataLoader, default_collate, default_convert, get_worker_info
from neuralab.data.sampler import (
    BatchSampler,
    DistributedSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from neuralab.utils.data import dataloader, dataset, distributed, sampler

__all__ = [
    "BatchSampler",
    "DistributedSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]
