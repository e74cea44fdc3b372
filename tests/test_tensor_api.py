"""Tensor factories, dtypes and the Tensor's non-computing surface, checked against torch."""

import copy
import pickle

import numpy as np
import pytest
import torch

import neuralab as nl


def dtype_name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def same_kind(ours, ref) -> None:
    """Same shape and dtype; same values where the values are not random or uninitialized."""
    assert tuple(ours.shape) == tuple(ref.shape)
    assert dtype_name(ours.dtype) == dtype_name(ref.dtype)
    assert ours.requires_grad == ref.requires_grad


# Each case builds a tensor from the module it is given (neuralab or torch) and compares values.
VALUED = {
    "zeros(2, 3)": lambda m: m.zeros(2, 3),
    "zeros((2, 3))": lambda m: m.zeros((2, 3)),
    "zeros([2, 3])": lambda m: m.zeros([2, 3]),
    "zeros(size=(2, 3))": lambda m: m.zeros(size=(2, 3)),
    "zeros(())": lambda m: m.zeros(()),
    "zeros(Size)": lambda m: m.zeros(m.Size([2, 1])),
    "zeros(np.int64)": lambda m: m.zeros(np.int64(2)),
    "zeros(0-d tensor)": lambda m: m.zeros(m.tensor(2)),
    "zeros(int64)": lambda m: m.zeros(2, dtype=m.int64),
    "zeros(requires_grad)": lambda m: m.zeros(2, requires_grad=True),
    "ones(2, dtype=bool)": lambda m: m.ones(2, dtype=m.bool),
    "ones(1, 2, float64)": lambda m: m.ones(1, 2, dtype=m.float64),
    "full((2,), 3)": lambda m: m.full((2,), 3),
    "full((2,), 3.5)": lambda m: m.full((2,), 3.5),
    "full((2,), True)": lambda m: m.full((2,), True),
    "full([2], np.int64)": lambda m: m.full([2], np.int64(4)),
    "full((2,), np.float64)": lambda m: m.full((2,), np.float64(0.5)),
    "full((2,), 0-d tensor)": lambda m: m.full((2,), m.tensor(3.0)),
    "full(size=, fill_value=)": lambda m: m.full(size=(2,), fill_value=1.5),
    "full(int fill, float32)": lambda m: m.full((2,), 3, dtype=m.float32),
    "eye(3)": lambda m: m.eye(3),
    "eye(3, 4)": lambda m: m.eye(3, 4),
    "eye(n=3, m=2, int64)": lambda m: m.eye(n=3, m=2, dtype=m.int64),
    "arange(5)": lambda m: m.arange(5),
    "arange(5.)": lambda m: m.arange(5.0),
    "arange(1, 5)": lambda m: m.arange(1, 5),
    "arange(0, 5, 0.5)": lambda m: m.arange(0, 5, 0.5),
    "arange(0, 1, 0.1)": lambda m: m.arange(0, 1, 0.1),
    "arange(-1, 1.5, 0.25)": lambda m: m.arange(-1, 1.5, 0.25),
    "arange(0, -5, -1)": lambda m: m.arange(0, -5, -1),
    "arange(start=, end=)": lambda m: m.arange(start=1, end=5),
    "arange(end=)": lambda m: m.arange(end=4),
    "arange(np.int64)": lambda m: m.arange(np.int64(5)),
    "arange(np.float64)": lambda m: m.arange(np.float64(3)),
    "arange(0-d int tensor)": lambda m: m.arange(m.tensor(4)),
    "arange(0-d float tensor)": lambda m: m.arange(m.tensor(4.0)),
    "arange(True)": lambda m: m.arange(True),
    "arange(5, float64)": lambda m: m.arange(5, dtype=m.float64),
    "arange(requires_grad)": lambda m: m.arange(3.0, requires_grad=True),
    "linspace(0, 1, 5)": lambda m: m.linspace(0, 1, 5),
    "linspace(-3, 7, 11)": lambda m: m.linspace(-3, 7, 11),
    "linspace(0, 1, steps=7)": lambda m: m.linspace(0, 1, steps=7),
    "linspace(0, 10, 4, int64)": lambda m: m.linspace(0, 10, 4, dtype=m.int64),
    "linspace(0, 1, 1)": lambda m: m.linspace(0, 1, 1),
    "logspace(0, 2, 3)": lambda m: m.logspace(0, 2, 3),
    "logspace(0, 3, 4, base=2)": lambda m: m.logspace(0, 3, 4, base=2),
    "tensor(3.5)": lambda m: m.tensor(3.5),
    "tensor([1, 2])": lambda m: m.tensor([1, 2]),
    "tensor(True)": lambda m: m.tensor(True),
    "tensor([1, 2.5])": lambda m: m.tensor([1, 2.5]),
    "tensor([True, 2])": lambda m: m.tensor([True, 2]),
    "tensor([])": lambda m: m.tensor([]),
    "tensor(1j)": lambda m: m.tensor(1j),
    "tensor([0-d, 0-d])": lambda m: m.tensor([m.tensor(1.0), m.tensor(2.0)]),
    "tensor(3, float32)": lambda m: m.tensor(3, dtype=m.float32),
    "tensor([1.5], requires_grad)": lambda m: m.tensor([1.5], requires_grad=True),
    "as_tensor(list)": lambda m: m.as_tensor([1.0, 2.0]),
    "as_tensor(ndarray f64)": lambda m: m.as_tensor(np.arange(3.0)),
    "as_tensor(ndarray i32)": lambda m: m.as_tensor(np.arange(3, dtype=np.int32)),
    "Tensor([1, 2])": lambda m: m.Tensor([1, 2]),
    "Tensor([[1, 2], [3, 4]])": lambda m: m.Tensor([[1, 2], [3, 4]]),
    "Tensor(int ndarray)": lambda m: m.Tensor(np.array([1, 2])),
    "Tensor(f64 ndarray)": lambda m: m.Tensor(np.array([1.0, 2.0])),
    "Tensor([True])": lambda m: m.Tensor([True, False]),
    "Tensor((3, 4))": lambda m: m.Tensor((3, 4)),
    "Tensor(int tensor)": lambda m: m.Tensor(m.tensor([1, 2])),
    "Tensor()": lambda m: m.Tensor(),
    "FloatTensor([1, 2])": lambda m: m.FloatTensor([1, 2]),
    "LongTensor([1.5, 2.7])": lambda m: m.LongTensor([1.5, 2.7]),
    "LongTensor(f64 ndarray)": lambda m: m.LongTensor(np.array([1.7, -2.2])),
    "IntTensor([1, 0])": lambda m: m.IntTensor([1, 0]),
    "BoolTensor([1, 0])": lambda m: m.BoolTensor([1, 0]),
    "ByteTensor([1, 0])": lambda m: m.ByteTensor([1, 0]),
    "DoubleTensor([1, 0])": lambda m: m.DoubleTensor([1, 0]),
    "HalfTensor([1, 0])": lambda m: m.HalfTensor([1, 0]),
    "CharTensor([1, 0])": lambda m: m.CharTensor([1, 0]),
    "ShortTensor([1, 0])": lambda m: m.ShortTensor([1, 0]),
    "zeros_like(int)": lambda m: m.zeros_like(m.zeros(2, dtype=m.int64)),
    "zeros_like(requires_grad input)": lambda m: m.zeros_like(m.zeros(2, requires_grad=True)),
    "ones_like(dtype=int32)": lambda m: m.ones_like(m.zeros(2), dtype=m.int32),
    "full_like(x, 3)": lambda m: m.full_like(m.zeros(2), 3),
    "full_like(int x, 3.7)": lambda m: m.full_like(m.zeros(2, dtype=m.int64), 3.7),
    "full_like(x, 2, dtype=int64)": lambda m: m.full_like(m.zeros(2), 2, dtype=m.int64),
}


