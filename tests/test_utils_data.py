"""torch.utils.data under neuralab.utils.data, side by side with torch: sizes, order rules, dtypes,
structures and errors (random streams differ, so shuffles are compared by coverage)."""

import inspect
from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as td

import neuralab as nl
import neuralab.utils.data as nd
from neuralab.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    StackDataset,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    get_worker_info,
    random_split,
)

TORCH_NAMES = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset",
    "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset",
    "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler", "default_collate",
    "default_convert", "get_worker_info", "random_split",
]  # fmt: skip


def describe(x, loose_floats=False):
    """A comparable picture of a batch: Tensors as (shape, dtype name), containers kept."""
    if isinstance(x, nl.Tensor | torch.Tensor):
        name = str(x.dtype).removeprefix("torch.")
        if loose_floats and name.startswith("float"):
            name = "float"
        return ("T", tuple(x.shape), name)
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, *(describe(v, loose_floats) for v in x))
    if isinstance(x, tuple | list):
        return (type(x).__name__, [describe(v, loose_floats) for v in x])
    if isinstance(x, dict):
        return {k: describe(v, loose_floats) for k, v in x.items()}
    return x


def values(x):
    """Nested Python values of a batch (Tensors as lists)."""
    if isinstance(x, nl.Tensor | torch.Tensor):
        return x.tolist()
    if isinstance(x, tuple | list):
        return [values(v) for v in x]
    if isinstance(x, dict):
        return {k: values(v) for k, v in x.items()}
    return x


def error_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001  (the type is what is compared)
        return type(e)
    return None


def pair(n=10):
    """The same TensorDataset in both libraries: x (n, 3) float32, y (n,) int64 = index."""
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n)
    return TensorDataset(nl.tensor(x), nl.tensor(y)), td.TensorDataset(
        torch.tensor(x), torch.tensor(y)
    )


def labels(loader):
    return [y.tolist() for _, y in loader]


# --- module paths and signature -------------------------------------------------------------


def test_torch_module_paths_and_names():
    assert set(TORCH_NAMES) <= set(nd.__all__)
    for name in TORCH_NAMES:
        assert hasattr(td, name) and getattr(nd, name) is getattr(nl.data, name)
    from neuralab.utils.data.dataloader import default_collate as dc
    from neuralab.utils.data.dataset import Subset as S
    from neuralab.utils.data.sampler import RandomSampler as R

    assert dc is default_collate and S is Subset and R is RandomSampler
    assert nl.utils.data.DataLoader is DataLoader  # `import neuralab as torch; torch.utils.data`


def test_dataloader_signature_matches_torch():
    ours = inspect.signature(DataLoader.__init__).parameters
    theirs = inspect.signature(td.DataLoader.__init__).parameters
    assert list(theirs) == [p for p in ours if p != "transform"]
    for name, p in theirs.items():
        assert (ours[name].kind, ours[name].default) == (p.kind, p.default), name
    assert ours["transform"].kind is inspect.Parameter.KEYWORD_ONLY  # neuralab's extension


# --- DataLoader: lengths, batching, options ----------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"batch_size": 3},
        {"batch_size": 3, "drop_last": True},
        {"batch_size": 4, "shuffle": True},
        {"batch_size": 20, "drop_last": True},
        {"batch_size": None},
        {"batch_size": 2, "sampler": [9, 0, 5]},
        {"batch_sampler": [[0, 1, 2], [7], [3, 3]]},
        {"batch_size": 3, "sampler": RandomSampler(range(10), replacement=True, num_samples=7)},
    ],
)
def test_lengths_and_batch_shapes_match_torch(kwargs):
    ours, theirs = pair()
    kw_t = dict(kwargs)
    if "sampler" in kw_t and isinstance(kw_t["sampler"], RandomSampler):
        kw_t["sampler"] = td.RandomSampler(range(10), replacement=True, num_samples=7)
    a, b = DataLoader(ours, **kwargs), td.DataLoader(theirs, **kw_t)
    assert len(a) == len(b)
    got, want = list(a), list(b)
    assert [describe(x) for x in got] == [describe(x) for x in want]
    if not kwargs.get("shuffle") and not isinstance(kwargs.get("sampler"), RandomSampler):
        assert values(got) == values(want)
    assert [describe(x) for x in a] == [describe(x) for x in got]  # iterating again works


