"""Readers for MNIST, Fashion-MNIST (IDX files) and CIFAR-10 (python batches) in a local folder.

Nothing is downloaded: the user names a directory that already holds the files, and a missing or
incomplete directory raises an error listing the expected file names and the directories looked
in. Images come back as float32 in [0, 1], NCHW (or flat), labels as int64 class indices.

CIFAR-10's "python version" batches are pickles, and unpickling runs whatever code a pickle
names. The project never unpickles data with plain :mod:`pickle`: :class:`RestrictedUnpickler`
resolves only the few NumPy names that rebuild a plain numeric array and refuses every other
global (``os.system``, ``builtins.eval``, any class), before anything runs.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IDX_IMAGES_MAGIC = 2051  # unsigned bytes, 3 dims (count, rows, cols)
IDX_LABELS_MAGIC = 2049  # unsigned bytes, 1 dim (count)


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when its name ends in ``.gz``."""
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as f:
            return f.read()
    return path.read_bytes()


def read_idx(path: str | os.PathLike, magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzipped if it ends in ``.gz``) into an array of its own shape and type.

    IDX: a big-endian header of two zero bytes, a type code (0x08 = uint8, ...), the number of
    dims, one uint32 per dim, then the data. The first four bytes read as one big-endian int are
    the magic number: MNIST's images have 2051, its labels 2049. ``magic`` checks it.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(
            f"read_idx: {path} is not an IDX file (its first bytes {raw[:4].hex()} are not 0000, a "
            f"type code in {sorted(_IDX_TYPES)}, a dim count)"
        )
    found = int.from_bytes(raw[:4], "big")
    if magic is not None and found != magic:
        raise ValueError(f"read_idx: {path} has magic number {found}, expected {magic}")
    ndim, header = raw[3], 4 + 4 * raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, offset=4)) if ndim else ()
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    count = int(np.prod(shape))
    if len(raw) != header + count * dtype.itemsize:
        raise ValueError(
            f"read_idx: {path} has {len(raw) - header} data bytes, but its header promises shape "
            f"{shape} of {dtype.str} ({count * dtype.itemsize} bytes): truncated or corrupt"
        )
    return (
        np.frombuffer(raw, dtype, count, offset=header)
        .reshape(shape)
        .astype(dtype.newbyteorder("="))
    )


def _missing_files(name: str, expected: list[str], dirs: list[Path], note: str) -> Exception:
    """A FileNotFoundError naming the expected files and where they were looked for."""
    looked = ", ".join(str(d) for d in dirs)

    def contents(d: Path) -> str:
        if not d.is_dir():
            return f"{d} does not exist"
        names = sorted(p.name for p in d.iterdir())
        more = f" and {len(names) - 10} more" if len(names) > 10 else ""
        return f"{d} holds {names[:10] or 'nothing'}{more}"

    listing = "; ".join(contents(d) for d in dirs)
    return FileNotFoundError(
        f"{name}: expected the files {', '.join(expected)} {note}in {looked}, but they are not "
        f"all there ({listing}). neuralab downloads nothing: fetch the dataset yourself and pass "
        "its directory."
    )


def _find_files(
    name: str, root: Path, subdirs: list[str], files: list[str], gz: bool
) -> list[Path]:
    """Locate ``files`` in ``root`` or one of its ``subdirs`` (all in the same directory)."""
    dirs = [root, *(root / s for s in subdirs)]
    for d in dirs:
        paths = []
        for f in files:
            options = [d / f, d / (f + ".gz")] if gz else [d / f]
            paths.append(next((p for p in options if p.is_file()), None))
        if all(p is not None for p in paths):
            return paths
    raise _missing_files(name, files, dirs, "(each may be gzipped, ending in .gz) " if gz else "")


