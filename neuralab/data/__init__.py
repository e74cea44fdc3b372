"""Datasets and loaders: torch.utils.data's shapes, generated data, and local real data.

- :mod:`~neuralab.data.dataset`: ``Dataset``, ``IterableDataset``, ``TensorDataset``, ``Subset``,
  ``ConcatDataset``, ``ChainDataset``, ``StackDataset``, ``random_split``, ``train_test_split``;
- :mod:`~neuralab.data.sampler`: ``Sampler`` and the sequential, random, weighted and batch ones;
- :mod:`~neuralab.data.loader`: ``DataLoader``, ``default_collate``, ``default_convert``;
- :mod:`~neuralab.data.synthetic`: the TensorFlow Playground's 2-D sets and multiclass ones;
- :mod:`~neuralab.data.real`: digits, iris, wine, breast cancer (shipped by scikit-learn);
- :mod:`~neuralab.data.files`: MNIST, Fashion-MNIST and CIFAR-10 from a local directory;
- :mod:`~neuralab.data.sequences`: digit tasks, dates, character text;
- :mod:`~neuralab.data.scenes`: segmentation scenes.

``neuralab.utils.data`` is the same under torch's module path. See docs/data.md.
"""

from neuralab.data import transforms
from neuralab.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
    train_test_split,
)
from neuralab.data.files import (
    CIFAR10_CLASSES,
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    RestrictedUnpickler,
    cifar10,
    fashion_mnist,
    mnist,
    read_idx,
)
from neuralab.data.loader import DataLoader, default_collate, default_convert, get_worker_info
from neuralab.data.real import breast_cancer, digits, iris, standard_scale, wine
from neuralab.data.registry import DATASETS, PLAYGROUND_DATASETS  # noqa: E402  (after the sets it names)
from neuralab.data.sampler import (
    BatchSampler,
    DistributedSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from neuralab.data.scenes import SCENE_CLASSES, scenes
from neuralab.data.sequences import (
    DATE_SOURCE_VOCAB,
    DATE_TARGET_VOCAB,
    DIGITS,
    TINY_TEXT,
    CharText,
    Vocab,
    dates,
    digit_task,
    encode_pairs,
    pad,
)
from neuralab.data.synthetic import (
    blobs,
    checkerboard,
    circle,
    gauss,
    moons,
    multi_gauss,
    plane,
    spiral,
    xor,
)

__all__ = [
    "DATASETS",
    "CIFAR10_CLASSES",
    "DATE_SOURCE_VOCAB",
    "DATE_TARGET_VOCAB",
    "DIGITS",
    "FASHION_MNIST_CLASSES",
    "MNIST_CLASSES",
    "PLAYGROUND_DATASETS",
    "SCENE_CLASSES",
    "TINY_TEXT",
    "BatchSampler",
    "DistributedSampler",
    "ChainDataset",
    "CharText",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "RestrictedUnpickler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "Vocab",
    "WeightedRandomSampler",
    "blobs",
    "breast_cancer",
    "checkerboard",
    "cifar10",
    "circle",
    "dates",
    "default_collate",
    "default_convert",
    "digit_task",
    "digits",
    "encode_pairs",
    "fashion_mnist",
    "gauss",
    "get_worker_info",
    "iris",
    "mnist",
    "moons",
    "multi_gauss",
    "pad",
    "plane",
    "random_split",
    "read_idx",
    "scenes",
    "spiral",
    "standard_scale",
    "train_test_split",
    "wine",
    "xor",
]
