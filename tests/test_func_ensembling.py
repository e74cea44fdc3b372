"""neuralab.func's stack_module_state (model ensembling with vmap over functional_call), vjp,
jvp and linearize, against torch.func on the same functions and weights."""

import copy

import numpy as np
import pytest
import torch
import torch.func as tfunc

import neuralab as nl
import neuralab.func as func

N_MODELS = 4


def _mlps(batch_norm: bool = False) -> tuple[list, list]:
    """N small MLPs (Linear-ReLU-Linear, a BatchNorm1d in eval mode if asked) in torch, and
    neuralab copies with the same parameters and buffers."""
    theirs, ours = [], []
    for seed in range(N_MODELS):
        torch.manual_seed(seed)
        layers = [torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)]
        if batch_norm:
            layers.insert(1, torch.nn.BatchNorm1d(8))
        model = torch.nn.Sequential(*layers)
        if batch_norm:
            with torch.no_grad():
                model[1].running_mean.uniform_(-1, 1)
                model[1].running_var.uniform_(0.5, 2)
            model.eval()
        mine = nl.nn.Sequential(
            *[getattr(nl.nn, type(m).__name__)(*_args(m)) for m in model]
        ).train(model.training)
        mine.load_state_dict({k: nl.tensor(v.numpy()) for k, v in model.state_dict().items()})
        theirs.append(model)
        ours.append(mine)
    return theirs, ours


def _args(module: torch.nn.Module) -> tuple:
    if isinstance(module, torch.nn.Linear):
        return module.in_features, module.out_features
    if isinstance(module, torch.nn.BatchNorm1d):
        return (module.num_features,)
    return ()


def _ensemble(lib, f, models, params, buffers, in_dims, data):
    """The model-ensembling tutorial's pattern; torch's base lives on 'meta', neuralab's (which
    has no 'meta' device) is a copy whose own tensors are NaN, to show none of them is read."""
    base = copy.deepcopy(models[0])
    if lib is torch:
        base = base.to("meta")
    else:
        with nl.no_grad():
            for t in [*base.parameters(), *base.buffers()]:
                if t.is_floating_point():
                    t.fill_(float("nan"))

    def fmodel(params, buffers, x):
        return f.functional_call(base, (params, buffers), (x,))

    return f.vmap(fmodel, in_dims=in_dims)(params, buffers, lib.tensor(data))


def test_stack_module_state_stacks_new_leaves_like_torch():
    theirs, ours = _mlps(batch_norm=True)
    stacked = {"torch": tfunc.stack_module_state(theirs), "nl": func.stack_module_state(ours)}
    for t_table, n_table in zip(stacked["torch"], stacked["nl"]):
        assert list(n_table) == list(t_table)
        for name, t in t_table.items():
            n = n_table[name]
            assert tuple(n.shape) == (N_MODELS, *t.shape[1:])
            assert str(n.dtype) == str(t.dtype).removeprefix("torch.")
            assert (n.requires_grad, n.is_leaf) == (t.requires_grad, t.is_leaf)
            np.testing.assert_array_equal(n.detach().numpy(), t.detach().numpy())
    params = stacked["nl"][0]
    with nl.no_grad():
        params["0.weight"].zero_()  # a new tensor: the models keep their own
    assert ours[0][0].weight.abs().sum().item() > 0


@pytest.mark.parametrize("form", ["shared minibatch", "one minibatch per model"])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_vmapped_ensemble_and_its_gradients_match_torch(form, batch_norm):
    theirs, ours = _mlps(batch_norm)
    rng = np.random.default_rng(0)
    if form == "shared minibatch":
        data, in_dims = rng.standard_normal((6, 5)).astype(np.float32), (0, 0, None)
    else:
        data, in_dims = rng.standard_normal((N_MODELS, 6, 5)).astype(np.float32), 0
    outs, grads = {}, {}
    for lib, f, models in ((torch, tfunc, theirs), (nl, func, ours)):
        params, buffers = f.stack_module_state(models)
        out = _ensemble(lib, f, models, params, buffers, in_dims, data)
        out.sum().backward()
        outs[lib.__name__] = out.detach().numpy()
        grads[lib.__name__] = {k: v.grad.numpy() for k, v in params.items()}
    assert outs["neuralab"].shape == (N_MODELS, 6, 3) and outs["neuralab"].dtype == np.float32
    expected = np.stack([m(torch.tensor(data if data.ndim == 2 else data[i])).detach().numpy()
                         for i, m in enumerate(theirs)])  # fmt: skip
    np.testing.assert_allclose(outs["torch"], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outs["neuralab"], outs["torch"], rtol=1e-5, atol=1e-6)
    assert grads["neuralab"].keys() == grads["torch"].keys()
    for name, g in grads["torch"].items():
        np.testing.assert_allclose(grads["neuralab"][name], g, rtol=1e-5, atol=1e-6)