def _load_idx_dataset(
    name: str, root: str | os.PathLike, folder: str, train: bool, flat: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of one split from IDX files in ``root`` or ``root/<folder>[/raw]``."""
    prefix = "train" if train else "t10k"
    files = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
    images_path, labels_path = _find_files(name, Path(root), [f"{folder}/raw", folder], files, True)
    images = read_idx(images_path, IDX_IMAGES_MAGIC)
    labels = read_idx(labels_path, IDX_LABELS_MAGIC)
    if len(images) != len(labels):
        raise ValueError(
            f"{name}: {images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels"
        )
    X = (images.astype(np.float32) / 255)[:, None]
    return (X.reshape(len(X), -1) if flat else X), labels.astype(np.int64)


def mnist(
    root: str | os.PathLike, train: bool = True, flat: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST digits from IDX files in ``root`` (or torchvision's ``root/MNIST/raw``).

    Needs ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (``train=True``) or the
    ``t10k-`` pair, each optionally gzipped (``.gz``). Returns X (N, 1, 28, 28) float32 in
    [0, 1] (``flat=True``: (N, 784)) and y (N,) int64 in 0..9 (60,000 train, 10,000 test).
    """
    return _load_idx_dataset("mnist", root, "MNIST", train, flat)


def fashion_mnist(
    root: str | os.PathLike, train: bool = True, flat: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST from IDX files in ``root`` (or ``root/FashionMNIST/raw``), MNIST's format.

    Same files, shapes and dtypes as :func:`mnist`; the 10 classes are ``FASHION_MNIST_CLASSES``.
    """
    return _load_idx_dataset("fashion_mnist", root, "FashionMNIST", train, flat)


# ----------------------------------------------------------------------------- CIFAR-10


def _checked_dtype(*args: Any) -> np.dtype:
    """``numpy.dtype`` for plain numeric types only (object dtypes could hold arbitrary objects)."""
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError(f"refusing to build an object dtype ({dtype}) from a pickle")
    return dtype


class _NdarrayToken:
    """Stands in for ``numpy.ndarray`` in a pickle: accepted by _reconstruct, never callable."""


_RECONSTRUCT = np.empty(0).__reduce__()[0]  # numpy's array-rebuilding function
_FROMBUFFER = np.empty(1).__reduce_ex__(5)[0]  # numpy's protocol-5 counterpart


def _checked_reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    """numpy's ``_reconstruct`` limited to plain ndarrays (its state is set afterwards)."""
    if subtype is not _NdarrayToken:
        raise pickle.UnpicklingError("refusing to rebuild anything but a plain numpy.ndarray")
    return _RECONSTRUCT(np.ndarray, shape, _checked_dtype(dtype))


def _checked_frombuffer(buffer: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
    """numpy's ``_frombuffer`` (pickle protocol 5) limited to plain numeric dtypes."""
    return _FROMBUFFER(buffer, _checked_dtype(dtype), shape, order)


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that can rebuild dicts, lists, numbers, bytes and numeric arrays, nothing else.

    ``find_class`` allows only numpy's array and dtype reconstruction (under their NumPy 1 and 2
    module names, limited to non-object dtypes) and raises ``pickle.UnpicklingError`` naming any
    other global, so a malicious pickle fails before any of its code can run.
    """

    ALLOWED: dict[tuple[str, str], Any] = {
        ("numpy.core.multiarray", "_reconstruct"): _checked_reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _checked_reconstruct,
        ("numpy.core.numeric", "_frombuffer"): _checked_frombuffer,
        ("numpy._core.numeric", "_frombuffer"): _checked_frombuffer,
        ("numpy", "ndarray"): _NdarrayToken,
        ("numpy", "dtype"): _checked_dtype,
    }

    def find_class(self, module: str, name: str) -> Any:
        """Resolve only the allowed numpy names; refuse everything else."""
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load the global {module}.{name}: only numpy arrays may appear in "
                "this file (it may be malicious or not the expected format)"
            ) from None


def restricted_load(data: bytes) -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler` (Python 2 strings load as bytes)."""
    return RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()


def _cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 batch: a dict with b'data' uint8 (N, 3072) and b'labels' (N ints)."""
    try:
        batch = restricted_load(path.read_bytes())
    except pickle.UnpicklingError as err:
        raise pickle.UnpicklingError(f"cifar10: {path}: {err}") from None
    if not isinstance(batch, dict):
        raise ValueError(f"cifar10: {path} holds a {type(batch).__name__}, expected a dict")
    fields = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in fields or "labels" not in fields:
        raise ValueError(f"cifar10: {path} lacks b'data' or b'labels' (keys: {sorted(fields)})")
    data, labels = np.asarray(fields["data"]), np.asarray(fields["labels"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(
            f"cifar10: {path}: b'data' must be uint8 of shape (N, 3072), got {data.dtype} "
            f"{data.shape}"
        )
    if labels.shape != (len(data),) or labels.dtype.kind not in "iu":
        raise ValueError(
            f"cifar10: {path}: b'labels' must be {len(data)} ints, got {labels.dtype} "
            f"{labels.shape}"
        )
    return data, labels


def cifar10(
    root: str | os.PathLike, train: bool = True, flat: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 from the python batches in ``root`` or ``root/cifar-10-batches-py``.

    Needs ``data_batch_1`` … ``data_batch_5`` (``train=True``) or ``test_batch``, read with
    :class:`RestrictedUnpickler`. Returns X (N, 3, 32, 32) float32 in [0, 1] (``flat=True``:
    (N, 3072)) and y (N,) int64 in 0..9 (``CIFAR10_CLASSES``); 50,000 train, 10,000 test.
    The full training set takes 600 MB as float32.
    """
    files = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    paths = _find_files("cifar10", Path(root), ["cifar-10-batches-py"], files, gz=False)
    batches = [_cifar_batch(p) for p in paths]
    data = np.concatenate([d for d, _ in batches])
    X = data.astype(np.float32) / 255
    y = np.concatenate([labels for _, labels in batches]).astype(np.int64)
    return (X if flat else X.reshape(-1, 3, 32, 32)), y
