"""Engine behaviour: graph reuse, accumulation, no_grad, deep chains, freeing, dtypes, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl


def test_reuse_gets_both_contributions():
    a = nl.tensor(1.0, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0


def test_gradients_accumulate_across_backward_calls():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, 4 + 3])
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 4])


def test_leaf_gradients_do_not_alias_each_other():
    a = nl.tensor([1.0, 2.0], requires_grad=True)
    b = nl.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.data *= 10
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def test_no_grad_records_nothing_and_works_as_decorator():
    w = nl.tensor([1.0, 2.0], requires_grad=True)
    with nl.no_grad():
        y = w * 2
        assert not nl.is_grad_enabled()
    assert nl.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf

    @nl.no_grad()
    def infer(t):
        return t * 3

    assert not infer(w).requires_grad
    with nl.no_grad(), nl.enable_grad():
        assert (w * 2).requires_grad


def test_chain_of_100k_ops_backpropagates_without_recursion_error():
    x = nl.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_graph_is_freed_and_second_backward_raises():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_retain_grad_keeps_intermediate_gradient():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [6.0, 12.0])


def test_backward_with_explicit_gradient():
    x = nl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(gradient=nl.tensor([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, 12.0])


def test_float32_default_and_scalars_never_promote():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    assert x.dtype == nl.float32
    assert nl.tensor(np.array([1.0, 2.0])).dtype == nl.float32
    for y in (x * 2.5, x + 1, 3.0 / x, x**2.0, 2.0**x, x - np.float64(1.5), np.float64(2.0) * x):
        assert y.dtype == nl.float32, y
    (x * 2.5).sum().backward()
    assert x.grad.dtype == nl.float32
    d = nl.tensor([1.0, 2.0], dtype=nl.float64, requires_grad=True)
    assert (d * 2.5).dtype == nl.float64
    assert (d + x).dtype == nl.float64  # two tensors: standard promotion
    assert nl.tensor([1, 2]).dtype == nl.int64 and nl.tensor([True]).dtype == nl.bool


PROMOTION_DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float32", "float64"]


@pytest.mark.parametrize("left", PROMOTION_DTYPES)
@pytest.mark.parametrize("right", PROMOTION_DTYPES)
def test_result_dtypes_follow_torchs_promotion_with_0_d_tensors(left, right):
    # of one category, a dimensioned tensor's dtype wins over a 0-d tensor's (torch's rule)
    for left_shape, right_shape in (((3,), ()), ((), (3,)), ((3,), (3,)), ((), ())):
        results = []
        for lib in (nl, torch):
            a = lib.ones(left_shape, dtype=getattr(lib, left))
            b = lib.ones(right_shape, dtype=getattr(lib, right))
            results.append([str((a * b).dtype).removeprefix("torch."), str((a < b).dtype)[-4:]])
        assert results[0] == results[1], (left_shape, right_shape)


@pytest.mark.parametrize("left", PROMOTION_DTYPES)
def test_promote_types_result_type_can_cast_and_cat_match_torch(left):
    for right in PROMOTION_DTYPES:
        ours_a, ours_b = getattr(nl, left), getattr(nl, right)
        theirs_a, theirs_b = getattr(torch, left), getattr(torch, right)
        pair = (left, right)
        assert str(nl.promote_types(ours_a, ours_b)) == str(
            torch.promote_types(theirs_a, theirs_b)
        ).removeprefix("torch."), pair
        assert nl.can_cast(ours_a, ours_b) == torch.can_cast(theirs_a, theirs_b), pair
        joined = nl.cat([nl.ones(2, dtype=ours_a), nl.ones(1, dtype=ours_b)])
        expected = torch.cat([torch.ones(2, dtype=theirs_a), torch.ones(1, dtype=theirs_b)])
        assert str(joined.dtype) == str(expected.dtype).removeprefix("torch."), pair
        for other in (1, 2.5, True):
            got = nl.result_type(nl.ones(3, dtype=ours_a), other)
            want = torch.result_type(torch.ones(3, dtype=theirs_a), other)
            assert str(got) == str(want).removeprefix("torch."), (left, other)
        zero_d = nl.result_type(nl.ones(3, dtype=ours_a), nl.ones((), dtype=ours_b))
        want = torch.result_type(torch.ones(3, dtype=theirs_a), torch.ones((), dtype=theirs_b))
        assert str(zero_d) == str(want).removeprefix("torch."), pair


def test_conversions():
    x = nl.tensor([1.7, -2.2])
    assert x.double().dtype == nl.float64
    assert x.long().tolist() == [1, -2]
    assert x.astype(nl.float64).float().dtype == nl.float32
    a = nl.tensor([1.0, 2.0], requires_grad=True)
    a.double().sum().backward()
    assert a.grad.dtype == nl.float32


def test_integer_tensors_carry_no_grad():
    with pytest.raises(RuntimeError, match="only floating-point tensors can require gradients"):
        nl.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(RuntimeError, match="int64"):
        nl.tensor([1, 2]).requires_grad_()


def test_stability_of_softmax_logsumexp_sigmoid():
    logits = nl.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], requires_grad=True)
    for out in (nl.softmax(logits, -1), nl.log_softmax(logits, -1), nl.logsumexp(logits, 1)):
        assert np.isfinite(out.numpy()).all()
    nl.log_softmax(logits, -1)[:, 0].sum().backward()
    assert np.isfinite(logits.grad.numpy()).all()
    np.testing.assert_allclose(nl.logsumexp(logits, 1).numpy(), [1e4, -1e4 + np.log(3)])
    s = nl.tensor([-1000.0, 1000.0], requires_grad=True)
    out = nl.sigmoid(s)
    np.testing.assert_array_equal(out.numpy(), [0.0, 1.0])
    out.sum().backward()
    assert np.isfinite(s.grad.numpy()).all()


def test_error_messages_name_op_and_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(3, 4\) @ \(5, 6\)"):
        nl.randn(3, 4) @ nl.randn(5, 6)
    with pytest.raises(RuntimeError, match=r"non-scalar output of shape \(2, 3\)"):
        nl.randn(2, 3, requires_grad=True).exp().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        nl.randn(2).sum().backward()
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\)"):
        nl.randn(2, 3).reshape(4, 2)
    with pytest.raises(ValueError, match=r"cat: shapes \[\(2, 3\), \(3, 3\)\] differ"):
        nl.cat([nl.randn(2, 3), nl.randn(3, 3)], 1)
    with pytest.raises(IndexError, match="out of range for a tensor with 2 dimensions"):
        nl.randn(2, 3).sum(2)
    with pytest.raises(RuntimeError, match="cannot be changed in place"):
        nl.randn(2, requires_grad=True).add_(1.0)


def test_max_min_return_value_or_pair():
    x = nl.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    assert x.max().item() == 7.0
    values, indices = x.max(1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert x.min(dim=0).indices.tolist() == [0, 1, 0]


def test_creation_functions_and_seed():
    assert nl.zeros(2, 3).shape == (2, 3) and nl.ones((4,)).numpy().sum() == 4
    assert nl.full((2, 2), 7.0).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert nl.arange(5).dtype == nl.int64 and nl.arange(0, 1, 0.25).dtype == nl.float32
    assert nl.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert nl.eye(3).numpy().trace() == 3
    assert nl.empty(2, 1).shape == (2, 1)
    assert nl.zeros_like(nl.ones(3, dtype=nl.float64)).dtype == nl.float64
    nl.manual_seed(0)
    a, b, c = nl.rand(3), nl.randn(2, 2), nl.randint(0, 10, (4,))
    nl.manual_seed(0)
    assert nl.rand(3).tolist() == a.tolist() and nl.randn(2, 2).tolist() == b.tolist()
    assert nl.randint(0, 10, (4,)).tolist() == c.tolist()
    assert c.dtype == nl.int64 and a.dtype == nl.float32
    assert nl.randn_like(b).shape == (2, 2) and nl.rand_like(a).dtype == nl.float32


def test_tensor_surface():
    t = nl.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    assert t.size() == (1, 3) and t.size(1) == 3 and t.ndim == 2 and t.numel() == 3
    assert t.is_leaf and not (t * 2).is_leaf
    d = (t * 2).detach()
    assert not d.requires_grad and d.is_leaf
    # grad_fn: the recorded backward (gradient in, one per parent out), None without a graph
    y = t * 3
    g = y.grad_fn(np.ones((1, 3), np.float32))[0]
    assert g.tolist() == [[3.0, 3.0, 3.0]] and t.grad_fn is None and d.grad_fn is None
    assert not y.retains_grad
    y.retain_grad()
    assert y.retains_grad
    assert "requires_grad=True" in repr(t)
    assert nl.tensor([2.5]).item() == 2.5
    with pytest.raises(ValueError, match="one-element"):
        t.item()


def test_gradcheck_reports_input_element_and_values():
    def wrong(x):
        out = x * x
        out._backward = lambda g: (g * 3 * x.numpy(),)  # deliberately wrong derivative
        return out

    x = nl.tensor([1.0, 2.0], dtype=nl.float64, requires_grad=True)
    with pytest.raises(
        nl.GradcheckError, match=r"input 0, element \(0,\): analytical .* numerical"
    ):
        nl.gradcheck(wrong, [x])
    assert nl.autograd.gradcheck(wrong, x, raise_exception=False) is False  # torch's forms
    assert nl.autograd.gradcheck(lambda t: (t**2).sum(), x) is True
    assert torch.autograd.gradcheck(lambda t: (t**2).sum(), torch.tensor([1.0, 2.0],
                                    dtype=torch.float64, requires_grad=True))  # fmt: skip


def test_exercise_5_1_gradient_descent_on_x_squared():
    """The lecture's Exercise 5.1: f(x) = x², x0 = 9, learning rate 0.1."""
    x = nl.tensor(9.0, requires_grad=True)
    seen = []
    for _ in range(3):
        loss = x**2
        loss.backward()
        with nl.no_grad():
            x -= 0.1 * x.grad
        x.grad = None
        seen.append(x.item())
    np.testing.assert_allclose(seen, [7.2, 5.76, 4.608], rtol=1e-6)