def test_batch_size_none_passes_samples_through_default_convert():
    ours, theirs = pair(3)
    assert values(list(DataLoader(ours, batch_size=None))) == values(
        list(td.DataLoader(theirs, batch_size=None))
    )
    first = next(iter(DataLoader(ours, batch_size=None)))
    assert isinstance(first, list) and first[0].shape == (3,) and first[1].shape == ()
    plain = list(DataLoader([{"a": np.float32(1.5), "n": 2}], batch_size=None))
    assert isinstance(plain[0]["a"], nl.Tensor) and plain[0]["n"] == 2  # numbers stay numbers


def test_shuffle_follows_the_global_seed_and_reshuffles_each_epoch():
    ours, _ = pair(50)
    loader = DataLoader(ours, batch_size=8, shuffle=True)
    nl.manual_seed(0)
    epochs = [labels(loader) for _ in range(3)]
    nl.manual_seed(0)
    assert [labels(loader) for _ in range(3)] == epochs  # the order is drawn when iterating
    assert epochs[0] != epochs[1] != epochs[2]
    for epoch in epochs:
        assert [len(b) for b in epoch] == [8] * 6 + [2]
        assert sorted(sum(epoch, [])) == list(range(50))
    nl.manual_seed(1)
    assert labels(loader) != epochs[0]


class Seeded:
    """A torch-style generator object: only initial_seed()."""

    def initial_seed(self):
        return 11


@pytest.mark.parametrize("make", [lambda: 11, lambda: np.random.default_rng(11), Seeded])
def test_generator_argument_gives_its_own_reproducible_stream(make):
    ours, _ = pair(30)
    runs = []
    for global_seed in (0, 1):
        nl.manual_seed(global_seed)
        loader = DataLoader(ours, batch_size=7, shuffle=True, generator=make())
        runs.append([labels(loader) for _ in range(2)])
    assert runs[0] == runs[1] and runs[0][0] != runs[0][1]
    with pytest.raises(TypeError, match="generator"):
        DataLoader(ours, shuffle=True, generator="seed")


MUTUALLY_EXCLUSIVE = [
    {"sampler": [0, 1], "shuffle": True},
    {"batch_sampler": [[0]], "batch_size": 2},
    {"batch_sampler": [[0]], "shuffle": True},
    {"batch_sampler": [[0]], "sampler": [0]},
    {"batch_sampler": [[0]], "drop_last": True},
    {"batch_size": None, "drop_last": True},
    {"batch_size": 0},
    {"batch_size": 2.0},
    {"batch_size": True},
    {"num_workers": -1},
    {"timeout": -1},
    {"prefetch_factor": 2},
    {"persistent_workers": True},
    {"multiprocessing_context": "fork"},
    {"num_workers": 2, "prefetch_factor": -1},
    {"sampler": [0, 1], "shuffle": False},  # allowed
    {"batch_sampler": [[0]], "batch_size": 1},  # allowed
]


@pytest.mark.parametrize("kwargs", MUTUALLY_EXCLUSIVE)
def test_option_errors_match_torch(kwargs):
    ours, theirs = pair()
    assert error_of(lambda: DataLoader(ours, **kwargs)) is error_of(
        lambda: td.DataLoader(theirs, **kwargs)
    )


def test_attributes_fixed_after_init_like_torch():
    loader = DataLoader(pair()[0], batch_size=2)
    for name in ("batch_size", "sampler", "batch_sampler", "drop_last", "dataset"):
        with pytest.raises(ValueError, match=name):
            setattr(loader, name, None)
    loader.collate_fn = lambda s: len(s)  # allowed, as in torch
    assert list(loader)[:2] == [2, 2]
    assert loader.collate_fn is not default_collate


def test_workers_pin_memory_run_in_the_main_process():
    seen, init_calls = [], []

    class Probe(Dataset):
        def __getitem__(self, i):
            seen.append(get_worker_info())
            return np.float32(i)

        def __len__(self):
            return 6

    loader = DataLoader(
        Probe(), batch_size=4, num_workers=2, pin_memory=True, worker_init_fn=init_calls.append,
        prefetch_factor=3, persistent_workers=True, timeout=5, multiprocessing_context="fork",
    )  # fmt: skip
    assert [b.tolist() for b in loader] == [[0, 1, 2, 3], [4, 5]]
    assert seen == [None] * 6 and init_calls == [] and get_worker_info() is None