def test_stack_module_state_refuses_what_torch_refuses():
    frozen = {}
    for lib in (torch, nl):
        frozen[lib] = lib.nn.Linear(2, 3)
        frozen[lib].weight.requires_grad_(False)
    cases = {
        "no model": lambda lib: [],
        "two classes": lambda lib: [lib.nn.Linear(2, 3), lib.nn.Conv1d(2, 3, 1)],
        "train and eval": lambda lib: [lib.nn.Linear(2, 3), lib.nn.Linear(2, 3).eval()],
        "two shapes": lambda lib: [lib.nn.Linear(2, 3), lib.nn.Linear(2, 4)],
        "missing bias": lambda lib: [lib.nn.Linear(2, 3), lib.nn.Linear(2, 3, bias=False)],
        "requires_grad differs": lambda lib: [frozen[lib], lib.nn.Linear(2, 3)],
    }
    messages = {
        "no model": "Expected at least one model, got 0",
        "two classes": "Expected all models to be of the same class",
        "train and eval": "Expected all models to have the same training/eval mode",
        "two shapes": r"'weight' is float32 of shape \(3, 2\) in model 0 but .* \(4, 2\)",
        "missing bias": r"models 0 and 1 differ in parameters \['bias'\]",
        "requires_grad differs": "Expected weight from each model to have the same .requires_grad",
    }
    for case, models in cases.items():
        with pytest.raises(Exception) as theirs:
            tfunc.stack_module_state(models(torch))
        with pytest.raises(theirs.type, match=messages[case]):
            func.stack_module_state(models(nl))


# --- vjp, jvp, linearize -----------------------------------------------------------------------
SHAPES = {  # the primals' shapes of each function below
    "elementwise": [(3, 4)],
    "matmul": [(2, 3), (3, 4)],
    "tuple of two": [(3,), (3,)],
    "dict primal": [{"w": (2, 3), "v": (3,)}],
}


def _function(lib, name):
    """Elementwise, matmul, two tensors to a tuple, a dict of tensors to a tensor."""
    return {
        "elementwise": lambda x: lib.sin(x) * x + x**2,
        "matmul": lambda a, b: lib.tanh(a @ b),
        "tuple of two": lambda x, y: (x * y.exp(), (x**2).sum() + y.mean()),
        "dict primal": lambda p: p["w"] @ p["v"] + p["w"].sum(),
    }[name]


def _random(shapes, rng):
    """Random float32 arrays shaped by ``shapes`` (a shape tuple, or a list or dict of them)."""
    if isinstance(shapes, dict):
        return {k: _random(v, rng) for k, v in shapes.items()}
    if isinstance(shapes, list):
        return [_random(s, rng) for s in shapes]
    return rng.standard_normal(shapes).astype(np.float32)


def _as(lib, tree):
    """numpy arrays (inside dicts, lists, tuples) as lib's tensors; lists become tuples."""
    if isinstance(tree, dict):
        return {k: _as(lib, v) for k, v in tree.items()}
    if isinstance(tree, list | tuple):
        return tuple(_as(lib, v) for v in tree)
    return lib.tensor(tree)


def _numpy(tree):
    if isinstance(tree, dict):
        return {k: _numpy(v) for k, v in tree.items()}
    if isinstance(tree, list | tuple):
        return [_numpy(v) for v in tree]
    return tree.detach().numpy().copy()  # a copy: a later backward adds to .grad in place


def _assert_close(ours, theirs):
    if isinstance(theirs, dict):
        assert ours.keys() == theirs.keys()
        for k in theirs:
            _assert_close(ours[k], theirs[k])
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _assert_close(o, t)
    else:
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def _output_like(fn, primals, rng):
    """Random arrays shaped like fn's output (from a torch run)."""
    out = fn(*_as(torch, primals))
    if isinstance(out, tuple):
        return tuple(_random(tuple(o.shape), rng) for o in out)
    return _random(tuple(out.shape), rng)


@pytest.mark.parametrize("name", list(SHAPES))
def test_vjp_matches_torch_and_can_be_called_again(name):
    rng = np.random.default_rng(3)
    primals = _random(SHAPES[name], rng)
    cotangents = [_output_like(_function(torch, name), primals, rng) for _ in range(2)]
    results = {}
    for lib, f in ((torch, tfunc), (nl, func)):
        out, vjp_fn = f.vjp(_function(lib, name), *_as(lib, primals))
        results[lib.__name__] = [_numpy(out)] + [_numpy(vjp_fn(_as(lib, c))) for c in cotangents]
    _assert_close(results["neuralab"], results["torch"])


@pytest.mark.parametrize("name", list(SHAPES))
def test_jvp_and_linearize_match_torch(name):
    rng = np.random.default_rng(4)
    primals = _random(SHAPES[name], rng)
    tangents = [_random(SHAPES[name], rng) for _ in range(2)]
    results = {}
    for lib, f in ((torch, tfunc), (nl, func)):
        fn = _function(lib, name)
        jvps = [f.jvp(fn, _as(lib, primals), _as(lib, t)) for t in tangents]
        out, jvp_fn = f.linearize(fn, *_as(lib, primals))
        linear = [jvp_fn(*_as(lib, t)) for t in tangents]
        results[lib.__name__] = _numpy([*jvps, out, *linear])
    _assert_close(results["neuralab"], results["torch"])


