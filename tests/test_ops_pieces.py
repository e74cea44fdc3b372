"""split / chunk / unbind / tensor_split as one op with several outputs: gradients against torch
whatever pieces the loss reads, however often, and through in-place updates and retain_grad."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl

TOL = dict(rtol=1e-6, atol=1e-6)


def both(shape, seed=0):
    """The same float32 values as a neuralab and a torch leaf that require grad."""
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return nl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def weights(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


# each case: how to cut, and how the loss reads the pieces (same code for both libraries)
CASES = {
    "qkv, all three": (lambda t: t.split(4, dim=-1), lambda p, w: (p[0] * w[0]).sum()
                       + (p[1] * p[2]).sum()),
    "only the last": (lambda t: t.split(4, dim=-1), lambda p, w: (p[2] * w[0]).sum()),
    "first and last": (lambda t: t.chunk(3, dim=-1), lambda p, w: (p[0] * w[0]).sum()
                       + (p[2] * w[0]).sum()),
    "a piece twice": (lambda t: t.split([3, 9], dim=1), lambda p, w: (p[1] * p[1]).sum()
                      + p[1].sum()),
    "unbind": (lambda t: t.unbind(1), lambda p, w: (p[0] * p[5]).sum() + (p[1] ** 2).sum()),
    "overlapping tensor_split": (lambda t: t.tensor_split([3, 1], dim=1),
                                 lambda p, w: (p[0] ** 2).sum() + (p[2] * 3).sum()),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_gradients_match_torch_whichever_pieces_the_loss_reads(case):
    cut, loss = CASES[case]
    ours, theirs = both((2, 12))
    w = weights(1, (2, 4))
    loss(cut(ours), [nl.tensor(a) for a in w]).backward()
    loss(cut(theirs), [torch.tensor(a) for a in w]).backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), **TOL)


def test_unbind_of_a_vector_gives_scalars_with_gradients():
    ours, theirs = both((3,))
    a, b, c = nl.unbind(ours)
    x, y, z = torch.unbind(theirs)
    assert a.shape == () and b.item() == y.item()
    (a * c + b).backward()
    (x * z + y).backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), **TOL)


def test_in_place_update_of_a_piece_and_retain_grad_give_torchs_out_of_place_gradients():
    # torch refuses in-place updates of split's outputs; neuralab allows them, with the
    # gradients of the same updates made out of place
    ours, theirs = both((4, 6))
    h = ours * 2
    q, k, v = h.chunk(3, dim=1)
    k.retain_grad()
    q.mul_(3.0)
    v.add_(1.0)
    (q * k).sum().backward(retain_graph=True)
    (v * v).sum().backward()  # a second backward through another piece accumulates
    q_, k_, v_ = (theirs * 2).chunk(3, dim=1)
    k_.retain_grad()
    q_, v_ = q_ * 3.0, v_ + 1.0
    (q_ * k_).sum().backward(retain_graph=True)
    (v_ * v_).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), **TOL)
    np.testing.assert_allclose(k.grad.numpy(), k_.grad.numpy(), **TOL)


def test_autograd_grad_through_one_piece_leaves_nothing_for_the_next_backward():
    ours, theirs = both((2, 6))
    p = ours.split(2, dim=1)
    t = theirs.split(2, dim=1)
    (g,) = nl.autograd.grad((p[1] * 5).sum(), ours, retain_graph=True)
    (h,) = torch.autograd.grad((t[1] * 5).sum(), theirs, retain_graph=True)
    np.testing.assert_allclose(g.numpy(), h.numpy(), **TOL)
    (p[0] * p[2]).sum().backward()  # the 5s given to grad() above must not reappear here
    (t[0] * t[2]).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), **TOL)


def test_pieces_are_views_and_outside_the_graph_without_grad():
    ours, _ = both((2, 6))
    with nl.no_grad():
        pieces = ours.split(3, dim=1)
    assert all(not p.requires_grad for p in pieces)
    recorded = ours.split(3, dim=1)
    assert all(p.requires_grad for p in recorded)
    np.testing.assert_array_equal(recorded[1].numpy(), ours.numpy()[:, 3:])
    assert np.shares_memory(recorded[1].numpy(), ours.numpy())