@pytest.mark.parametrize("case", sorted(VALUED))
def test_factories_match_torch(case):
    ours, ref = VALUED[case](nl), VALUED[case](torch)
    same_kind(ours, ref)
    np.testing.assert_allclose(ours.numpy(), ref.detach().numpy(), rtol=1e-6, atol=0)


SHAPED = {  # random or uninitialized values: shape and dtype only
    "empty(2, 3)": lambda m: m.empty(2, 3),
    "empty((2,), int64)": lambda m: m.empty((2,), dtype=m.int64),
    "rand(2, 3)": lambda m: m.rand(2, 3),
    "rand((2, 3))": lambda m: m.rand((2, 3)),
    "rand(size=)": lambda m: m.rand(size=(2,)),
    "randn(2, float64)": lambda m: m.randn(2, dtype=m.float64),
    "randn(requires_grad)": lambda m: m.randn(3, requires_grad=True),
    "randint(5, (3,))": lambda m: m.randint(5, (3,)),
    "randint(2, 5, (3,))": lambda m: m.randint(2, 5, (3,)),
    "randint(low=, high=, size=)": lambda m: m.randint(low=2, high=5, size=(3,)),
    "randint(high=, size=)": lambda m: m.randint(high=5, size=(3,)),
    "randint(5, size=)": lambda m: m.randint(5, size=(3,)),
    "randint(0, 5, [2, 2])": lambda m: m.randint(0, 5, [2, 2]),
    "randint(0, 5, Size)": lambda m: m.randint(0, 5, m.Size([2])),
    "randint(5, ())": lambda m: m.randint(5, ()),
    "randint(float32)": lambda m: m.randint(5, (3,), dtype=m.float32),
    "rand_like(f64)": lambda m: m.rand_like(m.zeros(2, dtype=m.float64)),
    "randn_like": lambda m: m.randn_like(m.zeros(2, 2)),
    "randint_like(t, 5)": lambda m: m.randint_like(m.zeros(2), 5),
    "randint_like(t, 2, 5)": lambda m: m.randint_like(m.zeros(2, dtype=m.int64), 2, 5),
    "randint_like(t, high=5)": lambda m: m.randint_like(m.zeros(2), high=5),
    "empty_like(int)": lambda m: m.empty_like(m.zeros(2, dtype=m.int64)),
    "Tensor(3, 4)": lambda m: m.Tensor(3, 4),
    "Tensor(3)": lambda m: m.Tensor(3),
    "Tensor(np.int64(3))": lambda m: m.Tensor(np.int64(3)),
    "Tensor(Size)": lambda m: m.Tensor(m.Size([3, 4])),
    "FloatTensor(2, 3)": lambda m: m.FloatTensor(2, 3),
    "LongTensor(3)": lambda m: m.LongTensor(3),
    "new_empty": lambda m: m.zeros(1, dtype=m.int32).new_empty(2),
    "new()": lambda m: m.zeros(1).new(),
    "new(2, 3)": lambda m: m.zeros(1, dtype=m.float64).new(2, 3),
}


