"""Datasets, splits and the DataLoader: batch counts, reproducible shuffling, fast = slow path."""

from collections import namedtuple

import numpy as np
import pytest

import neuralab as nl
from neuralab.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
    train_test_split,
)


def make_data(n=10):
    X = np.arange(n * 3, dtype=np.float64).reshape(n, 3)  # float64 in: float32 out
    y = np.arange(n)
    return TensorDataset(X, y)


class PerSample(Dataset):
    """The same samples without a batch fetcher: forces the per-sample path."""

    def __init__(self, inner):
        self.inner = inner

    def __getitem__(self, i):
        return self.inner[i]

    def __len__(self):
        return len(self.inner)


def labels_of(loader):
    return [y.numpy().tolist() for _, y in loader]


def test_tensor_dataset_items_dtypes_and_length_check():
    ds = make_data()
    x, y = ds[3]
    assert isinstance(x, nl.Tensor) and x.dtype == nl.float32 and x.tolist() == [9, 10, 11]
    assert y.dtype == nl.int64 and y.item() == 3 and len(ds) == 10
    assert ds[-1][1].item() == 9
    with pytest.raises(ValueError, match=r"same first dimension.*\(10, 3\), \(9,\)"):
        TensorDataset(np.zeros((10, 3)), np.zeros(9))
    assert TensorDataset(nl.zeros(2, dtype=nl.float64))[0][0].dtype == nl.float64


@pytest.mark.parametrize(
    "batch_size, drop_last, sizes",
    [
        (1, False, [1] * 10),
        (3, False, [3, 3, 3, 1]),
        (3, True, [3, 3, 3]),
        (5, True, [5, 5]),
        (20, True, []),
    ],
)
def test_batch_counts(batch_size, drop_last, sizes):
    loader = DataLoader(make_data(), batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == len(sizes)
    assert [len(y) for _, y in loader] == sizes


def test_batches_are_tensors_with_float32_inputs_and_int64_labels():
    x, y = next(iter(DataLoader(make_data(), batch_size=4)))
    assert x.shape == (4, 3) and x.dtype == nl.float32 and y.dtype == nl.int64
    assert y.tolist() == [0, 1, 2, 3] and not x.requires_grad


def test_shuffle_is_reproducible_new_each_epoch_and_covers_every_sample_once():
    nl.manual_seed(0)
    a = DataLoader(make_data(50), batch_size=8, shuffle=True)
    epochs_a = [labels_of(a) for _ in range(3)]
    nl.manual_seed(0)
    b = DataLoader(make_data(50), batch_size=8, shuffle=True)
    assert [labels_of(b) for _ in range(3)] == epochs_a
    assert epochs_a[0] != epochs_a[1] != epochs_a[2]
    for epoch in epochs_a:
        assert sorted(sum(epoch, [])) == list(range(50))
    nl.manual_seed(1)
    assert labels_of(DataLoader(make_data(50), batch_size=8, shuffle=True)) != epochs_a[0]


def test_explicit_generator_and_no_draw_without_shuffle():
    runs = [labels_of(DataLoader(make_data(), batch_size=4, shuffle=True, generator=7))]
    runs.append(labels_of(DataLoader(make_data(), 4, True, generator=np.random.default_rng(7))))
    assert runs[0] == runs[1]
    nl.manual_seed(3)
    expected = nl.random.generator().random()
    nl.manual_seed(3)
    DataLoader(make_data(), batch_size=4)  # no shuffle, no transform: the global stream is kept
    assert nl.random.generator().random() == expected


@pytest.mark.parametrize("wrap", ["plain", "subset", "concat"])
def test_fast_path_equals_per_sample_path(wrap):
    ds = make_data(23)
    if wrap == "subset":
        ds = Subset(ds, np.arange(22, 0, -2))
    elif wrap == "concat":
        ds = ConcatDataset([ds, make_data(7), Subset(make_data(5), [4, 0])])
    assert ds.batch_fetcher() is not None
    fast = DataLoader(ds, batch_size=4, shuffle=True, generator=1)
    slow = DataLoader(PerSample(ds), batch_size=4, shuffle=True, generator=1)
    for (xf, yf), (xs, ys) in zip(fast, slow, strict=True):
        assert xf.dtype == xs.dtype == nl.float32 and yf.dtype == ys.dtype == nl.int64
        np.testing.assert_array_equal(xf.numpy(), xs.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())


def test_fast_path_is_used_and_collate_fn_takes_the_per_sample_path():
    calls, fetched = [], []

    class Spy(TensorDataset):
        def __getitem__(self, i):
            calls.append(i)
            return super().__getitem__(i)

    class FetchSpy(TensorDataset):
        def batch_fetcher(self):
            inner = super().batch_fetcher()
            return lambda idx: fetched.append(len(idx)) or inner(idx)

    list(DataLoader(FetchSpy(np.zeros((10, 2)), np.arange(10)), batch_size=5))
    assert fetched == [5, 5]  # every batch came from one fancy index
    list(DataLoader(Spy(np.zeros((10, 2)), np.arange(10)), batch_size=5))
    assert calls == list(range(10))  # an overridden __getitem__ is honoured (no stale fast path)
    seen = []
    loader = DataLoader(make_data(), batch_size=5, collate_fn=lambda s: seen.append(len(s)) or s)
    assert all(isinstance(b, list) for b in loader) and seen == [5, 5]


def test_array_dataset_uses_indexing():
    arr = np.arange(12.0).reshape(6, 2)
    (batch,) = list(DataLoader(arr, batch_size=6))
    assert batch.dtype == nl.float32 and batch.shape == (6, 2)


def test_default_collate_numbers_dicts_namedtuples_strings():
    assert default_collate([1, 2]).dtype == nl.int64
    assert default_collate([1.5, 2.0]).dtype == nl.float32
    assert default_collate([np.float64(1.0)]).dtype == nl.float32
    batch = default_collate([{"x": np.zeros(2), "name": "a"}, {"x": np.ones(2), "name": "b"}])
    assert batch["x"].shape == (2, 2) and batch["name"] == ["a", "b"]
    Pair = namedtuple("Pair", "x y")
    out = default_collate([Pair(nl.zeros(3), 1), Pair(nl.ones(3), 0)])
    assert isinstance(out, Pair) and out.x.shape == (2, 3) and out.y.tolist() == [1, 0]
    with pytest.raises(RuntimeError, match=r"sample 1 has shape \(3,\) but sample 0 has \(2,\)"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="collate_fn"):
        default_collate([object()])


def test_transform_gets_loader_rng_and_only_touches_inputs():
    def jitter(x, rng):
        return x + rng.normal(size=x.shape)

    def run():
        nl.manual_seed(5)
        loader = DataLoader(make_data(), batch_size=5, shuffle=True, transform=jitter)
        return [(x.numpy(), y.numpy()) for x, y in loader]

    first, second = run(), run()
    for (x1, y1), (x2, y2) in zip(first, second):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
        assert x1.dtype == np.float32
        base = make_data().arrays[0][y1]
        assert not np.allclose(x1, base)  # moved
    plain = DataLoader(make_data(), batch_size=10, transform=lambda x: x * 0)
    x, y = next(iter(plain))
    assert x.numpy().sum() == 0 and y.tolist() == list(range(10))


def test_bad_batch_size():
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="batch_size"):
            DataLoader(make_data(), batch_size=bad)


