"""neuralab.func (torch.func): functional_call, grad, grad_and_value, vmap, jacrev, against
torch.func on the same functions and weights."""

import numpy as np
import pytest
import torch
import torch.func as tfunc

import neuralab as nl
import neuralab.func as func
import neuralab.nn as nn
import neuralab.nn.functional as F


def _pair_of_cnns():
    """The per-sample-gradients tutorial's small CNN, in both frameworks, same weights."""
    models = []
    for lib in (torch, nl):
        lib.manual_seed(0)
        models.append(
            lib.nn.Sequential(
                lib.nn.Conv2d(1, 4, 3),
                lib.nn.ReLU(),
                lib.nn.MaxPool2d(2),
                lib.nn.Flatten(),
                lib.nn.Linear(4 * 6 * 6, 10),
            )  # fmt: skip
        )
    theirs, ours = models
    ours.load_state_dict({k: nl.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return theirs, ours


def test_per_sample_gradients_match_torch_func():
    theirs, ours = _pair_of_cnns()
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 1, 14, 14)).astype(np.float32), rng.integers(0, 10, 6)
    grads = {}
    for lib, f, model in ((torch, tfunc, theirs), (nl, func, ours)):
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(params, sample, target, f=f, model=model, lib=lib):
            out = f.functional_call(model, params, (sample.unsqueeze(0),))
            return lib.nn.functional.cross_entropy(out, target.unsqueeze(0))

        per_sample = f.vmap(f.grad(loss), in_dims=(None, 0, 0))
        grads[lib.__name__] = per_sample(params, lib.tensor(x), lib.tensor(y))
    for name, g in grads["torch"].items():
        assert tuple(grads["neuralab"][name].shape) == (6, *g.shape[1:])
        np.testing.assert_allclose(grads["neuralab"][name].numpy(), g.numpy(), atol=1e-6)
    # and they sum to the batch's gradient (mean loss: divided by the batch size)
    ours.zero_grad()
    F.cross_entropy(ours(nl.tensor(x)), nl.tensor(y), reduction="sum").backward()
    batch = ours[4].weight.grad.numpy()
    np.testing.assert_allclose(grads["neuralab"]["4.weight"].numpy().sum(0), batch, atol=1e-5)


def test_grad_argnums_aux_and_value():
    def f(x, y):
        return (x * y).sum() + (x**2).sum(), x.mean()

    x, y = nl.tensor([1.0, 2.0, 3.0]), nl.tensor([0.5, -1.0, 2.0])
    (gx, gy), aux = func.grad(f, argnums=(0, 1), has_aux=True)(x, y)
    np.testing.assert_allclose(gx.numpy(), y.numpy() + 2 * x.numpy())
    np.testing.assert_allclose(gy.numpy(), x.numpy())
    assert aux.item() == 2.0 and not x.requires_grad  # the arguments are left alone
    g, value = func.grad_and_value(lambda t: (t**3).sum())(x)
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    assert value.item() == 36.0
    unused = func.grad(lambda a, b: (a * 2).sum(), argnums=1)(x, y)
    np.testing.assert_array_equal(unused.numpy(), np.zeros(3))  # as torch: zeros, not None


def test_grad_refuses_what_it_cannot_differentiate():
    x = nl.ones(3)
    with pytest.raises(ValueError, match=r"must return a scalar Tensor, got \(3,\)"):
        func.grad(lambda t: t * 2)(x)
    with pytest.raises(ValueError, match="argnums 2 out of range for 1 argument"):
        func.grad(lambda t: t.sum(), argnums=2)(x)
    with pytest.raises(ValueError, match=r"has_aux=True the function must return \(output, aux\)"):
        func.grad(lambda t: t.sum(), has_aux=True)(x)