@pytest.mark.parametrize("case", sorted(SHAPED))
def test_random_and_uninitialized_factories_match_torch_in_shape_and_dtype(case):
    same_kind(SHAPED[case](nl), SHAPED[case](torch))


def test_random_factories_draw_in_range_and_follow_the_seed():
    nl.manual_seed(3)
    a = nl.randint(2, 5, (1000,))
    assert a.min().item() == 2 and a.max().item() == 4
    u = nl.rand(1000, dtype=nl.float64)
    assert 0 <= u.min().item() and u.max().item() < 1 and u.dtype == nl.float64
    nl.manual_seed(3)
    assert nl.randint(2, 5, (1000,)).tolist() == a.tolist()
    rng = np.random.default_rng(0)
    assert nl.randn(3, generator=rng).tolist() != nl.randn(3).tolist()


BAD_FACTORIES = [
    (lambda: nl.zeros(), TypeError, r"zeros: missing the size"),
    (lambda: nl.zeros(2.0), TypeError, r"zeros: size must be ints or one sequence of ints"),
    (lambda: nl.zeros(-1), RuntimeError, r"zeros: sizes must be non-negative, got \(-1,\)"),
    (lambda: nl.ones((2,), size=(2,)), TypeError, r"ones: the size was given both"),
    (lambda: nl.zeros(2, dtype=nl.int64, requires_grad=True), RuntimeError, "only floating"),
    (lambda: nl.tensor([1, 2], requires_grad=True), RuntimeError, "only floating-point"),
    (lambda: nl.randint(5, 3), TypeError, r"randint: size must be a tuple of ints, got int"),
    (lambda: nl.randint(5), TypeError, r"randint: needs high and size"),
    (lambda: nl.randint(5, 5, (2,)), RuntimeError, r"low must be less than high, got low=5"),
    (lambda: nl.rand(2, dtype=nl.int64), TypeError, r"rand: dtype must be a floating-point"),
    (lambda: nl.randn_like(nl.zeros(2, dtype=nl.int64)), TypeError, r"randn: dtype must be"),
    (lambda: nl.arange(0, 5, 0), RuntimeError, r"arange: step must be nonzero"),
    (lambda: nl.arange(0, 5, -1), RuntimeError, r"arange: the bounds are inconsistent"),
    (lambda: nl.linspace(0, 1, -1), RuntimeError, r"linspace: steps must be non-negative"),
    (lambda: nl.zeros(2, layout="sparse_coo"), RuntimeError, r"zeros: only the strided"),
    (lambda: nl.zeros(2, dtype="cpu"), TypeError, r"zeros: expected a dtype such as float32"),
    (lambda: nl.Tensor(2, -1), RuntimeError, r"Tensor: sizes must be non-negative"),
    (lambda: nl.Tensor(2, 3.5), TypeError, r"Size: expected an iterable of ints"),
]


