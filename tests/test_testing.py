"""neuralab.testing against torch.testing: assert_close passes and fails on the same table of
cases (dtypes, tolerances, NaN, dtype/shape/type mismatches, nested lists and dicts) with the
same messages, and make_tensor follows torch's ranges and argument checks."""

import re
import warnings

import numpy as np
import pytest
import torch
import torch.testing

import neuralab as nl
from neuralab.testing import assert_close, make_tensor


def T(*values, dtype=np.float32):  # a tensor in the table, built in each library
    return ("tensor", np.array(values, dtype=dtype))


def A(*values, dtype=np.float32):  # an array in the table, compared as it is
    return ("array", np.array(values, dtype=dtype))


def _build(x, lib):
    """A table entry as ``lib`` takes it: tensors of that library, the rest as written."""
    if isinstance(x, tuple) and len(x) == 2 and x[0] in ("tensor", "array"):
        arr = x[1].copy()
        if x[0] == "array":
            return arr
        return torch.from_numpy(arr) if lib is torch else nl.as_tensor(arr)
    if isinstance(x, list | tuple):
        return type(x)(_build(item, lib) for item in x)
    if isinstance(x, dict):
        return {k: _build(v, lib) for k, v in x.items()}
    return x


GRID = np.arange(6.0).reshape(2, 3)
CASES = {
    "float32 one element off": (T(1, 2, 3), T(1, 2.5, 3), {}),
    "float32 two elements off": (T(1, 2, 3), T(1, 2.5, 3.1), {}),
    "float32 within default tolerance": (T(1, 2, 3), T(1, 2 + 1e-6, 3), {}),
    "float64 beyond its tighter tolerance": (
        T(1, 2, dtype=np.float64),
        T(1, 2 + 1e-6, dtype=np.float64),
        {},
    ),
    "float64 within its tolerance": (
        T(1, 2, dtype=np.float64),
        T(1, 2 + 1e-8, dtype=np.float64),
        {},
    ),
    "float16 within": (T(1, dtype=np.float16), T(1.0005, dtype=np.float16), {}),
    "float16 beyond": (T(1, dtype=np.float16), T(1.01, dtype=np.float16), {}),
    "complex64": (T(1 + 1j, dtype=np.complex64), T(1 + 1.5j, dtype=np.complex64), {}),
    "0-d tensors": (
        ("tensor", np.array(1.0, np.float32)),
        ("tensor", np.array(1.5, np.float32)),
        {},
    ),
    "2-d index of the greatest difference": (T(*GRID), T(*(GRID * [[1, 1, 1], [1, 2, 1]])), {}),
    "relative difference against a zero": (T(0, 5), T(1, 5.5), {}),
    "zeros and a tiny difference": (T(0, 0), T(0, 1e-6), {}),
    "empty tensors": (T(), T(), {}),
    "int64 exact": (T(1, 2, 3, dtype=np.int64), T(1, 2, 4, dtype=np.int64), {}),
    "int32 exact": (T(1, 2, 3, dtype=np.int32), T(1, 2, 5, dtype=np.int32), {}),
    "uint8 without wrapping": (T(200, 1, dtype=np.uint8), T(100, 1, dtype=np.uint8), {}),
    "int with given tolerances": (
        T(10, dtype=np.int64),
        T(11, dtype=np.int64),
        dict(rtol=0.1, atol=0),
    ),
    "bool": (T(True, False, dtype=bool), T(True, True, dtype=bool), {}),
    "NaN without equal_nan": (T(1, np.nan), T(1, np.nan), {}),
    "NaN with equal_nan": (T(1, np.nan), T(1, np.nan), dict(equal_nan=True)),
    "NaN against a number": (T(1, np.nan), T(1, 2), dict(equal_nan=True)),
    "equal infinities": (T(np.inf), T(np.inf), {}),
    "opposite infinities": (T(np.inf), T(-np.inf), {}),
    "given tolerances pass": (T(1), T(1.1), dict(rtol=0.2, atol=0.0)),
    "zero tolerances are equality": (T(1), T(1.00001), dict(rtol=0, atol=0)),
    "only rtol given": (T(1), T(1.1), dict(rtol=0.2)),
    "only atol given": (T(1), T(1.1), dict(atol=0.2)),
    "dtype mismatch": (T(1), T(1, dtype=np.float64), {}),
    "dtype mismatch unchecked": (T(1), T(1 + 1e-6, dtype=np.float64), dict(check_dtype=False)),
    "int and float unchecked": (T(1, 2, dtype=np.int64), T(1, 2.5), dict(check_dtype=False)),
    "shape mismatch": (T(1), T(1, 2), {}),
    "2-d shape mismatch": (T(*GRID), ("tensor", GRID.reshape(3, 2).astype(np.float32)), {}),
    "tensor and array": (T(1), A(1), {}),
    "tensor and float": (T(1), 1.0, {}),
    "tensor and list": (T(1), [1.0], {}),
    "arrays close": (A(1, 2, dtype=np.float64), A(1, 2.00000001, dtype=np.float64), {}),
    "arrays off": (A(1, 2), A(1, 2.1), {}),
    "floats off": (1.0, 1.5, {}),
    "ints off": (1, 2, {}),
    "int and float": (1, 1.0, {}),
    "int and float unchecked ": (1, 1.0, dict(check_dtype=False)),
    "bools": (True, False, {}),
    "complex numbers": (1 + 1j, 1 + 2j, {}),
    "NumPy scalars": (np.float32(1.0), np.float32(1.0000001), {}),
    "None and None": (None, None, {}),
    "None and a number": (None, 1, {}),
    "strings": ("a", "a", {}),
    "lists off": ([1.0, 2.0], [1.0, 2.5], {}),
    "list lengths": ([1.0, 2.0], [1.0, 2.0, 3.0], {}),
    "tuple and list": ((1.0, 2.0), [1.0, 2.0], {}),
    "nested dict": ({"a": 1.0, "b": [T(1)]}, {"a": 1.0, "b": [T(2)]}, {}),
    "nested dict close": ({"a": [T(1, 2)], "b": (3, None)}, {"b": [3, None], "a": [T(1, 2)]}, {}),
    "dict keys": ({"a": 1.0}, {"b": 1.0}, {}),
    "type error wins over an earlier mismatch": ([T(1), "x"], [T(2), "x"], {}),
    "custom message": (T(1), T(1.1), dict(msg="custom")),
    "message callable": ([T(1)], [T(1.1)], dict(msg=lambda m: "W:" + m)),
}