def test_subset_concat_and_add():
    ds = make_data()
    sub = Subset(ds, [9, 0, 5])
    assert len(sub) == 3 and sub[0][1].item() == 9 and sub[-1][1].item() == 5
    with pytest.raises(IndexError, match="Subset"):
        Subset(ds, [10])
    cat = ds + sub
    assert isinstance(cat, ConcatDataset) and len(cat) == 13
    assert cat[10][1].item() == 9 and cat[-1][1].item() == 5 and cat[0][1].item() == 0
    with pytest.raises(IndexError):
        cat[13]


def test_random_split_counts_fractions_and_reproducibility():
    ds = make_data(10)
    nl.manual_seed(0)
    parts = random_split(ds, [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    indices = np.concatenate([p.indices for p in parts])
    assert sorted(indices.tolist()) == list(range(10))
    nl.manual_seed(0)
    again = random_split(ds, [0.5, 0.3, 0.2])
    assert all(p.indices == q.indices for p, q in zip(parts, again))
    assert [len(p) for p in random_split(make_data(11), [0.5, 0.5], generator=0)] == [6, 5]
    assert [len(p) for p in random_split(ds, [7, 3], generator=1)] == [7, 3]
    with pytest.raises(ValueError, match="summing to the dataset's 10"):
        random_split(ds, [7, 4])
    with pytest.raises(ValueError, match="summing to 1"):
        random_split(ds, [0.5, 0.6])


def test_train_test_split_is_deterministic_and_aligned():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    Xtr, Xte, ytr, yte = train_test_split(X, y, ratio=0.7, seed=3)
    assert len(Xtr) == 7 and len(Xte) == 3
    assert (Xtr[:, 0] // 2 == ytr).all() and (Xte[:, 0] // 2 == yte).all()
    assert sorted(np.concatenate([ytr, yte]).tolist()) == list(range(10))
    assert (train_test_split(X, y, ratio=0.7, seed=3)[2] == ytr).all()
    assert train_test_split(y, shuffle=False)[0].tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="same length"):
        train_test_split(X, y[:3])