@pytest.mark.parametrize("call, error, match", BAD_FACTORIES)
def test_bad_factory_calls_raise_one_clear_line(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert "\n" not in str(info.value)


def test_as_tensor_shares_memory_and_returns_tensors_as_they_are():
    arr = np.zeros(3)
    t = nl.as_tensor(arr)
    t[0] = 5.0
    assert arr[0] == 5.0 and t.dtype == nl.float64
    copied = nl.as_tensor(arr, dtype=nl.float32)
    copied[1] = 7.0
    assert arr[1] == 0.0
    x = nl.ones(2, requires_grad=True)
    assert nl.as_tensor(x) is x
    y = nl.as_tensor(x, dtype=nl.float64)
    y.sum().backward()
    assert y.dtype == nl.float64 and x.grad.tolist() == [1.0, 1.0]


def test_tensor_copies_and_the_legacy_constructor_shares():
    arr = np.ones(2, np.float32)
    nl.tensor(arr)[0] = 9.0
    assert arr[0] == 1.0
    base = nl.tensor([1, 2])
    alias = nl.Tensor(base)
    alias[0] = 7
    assert base.tolist() == [7, 2] and alias.dtype == nl.int64


def test_legacy_types_check_dtypes_with_isinstance():
    x = nl.zeros(2)
    assert isinstance(x, nl.FloatTensor) and not isinstance(x, nl.LongTensor)
    assert isinstance(nl.zeros(2, dtype=nl.int64), nl.LongTensor)
    assert isinstance(nl.FloatTensor([1]), nl.Tensor)
    assert not issubclass(nl.FloatTensor, nl.Tensor)
    assert not isinstance(np.zeros(2, np.float32), nl.FloatTensor)
    assert nl.FloatTensor.__name__ == "FloatTensor"


def test_the_parameter_of_a_legacy_tensor_trains():
    weight = nl.nn.Parameter(nl.FloatTensor(3, 2))
    nl.nn.init.uniform_(weight, -0.5, 0.5)
    (nl.ones(4, 3) @ weight).sum().backward()
    assert weight.grad.shape == (3, 2) and weight.dtype == nl.float32


# ----------------------------------------------------------------------------- conversions

TO_CALLS = {
    "to('cpu')": lambda m, x: x.to("cpu"),
    "to(device)": lambda m, x: x.to(m.device("cpu")),
    "to(float32)": lambda m, x: x.to(m.float32),
    "to(float64)": lambda m, x: x.to(m.float64),
    "to(other tensor)": lambda m, x: x.to(m.zeros(1, dtype=m.int64)),
    "to('cpu', float64)": lambda m, x: x.to("cpu", m.float64),
    "to(device=, dtype=)": lambda m, x: x.to(device="cpu", dtype=m.float64),
    "to(dtype=)": lambda m, x: x.to(dtype=m.int32),
    "to('cpu', copy=True)": lambda m, x: x.to("cpu", copy=True),
    "to(non_blocking=True)": lambda m, x: x.to("cpu", non_blocking=True),
    "to(float32, copy=True)": lambda m, x: x.to(m.float32, copy=True),
    "to(float32, False, True)": lambda m, x: x.to(m.float32, False, True),
    "to('cpu', float64, True)": lambda m, x: x.to("cpu", m.float64, True),
    "to(memory_format=)": lambda m, x: x.to(memory_format=m.contiguous_format),
    "to()": lambda m, x: x.to(),
    "to(device=None)": lambda m, x: x.to(device=None),
    "cpu()": lambda m, x: x.cpu(),
    "type(float64)": lambda m, x: x.type(m.float64),
    "type('torch.LongTensor')": lambda m, x: x.type("torch.LongTensor"),
    "type(LongTensor)": lambda m, x: x.type(m.LongTensor),
    "type(float32)": lambda m, x: x.type(m.float32),
    "float()": lambda m, x: x.float(),
    "double()": lambda m, x: x.double(),
    "half()": lambda m, x: x.half(),
    "long()": lambda m, x: x.long(),
    "int()": lambda m, x: x.int(),
    "short()": lambda m, x: x.short(),
    "char()": lambda m, x: x.char(),
    "byte()": lambda m, x: x.byte(),
    "bool()": lambda m, x: x.bool(),
}


@pytest.mark.parametrize("case", sorted(TO_CALLS))
def test_conversions_match_torch_and_return_self_when_nothing_changes(case):
    data = np.array([[0.0, 1.5, 2.7], [3.2, 0.0, 120.9]], np.float32)
    x, ref = nl.tensor(data), torch.tensor(data)
    ours, theirs = TO_CALLS[case](nl, x), TO_CALLS[case](torch, ref)
    same_kind(ours, theirs)
    assert (ours is x) == (theirs is ref)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_a_cast_is_differentiable():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(nl.float64) * 3
    y.sum().backward()
    assert x.grad.dtype == nl.float32 and x.grad.tolist() == [3.0, 3.0]
    z = x.to(copy=True)
    assert z is not x and z.requires_grad and not z.is_leaf


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "int16",
                                   "int8", "uint8", "bool", "complex64", "complex128"])  # fmt: skip
def test_type_names_match_torch(dtype):
    ours = nl.zeros(1, dtype=getattr(nl, dtype)).type()
    assert ours == torch.zeros(1, dtype=getattr(torch, dtype)).type()
    assert nl.zeros(1).type(ours).dtype == getattr(nl, dtype)


def test_bad_conversions_raise_one_clear_line():
    x = nl.zeros(2)
    with pytest.raises(ValueError, match=r"type\(\): invalid type 'foo'"):
        x.type("foo")
    with pytest.raises(TypeError, match=r"to\(\): unexpected keyword argument 'dtypes'"):
        x.to(dtypes=nl.float64)
    with pytest.raises(TypeError, match=r"to\(\): expected a dtype such as float32"):
        x.to(object())


# ----------------------------------------------------------------------------- bfloat16, dtypes


@pytest.mark.parametrize(
    "call",
    [
        lambda: nl.zeros(2, dtype=nl.bfloat16),
        lambda: nl.tensor([1.0], dtype=nl.bfloat16),
        lambda: nl.ones(2).to(nl.bfloat16),
        lambda: nl.ones(2).bfloat16(),
        lambda: nl.ones(2).type("torch.BFloat16Tensor"),
        lambda: nl.ones(2).astype(nl.bfloat16),
        lambda: nl.finfo(nl.bfloat16),
        lambda: np.zeros(2, dtype=nl.bfloat16),
    ],
)
def test_bfloat16_is_refused_with_a_clear_error(call):
    with pytest.raises(TypeError, match="bfloat16 is not supported here.*use float32"):
        call()


def test_bfloat16_compares_unequal_to_every_dtype():
    assert nl.zeros(1).dtype != nl.bfloat16 and nl.bfloat16 not in (nl.float32, nl.float16)
    assert repr(nl.bfloat16) == "neuralab.bfloat16"