def _outcome(lib, actual, expected, options):
    check = assert_close if lib is nl else torch.testing.assert_close
    try:
        check(_build(actual, lib), _build(expected, lib), **options)
    except Exception as error:  # the outcome is what is compared
        return type(error), str(error)
    return None, ""


def _torch_names(text):
    """torch's message with neuralab's names for the same things."""

    def size(m):
        return str(tuple(int(v) for v in m[1].split(",") if v.strip()))

    text = re.sub(r"torch\.Size\(\[([^\]]*)\]\)", size, text)
    text = text.replace("torch.", "")
    return text.replace("<class 'Tensor'>", "<class 'neuralab.tensor.Tensor'>")


@pytest.mark.parametrize("case", CASES)
def test_assert_close_passes_and_fails_where_torch_does(case):
    actual, expected, options = CASES[case]
    ours, theirs = (
        _outcome(nl, actual, expected, options),
        _outcome(torch, actual, expected, options),
    )
    assert ours[0] is theirs[0], (ours, theirs)
    assert ours[1] == _torch_names(theirs[1])


def test_mismatch_message_counts_elements_and_locates_the_greatest_differences():
    with pytest.raises(AssertionError) as caught:
        assert_close(nl.tensor([[1.0, 2.0], [3.0, 4.0]]), nl.tensor([[1.0, 2.5], [3.0, 8.0]]))
    text = str(caught.value)
    assert "Mismatched elements: 2 / 4 (50.0%)" in text
    assert "Greatest absolute difference: 4.0 at index (1, 1) (up to 1e-05 allowed)" in text
    assert "Greatest relative difference: 0.5 at index (1, 1) (up to 1.3e-06 allowed)" in text


def test_tensors_keep_their_graph_and_parameters_compare_with_tensors():
    p = nl.nn.Parameter(nl.tensor([1.0, 2.0]))
    assert_close(p * 2, nl.tensor([2.0, 4.0]))
    assert_close(p, nl.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="No comparison pair"):
        assert_close(p, nl.tensor([1.0, 2.0]), allow_subclasses=False)