def test_has_aux_and_gradients_through_the_output_match_torch():
    rng = np.random.default_rng(5)
    x, v, w = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3), (2, 3), (3, 2)))
    results = {}
    for lib, f in ((torch, tfunc), (nl, func)):
        model = lib.nn.Linear(3, 2)
        with lib.no_grad():
            model.weight.copy_(lib.tensor(w.T.copy()))
            model.bias.fill_(0.5)
        xs = lib.tensor(x, requires_grad=True)
        tangent = lib.tensor(v, requires_grad=True)

        def fn(t, model=model):
            return model(t).exp(), {"mean": t.mean()}

        out, vjp_fn, aux = f.vjp(fn, xs, has_aux=True)
        (g,) = vjp_fn(out.detach())  # before the backward pass below frees the graph
        (out**2).sum().backward()  # reaches the primal and the weights fn closes over
        first = _numpy([xs.grad, model.weight.grad])
        _, j, aux2 = f.jvp(fn, (xs.detach(),), (tangent,), has_aux=True)
        j.sum().backward()  # the product is linear in the tangent: its gradient is exact
        results[lib.__name__] = [*first, *_numpy([g, aux["mean"], aux2["mean"], j, tangent.grad])]
    _assert_close(results["neuralab"], results["torch"])


def test_jvp_vjp_and_linearize_refuse_what_torch_refuses():
    x = np.ones((2, 3), np.float32)
    cases = {
        "tangent shape": (lambda lib, f: f.jvp(lib.sin, (lib.tensor(x),), (lib.ones(3),)),
                          "tangent 0 has size \\[3\\] but its primal has size \\[2, 3\\]"),
        "tangent shape, strict": (
            lambda lib, f: f.jvp(lib.sin, (lib.tensor(x),), (lib.ones(3, 2),), strict=True),
            "tangent 0 has size \\[3, 2\\]"),
        "tangent structure": (lambda lib, f: f.jvp(lib.sin, (lib.tensor(x),), [lib.tensor(x)]),
                              "same structure as the primals: got \\[\\*\\] for \\(\\*,\\)"),
        "integer tangent": (
            lambda lib, f: f.jvp(lib.sin, (lib.tensor(x),), (lib.ones(2, 3, dtype=lib.int64),)),
            "Expected tangent 0 to be floating point"),
        "primals not a tuple": (lambda lib, f: f.jvp(lib.sin, lib.tensor(x), (lib.tensor(x),)),
                                "Expected primals to be a tuple"),
        "strict, independent output": (
            lambda lib, f: f.jvp(lambda t: (t * 2, lib.ones(2)), (lib.tensor(x),),
                                 (lib.tensor(x),), strict=True),
            "The output of f is independent of the inputs"),
        "cotangent shape": (lambda lib, f: f.vjp(lib.sin, lib.tensor(x))[1](lib.ones(3)),
                            "Mismatch in shape: cotangent 0 has shape \\(3,\\)"),
        "cotangent structure": (lambda lib, f: f.vjp(lib.sin, lib.tensor(x))[1]((lib.tensor(x),)),
                                "same structure as the output: got \\(\\*,\\) for \\*"),
        "non-tensor output": (lambda lib, f: f.vjp(lambda t: (t, 3.0), lib.tensor(x)),
                              "return only tensors, got unsupported type float"),
        "has_aux without aux": (lambda lib, f: f.vjp(lib.sin, lib.tensor(x), has_aux=True),
                                "must return \\(output, aux\\)"),
        "linearized tangent shape": (
            lambda lib, f: f.linearize(lib.sin, lib.tensor(x))[1](lib.ones(3)),
            "tangent 0 has size \\[3\\]"),
    }  # fmt: skip
    for call, message in cases.values():
        with pytest.raises(Exception) as theirs:
            call(torch, tfunc)
        with pytest.raises(theirs.type, match=message):
            call(nl, func)
    _, vjp_fn = func.vjp(nl.sin, nl.tensor(x))
    with pytest.raises(NotImplementedError, match="create_graph=True is not supported"):
        vjp_fn(nl.tensor(x), create_graph=True)


def test_jvp_is_exact_and_stays_float32():
    """Reverse mode row by row gives J·v to rounding, float32 in and out; under no_grad the
    output is on no graph, as torch's."""
    x = nl.tensor([[1e-3, 2.0, -3.0]])
    t = nl.tensor([[1.0, 0.5, -2.0]])
    out, jv = func.jvp(lambda a: a**3, (x,), (t,))
    assert jv.dtype == nl.float32 and not jv.requires_grad
    np.testing.assert_allclose(jv.numpy(), 3 * x.numpy() ** 2 * t.numpy(), rtol=1e-6)
    with nl.no_grad():  # as torch: nothing comes back on a graph
        out, _ = func.vjp(lambda a: a**3, x.requires_grad_(True))
    assert not out.requires_grad