def test_dtype_names_are_numpy_dtypes_under_torchs_names():
    pairs = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
             "int": "int32", "short": "int16", "cfloat": "complex64", "cdouble": "complex128",
             "bool": "bool", "uint8": "uint8", "int8": "int8"}  # fmt: skip
    for alias, name in pairs.items():
        assert getattr(nl, alias) == np.dtype(name)
        assert getattr(torch, alias) == getattr(torch, name)
    assert nl.float32 == np.dtype("float32") and nl.float is nl.float32
    assert isinstance(nl.zeros(1).dtype, nl.dtype) and isinstance(torch.zeros(1).dtype, torch.dtype)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_finfo_matches_torch(dtype):
    ours, ref = nl.finfo(getattr(nl, dtype)), torch.finfo(getattr(torch, dtype))
    for name in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, name) == getattr(ref, name), name
    assert repr(ours) == repr(ref)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_torch(dtype):
    ours, ref = nl.iinfo(getattr(nl, dtype)), torch.iinfo(getattr(torch, dtype))
    assert (ours.bits, ours.max, ours.min, ours.dtype) == (ref.bits, ref.max, ref.min, ref.dtype)
    assert repr(ours) == repr(ref)


def test_finfo_and_iinfo_refuse_the_other_kind():
    assert nl.finfo().eps == torch.finfo().eps
    with pytest.raises(TypeError, match="finfo: expected a floating-point dtype, got int64"):
        nl.finfo(nl.int64)
    with pytest.raises(TypeError, match="iinfo: expected an integer dtype, got float32"):
        nl.iinfo(nl.float32)


def test_default_dtype_drives_factories_and_conversions():
    assert nl.get_default_dtype() == nl.float32
    nl.set_default_dtype(nl.float64)
    try:
        made = [nl.tensor([1.5]), nl.arange(5.0), nl.zeros(2), nl.Tensor([1]), nl.full((2,), 1.5),
                nl.linspace(0, 1, 3), nl.rand(2), nl.randn(2), nl.tensor(np.ones(2, np.float32)),
                nl.FloatTensor([1])]  # fmt: skip
        # (torch would keep the float32 array's dtype: neuralab takes float data in the default)
        assert [t.dtype for t in made] == [nl.float64] * 9 + [nl.float32]
        assert nl.tensor(1j).dtype == nl.complex128 and nl.randint(3, (2,)).dtype == nl.int64
        assert "dtype" not in repr(nl.ones(1)) and "dtype=float32" in repr(nl.ones(1).float())
    finally:
        nl.set_default_dtype(nl.float32)
    assert nl.zeros(1).dtype == nl.float32
    with pytest.raises(TypeError, match="only float32 and float64 are supported, got int64"):
        nl.set_default_dtype(nl.int64)
    nl.set_default_tensor_type("torch.DoubleTensor")
    assert nl.get_default_dtype() == nl.float64
    nl.set_default_tensor_type(nl.FloatTensor)
    assert nl.get_default_dtype() == nl.float32


# ----------------------------------------------------------------------------- shape and layout


def test_size_is_a_tuple_with_numel():
    x = nl.zeros(2, 3)
    for size in (x.shape, x.size()):
        assert isinstance(size, nl.Size) and isinstance(size, tuple)
        assert size == (2, 3) and size != [2, 3] and size.numel() == 6
    assert x.size(1) == x.size(-1) == 3 and x.size(dim=0) == 2
    assert nl.Size() == () and nl.Size([nl.tensor(2), np.int64(3)]) == (2, 3)
    assert nl.Size([2, 3]).numel() == torch.Size([2, 3]).numel() and nl.Size([]).numel() == 1
    assert repr(x.shape) == "(2, 3)"  # printed as a tuple, so error messages stay as they were
    with pytest.raises(TypeError, match="Size: expected an iterable of ints"):
        nl.Size([2.0])


def test_layout_facts_match_torch():
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x, ref = nl.tensor(data), torch.tensor(data)
    views = {
        "x": lambda t: t,
        "x.T": lambda t: t.permute(2, 1, 0),
        "x[1]": lambda t: t[1],
        "x[:, 1:]": lambda t: t[:, 1:],
        "x[..., ::2]": lambda t: t[..., ::2],
        "x.t": lambda t: t[0].t(),
    }
    for name, view in views.items():
        ours, theirs = view(x), view(ref)
        assert ours.stride() == theirs.stride(), name
        assert ours.stride(-1) == theirs.stride(-1), name
        assert ours.is_contiguous() == theirs.is_contiguous(), name
        assert ours.storage_offset() == theirs.storage_offset(), name
    assert (x.dim(), x.ndimension(), x.nelement(), x.element_size()) == (3, 3, 24, 4)
    assert x[1].data_ptr() - x.data_ptr() == 12 * 4
    assert nl.zeros(1, dtype=nl.float64).element_size() == 8
    assert nl.numel(x) == 24 and nl.is_tensor(x) and not nl.is_tensor(data)
    assert nl.is_floating_point(x) and not nl.is_floating_point(nl.tensor([1]))
    assert not x.is_complex() and x.is_signed() and not nl.tensor([1], dtype=nl.uint8).is_signed()


