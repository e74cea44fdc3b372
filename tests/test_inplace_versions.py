"""Ops that read a tensor before it was updated in place send their gradient to the value they
read, as torch's graph does: the results match torch's, and where torch refuses (the op saved
the old value for its backward) neuralab gives the old value's gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl

A = [0.5, -1.0, 2.0]
W = [1.5, 2.0, -0.5]


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
    grads = []
    for lib in (nl, torch):
        a = lib.tensor(A, requires_grad=True)
        w = lib.tensor(W, requires_grad=True)
        loss = program(lib, a, w)
        loss.backward()
        grads.append((loss.item(), a.grad.numpy(), w.grad.numpy()))
    (ours_loss, *ours), (their_loss, *theirs) = grads
    assert ours_loss == pytest.approx(their_loss, rel=1e-6)
    for mine, expected in zip(ours, theirs):
        np.testing.assert_allclose(mine, expected, rtol=1e-6)


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
