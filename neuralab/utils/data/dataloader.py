"""torch.utils.data.dataloader's module path: the loader of :mod:`neuralab.data.loader`."""

from neuralab.data.loader import DataLoader, default_collate, default_convert, get_worker_info

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]