NEW_CALLS = {
    "new_zeros(2, 3)": lambda m, x: x.new_zeros(2, 3),
    "new_zeros((2, 3))": lambda m, x: x.new_zeros((2, 3)),
    "new_ones(2, dtype=int64)": lambda m, x: x.new_ones(2, dtype=m.int64),
    "new_full((2,), 3)": lambda m, x: x.new_full((2,), 3),
    "new_full((2,), 3.7)": lambda m, x: x.new_full((2,), 3.7),
    "new_tensor([1, 2])": lambda m, x: x.new_tensor([1, 2]),
    "new_tensor([1.5, 2])": lambda m, x: x.new_tensor([1.5, 2]),
    "new_zeros(requires_grad)": lambda m, x: x.new_zeros(2, requires_grad=True),
    "new([1, 2])": lambda m, x: x.new([1, 2]),
}


@pytest.mark.parametrize("dtype", ["float64", "int64"])
@pytest.mark.parametrize("case", sorted(NEW_CALLS))
def test_new_factories_take_the_tensors_dtype(case, dtype):
    if dtype == "int64" and "requires_grad" in case:
        return
    x, ref = nl.zeros(1, dtype=getattr(nl, dtype)), torch.zeros(1, dtype=getattr(torch, dtype))
    ours, theirs = NEW_CALLS[case](nl, x), NEW_CALLS[case](torch, ref)
    same_kind(ours, theirs)
    np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())


def test_matrix_transposes_match_torch():
    data = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    x, ref = nl.tensor(data), torch.tensor(data)
    np.testing.assert_array_equal(x.mT.numpy(), ref.mT.numpy())
    np.testing.assert_array_equal(x[0].mH.numpy(), ref[0].mH.numpy())
    np.testing.assert_array_equal(x[0].H.numpy(), ref[0].H.numpy())
    with pytest.raises(RuntimeError, match="mT: needs a matrix or a batch of matrices, got a 1-D"):
        _ = nl.zeros(3).mT
    with pytest.raises(RuntimeError, match="H: needs a 2-D tensor, got a 3-D tensor"):
        _ = x.H
    w = nl.ones(2, 3, requires_grad=True)
    (w.mT * nl.arange(6.0).reshape(3, 2)).sum().backward()
    assert w.grad.tolist() == [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]]


# ----------------------------------------------------------------------------- autograd surface


def test_requires_grad_and_grad_are_settable_as_in_torch():
    z = nl.zeros(2)
    z.requires_grad = True
    assert z.requires_grad and z.is_leaf
    z.grad = nl.ones(2)
    assert z.grad.tolist() == [1.0, 1.0]
    z.grad = None
    assert z.grad is None
    with pytest.raises(TypeError, match="grad: expected a Tensor or None, got ndarray"):
        z.grad = np.ones(2)
    with pytest.raises(RuntimeError, match=r"grad: a gradient of shape \(3,\) and dtype float32"):
        z.grad = nl.ones(3)
    with pytest.raises(RuntimeError, match="dtype float64 cannot be assigned .* dtype float32"):
        z.grad = nl.ones(2, dtype=nl.float64)


def test_detach_in_place_makes_a_leaf():
    w = nl.ones(2, requires_grad=True)
    y = w * 2
    assert y.detach_() is y and y.is_leaf and not y.requires_grad and y.grad_fn is None
    assert w.detach_() is w and not w.requires_grad


def test_format_follows_torch():
    cases = [
        (lambda m: m.tensor(1.23456), ".4f"),
        (lambda m: m.tensor(1.23456), ".2e"),
        (lambda m: m.tensor(1.23456), ""),
        (lambda m: m.tensor(1.23456), ">10"),
        (lambda m: m.tensor(3), "d"),
        (lambda m: m.tensor(3), ".2f"),
        (lambda m: m.tensor(True), ""),
        (lambda m: m.tensor(1.5, requires_grad=True), ".3f"),
        (lambda m: m.tensor([1.0, 2.0]), ""),
    ]
    for make, spec in cases:
        assert format(make(nl), spec) == format(make(torch), spec).replace("torch.", "")
    loss = nl.tensor(0.123456)
    assert f"loss {loss:.4f}" == "loss 0.1235"
    assert f"{nl.tensor([0.5]):.2f}" == "0.50"  # one element: neuralab formats it (torch raises)
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        f"{nl.tensor([1.0, 2.0]):.2f}"


def test_deepcopy_copies_leaves_with_their_gradients_and_refuses_graph_nodes():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    x.grad = nl.tensor([0.5, 0.5])
    y = copy.deepcopy(x)
    assert y is not x and y.requires_grad and y.grad.tolist() == [0.5, 0.5]
    y.numpy()[0] = 9.0
    assert x.tolist() == [1.0, 2.0]
    pair = copy.deepcopy([x, x])
    assert pair[0] is pair[1]
    with pytest.raises(RuntimeError, match="deepcopy: only leaf tensors"):
        copy.deepcopy(x * 2)
    with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user"):
        copy.deepcopy(torch.ones(1, requires_grad=True) * 2)
    assert pickle.loads(pickle.dumps(x)).grad.tolist() == [0.5, 0.5]


def test_deepcopy_of_a_model_is_independent_and_starts_without_gradients():
    model = nl.nn.Sequential(nl.nn.Linear(3, 4), nl.nn.ReLU(), nl.nn.Linear(4, 1))
    model(nl.ones(2, 3)).sum().backward()
    twin = copy.deepcopy(model)
    ref = copy.deepcopy(torch.nn.Linear(2, 2))
    assert ref.weight.grad is None
    for mine, theirs in zip(model.parameters(), twin.parameters()):
        assert type(theirs) is nl.nn.Parameter and theirs.requires_grad
        assert theirs.grad is None and mine.grad is not None
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
        assert not np.shares_memory(mine.numpy(), theirs.numpy())