# ----------------------------------------------------------------------------- gradient ownership


def test_a_fresh_gradient_is_adopted_and_shared_ones_are_copied():
    """A leaf adopts a gradient array only the backward loop holds; anything shared is copied."""
    from neuralab.tensor import make

    w = nl.randn(5, 3, requires_grad=True)
    made = []

    def fresh(g):
        a = np.full((5, 3), 2.0, np.float32)
        made.append(id(a))
        return (a,)

    make(np.zeros(1, np.float32), (w,), fresh).backward(np.ones(1, np.float32))
    assert id(w.grad.numpy()) == made[0]  # adopted: no copy of a weight's gradient

    saved = np.full((5, 3), 3.0, np.float32)  # held by the op's closure
    w.grad = None
    make(np.zeros(1, np.float32), (w,), lambda g: (saved,)).backward(np.ones(1, np.float32))
    assert not np.shares_memory(w.grad.numpy(), saved)
    w.grad.data *= 0  # e.g. in-place gradient clipping must not reach the op's array
    assert saved[0, 0] == 3.0

    x, y = nl.randn(4, 3, requires_grad=True), nl.randn(4, 3, requires_grad=True)
    (x + y).sum().backward()  # add's backward hands both parents the same array
    assert not np.shares_memory(x.grad.numpy(), y.grad.numpy())

    seed = np.ones((4, 3), np.float32)
    x.grad = None
    (x + 0).backward(seed)  # the user's gradient passes through unchanged
    assert not np.shares_memory(x.grad.numpy(), seed)
