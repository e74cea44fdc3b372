"""Weight and spectral normalization (the forward-hook forms of nn.utils and the
parametrizations of nn.utils.parametrizations) and nn.utils.parametrize, against torch."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.utils.parametrizations as TPZ
import torch.nn.utils.parametrize as TP

import neuralab as nl
import neuralab.nn.utils.parametrizations as PZ
import neuralab.nn.utils.parametrize as P

X = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)


def _pair(cls="Conv2d", args=(3, 4, 3)):
    theirs, ours = getattr(torch.nn, cls)(*args), getattr(nl.nn, cls)(*args)
    ours.load_state_dict({k: nl.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return theirs, ours


def _train_alike(theirs, ours, x, steps=3, modes=("train",) * 3):
    """SGD steps on both; outputs must agree at each (state copied from torch first)."""
    ours.load_state_dict({k: nl.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    opt_t, opt_o = (
        torch.optim.SGD(theirs.parameters(), lr=0.01),
        nl.optim.SGD(ours.parameters(), lr=0.01),
    )
    for mode in modes[:steps]:
        theirs.train(mode == "train")
        ours.train(mode == "train")
        out_t, out_o = theirs(torch.tensor(x)), ours(nl.tensor(x))
        np.testing.assert_allclose(out_o.numpy(), out_t.detach().numpy(), rtol=1e-4, atol=1e-5)
        opt_t.zero_grad()
        opt_o.zero_grad()
        out_t.square().mean().backward()
        out_o.square().mean().backward()
        opt_t.step()
        opt_o.step()


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_hook_matches_torch(dim):
    theirs, ours = _pair()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.nn.utils.weight_norm(theirs, dim=dim)
    nl.nn.utils.weight_norm(ours, dim=dim)
    assert (
        sorted(ours.state_dict()) == sorted(theirs.state_dict()) == ["bias", "weight_g", "weight_v"]
    )
    assert ours.weight_g.shape == tuple(theirs.weight_g.shape)
    _train_alike(theirs, ours, X)
    nl.nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert isinstance(ours.weight, nl.nn.Parameter) and sorted(ours.state_dict()) == [
        "bias",
        "weight",
    ]
    np.testing.assert_allclose(
        ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-5, atol=1e-7
    )


@pytest.mark.parametrize(
    "cls, args, shape",
    [
        ("Conv2d", (3, 4, 3), X.shape),
        ("ConvTranspose2d", (3, 4, 3), X.shape),
        ("Linear", (6, 5), (2, 6)),
    ],
)
def test_spectral_norm_hook_matches_torch(cls, args, shape):
    theirs, ours = _pair(cls, args)
    torch.nn.utils.spectral_norm(theirs, n_power_iterations=2)
    nl.nn.utils.spectral_norm(ours, n_power_iterations=2)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    assert ours.weight_u.shape == tuple(theirs.weight_u.shape)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    _train_alike(theirs, ours, x, modes=("train", "train", "eval"))
    np.testing.assert_allclose(ours.weight_u.numpy(), theirs.weight_u.numpy(), rtol=1e-4, atol=1e-6)
    nl.nn.utils.remove_spectral_norm(ours)
    assert sorted(ours.state_dict()) == ["bias", "weight"]


def test_spectral_norm_makes_the_largest_singular_value_one():
    nl.manual_seed(0)
    layer = nl.nn.utils.spectral_norm(nl.nn.Linear(8, 6), n_power_iterations=1)
    for _ in range(30):  # power iteration converges over training-mode calls
        layer(nl.randn(1, 8))
    assert np.linalg.svd(layer.weight.numpy(), compute_uv=False)[0] == pytest.approx(1.0, rel=1e-3)


@pytest.mark.parametrize("kind", ["weight_norm", "spectral_norm"])
def test_the_parametrization_forms_match_torch(kind):
    theirs, ours = _pair()
    getattr(TPZ, kind)(theirs)
    getattr(PZ, kind)(ours)
    assert type(ours).__name__ == type(theirs).__name__ == "ParametrizedConv2d"
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    _train_alike(theirs, ours, X)
    TP.remove_parametrizations(theirs, "weight")
    P.remove_parametrizations(ours, "weight")
    assert type(ours) is nl.nn.Conv2d and sorted(ours.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(
        ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-5, atol=1e-7
    )


def test_a_custom_parametrization_with_right_inverse_caching_and_chaining():
    class Symmetric(nl.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).transpose(-1, -2)

        def right_inverse(self, a):
            return a.triu()

    class Doubled(nl.nn.Module):
        def forward(self, x):
            return 2 * x

    layer = nl.nn.Linear(3, 3)
    original = layer.weight
    opt = nl.optim.SGD(layer.parameters(), lr=0.1)  # built before: it holds the original
    P.register_parametrization(layer, "weight", Symmetric())
    assert layer.parametrizations.weight.original is original
    w = layer.weight.numpy()
    np.testing.assert_allclose(w, w.T)
    layer(nl.randn(4, 3)).sum().backward()
    opt.step()
    np.testing.assert_allclose(layer.weight.numpy(), layer.weight.numpy().T)  # still symmetric
    target = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 5.0], [3.0, 5.0, 6.0]], np.float32)
    layer.weight = nl.tensor(target)  # through right_inverse into the original
    np.testing.assert_allclose(layer.weight.numpy(), target)
    P.register_parametrization(layer, "weight", Doubled())
    np.testing.assert_allclose(layer.weight.numpy(), 2 * target)
    assert "ParametrizationList" in repr(layer) and P.is_parametrized(layer, "weight")
    with P.cached():
        assert layer.weight is layer.weight
    assert layer.weight is not layer.weight
    P.remove_parametrizations(layer, "weight", leave_parametrized=False)
    np.testing.assert_allclose(layer.weight.numpy(), np.triu(target))
    with pytest.raises(ValueError, match="'bias' is not parametrized"):
        P.remove_parametrizations(layer, "bias")
    with pytest.raises(ValueError, match="has no parameter or buffer 'gain'"):
        P.register_parametrization(layer, "gain", Doubled())


def test_the_hook_forms_refuse_what_they_cannot_do():
    layer = nl.nn.utils.weight_norm(nl.nn.Linear(3, 2))
    with pytest.raises(RuntimeError, match="weight_norm: 'weight' of Linear is already normalized"):
        nl.nn.utils.weight_norm(layer)
    with pytest.raises(ValueError, match="spectral_norm: Linear has no parameter 'gain'"):
        nl.nn.utils.spectral_norm(layer, name="gain")
    with pytest.raises(
        ValueError, match="remove_spectral_norm: spectral_norm of 'weight' not found"
    ):
        nl.nn.utils.remove_spectral_norm(layer)