def test_printoptions_reach_the_repr():
    x = [1.23456, 2.5]
    try:
        for module in (nl, torch):
            module.set_printoptions(precision=2, sci_mode=True)
        assert repr(nl.tensor(x)) == repr(torch.tensor(x)) == "tensor([1.23e+00, 2.50e+00])"
        for module in (nl, torch):
            module.set_printoptions(profile="default", sci_mode=False)
        assert repr(nl.tensor([1e-8, 2.0])) == repr(torch.tensor([1e-8, 2.0]))
        nl.set_printoptions(precision=2, sci_mode=None)
        assert repr(nl.tensor(x)) == "tensor([1.23, 2.5 ])"  # NumPy's trimming of zeros
        nl.set_printoptions(threshold=4, edgeitems=1)
        assert repr(nl.arange(10)) == "tensor([0, ..., 9])"
    finally:
        for module in (nl, torch):
            module.set_printoptions(profile="default", sci_mode=None)
    assert repr(nl.tensor(x)) == "tensor([1.2346, 2.5   ])"
    with pytest.raises(ValueError, match="profile must be one of"):
        nl.set_printoptions(profile="long")


FUNCTION_CASES = [
    ("clone", lambda L, x: L.clone(x)),
    ("detach", lambda L, x: L.detach(x)),
    ("t", lambda L, x: L.t(x)),
    ("ravel", lambda L, x: L.ravel(x.t())),
    ("fliplr", lambda L, x: L.fliplr(x)),
    ("flipud", lambda L, x: L.flipud(x)),
    ("positive", lambda L, x: L.positive(x)),
    ("split_with_sizes", lambda L, x: L.split_with_sizes(x, [1, 3], 1)[1]),
    ("isin", lambda L, x: L.isin(x, L.tensor([1.0, 4.0, 9.0]))),
    ("isin invert", lambda L, x: L.isin(x, 4.0, invert=True)),
    ("max_pool1d", lambda L, x: L.max_pool1d(x[None], 2, 1)),
    ("max_pool2d", lambda L, x: L.max_pool2d(x[None, None], 2, 1, ceil_mode=True)),
    ("pixel_shuffle", lambda L, x: L.pixel_shuffle(L.arange(48.0).view(2, 12, 1, 2), 2)),
    ("pixel_unshuffle", lambda L, x: L.pixel_unshuffle(L.arange(48.0).view(1, 3, 4, 4), 2)),
    ("F.pixel_shuffle", lambda L, x: L.nn.functional.pixel_shuffle(x[0].reshape(1, 4, 1, 1).repeat(1, 1, 2, 1), 2)),
]  # fmt: skip


@pytest.mark.parametrize("case", FUNCTION_CASES, ids=[c[0] for c in FUNCTION_CASES])
def test_torchs_top_level_functions_match_it(case):
    _, fn = case
    x = np.arange(12.0).reshape(2, 6)[:, :4].copy()  # 2 × 4: 0 1 2 3 / 6 7 8 9
    ours, theirs = fn(nl, nl.tensor(x)), fn(torch, torch.tensor(x, dtype=torch.float32))
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert nl.is_nonzero(nl.tensor([2.0])) and not nl.is_same_size(nl.zeros(2), nl.zeros(3))
    assert not nl.is_complex(nl.zeros(1)) and nl.is_signed(nl.zeros(1))


def test_pixel_shuffle_errors_say_what_and_keep_gradients():
    with pytest.raises(
        ValueError, match=r"pixel_shuffle: input of shape \(1, 3, 2, 2\) .* upscale_factor²=4"
    ):
        nl.pixel_shuffle(nl.zeros(1, 3, 2, 2), 2)
    with pytest.raises(ValueError, match="pixel_unshuffle: .* downscale_factor=2"):
        nl.nn.PixelUnshuffle(2)(nl.zeros(1, 1, 3, 4))
    x = nl.randn(2, 8, 3, 3, requires_grad=True)
    nl.pixel_unshuffle(nl.pixel_shuffle(x, 2), 2).mul(
        nl.arange(144.0).view(2, 8, 3, 3)
    ).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(144.0).reshape(2, 8, 3, 3))


@pytest.mark.filterwarnings("ignore:torch.range is deprecated")
@pytest.mark.parametrize(
    "args",
    [(1, 4), (0, 1, 0.25), (5, 1, -1.5), (0.5, 2.5)],
    ids=["ints", "quarters", "down", "halves"],
)
def test_range_includes_its_end_like_torch(args):
    ours, theirs = nl.range(*args), torch.range(*args)
    assert ours.dtype == nl.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    assert nl.range(1, 3, dtype=nl.int64).tolist() == [1, 2, 3]
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        nl.range(5)


