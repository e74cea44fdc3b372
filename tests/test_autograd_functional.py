"""torch.autograd.functional's names: jacobian, vjp, jvp against torch; the second-order ones
refused clearly."""

import subprocess
import sys

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab.autograd import functional as F

X0, Y0 = [[0.3, -1.2, 2.0], [0.5, 0.1, -0.7]], [[1.5, -0.4], [0.2, 0.9], [-1.1, 0.6]]


def _exp2(x):
    return x.exp() * 2


def _matmul(x, y):
    return x @ y


def _sin_and_sum(x):
    return x.sin(), x.sum()


def _ignores_y(x, y):
    return x * 3


# name -> (function, inputs as lists, is the inputs argument a tuple)
CASES = {
    "vector": (_exp2, [X0[0]], False),
    "tuple inputs": (_matmul, [X0, Y0], True),
    "tuple outputs": (_sin_and_sum, [X0[1]], False),
    "ignored input": (_ignores_y, [X0[0], X0[1]], True),
}


def _inputs(lib, values, as_tuple, dtype):
    made = tuple(lib.tensor(v, dtype=getattr(lib, dtype)) for v in values)
    return made if as_tuple else made[0]


def _flat(result):
    """The tensors of a possibly nested tuple, in order."""
    if isinstance(result, tuple):
        return [t for item in result for t in _flat(item)]
    return [result]


def _assert_same(ours, theirs, dtype):
    assert type(ours) is tuple if isinstance(theirs, tuple) else not isinstance(ours, tuple)
    flat_ours, flat_theirs = _flat(ours), _flat(theirs)
    assert len(flat_ours) == len(flat_theirs)
    for a, b in zip(flat_ours, flat_theirs):
        assert tuple(a.shape) == tuple(b.shape)
        assert a.dtype == getattr(nl, dtype)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def _v_like(lib, like, dtype, seed):
    """A vector shaped like ``like`` (a tensor or a tuple of them), the same in both libraries."""
    rng = np.random.default_rng(seed)
    made = tuple(
        lib.tensor(rng.normal(size=tuple(t.shape)), dtype=getattr(lib, dtype)) for t in _flat(like)
    )
    return made if isinstance(like, tuple) else made[0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(CASES))
def test_jacobian_matches_torchs_values_shapes_and_nesting(case, dtype):
    func, values, as_tuple = CASES[case]
    ours = F.jacobian(func, _inputs(nl, values, as_tuple, dtype))
    theirs = torch.autograd.functional.jacobian(func, _inputs(torch, values, as_tuple, dtype))
    _assert_same(ours, theirs, dtype)


def test_forward_mode_strategy_gives_the_same_jacobian():
    func, values, as_tuple = CASES["tuple inputs"]
    ours = F.jacobian(func, _inputs(nl, values, as_tuple, "float64"), strategy="forward-mode")
    theirs = torch.autograd.functional.jacobian(func, _inputs(torch, values, as_tuple, "float64"))
    _assert_same(ours, theirs, "float64")
    with pytest.raises(ValueError, match="strategy"):
        F.jacobian(func, _inputs(nl, values, as_tuple, "float64"), strategy="sideways")


def _strictly(lib, name):
    """``name`` (jacobian, vjp or jvp) of a function ignoring its second input, strict=True."""
    x, y = _inputs(lib, [X0[0], X0[1]], True, "float64")
    v = {"jacobian": (), "vjp": (_v_like(lib, x, "float64", 0),)}
    v["jvp"] = (_v_like(lib, (x, y), "float64", 0),)
    return getattr(lib.autograd.functional, name)(_ignores_y, (x, y), *v[name], strict=True)


@pytest.mark.parametrize("name", ["jacobian", "vjp", "jvp"])
def test_an_ignored_input_gives_zeros_or_torchs_error_in_strict_mode(name):
    x, y = _inputs(nl, [X0[0], X0[1]], True, "float64")
    assert not F.jacobian(_ignores_y, (x, y))[1].numpy().any()
    with pytest.raises(RuntimeError) as expected:
        _strictly(torch, name)
    with pytest.raises(RuntimeError, match="independent of input 1") as got:
        _strictly(nl, name)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(CASES))
def test_vjp_and_jvp_match_torchs(case, dtype):
    func, values, as_tuple = CASES[case]
    inputs, t_inputs = _inputs(nl, values, as_tuple, dtype), _inputs(torch, values, as_tuple, dtype)
    out = func(*_flat(t_inputs))
    for ours, theirs, like in [
        (F.vjp, torch.autograd.functional.vjp, out),
        (F.jvp, torch.autograd.functional.jvp, t_inputs),
    ]:
        got = ours(func, inputs, _v_like(nl, like, dtype, 1))
        expected = theirs(func, t_inputs, _v_like(torch, like, dtype, 1))
        assert type(got) is tuple and len(got) == 2
        _assert_same(got[0], expected[0], dtype)
        _assert_same(got[1], expected[1], dtype)


def test_v_may_be_left_out_only_for_a_single_element():
    x, tx = nl.tensor([0.5, -2.0, 1.0]), torch.tensor([0.5, -2.0, 1.0])
    _assert_same(
        F.vjp(lambda t: (t**2).sum(), x),
        torch.autograd.functional.vjp(lambda t: (t**2).sum(), tx),
        "float32",
    )
    s, ts = nl.tensor([0.7]), torch.tensor([0.7])
    _assert_same(F.jvp(_exp2, s), torch.autograd.functional.jvp(_exp2, ts), "float32")
    with pytest.raises(
        RuntimeError, match="v can only be None if the user-provided function returns a single"
    ):
        F.vjp(_exp2, x)
    with pytest.raises(
        RuntimeError, match="v can only be None if the input to the user-provided function"
    ):
        F.jvp(_exp2, x)
    with pytest.raises(RuntimeError, match="v has invalid size"):
        F.vjp(_exp2, x, nl.ones(4))


def test_inputs_must_be_a_tensor_or_a_tuple_of_tensors():
    with pytest.raises(TypeError, match="tuple of Tensors"):
        F.jacobian(_exp2, [nl.ones(2)])


def test_results_are_cut_from_the_callers_graph():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    out, product = F.vjp(_exp2, x, nl.ones(2))
    assert not out.requires_grad and not product.requires_grad and x.grad is None


@pytest.mark.parametrize("name", ["hessian", "hvp", "vhp"])
def test_second_order_functions_are_refused_clearly(name):
    args = () if name == "hessian" else (nl.ones(2),)
    with pytest.raises(NotImplementedError, match="second derivatives are not supported"):
        getattr(F, name)(lambda t: (t**2).sum(), nl.ones(2), *args)


@pytest.mark.parametrize("fn", ["jacobian", "vjp", "jvp"])
def test_create_graph_is_refused_as_elsewhere(fn):
    args = () if fn == "jacobian" else (nl.ones(1),)
    with pytest.raises(NotImplementedError, match="create_graph=True is not supported"):
        getattr(F, fn)(lambda t: t.sum(), nl.ones(1), *args, create_graph=True)


def test_every_import_form_works_as_torchs():
    code = (
        "import neuralab\n"
        "assert neuralab.autograd.functional.jacobian is not None\n"
        "import neuralab.autograd.functional\n"
        "from neuralab.autograd.functional import jacobian, vjp, jvp, hessian, hvp, vhp\n"
        "from neuralab.autograd import grad, backward, Function\n"
        "import sys; assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
