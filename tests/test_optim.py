"""Optimizers against torch.optim: same problem, same start, ten steps, same parameters."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import optim
from neuralab.nn import Parameter

RNG = np.random.default_rng(0)
X = RNG.standard_normal((8, 3)).astype(np.float32)
Y = RNG.standard_normal((8, 2)).astype(np.float32)
C = np.array([0.5, 1.0, 2.0, 4.0], dtype=np.float32)
INIT = [
    RNG.standard_normal((3, 2)).astype(np.float32),  # W
    RNG.standard_normal(2).astype(np.float32),  # b
    RNG.standard_normal(4).astype(np.float32),  # v
]


def loss_nl(W, b, v):
    """Least squares through tanh plus a weighted quadratic: three parameters, three shapes."""
    fit = ((nl.tanh(nl.tensor(X, dtype=W.dtype) @ W + b) - nl.tensor(Y, dtype=W.dtype)) ** 2).mean()
    return fit + (nl.tensor(C, dtype=W.dtype) * (v - 0.3) ** 2).sum()


def loss_torch(W, b, v):
    """The same loss in torch."""
    x, y, c = (torch.tensor(a, dtype=W.dtype) for a in (X, Y, C))
    return ((torch.tanh(x @ W + b) - y) ** 2).mean() + (c * (v - 0.3) ** 2).sum()


def make_params(dtype=np.float32):
    return [Parameter(nl.tensor(a, dtype=dtype)) for a in INIT], [
        torch.tensor(a.astype(dtype), requires_grad=True) for a in INIT
    ]


def train(opt, params, loss_fn, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(*params).backward()
        opt.step()


def groups_of(params, spec):
    """Param groups from a spec: None for a flat list, else [(indices, options), ...]."""
    if spec is None:
        return params
    return [{"params": [params[i] for i in idx], **opts} for idx, opts in spec]


CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "maximize": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True, "maximize": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.2, "amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "eps": 1e-6, "maximize": True}),
]


def compare(name, kwargs, spec=None, steps=10, dtype=np.float32, rtol=1e-5, atol=1e-6):
    ours, theirs = make_params(dtype)
    opt = getattr(optim, name)(groups_of(ours, spec), **kwargs)
    ref = getattr(torch.optim, name)(groups_of(theirs, spec), **kwargs)
    train(opt, ours, loss_nl, steps)
    train(ref, theirs, loss_torch, steps)
    for p, t in zip(ours, theirs):
        assert p.numpy().dtype == dtype
        np.testing.assert_allclose(p.numpy(), t.detach().numpy(), rtol=rtol, atol=atol)
    return opt, ours


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_matches_torch(name, kwargs):
    opt, params = compare(name, kwargs)
    for state in opt.state.values():  # state stays in the parameter's dtype
        for value in state.values():
            if isinstance(value, nl.Tensor):
                assert value.dtype == np.float32


@pytest.mark.parametrize("name, kwargs", [CASES[3], CASES[9], CASES[12], CASES[16], CASES[20]])
def test_float64_matches_torch(name, kwargs):
    compare(name, kwargs, dtype=np.float64, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "name, kwargs, spec",
    [
        ("SGD", {"lr": 0.01}, [([0], {"lr": 0.1, "momentum": 0.9}), ([1, 2], {})]),
        ("Adam", {"lr": 0.01}, [([0, 2], {"lr": 0.05, "amsgrad": True}), ([1], {})]),
        ("RMSprop", {}, [([0], {"centered": True}), ([1], {"lr": 0.001}), ([2], {})]),
    ],
)
def test_param_groups_match_torch(name, kwargs, spec):
    opt, _ = compare(name, kwargs, spec)
    assert [g["lr"] for g in opt.param_groups] == [
        opts.get("lr", kwargs.get("lr", 1e-2)) for _, opts in spec
    ]


def test_defaults_match_torch():
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad"):
        ours = getattr(optim, name)([Parameter(np.zeros(2, np.float32))]).defaults
        theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)]).defaults
        assert all(theirs[k] == v for k, v in ours.items()), name


def test_updates_in_place_and_never_touch_grads():
    for name, kwargs in CASES:
        a, b = Parameter(INIT[2].copy()), Parameter(INIT[2].copy())
        arrays = (a.numpy(), b.numpy())
        shared = nl.tensor(np.array([0.5, -1.0, 2.0, 0.0], np.float32))
        a.grad = b.grad = shared  # one gradient array for both, as the engine may produce
        before = shared.numpy().copy()
        opt = getattr(optim, name)([a, b], **kwargs)
        opt.step()
        opt.step()
        assert a.numpy() is arrays[0] and b.numpy() is arrays[1], name
        np.testing.assert_array_equal(shared.numpy(), before, err_msg=name)
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
        assert not np.array_equal(a.numpy(), INIT[2]), name


def test_parameters_without_grad_are_skipped():
    for name, kwargs in CASES:
        a, b = Parameter(INIT[2].copy()), Parameter(INIT[1].copy())
        a.grad = nl.ones(4)
        opt = getattr(optim, name)([a, b], **kwargs)
        opt.step()
        np.testing.assert_array_equal(b.numpy(), INIT[1])
        assert opt.state.get(b, {}).get("step", 0) == 0  # Adagrad fills state at once, as torch


@pytest.mark.parametrize("name, kwargs", [CASES[2], CASES[9], CASES[12], CASES[16], CASES[21]])
def test_state_dict_round_trip_continues_identically(name, kwargs):
    ours, _ = make_params()
    opt = getattr(optim, name)(groups_of(ours, [([0], {"lr": 0.02}), ([1, 2], {})]), **kwargs)
    train(opt, ours, loss_nl, 4)
    saved = opt.state_dict()
    frozen = {
        i: {k: np.array(v.numpy()) for k, v in s.items() if k != "step"}
        for i, s in saved["state"].items()
    }

    # the same checkpoint after a JSON-like trip: string keys, lists for tuples, ndarrays
    as_json = {
        "state": {
            str(i): {k: (v.numpy().copy() if isinstance(v, nl.Tensor) else v) for k, v in s.items()}
            for i, s in saved["state"].items()
        },
        "param_groups": [
            {k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()}
            for g in saved["param_groups"]
        ],
    }
    clones = [Parameter(p.numpy().copy()) for p in ours]
    clone_jsons = [Parameter(p.numpy().copy()) for p in ours]
    resumed = getattr(optim, name)(groups_of(clones, [([0], {}), ([1, 2], {})]), **kwargs)
    resumed.load_state_dict(saved)
    resumed_json = getattr(optim, name)(groups_of(clone_jsons, [([0], {}), ([1, 2], {})]), **kwargs)
    resumed_json.load_state_dict(as_json)
    assert resumed.param_groups[0]["lr"] == 0.02
    assert resumed_json.param_groups[0] == {**resumed.param_groups[0], "params": clone_jsons[:1]}

    for o, ps in ((opt, ours), (resumed, clones), (resumed_json, clone_jsons)):
        train(o, ps, loss_nl, 4)
    for p, q, r in zip(ours, clones, clone_jsons):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
        np.testing.assert_array_equal(p.numpy(), r.numpy())
    for i, s in saved["state"].items():  # the saved dict is a snapshot, not a live view
        for k, arr in frozen[i].items():
            np.testing.assert_array_equal(s[k].numpy(), arr)
    assert resumed.state[clones[0]].get("step", 8) == 8


def test_state_dict_layout_matches_torch():
    ours, theirs = make_params()
    opt = optim.Adam([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.1}], amsgrad=True)
    ref = torch.optim.Adam(
        [{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.1}], amsgrad=True
    )
    train(opt, ours, loss_nl, 2)
    train(ref, theirs, loss_torch, 2)
    sd, tsd = opt.state_dict(), ref.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"]) == [0, 1, 2]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1, 2]]
    for i in range(3):
        assert set(sd["state"][i]) == set(tsd["state"][i])
        assert sd["state"][i]["step"] == int(tsd["state"][i]["step"])
    assert {k: v for k, v in sd["param_groups"][1].items()}.items() <= tsd["param_groups"][
        1
    ].items()


def test_load_state_dict_errors():
    ours, _ = make_params()
    opt = optim.SGD(ours, lr=0.1, momentum=0.9)
    train(opt, ours, loss_nl, 1)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match=r"1 parameter group\(s\) but the optimizer has 2"):
        optim.SGD([{"params": ours[:1]}, {"params": ours[1:]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(
        ValueError, match="group 0 has 3 parameters in the state dict but 2 in the optimizer"
    ):
        optim.SGD(ours[:2], lr=0.1).load_state_dict(sd)
    swapped = [Parameter(INIT[1].copy()), Parameter(INIT[0].copy()), Parameter(INIT[2].copy())]
    with pytest.raises(ValueError, match=r"shape \(3, 2\).*shape \(2,\)"):
        optim.SGD(swapped, lr=0.1).load_state_dict(sd)


def test_constructor_errors():
    p = Parameter(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="already in parameter group 0"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="appears twice"):
        optim.Adam([p, p])
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1 "):
        optim.SGD([p], lr=-0.1)
    with pytest.raises(ValueError, match="Invalid learning rate: -1 "):
        optim.Adam([{"params": [p], "lr": -1}])
    with pytest.raises(ValueError, match="Invalid beta parameter at index 0: 1.0 "):
        optim.Adam([p], betas=(1.0, 0.999))
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: -0.5 "):
        optim.AdamW([p], betas=(0.9, -0.5))
    with pytest.raises(ValueError, match="Invalid epsilon value: -1e-08 "):
        optim.RMSprop([p], eps=-1e-8)
    with pytest.raises(ValueError, match="Invalid weight_decay value: -0.1 "):
        optim.Adagrad([p], weight_decay=-0.1)
    with pytest.raises(ValueError, match="Invalid momentum value: -0.9 "):
        optim.SGD([p], lr=0.1, momentum=-0.9)
    with pytest.raises(ValueError, match="Nesterov.*momentum=0"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="ndarray"):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="set"):
        optim.SGD({p}, lr=0.1)


def test_add_param_group_takes_defaults():
    a, b = Parameter(INIT[0].copy()), Parameter(INIT[1].copy())
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1] == {
        "params": [b], "lr": 0.01, "momentum": 0.9, "dampening": 0, "weight_decay": 0,
        "nesterov": False, "maximize": False, "foreach": None, "differentiable": False,
        "fused": None,
    }  # fmt: skip
    with pytest.raises(ValueError, match="already in parameter group 0"):
        opt.add_param_group({"params": [a]})
    model_params = optim.SGD([("w", a), ("b", b)], lr=0.1)
    assert model_params.param_groups[0]["param_names"] == ["w", "b"]


def test_zero_grad():
    a = Parameter(INIT[1].copy())
    opt = optim.SGD([a], lr=0.1)
    (a * a).sum().backward()
    old = a.grad.numpy()
    kept = old.copy()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad.numpy(), 0)
    np.testing.assert_array_equal(old, kept)  # a fresh array, the old one untouched
    opt.zero_grad()
    assert a.grad is None


def test_step_with_closure_matches_torch():
    ours, theirs = make_params()
    opt, ref = optim.SGD(ours, lr=0.1, momentum=0.9), torch.optim.SGD(theirs, lr=0.1, momentum=0.9)

    def closure(o, ps, fn):
        o.zero_grad()
        loss = fn(*ps)
        loss.backward()
        return loss

    for _ in range(5):
        with nl.no_grad():  # the closure re-enables grad, as in torch
            loss = opt.step(lambda: closure(opt, ours, loss_nl))
        tloss = ref.step(lambda: closure(ref, theirs, loss_torch))
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-5)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_repr():
    text = repr(optim.SGD([Parameter(np.zeros(2, np.float32))], lr=0.1))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1" in text


def test_checkpoint_through_nl_save(tmp_path):
    """Optimizer and scheduler state dicts survive nl.save / nl.load and resume identically."""
    ours, _ = make_params()
    opt = optim.Adam([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.01}], amsgrad=True)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=20)
    for _ in range(5):
        train(opt, ours, loss_nl, 1)
        sched.step()
    path = tmp_path / "checkpoint.safetensors"
    nl.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, path)
    loaded = nl.load(path)

    clones = [Parameter(p.numpy().copy()) for p in ours]
    opt2 = optim.Adam([{"params": clones[:2]}, {"params": clones[2:]}], amsgrad=True)
    sched2 = optim.lr_scheduler.OneCycleLR(opt2, max_lr=0.05, total_steps=20)
    opt2.load_state_dict(loaded["optimizer"])
    sched2.load_state_dict(loaded["scheduler"])
    for o, s, ps in ((opt, sched, ours), (opt2, sched2, clones)):
        for _ in range(5):
            train(o, ps, loss_nl, 1)
            s.step()
    for p, q in zip(ours, clones):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert opt2.param_groups[1]["betas"] == opt.param_groups[1]["betas"]


@pytest.mark.parametrize("make", [optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad])
def test_adaptive_optimizers_update_zero_dimensional_parameters(make):
    bias = nl.nn.Parameter(nl.tensor(1.0))
    opt = make([bias], lr=0.1)
    (bias * bias).backward()
    opt.step()
    assert bias.shape == () and bias.item() < 1.0
