"""In-place updates while the graph is recorded, beside torch: ops that read a tensor before it
was updated send their gradient to the value they read (where torch refuses because the op saved
that value, neuralab gives its gradient), and an update of a view (a slice, a reshape, a
transpose) reaches the tensor it views, values and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl

A = [0.5, -1.0, 2.0]
W = [1.5, 2.0, -0.5]


def assert_loss_and_gradients_match_torch(program):
    """``program(lib, a, w)``'s loss and the gradients of a and w, in neuralab and in torch."""
    results = []
    for lib in (nl, torch):
        a = lib.tensor(A, requires_grad=True)
        w = lib.tensor(W, requires_grad=True)
        loss = program(lib, a, w)
        loss.backward()
        results.append((loss.item(), a.grad.numpy(), w.grad.numpy()))
    (ours_loss, *ours), (their_loss, *theirs) = results
    assert ours_loss == pytest.approx(their_loss, rel=1e-5)
    for mine, expected in zip(ours, theirs):
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)


def after_sum(lib, a, w):
    b = a * 2
    c = b + b  # reads b before the update (its backward saves nothing of b)
    b.mul_(w)
    return (c * 2).sum() + b.sum()


def two_updates(lib, a, w):
    b = a * 3
    c = b + a
    b.mul_(w)
    d = b + 0
    b.add_(a)
    return c.sum() + (d * d).sum() + b.sum()


def buffer_made_a_node(lib, a, w):
    buf = lib.zeros(3)
    c = buf + a  # buf is a constant here; the update below makes it depend on w
    buf.add_(w)
    return (c * c).sum() + (buf * a).sum()


def setitem_after_use(lib, a, w):
    b = a * w
    c = b.exp()
    b[1] = a[0] * 4
    return c.sum() + (b * b).sum()


@pytest.mark.parametrize("program", [after_sum, two_updates, buffer_made_a_node, setitem_after_use])
def test_gradients_of_ops_before_an_in_place_update_match_torch(program):
    assert_loss_and_gradients_match_torch(program)


def test_where_torch_refuses_the_gradient_is_the_old_values():
    a = torch.tensor(A, requires_grad=True)
    b = a * 1
    c = b * b  # saves b
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()
    a = nl.tensor(A, requires_grad=True)
    b = a * 1
    c = b * b
    b.add_(1)
    c.sum().backward()  # d(sum(a * a))/da, from the value c was made of
    np.testing.assert_allclose(a.grad.numpy(), 2 * np.array(A, np.float32))


def test_a_freed_earlier_value_says_to_retain_the_graph():
    a = nl.tensor(A, requires_grad=True)
    b = a * 2
    c = b + b
    b.add_(1)
    b.sum().backward()  # frees the graph below b, its earlier value's too
    with pytest.raises(RuntimeError, match="updated in place after an op used it.*retain_graph"):
        c.sum().backward()
    a.grad = None
    b = a * 2
    c = b + b
    b.add_(1)
    b.sum().backward(retain_graph=True)
    c.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [6.0, 6.0, 6.0])


def rows_written_through_views(lib, a, w):
    buf = lib.zeros(3, 3)
    for t in range(3):
        buf[t].copy_(a * w * (t + 1))  # a preallocated buffer filled row by row
    return (buf * buf).sum() + buf[1:, 0].sum()


def reshaped_and_sliced(lib, a, w):
    x = (a * w).repeat(2)
    x.view(2, 3).add_(1)
    x[1:4].mul_(10)
    return (x * x).sum()


def view_of_a_view(lib, a, w):
    x = a.unsqueeze(1) * w  # (3, 3)
    x.t()[0].mul_(a)  # column 0 of x
    x.view(9)[4:].sub_(w.sum())
    return (x * x.exp()).sum()


def activation_on_a_slice(lib, a, w):
    x = lib.stack([a - w, a * w])
    lib.nn.functional.relu(x[:, 1:], inplace=True)
    y = a * 3
    lib.sigmoid_(y[1:])
    return (x * lib.arange(6.0).view(2, 3)).sum() + (y * y).sum()


def setitem_on_a_view(lib, a, w):
    x = (a + w).reshape(1, 3).expand(2, 3).clone()
    x.permute(1, 0)[2] = a[:2] * 5
    return (x**2).sum()


@pytest.mark.parametrize(
    "program",
    [
        rows_written_through_views,
        reshaped_and_sliced,
        view_of_a_view,
        activation_on_a_slice,
        setitem_on_a_view,
    ],
)
def test_an_update_of_a_view_reaches_its_base_like_torch(program):
    assert_loss_and_gradients_match_torch(program)


def test_a_view_of_a_leaf_that_requires_grad_refuses_in_place_updates():
    w = nl.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="mul_: a view of a leaf tensor that requires grad"):
        w[1:].mul_(2)
    with nl.no_grad():
        w[1:].add_(2)
    assert w.tolist() == [0.0, 2.0, 2.0]


def test_torchs_top_level_in_place_functions_update_their_argument():
    from neuralab.ops.methods import METHOD_FUNCTIONS

    with_args = {
        "clamp_": (0.3, 0.6), "clip_": (0.3, 0.6), "clamp_min_": (0.4,), "clamp_max_": (0.4,),
        "fill_": (2.0,), "xlogy_": ([2.0, 3.0, 4.0],), "acosh_": (), "arccosh_": (),
        "ldexp_": ([1, 2, 3],),
    }  # fmt: skip
    skipped = {"addmv_", "index_put_", "detach_", "gcd_", "lcm_"}  # gcd_, lcm_: integers only
    for name in (n for n in METHOD_FUNCTIONS if n.endswith("_")):
        if name in skipped:
            continue
        x = np.array([0.2, 0.5, 0.7], np.float32) + (1 if "cosh_" in name else 0)
        args = with_args.get(name, ())
        ours, theirs = nl.tensor(x), torch.tensor(x)
        assert (
            getattr(nl, name)(ours, *(nl.tensor(a) if isinstance(a, list) else a for a in args))
            is ours
        )
        getattr(torch, name)(theirs, *(torch.tensor(a) if isinstance(a, list) else a for a in args))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, err_msg=name)


def test_a_pickled_view_carries_only_its_own_values():
    # DataLoader workers pickle what a dataset returns, often a row of one big tensor
    import pickle

    table = nl.arange(100_000.0).view(1000, 100)
    row = pickle.loads(pickle.dumps(table[7]))
    assert row.tolist() == list(range(700, 800))
    assert len(pickle.dumps(table[7])) < 2_000
    row.add_(1)  # a leaf of its own now
    assert table[7, 0].item() == 700.0