def test_strides_are_compared_only_when_asked():
    a = np.arange(6.0).reshape(2, 3)
    transposed, contiguous = nl.as_tensor(a.T), nl.as_tensor(np.ascontiguousarray(a.T))
    assert_close(transposed, contiguous)
    with pytest.raises(AssertionError, match=r"'stride\(\)' do not match: \(1, 3\) != \(2, 1\)"):
        assert_close(transposed, contiguous, check_stride=True)


def test_sparse_tensors_compare_by_indices_and_values_and_layout():
    indices = nl.tensor([[0, 1], [1, 0]])
    sparse = nl.sparse_coo_tensor(indices, nl.tensor([1.0, 2.0]), (2, 2))
    assert_close(sparse, nl.sparse_coo_tensor(indices, nl.tensor([1.0, 2.0]), (2, 2)))
    with pytest.raises(AssertionError, match="Sparse COO values are not close"):
        assert_close(sparse, nl.sparse_coo_tensor(indices, nl.tensor([1.0, 2.5]), (2, 2)))
    with pytest.raises(AssertionError, match="attribute 'layout' do not match"):
        assert_close(sparse, sparse.to_dense())
    assert_close(sparse, sparse.to_dense(), check_layout=False)


@pytest.mark.parametrize(
    "dtype, low, high",
    [
        ("float32", None, None), ("float64", -1, 1), ("float16", None, None),
        ("complex64", 0, 1), ("int64", None, None), ("int8", -200, 200), ("uint8", None, None),
        ("bool", None, None),
    ],
)  # fmt: skip
def test_make_tensor_draws_in_torchs_ranges(dtype, low, high):
    nl.manual_seed(0)
    ours = make_tensor(
        64, 8, dtype=getattr(nl, dtype if dtype != "bool" else "bool_"), low=low, high=high
    ).numpy()
    theirs = torch.testing.make_tensor(
        64, 8, dtype=getattr(torch, dtype), device="cpu", low=low, high=high
    ).numpy()
    bounds = {"float32": (-9, 9), "float16": (-9, 9), "int64": (-9, 10), "int8": (-128, 128),
              "uint8": (0, 10), "bool": (0, 2)}  # fmt: skip
    lo, hi = bounds.get(dtype, (low, high))
    assert ours.shape == theirs.shape == (64, 8) and ours.dtype == theirs.dtype
    for values in (ours, theirs):
        parts = [values.real, values.imag] if values.dtype.kind == "c" else [values]
        for part in (p.astype(np.float64) for p in parts):
            assert part.min() >= lo and part.max() < hi
    if ours.dtype.kind in "biu" and hi - lo <= 20:  # every value of the range is drawn
        assert set(ours.ravel().tolist()) == set(theirs.ravel().tolist())


def test_make_tensor_options():
    out = make_tensor((3, 4), dtype=nl.float64, noncontiguous=True, requires_grad=True)
    assert out.shape == (3, 4) and not out.is_contiguous() and out.requires_grad and out.is_leaf
    assert make_tensor(1, dtype=nl.float32, noncontiguous=True).is_contiguous()  # one element
    ones = make_tensor(50, dtype=nl.int32, low=0, high=1, exclude_zero=True)
    assert ones.tolist() == [1] * 50
    tiny = make_tensor(5, dtype=nl.float32, low=0, high=1e-45, exclude_zero=True).numpy()
    assert (tiny > 0).all()


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(dtype="float32", low=2, high=1),
        dict(dtype="float32", low=float("nan")),
        dict(dtype="int32", requires_grad=True),
        dict(dtype="int8", low=200, high=300),
        dict(dtype="float32", noncontiguous=True, memory_format="contiguous_format"),
    ],
)
def test_make_tensor_refuses_what_torch_refuses(kwargs):
    def call(lib):
        options = dict(kwargs, dtype=getattr(lib, kwargs["dtype"]))
        if "memory_format" in options:
            options["memory_format"] = getattr(lib, options["memory_format"])
        maker = make_tensor if lib is nl else torch.testing.make_tensor
        extra = {} if lib is nl else {"device": "cpu"}
        with pytest.raises(ValueError) as caught:
            maker(3, **options, **extra)
        return str(caught.value)

    assert call(nl).split(",")[0] == call(torch).split(",")[0]


def test_make_tensor_low_equal_high_is_deprecated_for_floats():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = make_tensor(3, dtype=nl.float32, low=2, high=2)
    assert [w.category for w in caught] == [FutureWarning]
    assert out.tolist() == [2.0, 2.0, 2.0]
