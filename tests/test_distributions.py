"""torch.distributions' Categorical, Bernoulli and Normal: log_prob, entropy and their
gradients against torch; samples by their frequencies and shapes."""

import numpy as np
import pytest
import torch
import torch.distributions as TD

import neuralab as nl
from neuralab import distributions as D

LOGITS = np.random.default_rng(0).normal(size=(3, 4))


def _categorical(lib, dists, dtype, by_probs):
    raw = lib.tensor(LOGITS, dtype=getattr(lib, np.dtype(dtype).name), requires_grad=True)
    dist = dists.Categorical(probs=raw.softmax(-1)) if by_probs else dists.Categorical(logits=raw)
    log_p = dist.log_prob(lib.tensor([0, 3, 2]))
    (log_p.sum() + 0.5 * dist.entropy().sum()).backward()
    return log_p.detach().numpy(), dist.entropy().detach().numpy(), raw.grad.numpy()


@pytest.mark.parametrize("by_probs", [False, True], ids=["logits", "probs"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_categorical_matches_torch(dtype, by_probs):
    tol = 1e-5 if dtype == np.float32 else 1e-10
    for a, b in zip(_categorical(nl, D, dtype, by_probs), _categorical(torch, TD, dtype, by_probs)):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _normal_and_bernoulli(lib, dists):
    loc = lib.tensor([0.5, -1.0], requires_grad=True)
    scale = lib.tensor([1.5, 0.3], requires_grad=True)
    normal = dists.Normal(loc, scale)
    logits = lib.tensor([0.3, -2.0], requires_grad=True)
    bern = dists.Bernoulli(logits=logits)
    total = normal.log_prob(lib.tensor([0.1, 0.2])).sum() + normal.entropy().sum()
    total = total + bern.log_prob(lib.tensor([1.0, 0.0])).sum() + bern.entropy().sum()
    total.backward()
    return [total.item(), loc.grad.numpy(), scale.grad.numpy(), logits.grad.numpy(),
            normal.stddev.detach().numpy(), bern.variance.detach().numpy()]  # fmt: skip


def test_normal_and_bernoulli_match_torch():
    for a, b in zip(_normal_and_bernoulli(nl, D), _normal_and_bernoulli(torch, TD)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_samples_follow_the_probabilities_and_the_global_seed():
    nl.manual_seed(0)
    draws = D.Categorical(probs=nl.tensor([0.1, 0.6, 0.3])).sample((20_000,))
    assert draws.shape == (20_000,) and draws.dtype == nl.int64
    np.testing.assert_allclose(
        np.bincount(draws.numpy(), minlength=3) / 20_000, [0.1, 0.6, 0.3], atol=0.015
    )
    nl.manual_seed(0)
    again = D.Categorical(probs=nl.tensor([0.1, 0.6, 0.3])).sample((20_000,))
    assert (again.numpy() == draws.numpy()).all()
    batch = D.Bernoulli(probs=nl.full((2, 3), 0.25)).sample((4,))
    assert batch.shape == (4, 2, 3) and abs(batch.numpy().mean() - 0.25) < 0.2


def test_rsample_carries_the_gradient_and_sample_does_not():
    loc = nl.tensor([1.0, 2.0], requires_grad=True)
    normal = D.Normal(loc, nl.tensor([0.5, 0.5]))
    assert normal.rsample((3,)).shape == (3, 2) and normal.rsample().requires_grad
    assert not normal.sample((3,)).requires_grad
    normal.rsample((1000,)).mean().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [0.5, 0.5], rtol=1e-4)


def test_policy_gradient_step_in_the_reinforce_style():
    """The REINFORCE tutorial's update: sample an action, keep log_prob, weight it by a return."""
    nl.manual_seed(1)
    policy = nl.nn.Linear(4, 2)
    opt = nl.optim.Adam(policy.parameters(), lr=0.05)
    state = nl.ones(1, 4)
    for _ in range(60):  # action 1 is rewarded: its probability must grow
        dist = D.Categorical(logits=policy(state))
        action = dist.sample()
        loss = -(dist.log_prob(action) * (1.0 if action.item() == 1 else -1.0)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert D.Categorical(logits=policy(state)).probs[0, 1].item() > 0.9


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="exactly one of probs or logits"):
        D.Categorical(probs=nl.ones(2), logits=nl.ones(2))
    with pytest.raises(ValueError, match="Bernoulli: give exactly one"):
        D.Bernoulli()
