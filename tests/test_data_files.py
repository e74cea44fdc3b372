"""MNIST/Fashion-MNIST IDX and CIFAR-10 readers on tiny files written here in the real formats."""

import gzip
import os
import pickle
import struct

import numpy as np
import pytest

from neuralab.data import RestrictedUnpickler, cifar10, fashion_mnist, mnist, read_idx
from neuralab.data.files import restricted_load


def write_idx(path, array, gz=False):
    """An IDX file: 0, 0, type 0x08 (uint8), ndim, big-endian uint32 dims, then the bytes."""
    array = np.asarray(array, dtype=np.uint8)
    raw = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw += array.tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)
    return path


def write_mnist(root, prefix, n, gz, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    root.mkdir(parents=True, exist_ok=True)
    write_idx(root / f"{prefix}-images-idx3-ubyte", images, gz)
    write_idx(root / f"{prefix}-labels-idx1-ubyte", labels, gz)
    return images, labels


def test_read_idx_header_magic_and_gzip(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    plain = write_idx(tmp_path / "a-idx3-ubyte", a)
    zipped = write_idx(tmp_path / "b-idx3-ubyte", a, gz=True)
    assert plain.read_bytes()[:4] == (2051).to_bytes(4, "big")
    for path in (plain, zipped):
        out = read_idx(path, magic=2051)
        assert out.dtype == np.uint8 and out.shape == (2, 3, 4) and (out == a).all()
    with pytest.raises(ValueError, match="magic number 2051, expected 2049"):
        read_idx(plain, magic=2049)
    (tmp_path / "short").write_bytes(plain.read_bytes()[:-1])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "short")
    (tmp_path / "junk").write_bytes(b"\x89PNG....")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "junk")


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_train_and_test_split(tmp_path, gz):
    images, labels = write_mnist(tmp_path, "train", 5, gz)
    test_images, test_labels = write_mnist(tmp_path, "t10k", 3, not gz, seed=1)
    X, y = mnist(tmp_path)
    assert X.shape == (5, 1, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(X[:, 0] * 255, images, atol=1e-4)
    assert (y == labels).all()
    Xt, yt = mnist(tmp_path, train=False, flat=True)
    assert Xt.shape == (3, 784) and (yt == test_labels).all()
    np.testing.assert_allclose(Xt * 255, test_images.reshape(3, -1), atol=1e-4)


def test_fashion_mnist_in_torchvision_layout(tmp_path):
    _, labels = write_mnist(tmp_path / "FashionMNIST" / "raw", "t10k", 4, gz=True)
    X, y = fashion_mnist(tmp_path, train=False)
    assert X.shape == (4, 1, 28, 28) and (y == labels).all()


def test_missing_or_incomplete_mnist_lists_expected_files(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        mnist(tmp_path)
    msg = str(err.value)
    assert "train-images-idx3-ubyte" in msg and "train-labels-idx1-ubyte" in msg
    assert str(tmp_path) in msg and ".gz" in msg and "downloads nothing" in msg
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 28, 28)))
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte"):
        mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros((2, 28, 28)))  # images as labels
    with pytest.raises(ValueError, match="expected 2049"):
        mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(3))
    with pytest.raises(ValueError, match="2 images but .* 3 labels"):
        mnist(tmp_path)


# --------------------------------------------------------------------------- CIFAR-10


def py2_cifar_pickle(data, labels):
    """A batch pickled the way the real files are (Python 2 cPickle, protocol 2, str keys)."""
    i = lambda v: b"J" + struct.pack("<i", v)  # BININT
    s = lambda b: b"U" + bytes([len(b)]) + b  # SHORT_BINSTRING
    n = len(data)
    array = (
        b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n" + i(0) + b"\x85" + s(b"b")
        + b"\x87R(" + i(1) + i(n) + i(3072) + b"\x86"
        + b"cnumpy\ndtype\n" + s(b"u1") + i(0) + i(1) + b"\x87R"
        + b"(" + i(3) + s(b"|") + b"NNN" + i(-1) + i(-1) + i(0) + b"tb"
        + b"\x89T" + struct.pack("<I", data.nbytes) + data.tobytes() + b"tb"
    )  # fmt: skip
    label_list = b"](" + b"".join(i(int(v)) for v in labels) + b"e"
    return b"\x80\x02}(" + s(b"data") + array + s(b"labels") + label_list + b"u."


def write_cifar(root, names, n=4, protocol=None, seed=0):
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for name in names:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, n).tolist()
        if protocol is None:
            raw = py2_cifar_pickle(data, labels)
        else:
            raw = pickle.dumps({b"data": data, b"labels": labels}, protocol=protocol)
        (root / name).write_bytes(raw)
        out.append((data, labels))
    return out


TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


@pytest.mark.parametrize("protocol", [None, 4, 5], ids=["py2", "p4", "p5"])
def test_cifar10_reads_batches(tmp_path, protocol):
    batches = write_cifar(tmp_path / "cifar-10-batches-py", TRAIN + ["test_batch"], 3, protocol)
    X, y = cifar10(tmp_path)
    assert X.shape == (15, 3, 32, 32) and X.dtype == np.float32 and y.dtype == np.int64
    data = np.concatenate([d for d, _ in batches[:5]])
    np.testing.assert_allclose(X.reshape(15, -1) * 255, data, atol=1e-4)
    assert y.tolist() == sum((lab for _, lab in batches[:5]), [])
    Xt, yt = cifar10(tmp_path / "cifar-10-batches-py", train=False, flat=True)
    assert Xt.shape == (3, 3072) and yt.tolist() == batches[5][1]
    # channel-major layout: the first 1024 values are the red plane
    np.testing.assert_allclose(X[0, 0].reshape(-1) * 255, data[0, :1024], atol=1e-4)


def test_cifar10_missing_batches_listed(tmp_path):
    write_cifar(tmp_path, TRAIN[:3])
    with pytest.raises(FileNotFoundError) as err:
        cifar10(tmp_path)
    msg = str(err.value)
    assert all(name in msg for name in TRAIN) and str(tmp_path) in msg
    assert "cifar-10-batches-py" in msg


class Evil:
    """Unpickling this would create a directory: the proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_malicious_pickle_is_refused_without_running(tmp_path):
    write_cifar(tmp_path, TRAIN)
    marker = tmp_path / "pwned"
    (tmp_path / "data_batch_1").write_bytes(
        pickle.dumps({b"data": Evil(str(marker)), b"labels": [0]}, protocol=4)
    )
    with pytest.raises(pickle.UnpicklingError, match=r"data_batch_1.*refusing.*mkdir"):
        cifar10(tmp_path)
    assert not marker.exists()
    for payload in (
        pickle.dumps(eval),  # a builtin
        pickle.dumps(np.array([1, "x"], dtype=object)),  # object arrays hold arbitrary objects
        pickle.dumps(np.ma.masked_array([1, 2])),  # an ndarray subclass
    ):
        with pytest.raises(pickle.UnpicklingError, match="refusing"):
            restricted_load(payload)
    assert RestrictedUnpickler.find_class.__doc__


def test_cifar10_wrong_content(tmp_path):
    write_cifar(tmp_path, TRAIN)
    bad = {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}
    (tmp_path / "data_batch_2").write_bytes(pickle.dumps(bad))
    with pytest.raises(ValueError, match=r"data_batch_2.*\(N, 3072\)"):
        cifar10(tmp_path)
