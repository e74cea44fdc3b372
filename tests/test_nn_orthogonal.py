"""parametrizations.orthogonal against torch: orthogonality, values and gradients from the same
original, an SGD step, assignment through right_inverse, batches and the refusals."""

import numpy as np
import pytest
import torch
import torch.nn.utils.parametrizations as TPZ

import neuralab as nl
import neuralab.nn.utils.parametrizations as PZ

SHAPES = [(5, 5), (3, 6), (6, 3)]  # Linear(in, out): square, tall weight, wide weight
MAPS = ["matrix_exp", "cayley", "householder"]
X = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)


def _assert_orthogonal(w, atol=1e-5):
    """Orthonormal columns (tall or square) or rows (wide), over a batch of matrices."""
    gram = w @ np.swapaxes(w, -1, -2) if w.shape[-2] < w.shape[-1] else np.swapaxes(w, -1, -2) @ w
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(gram.shape[-1]), gram.shape), atol=atol)


def _copy_state(theirs, ours):
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    ours.load_state_dict({k: nl.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})


def _orthogonal_pair(args, orthogonal_map, trivial):
    torch.manual_seed(0)
    theirs, ours = torch.nn.Linear(*args), nl.nn.Linear(*args)
    TPZ.orthogonal(theirs, orthogonal_map=orthogonal_map, use_trivialization=trivial)
    PZ.orthogonal(ours, orthogonal_map=orthogonal_map, use_trivialization=trivial)
    _copy_state(theirs, ours)
    return theirs, ours


def _close(ours, theirs, rtol=1e-4, atol=1e-5):
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("trivial", [True, False])
@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("args", SHAPES)
def test_orthogonal_matches_torch(args, orthogonal_map, trivial):
    theirs, ours = _orthogonal_pair(args, orthogonal_map, trivial)
    keys = {"bias", "parametrizations.weight.original"}
    assert set(ours.state_dict()) == keys | (
        {"parametrizations.weight.0.base"} if trivial else set()
    )
    assert ours.state_dict()["parametrizations.weight.original"].dtype == nl.float32
    _assert_orthogonal(ours.weight.numpy())
    _close(ours.weight, theirs.weight, rtol=0, atol=1e-5)
    x = X[:, : args[0]]
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.1)
    opt_o = nl.optim.SGD(ours.parameters(), lr=0.1)
    for _ in range(2):
        opt_t.zero_grad()
        opt_o.zero_grad()
        theirs(torch.tensor(x)).sin().sum().backward()
        ours(nl.tensor(x)).sin().sum().backward()
        _close(
            ours.parametrizations.weight.original.grad, theirs.parametrizations.weight.original.grad
        )
        opt_t.step()
        opt_o.step()
        _assert_orthogonal(ours.weight.numpy())
        _close(ours.weight, theirs.weight)


def test_the_default_map_and_a_fresh_layer_as_torch():
    """matrix_exp for square matrices, householder otherwise; registration keeps the weight
    when it is orthogonal and otherwise makes it so (QR with diag(R) > 0)."""
    for args, expected in [((4, 4), "matrix_exp"), ((3, 6), "householder")]:
        layer = PZ.orthogonal(nl.nn.Linear(*args))
        assert layer.parametrizations.weight[0].orthogonal_map == expected
    for args in SHAPES:
        for trivial in (True, False):
            torch.manual_seed(1)
            theirs = torch.nn.Linear(*args)
            ours = nl.nn.Linear(*args)
            ours.load_state_dict({k: nl.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
            TPZ.orthogonal(theirs, orthogonal_map="householder", use_trivialization=trivial)
            PZ.orthogonal(ours, orthogonal_map="householder", use_trivialization=trivial)
            if args[0] == args[1] or not trivial:  # trivialization completes with random columns
                _close(ours.weight, theirs.weight, rtol=0, atol=1e-5)


@pytest.mark.parametrize("trivial", [True, False])
@pytest.mark.parametrize("args", SHAPES)
def test_assigning_an_orthogonal_matrix(args, trivial):
    torch.manual_seed(2)
    q = torch.linalg.qr(torch.randn(max(args), min(args))).Q
    q = q if args[1] >= args[0] else q.T  # the weight is (out, in)
    for orthogonal_map in MAPS:
        theirs, ours = _orthogonal_pair(args, orthogonal_map, trivial)
        if not trivial and orthogonal_map != "householder":
            with pytest.raises(NotImplementedError):
                theirs.weight = q
            with pytest.raises(NotImplementedError, match="use_trivialization"):
                ours.weight = nl.tensor(q.numpy())
            continue
        with torch.no_grad():
            theirs.weight = q
        ours.weight = nl.tensor(q.numpy())
        _close(ours.weight, q, rtol=0, atol=1e-5)
        _close(ours.weight, theirs.weight, rtol=0, atol=1e-5)
        _close(ours.parametrizations.weight.original, theirs.parametrizations.weight.original)
        if trivial and args[0] == args[1]:
            _close(ours.parametrizations.weight[0].base, theirs.parametrizations.weight[0].base)


class _Batched(torch.nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(*shape))


class _OurBatched(nl.nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.weight = nl.nn.Parameter(nl.randn(*shape))


@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("shape", [(2, 3, 3), (2, 4, 2), (3, 2, 5)])
def test_a_batch_of_matrices(shape, orthogonal_map):
    torch.manual_seed(3)
    theirs, ours = _Batched(shape), _OurBatched(shape)
    TPZ.orthogonal(theirs, orthogonal_map=orthogonal_map)
    PZ.orthogonal(ours, orthogonal_map=orthogonal_map)
    _copy_state(theirs, ours)
    _assert_orthogonal(ours.weight.numpy())
    _close(ours.weight, theirs.weight, rtol=0, atol=1e-5)
    c = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    (theirs.weight * torch.tensor(c)).sum().backward()
    (ours.weight * nl.tensor(c)).sum().backward()
    _close(ours.parametrizations.weight.original.grad, theirs.parametrizations.weight.original.grad)


def test_the_refusals():
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp"'):
        PZ.orthogonal(nl.nn.Linear(3, 3), orthogonal_map="qr")
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        TPZ.orthogonal(torch.nn.Linear(3, 3), orthogonal_map="qr")
    with pytest.raises(ValueError, match="matrix or batch of matrices, got a tensor of 1 dim"):
        PZ.orthogonal(nl.nn.Linear(3, 3), name="bias")
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices"):
        TPZ.orthogonal(torch.nn.Linear(3, 3), name="bias")
    with pytest.raises(ValueError, match="Linear has no parameter or buffer 'gain'"):
        PZ.orthogonal(nl.nn.Linear(3, 3), name="gain")
    layer = PZ.orthogonal(nl.nn.Linear(3, 3))
    with pytest.raises(ValueError, match=r"of shape \(3, 3\), got shape \(3, 2\)"):
        layer.weight = nl.zeros(3, 2)