def test_getitems_protocol_fetches_a_batch_at_once():
    class Batched(Dataset):
        def __getitems__(self, indices):
            return [(np.float32(i), i) for i in indices]

        def __len__(self):
            return 5

    x, y = next(iter(DataLoader(Batched(), batch_size=3)))
    assert x.tolist() == [0, 1, 2] and y.dtype == nl.int64


def test_fast_path_equals_collate_and_respects_overrides():
    ours, _ = pair(23)
    ds = ConcatDataset([Subset(ours, list(range(22, 0, -2))), ours])
    fast = list(DataLoader(ds, batch_size=4, sampler=list(range(30, 0, -3))))
    slow = list(
        DataLoader(
            ds,
            batch_size=4,
            sampler=list(range(30, 0, -3)),
            collate_fn=lambda s: default_collate(s),
        )
    )
    assert values(fast) == values(slow) and describe(fast) == describe(slow)
    stacked = StackDataset(a=ours, b=Subset(ours, list(range(23))))
    batch = next(iter(DataLoader(stacked, batch_size=3)))
    assert describe(batch) == describe(default_collate([stacked[i] for i in range(3)]))


# --- default_collate ---------------------------------------------------------------------------

Point = namedtuple("Point", "x y")


def collate_cases(lib):
    """Sample lists built with ``lib``'s tensor function (nl.tensor or torch.tensor)."""
    t = lib.tensor
    return {
        "tensors": [t([1.0, 2.0]), t([3.0, 4.0])],
        "int_tensors": [t([[1, 2]]), t([[3, 4]])],
        "arrays32": [np.zeros((2, 2), np.float32), np.ones((2, 2), np.float32)],
        "ints": [1, 2, 3],
        "bools": [True, False],
        "strings": ["a", "b"],
        "pairs": [(t([0.0]), 1), (t([1.0]), 0)],
        "lists": [[1, 2], [3, 4]],
        "dicts": [{"x": t([1.0]), "k": 5, "s": "a"}, {"x": t([2.0]), "k": 6, "s": "b"}],
        "named": [Point(t([1.0, 2.0]), 1), Point(t([3.0, 4.0]), 2)],
        "nested": [{"p": (t([1]), [np.int64(2), "u"])}, {"p": (t([3]), [np.int64(4), "v"])}],
    }


@pytest.mark.parametrize("case", list(collate_cases(nl)))
def test_default_collate_matches_torch(case):
    ours = default_collate(collate_cases(nl)[case])
    theirs = td.default_collate(collate_cases(torch)[case])
    assert describe(ours) == describe(theirs)
    assert values(ours) == values(theirs)


def test_default_collate_float_rule_keeps_float32():
    # torch turns Python floats and float64 arrays into float64; neuralab keeps its float32 default
    assert td.default_collate([1.5, 2.0]).dtype == torch.float64
    assert default_collate([1.5, 2.0]).dtype == nl.float32
    assert default_collate([np.zeros(2), np.ones(2)]).dtype == nl.float32
    assert default_collate([nl.zeros(2, dtype=nl.float64)] * 2).dtype == nl.float64  # Tensors kept
    assert describe(default_collate([1.5]), True) == describe(td.default_collate([1.5]), True)


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match=r"sample 3 has shape \(3,\) but sample 0 has \(2,\)"):
        default_collate([np.zeros(2)] * 3 + [np.zeros(3)])
    with pytest.raises(RuntimeError, match=r"sample 1 has shape \(1, 2\).*field \[0\]\['img'\]"):
        default_collate([({"img": nl.zeros(2)},), ({"img": nl.zeros(1, 2)},)])
    assert error_of(lambda: td.default_collate([torch.zeros(2), torch.zeros(3)])) is RuntimeError
    with pytest.raises(RuntimeError, match="sample 1 has 3 fields but sample 0 has 2"):
        default_collate([(1, 2), (1, 2, 3)])
    assert error_of(lambda: td.default_collate([(1, 2), (1, 2, 3)])) is RuntimeError
    for bad in ([object()], [None], [np.array(["a"])]):
        with pytest.raises(TypeError, match="collate_fn"):
            default_collate(bad)
        assert error_of(lambda b=bad: td.default_collate(b)) is TypeError


# --- samplers ----------------------------------------------------------------------------------


