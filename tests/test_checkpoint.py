"""neuralab.utils.checkpoint: gradients through checkpointed blocks equal those without it (and
torch.utils.checkpoint's on the same weights), the block really runs twice and keeps no graph
in the forward, dropout masks are replayed, and the use_reentrant rules follow torch."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
import torch.utils.checkpoint as torch_checkpoint

import neuralab as nl
from neuralab import nn
from neuralab.utils.checkpoint import checkpoint, checkpoint_sequential

VARIANTS = [True, False]  # use_reentrant


def _mlp(seed=0):
    nl.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4)
    )


def _gradients(model, run, x, seed=1):
    """Gradients of x and of every parameter after ``run(model, x)`` and a backward pass."""
    model.zero_grad()
    x.grad = None
    nl.manual_seed(seed)
    out = run(model, x)
    (out * nl.linspace(-1.0, 1.0, out.shape[-1])).sum().backward()
    grads = [x.grad] + [p.grad for p in model.parameters()]
    return [g.numpy().copy() for g in grads]


def _assert_same(got, expected, tol=1e-6):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol)


def _input(seed=2, shape=(5, 6)):
    return nl.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=nl.float32,
                     requires_grad=True)  # fmt: skip


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_mlp_block_gradients_equal_those_without_checkpoint(use_reentrant):
    model, x = _mlp(), _input()
    plain = _gradients(model, lambda m, v: m(v), x)
    ckpt = _gradients(model, lambda m, v: checkpoint(m, v, use_reentrant=use_reentrant), x)
    _assert_same(ckpt, plain)
    assert all(g.dtype == np.float32 for g in ckpt)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_dropout_mask_is_replayed_from_the_saved_random_state(use_reentrant):
    nl.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 3))
    x = _input()
    plain = _gradients(model, lambda m, v: m(v), x)
    ckpt = _gradients(model, lambda m, v: checkpoint(m, v, use_reentrant=use_reentrant), x)
    _assert_same(ckpt, plain)


def test_without_preserve_rng_state_the_recomputed_mask_differs():
    nl.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 32), nn.Dropout(0.5), nn.Linear(32, 3))
    x = _input()
    plain = _gradients(model, lambda m, v: m(v), x)
    ckpt = _gradients(
        model, lambda m, v: checkpoint(m, v, use_reentrant=False, preserve_rng_state=False), x
    )
    assert not np.allclose(ckpt[0], plain[0])


def test_the_global_random_stream_continues_as_without_checkpoint():
    model, x = _mlp(), _input()
    nl.manual_seed(3)
    model(x).sum().backward()
    expected = nl.rand(4).numpy()
    nl.manual_seed(3)
    checkpoint(model, x, use_reentrant=False).sum().backward()  # the recompute replays a state
    np.testing.assert_array_equal(nl.rand(4).numpy(), expected)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_tuple_output_with_non_tensor_argument_and_outputs(use_reentrant):
    nl.manual_seed(0)
    lin = nn.Linear(6, 6)
    x, h = _input(seed=3), _input(seed=4)

    def cell(a, b, scale):
        z = lin(a) + b
        return z.tanh() * scale, "note", (z.sigmoid() * b).sum(dim=1), a.argmax(dim=1)

    def total(outs):
        return outs[0].pow(2).sum() + (outs[2] * nl.tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum()

    grads = []
    for run in (cell, lambda *a: checkpoint(cell, *a, use_reentrant=use_reentrant)):
        lin.zero_grad()
        x.grad = h.grad = None
        outs = run(x, h, 0.5)
        assert isinstance(outs, tuple) and outs[1] == "note"
        assert outs[0].requires_grad and not outs[3].requires_grad
        total(outs).backward()
        grads.append([t.grad.numpy().copy() for t in (x, h, lin.weight, lin.bias)])
    _assert_same(grads[1], grads[0])


@pytest.mark.parametrize("segments", [2, 3])
@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_checkpoint_sequential_gradients_equal_the_plain_run(segments, use_reentrant):
    model, x = _mlp(), _input()
    plain = _gradients(model, lambda m, v: m(v), x)

    def sequential(m, v):
        return checkpoint_sequential(m, segments, v, use_reentrant=use_reentrant)

    _assert_same(_gradients(model, sequential, x), plain)


def test_checkpoint_sequential_takes_a_list_and_refuses_unknown_keywords():
    model, x = _mlp(), _input()
    out = checkpoint_sequential(list(model), 2, x, use_reentrant=False, preserve_rng_state=False)
    np.testing.assert_allclose(out.detach().numpy(), model(x).detach().numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint_sequential(model, 2, x, use_reentrant=False, foo=1)


def _torch_pair():
    """A torch MLP and the neuralab one with the same weights."""
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(
        torch.nn.Linear(6, 16), torch.nn.GELU(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
        torch.nn.Linear(16, 4),
    )  # fmt: skip
    ours = nn.Sequential(
        nn.Linear(6, 16), nn.GELU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 4)
    )
    for p_ours, p_theirs in zip(ours.parameters(), theirs.parameters()):
        p_ours.data = nl.tensor(p_theirs.detach().numpy().copy())
    return ours, theirs


def _run_both(call_ours, call_theirs, x_requires_grad=True):
    """Gradients of x and of every parameter in neuralab and in torch, for the same weights."""
    ours, theirs = _torch_pair()
    x0 = np.random.default_rng(5).standard_normal((3, 6)).astype(np.float32)
    x_ours = nl.tensor(x0, requires_grad=x_requires_grad)
    x_theirs = torch.tensor(x0, requires_grad=x_requires_grad)
    w = np.random.default_rng(6).standard_normal(4).astype(np.float32)
    (call_ours(ours, x_ours) * nl.tensor(w)).sum().backward()
    (call_theirs(theirs, x_theirs) * torch.tensor(w)).sum().backward()
    pairs = [(x_ours, x_theirs)] if x_requires_grad else []
    pairs += list(zip(ours.parameters(), theirs.parameters()))
    for a, b in pairs:
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_gradients_match_torch_checkpoint_on_the_same_weights(use_reentrant):
    _run_both(
        lambda m, x: checkpoint(m, x, use_reentrant=use_reentrant),
        lambda m, x: torch_checkpoint.checkpoint(m, x, use_reentrant=use_reentrant),
    )


@pytest.mark.parametrize("segments", [2, 3])
def test_gradients_match_torch_checkpoint_sequential(segments):
    _run_both(
        lambda m, x: checkpoint_sequential(m, segments, x, use_reentrant=False),
        lambda m, x: torch_checkpoint.checkpoint_sequential(m, segments, x, use_reentrant=False),
    )


def test_non_reentrant_gives_parameters_gradients_when_the_input_needs_none_as_torch():
    _run_both(
        lambda m, x: checkpoint(m, x, use_reentrant=False),
        lambda m, x: torch_checkpoint.checkpoint(m, x, use_reentrant=False),
        x_requires_grad=False,
    )


def test_function_runs_twice_and_keeps_no_graph_in_its_forward():
    nl.manual_seed(0)
    lin = nn.Linear(6, 6)
    seen = []

    def block(a):
        hidden = lin(a).tanh()
        seen.append((hidden.requires_grad, hidden.grad_fn is not None))
        return hidden * 2

    x = _input()
    out = checkpoint(block, x, use_reentrant=False)
    assert seen == [(False, False)]  # the forward records nothing inside the block
    assert out.requires_grad and out.grad_fn is not None
    out.sum().backward()
    assert seen == [(False, False), (True, True)]  # the backward re-ran it with the graph
    assert x.grad is not None and lin.weight.grad is not None


def test_under_no_grad_the_function_just_runs_once():
    calls = []

    def block(a):
        calls.append(1)
        return a * 2

    with nl.no_grad():
        out = checkpoint(block, _input(), use_reentrant=True)
    assert calls == [1] and not out.requires_grad


def test_parameter_hooks_run_once_and_autograd_grad_reaches_parameters():
    model, x = _mlp(), _input()
    calls = []
    first = next(model.parameters())
    first.register_hook(lambda g: calls.append(g.shape))
    checkpoint(model, x, use_reentrant=False).sum().backward()
    assert len(calls) == 1
    grads = nl.autograd.grad(checkpoint(model, x, use_reentrant=False).sum(), [first, x])
    model.zero_grad()
    x.grad = None
    model(x).sum().backward()
    _assert_same([g.numpy() for g in grads], [first.grad.numpy(), x.grad.numpy()])


def test_keyword_arguments_follow_torch_per_variant():
    lin = nn.Linear(6, 2)

    def block(a, scale=1.0):
        return lin(a) * scale

    x = _input()
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        checkpoint(block, x, scale=2.0, use_reentrant=True)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        torch_checkpoint.checkpoint(
            lambda a, scale: a, torch.ones(1), scale=2.0, use_reentrant=True
        )
    out = checkpoint(block, x, scale=2.0, use_reentrant=False)
    np.testing.assert_allclose(out.detach().numpy(), block(x, 2.0).detach().numpy(), rtol=1e-6)


def _warnings_of(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return out, [w.category for w in caught]


def test_omitted_use_reentrant_warns_and_runs_the_reentrant_variant_as_torch():
    model, theirs = _torch_pair()
    x, tx = nl.ones(2, 6), torch.ones(2, 6)  # no input requires grad
    out, ours_warned = _warnings_of(lambda: checkpoint(model, x))
    tout, torch_warned = _warnings_of(lambda: torch_checkpoint.checkpoint(theirs, tx))
    assert ours_warned == torch_warned == [UserWarning, UserWarning]
    assert out.requires_grad == tout.requires_grad == False  # noqa: E712  reentrant: no grads
    _, warned = _warnings_of(lambda: checkpoint(model, _input(), use_reentrant=True))
    assert warned == []
    _, warned = _warnings_of(lambda: checkpoint_sequential(model, 2, _input()))
    assert warned == [UserWarning]


def test_import_paths_and_lazy_loading():
    code = (
        "import sys, neuralab\n"
        "assert 'neuralab.utils.checkpoint' not in sys.modules\n"
        "f = neuralab.utils.checkpoint.checkpoint\n"
        "import neuralab.utils.checkpoint as m\n"
        "assert f is m.checkpoint and 'checkpoint' in dir(neuralab.utils)\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