def test_asarray_shares_what_it_can_and_scalar_tensor_is_0_d():
    a = np.ones(3, np.float32)
    shared, copied = nl.asarray(a), nl.asarray(a, copy=True)
    a[0] = 5.0
    assert shared.tolist() == [5.0, 1.0, 1.0] and copied.tolist() == [1.0, 1.0, 1.0]
    assert nl.asarray([1, 2]).dtype == torch_dtype_to_ours(torch.asarray([1, 2]).dtype)
    assert nl.asarray(a, dtype=nl.float64).dtype == nl.float64
    with pytest.raises(ValueError, match="copy=False"):
        nl.asarray(a, dtype=nl.float64, copy=False)
    assert nl.asarray(a, requires_grad=True).requires_grad
    s = nl.scalar_tensor(3)
    assert s.shape == () and s.dtype == nl.float32 and s.item() == 3.0


def torch_dtype_to_ours(dtype):
    return {torch.int64: nl.int64, torch.float32: nl.float32}[dtype]


@pytest.mark.filterwarnings("ignore:torch\\.(svd|qr|cholesky) is deprecated")
def test_the_older_svd_qr_and_cholesky_match_torch():
    a = np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32)
    spd = (a.T @ a + np.eye(3, dtype=np.float32)).astype(np.float32)
    ours, theirs = nl.svd(nl.tensor(a)), torch.svd(torch.tensor(a))
    np.testing.assert_allclose(ours.S.numpy(), theirs.S.numpy(), rtol=1e-5)
    rebuilt = ours.U.numpy() @ np.diag(ours.S.numpy()) @ ours.V.numpy().T
    np.testing.assert_allclose(rebuilt, a, atol=1e-5)
    assert ours.U.shape == theirs.U.shape and ours.V.shape == theirs.V.shape
    assert nl.svd(nl.tensor(a), some=False).U.shape == (4, 4)
    assert not nl.svd(nl.tensor(a), compute_uv=False).U.numpy().any()
    q, r = nl.qr(nl.tensor(a))
    np.testing.assert_allclose(q.numpy() @ r.numpy(), a, atol=1e-5)
    assert nl.qr(nl.tensor(a), some=False).Q.shape == torch.qr(torch.tensor(a), some=False).Q.shape
    for upper in (False, True):
        np.testing.assert_allclose(
            nl.tensor(spd).cholesky(upper).numpy(),
            torch.cholesky(torch.tensor(spd), upper).numpy(),
            rtol=1e-5,
        )


def test_interop_threads_and_flush_denormal_answer_like_torch():
    assert nl.get_num_interop_threads() >= 1
    nl.set_num_interop_threads(3)
    assert nl.get_num_interop_threads() == 3
    with pytest.raises(ValueError, match="positive int"):
        nl.set_num_interop_threads(0)
    assert nl.set_flush_denormal(True) is False and nl.set_flush_denormal(False) is False


def test_apply_map_and_the_bitwise_in_place_forms_match_torch():
    results = []
    for lib in (nl, torch):
        a = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
        assert a.apply_(lambda v: v * v + 1) is a
        b = lib.tensor([[1, 2], [3, 4]])
        b.map_(lib.tensor([10, 20]), lambda x, y: x * y + (1 if x > 2 else 0))
        c = lib.tensor([5, 3, 12])
        c.bitwise_and_(lib.tensor([4, 1, 8])).bitwise_left_shift_(1).bitwise_xor_(3)
        d = lib.tensor([-1.0, 0.0, 2.0]).heaviside_(lib.tensor([0.5]))
        results.append([t.tolist() for t in (a, b, c, d)])
    assert results[0] == results[1]
    w = nl.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="apply_: a tensor that requires grad"):
        w.apply_(abs)


def test_contiguous_copies_a_strided_tensor_as_torch_and_passes_gradients():
    data = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    ours, theirs = nl.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    a, b = ours.t().contiguous(), theirs.t().contiguous()
    assert a.is_contiguous() and a.stride() == b.stride() == (3, 1)
    assert ours.contiguous() is ours and theirs.contiguous() is theirs  # already contiguous
    weights = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    (a * nl.tensor(weights)).sum().backward()
    (b * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    a.data[0, 0] = 100.0  # a copy: the original is untouched, as in torch
    assert ours[0, 0].item() == 0.0


@pytest.mark.parametrize(
    "before, after",
    [((6,), (2, 2)), ((6,), (3, 3)), ((2, 3), (3, 2)), ((2, 3), (6,)), ((4,), (0,))],
)
def test_resize_keeps_the_first_elements_like_torch(before, after):
    count = int(np.prod(before))
    ours = nl.arange(float(count)).reshape(before)
    theirs = torch.arange(float(count)).reshape(before)
    assert ours.resize_(*after) is ours
    theirs.resize_(*after)
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == nl.float32
    kept = min(count, int(np.prod(after)))
    np.testing.assert_array_equal(
        ours.numpy().reshape(-1)[:kept], theirs.numpy().reshape(-1)[:kept]
    )
    assert np.all(ours.numpy().reshape(-1)[kept:] == 0)  # torch's are uninitialized


def test_resize_as_and_what_resize_refuses():
    assert nl.zeros(4).resize_as_(nl.ones(2, 2)).shape == (2, 2)
    assert nl.zeros(3).resize_((1, 3)).shape == (1, 3)
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        nl.ones(2, requires_grad=True).resize_(3)
    with pytest.raises(RuntimeError, match="non-negative"):
        nl.zeros(2).resize_(-1)