def test_sequential_and_batch_samplers_match_torch():
    assert list(SequentialSampler(range(5))) == list(td.SequentialSampler(range(5)))
    for n, size, drop in [(7, 3, False), (7, 3, True), (6, 3, True), (2, 5, False), (0, 2, False)]:
        ours = BatchSampler(SequentialSampler(range(n)), size, drop)
        theirs = td.BatchSampler(td.SequentialSampler(range(n)), size, drop)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        plain = BatchSampler(range(n), size, drop)  # any iterable of indices
        assert list(plain) == list(theirs) and all(type(i) is int for b in plain for i in b)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"num_samples": 25}, {"num_samples": 4}, {"replacement": True, "num_samples": 30}],
)
def test_random_sampler_sizes_and_coverage(kwargs):
    ours, theirs = RandomSampler(range(10), **kwargs), td.RandomSampler(range(10), **kwargs)
    got = list(ours)
    assert len(ours) == len(theirs) == len(got) and all(type(i) is int for i in got)
    assert all(0 <= i < 10 for i in got)
    if not kwargs.get("replacement"):  # whole permutations, then part of one
        k = len(got)
        counts = np.bincount(got, minlength=10)
        assert counts.max() - counts.min() <= 1 and counts.sum() == k
        assert sorted(got[: 10 * (k // 10)]) == sorted(list(range(10)) * (k // 10))


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.RandomSampler(range(10), replacement=1),
        lambda m: m.RandomSampler(range(10), num_samples=0),
        lambda m: m.RandomSampler(range(0)),
        lambda m: m.BatchSampler(range(3), 0, False),
        lambda m: m.BatchSampler(range(3), 2, 1),
        lambda m: m.WeightedRandomSampler([0.1, 0.9], 0),
        lambda m: m.WeightedRandomSampler([[0.1, 0.9]], 3),
        lambda m: m.WeightedRandomSampler([0.2, 0.8], 3, replacement=1),
        lambda m: list(m.WeightedRandomSampler([0.0, 1.0], 3, replacement=False)),
        lambda m: list(m.WeightedRandomSampler([-1.0, 1.0], 3)),
        lambda m: list(m.WeightedRandomSampler([0.0, 0.0], 3)),
    ],
)
def test_sampler_errors_match_torch(make):
    expected = error_of(lambda: make(td))
    assert expected is not None and error_of(lambda: make(nd)) is expected


def test_subset_random_and_weighted_samplers():
    nl.manual_seed(0)
    sub = SubsetRandomSampler([5, 7, 9, 11])
    epochs = [list(sub) for _ in range(4)]
    assert len(sub) == len(td.SubsetRandomSampler([5, 7, 9, 11])) == 4
    assert all(sorted(e) == [5, 7, 9, 11] for e in epochs) and len({tuple(e) for e in epochs}) > 1
    weighted = WeightedRandomSampler([0.0, 1.0, 3.0], 4000)
    draws = np.bincount(list(weighted), minlength=3)
    assert len(weighted) == 4000 and draws[0] == 0 and 2.6 < draws[2] / draws[1] < 3.4
    distinct = list(WeightedRandomSampler(nl.tensor([1.0, 1.0, 5.0, 0.5]), 4, replacement=False))
    assert sorted(distinct) == [0, 1, 2, 3]


def test_custom_sampler_subclass_through_the_loader():
    class EveryOther(Sampler[int]):
        def __init__(self, data_source):
            super().__init__(data_source)
            self.n = len(data_source)

        def __iter__(self):
            return iter(list(range(0, self.n, 2)) + list(range(1, self.n, 2)))

        def __len__(self):
            return self.n

    class TorchEveryOther(td.Sampler):
        def __init__(self, data_source):
            self.n = len(data_source)

        __iter__, __len__ = EveryOther.__iter__, EveryOther.__len__

    ours, theirs = pair(7)
    a = DataLoader(ours, batch_size=3, sampler=EveryOther(ours))
    b = td.DataLoader(theirs, batch_size=3, sampler=TorchEveryOther(theirs))
    assert len(a) == len(b) == 3 and values(list(a)) == values(list(b))

    class Reversed(RandomSampler):  # overriding __iter__ of a built-in is honoured
        def __iter__(self):
            return iter(range(len(self.data_source) - 1, -1, -1))

    assert labels(DataLoader(ours, batch_size=3, sampler=Reversed(ours))) == [
        [6, 5, 4],
        [3, 2, 1],
        [0],
    ]
    with pytest.raises(NotImplementedError):
        iter(Sampler())


# --- datasets ----------------------------------------------------------------------------------


def test_subset_concat_add_and_tensor_dataset_match_torch():
    ours, theirs = pair(10)
    assert values(Subset(Subset(ours, [9, 8, 7, 6]), [3, 0])[0]) == values(
        td.Subset(td.Subset(theirs, [9, 8, 7, 6]), [3, 0])[0]
    )
    assert Subset(ours, [1, 2]).indices == [1, 2]
    cat, tcat = (
        ConcatDataset([ours, Subset(ours, [0, 1])]),
        td.ConcatDataset([theirs, td.Subset(theirs, [0, 1])]),
    )
    assert cat.cumulative_sizes == tcat.cumulative_sizes == [10, 12]
    assert values(cat[-1]) == values(tcat[-1]) and values(cat[11]) == values(tcat[11])
    assert isinstance(ours + ours, ConcatDataset) and len(ours + ours) == 20
    assert len(ours.tensors) == 2 and ours.tensors[1].tolist() == list(range(10))
    x = nl.arange(4)
    assert TensorDataset(x).tensors[0] is x
    assert values(ours[2:4]) == values(theirs[2:4])  # slices give batches, as in torch
    with pytest.raises(NotImplementedError):
        Dataset()[0]

    class Squares(Dataset[int]):  # generic, as torch's
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return i * i

    assert [b.tolist() for b in DataLoader(Squares(), batch_size=2)] == [[0, 1], [4]]
    assert error_of(lambda: len(Dataset())) is error_of(lambda: len(td.Dataset())) is TypeError


@pytest.mark.parametrize(
    "n, lengths",
    [(10, [3, 7]), (10, [0.5, 0.3, 0.2]), (11, [0.5, 0.5]), (10, [0.33, 0.33, 0.34]), (5, [1])],
)
def test_random_split_lengths_match_torch(n, lengths):
    parts, tparts = random_split(range(n), lengths), td.random_split(range(n), lengths)
    assert [len(p) for p in parts] == [len(p) for p in tparts]
    assert all(type(p.indices) is list for p in parts)
    assert sorted(i for p in parts for i in p) == list(range(n))


def test_random_split_generator_and_errors():
    a = random_split(range(20), [0.5, 0.5], generator=np.random.default_rng(3))
    b = random_split(range(20), [0.5, 0.5], generator=3)
    assert [p.indices for p in a] == [p.indices for p in b]
    for lengths in ([3, 3], [1.2, -0.2]):
        assert error_of(lambda l=lengths: random_split(range(10), l)) is ValueError
        assert error_of(lambda l=lengths: td.random_split(range(10), l)) is ValueError
    with pytest.raises(ValueError, match="non-negative counts"):
        random_split(range(10), [-1, 11])  # torch does not check this
    with pytest.warns(UserWarning, match="empty"):
        random_split(range(1), [0.1, 0.9])


def test_stack_dataset_matches_torch():
    ours, theirs = pair(4)
    s, ts = StackDataset(ours, nl.arange(4)), td.StackDataset(theirs, torch.arange(4))
    assert describe(s[1]) == describe(ts[1]) and values(s[1]) == values(ts[1])
    d, tdict = StackDataset(a=ours, b=nl.arange(4)), td.StackDataset(a=theirs, b=torch.arange(4))
    batch, tbatch = (
        next(iter(DataLoader(d, batch_size=3))),
        next(iter(td.DataLoader(tdict, batch_size=3))),
    )
    assert describe(batch) == describe(tbatch) and values(batch) == values(tbatch)
    for args, kwargs in [
        ((nl.arange(3), nl.arange(4)), {}),
        ((), {}),
        ((nl.arange(3),), {"b": nl.arange(3)}),
    ]:
        assert error_of(lambda a=args, k=kwargs: StackDataset(*a, **k)) is ValueError


class Count(IterableDataset):
    def __init__(self, n, with_len=True):
        self.n, self.with_len = n, with_len

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        if not self.with_len:
            raise TypeError("no length")
        return self.n


class TorchCount(td.IterableDataset):
    def __init__(self, n):
        self.n = n

    __iter__, __len__ = Count.__iter__, lambda self: self.n


@pytest.mark.parametrize(
    "kwargs", [{}, {"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None}]
)
def test_iterable_dataset_batches_match_torch(kwargs):
    a, b = DataLoader(Count(7), **kwargs), td.DataLoader(TorchCount(7), **kwargs)
    assert len(a) == len(b) and values(list(a)) == values(list(b))
    assert [describe(x) for x in a] == [describe(x) for x in b]


def test_iterable_dataset_rules():
    for kwargs in ({"shuffle": True}, {"sampler": [0]}, {"batch_sampler": [[0]]}):
        with pytest.raises(ValueError, match="IterableDataset"):
            DataLoader(Count(3), **kwargs)
        assert error_of(lambda k=kwargs: td.DataLoader(TorchCount(3), **k)) is ValueError
    DataLoader(Count(3), shuffle=False)  # torch accepts an explicit False
    with pytest.raises(TypeError):
        IterableDataset()  # abstract, as torch's
    chained = Count(2) + Count(3)
    assert isinstance(chained, ChainDataset) and list(chained) == [0, 1, 0, 1, 2]
    assert len(chained) == 5 and list(DataLoader(chained, batch_size=4))[1].tolist() == [2]
    with pytest.raises(TypeError, match="ChainDataset"):
        list(ChainDataset([Count(1), range(3)]))
    with pytest.raises(TypeError):
        ConcatDataset([Count(1)])


# --- tutorial-style datasets, the same code run on both libraries -----------------------------


def tutorial_datasets(lib):
    """A custom Dataset of (tensor, int) pairs, one of dicts, and a padding collate_fn."""
    base = lib.utils.data.Dataset
    rng = np.random.default_rng(0)
    features = rng.normal(size=(10, 3)).astype(np.float32)

    class Points(base):
        def __len__(self):
            return len(features)

        def __getitem__(self, i):
            return lib.tensor(features[i]), i

    class Records(base):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return {"image": lib.tensor(features[i].reshape(1, 3)), "label": i % 2, "id": f"r{i}"}

    class Sequences(base):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return lib.arange(i % 4 + 1), i

    def pad(samples):
        longest = max(len(seq) for seq, _ in samples)
        padded = [
            lib.cat([seq, lib.zeros(longest - len(seq), dtype=seq.dtype)]) for seq, _ in samples
        ]
        lengths = lib.tensor([len(seq) for seq, _ in samples])
        return lib.stack(padded), lengths, lib.tensor([i for _, i in samples])

    return Points(), Records(), Sequences(), pad


def test_tutorial_custom_datasets_run_like_torch():
    ours, theirs = tutorial_datasets(nl), tutorial_datasets(torch)
    nl.manual_seed(0)
    torch.manual_seed(0)
    loaders = [
        lambda lib, ds: lib.utils.data.DataLoader(
            ds[0], batch_size=4, shuffle=True, drop_last=True
        ),
        lambda lib, ds: lib.utils.data.DataLoader(ds[1], batch_size=4),
        lambda lib, ds: lib.utils.data.DataLoader(ds[2], 3, False, collate_fn=ds[3]),
        lambda lib, ds: lib.utils.data.DataLoader(
            ds[2], batch_size=3, shuffle=True, collate_fn=ds[3]
        ),
    ]
    for k, make in enumerate(loaders):
        a, b = make(nl, ours), make(torch, theirs)
        got, want = list(a), list(b)
        assert len(a) == len(b) == len(got) == len(want)
        if k in (0, 3):  # shuffled: same batch sizes, every index once, another order
            assert [len(x[-1]) for x in got] == [len(x[-1]) for x in want]
            seen = [i for batch in got for i in batch[-1].tolist()]
            assert len(seen) == len(set(seen)) and set(seen) <= set(range(10))
            assert [describe(x[-1]) for x in got] == [describe(x[-1]) for x in want]
        else:
            assert [describe(x) for x in got] == [describe(x) for x in want]
            assert values(got) == values(want)
    x, i = next(iter(DataLoader(ours[0], batch_size=4, shuffle=True)))
    assert x.dtype == nl.float32 and x.shape == (4, 3) and i.dtype == nl.int64


def test_a_huge_random_sampler_streams_instead_of_drawing_everything():
    from neuralab.data.sampler import WHOLE_PASS

    ds = nl.utils.data.TensorDataset(nl.arange(10))
    sampler = nl.utils.data.RandomSampler(ds, replacement=True, num_samples=10**10)
    loader = nl.utils.data.DataLoader(ds, batch_size=4, sampler=sampler)
    assert len(loader) == 10**10 // 4
    it = iter(loader)
    batches = [next(it)[0].tolist() for _ in range(3)]
    assert all(len(b) == 4 and set(b) <= set(range(10)) for b in batches)
    no_replacement = nl.utils.data.RandomSampler(range(5), num_samples=WHOLE_PASS + 7)
    first = next(no_replacement.chunks())
    assert sorted(first.tolist()) == list(range(5))
