"""torch.utils's module path: ``neuralab.utils.data`` (datasets, samplers, DataLoader)."""

from neuralab.utils import data