def test_vmap_maps_dims_stacks_outputs_and_passes_gradients_like_torch():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    outs, grads = {}, {}
    for lib, vmap in ((torch, tfunc.vmap), (nl, func.vmap)):
        ta, tb = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        f = vmap(lambda u, v: ((u * v).sum(), u[:2, None] * v[None, :2]),
                 in_dims=(1, None), out_dims=(0, 2))  # fmt: skip
        out = dict(zip(("dot", "outer"), f(ta, tb)))
        (out["dot"].sum() + (out["outer"] ** 2).sum()).backward()
        outs[lib.__name__] = {k: v.detach().numpy() for k, v in out.items()}
        grads[lib.__name__] = (ta.grad.numpy(), tb.grad.numpy())
    for k, v in outs["torch"].items():
        np.testing.assert_allclose(outs["neuralab"][k], v, rtol=1e-6)
    for ours, theirs in zip(grads["neuralab"], grads["torch"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert nl.vmap is func.vmap


def test_vmap_says_when_sizes_or_dims_disagree():
    with pytest.raises(ValueError, match=r"one size, got \[2, 3\]"):
        func.vmap(lambda u, v: u + v)(nl.ones(2), nl.ones(3))
    with pytest.raises(ValueError, match="in_dims has 1 entries for 2 positional"):
        func.vmap(lambda u, v: u + v, in_dims=(0,))(nl.ones(2), nl.ones(2))
    with pytest.raises(ValueError, match="must return tensors"):
        func.vmap(lambda u: 1.0)(nl.ones(2))


def test_functional_call_uses_the_given_tensors_and_puts_the_parameters_back():
    model = nn.Linear(3, 2)
    weight = model.weight
    fast = {"weight": model.weight * 2, "bias": nl.zeros(2)}  # non-leaf: MAML's fast weights
    x = nl.randn(4, 3)
    out = func.functional_call(model, fast, x)
    np.testing.assert_allclose(out.numpy(), x.numpy() @ (2 * weight.numpy()).T, rtol=1e-6)
    out.sum().backward()  # through the fast weights to the real ones
    np.testing.assert_allclose(
        weight.grad.numpy(), 2 * np.tile(x.numpy().sum(0), (2, 1)), rtol=1e-5
    )
    assert model.weight is weight and isinstance(model.bias, nn.Parameter)
    with pytest.raises(RuntimeError, match=r"unexpected key\(s\) \['wieght'\]"):
        func.functional_call(model, {"wieght": nl.ones(2, 3)}, x)
    with pytest.raises(RuntimeError, match=r"missing key\(s\) \['bias'\]"):
        func.functional_call(model, {"weight": nl.ones(2, 3)}, x, strict=True)
    with pytest.raises(ValueError, match=r"\['bias'\] given in more than one dict"):
        func.functional_call(model, ({"bias": nl.ones(2)}, {"bias": nl.ones(2)}), x)


def test_functional_call_replaces_every_name_of_a_tied_weight():
    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(5, 3)
            self.head = nn.Linear(3, 5, bias=False)
            self.head.weight = self.embed.weight

        def forward(self, i):
            return self.head(self.embed(i))

    model, table = Tied(), nl.randn(5, 3)
    ids = nl.tensor([0, 3])
    out = func.functional_call(model, {"embed.weight": table}, ids)
    np.testing.assert_allclose(out.numpy(), table.numpy()[[0, 3]] @ table.numpy().T, rtol=1e-5)
    untied = func.functional_call(model, {"embed.weight": table}, ids, tie_weights=False)
    expected = table.numpy()[[0, 3]] @ model.head.weight.numpy().T
    np.testing.assert_allclose(untied.numpy(), expected, rtol=1e-5)


def test_jacrev_matches_torch():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32)

    def f(lib):
        return lambda x, y: lib.tanh(x @ y).unsqueeze(-1) * y

    ours = func.jacrev(f(nl), argnums=(0, 1))(nl.tensor(a), nl.tensor(b))
    theirs = tfunc.jacrev(f(torch), argnums=(0, 1))(torch.tensor(a), torch.tensor(b))
    for o, t in zip(ours, theirs):
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-5, atol=1e-6)
