"""torch.optim parity: every optimizer and keyword on a small network, trajectories against torch.

Same initial weights and data on both sides, 20 steps, float32 and float64; then the Optimizer API
(param_groups, state_dict, hooks, lr as a Tensor, errors, repr) against torch's behaviour.
"""

from __future__ import annotations

import inspect
import math
import re
import warnings

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import optim
from neuralab.nn import Parameter

RNG = np.random.default_rng(7)
WEIGHTS = [
    RNG.standard_normal((8, 4)) * 0.5,
    RNG.standard_normal(8) * 0.1,
    RNG.standard_normal((2, 8)) * 0.5,
    RNG.standard_normal(2) * 0.1,
]
X, Y = RNG.standard_normal((16, 4)), RNG.standard_normal((16, 2))
TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}


class Net:
    """A 4-8-2 tanh network's parameters and MSE loss, in neuralab (lib=nl) or torch."""

    def __init__(self, lib, dtype):
        self.lib, self.dtype = lib, dtype
        if lib is nl:
            self.params = [Parameter(nl.tensor(w, dtype=dtype)) for w in WEIGHTS]
        else:
            self.params = [torch.tensor(w.astype(dtype), requires_grad=True) for w in WEIGHTS]

    def loss(self):
        lib = self.lib
        if lib is nl:
            x, y = (nl.tensor(a, dtype=self.dtype) for a in (X, Y))
        else:
            x, y = (torch.tensor(a.astype(self.dtype)) for a in (X, Y))
        w1, b1, w2, b2 = self.params
        return ((lib.tanh(x @ w1.T + b1) @ w2.T + b2 - y) ** 2).mean()

    def closure(self, opt):
        def run():
            opt.zero_grad()
            loss = self.loss()
            loss.backward()
            return loss

        return run

    def numpy(self):
        return [p.detach().numpy() for p in self.params]


def pair(name, kwargs=None, dtype=np.float32, groups=None, torch_kwargs=None):
    """(our net, our optimizer), (torch's net, torch's optimizer), built the same way."""
    out = []
    for lib, mod, kw in ((nl, optim, kwargs), (torch, torch.optim, torch_kwargs or kwargs)):
        net = Net(lib, dtype)
        params = net.params if groups is None else [
            {"params": [net.params[i] for i in idx], **opts} for idx, opts in groups
        ]  # fmt: skip
        out.append((net, getattr(mod, name)(params, **(kw or {}))))
    return out


def run(net, opt, steps):
    for _ in range(steps):
        if isinstance(opt, optim.LBFGS | torch.optim.LBFGS):
            opt.step(net.closure(opt))
        else:
            net.closure(opt)()
            opt.step()


def assert_same(ours, theirs, dtype=np.float32, **tol):
    for a, b in zip(ours.numpy(), theirs.numpy()):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, **(tol or TOL[dtype]))


CASES = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "foreach": False}),
    ("SGD", {"lr": 0.01, "weight_decay": 0.5, "maximize": True}),
    ("SGD", {"lr": 0.05, "fused": True, "differentiable": False}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "foreach": False, "capturable": False}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "fused": False}),
    ("AdamW", {"lr": 0.01, "betas": (0.85, 0.95), "eps": 1e-6, "maximize": True}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True, "foreach": False}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "eps": 1e-8}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-5, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.01, "betas": (0.3, 0.99), "weight_decay": 0.1, "foreach": False}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
    ("RAdam", {"lr": 0.01}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "betas": (0.6, 0.9), "eps": 1e-6}),
    ("ASGD", {"lr": 0.05}),
    ("ASGD", {"lr": 0.05, "t0": 5, "lambd": 0.01, "alpha": 0.5, "weight_decay": 0.1}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.1), "maximize": True}),
    ("Adafactor", {}),
    (
        "Adafactor",
        {"lr": 0.05, "weight_decay": 0.1, "d": 2.0, "eps": (1e-30, 1e-3), "maximize": True},
    ),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CASES)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_trajectory_matches_torch(name, kwargs, dtype):
    (ours, opt), (theirs, ref) = pair(name, kwargs, dtype)
    run(ours, opt, 20)
    run(theirs, ref, 20)
    assert_same(ours, theirs, dtype)
    for p, q in zip(ours.params, theirs.params):  # the same state entries as torch keeps
        assert set(opt.state[p]) == set(ref.state[q])


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_param_groups_with_own_options_match_torch(name):
    groups = [([0, 1], {"lr": 0.02}), ([2], {"weight_decay": 0.0}), ([3], {})]
    if name == "Rprop":
        groups[1] = ([2], {"etas": (0.4, 1.1)})
    (ours, opt), (theirs, ref) = pair(name, {"lr": 0.01}, groups=groups)
    run(ours, opt, 15)
    run(theirs, ref, 15)
    assert_same(ours, theirs)


@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_lr_as_a_tensor_matches_torch(name, kwargs):
    lr = kwargs.get("lr", 0.01)
    (ours, opt), (theirs, ref) = pair(
        name, {**kwargs, "lr": nl.tensor(lr)}, torch_kwargs={**kwargs, "lr": torch.tensor(lr)}
    )
    run(ours, opt, 10)
    run(theirs, ref, 10)
    assert_same(ours, theirs)
    assert isinstance(opt.param_groups[0]["lr"], nl.Tensor)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "NAdam", "RAdam", "ASGD", "Adadelta"])
def test_editing_lr_in_param_groups_takes_effect_next_step(name):
    (ours, opt), (theirs, ref) = pair(name, {"lr": 0.01})
    for step in range(12):
        for o in (opt, ref):
            for group in o.param_groups:
                group["lr"] = 0.01 * (0.8**step)
        run(ours, opt, 1)
        run(theirs, ref, 1)
    assert_same(ours, theirs)


# --- defaults, repr, state_dict layout ----------------------------------------------------
ALL = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
       "ASGD", "Rprop", "LBFGS", "Adafactor"]  # fmt: skip


@pytest.mark.parametrize("name", ALL)
def test_constructor_signature_is_torchs(name):
    def signature(cls):
        params = inspect.signature(cls.__init__).parameters.values()
        return [(p.name, p.kind, p.default) for p in params]

    assert signature(getattr(optim, name)) == signature(getattr(torch.optim, name))


@pytest.mark.parametrize("name", ALL)
def test_defaults_param_group_keys_and_repr_equal_torch(name):
    (_, opt), (_, ref) = pair(name)
    assert opt.defaults == ref.defaults
    assert repr(opt) == repr(ref)
    ours, theirs = opt.state_dict(), ref.state_dict()
    assert ours["param_groups"] == theirs["param_groups"]
    assert sorted(ours["state"]) == sorted(theirs["state"])  # Adagrad fills state at once


@pytest.mark.parametrize("name, kwargs", [c for c in CASES if c[0] not in ("SGD",)][::2])
def test_state_dict_layout_after_steps_matches_torch(name, kwargs):
    (ours, opt), (theirs, ref) = pair(name, kwargs, groups=[([0, 2], {}), ([1, 3], {"lr": 0.02})])
    run(ours, opt, 3)
    run(theirs, ref, 3)
    sd, tsd = opt.state_dict(), ref.state_dict()
    assert sd["param_groups"] == tsd["param_groups"]
    assert sorted(sd["state"]) == sorted(tsd["state"]) == [0, 1, 2, 3]
    for i, entries in sd["state"].items():
        assert set(entries) == set(tsd["state"][i])
        for key, value in entries.items():
            want = tsd["state"][i][key]
            np.testing.assert_allclose(np.asarray(value, np.float64), want.numpy(), rtol=1e-5)


@pytest.mark.parametrize("name, kwargs", CASES[8:], ids=IDS[8:])
def test_checkpoint_mid_training_continues_identically(name, kwargs):
    (ours, opt), _ = pair(name, kwargs, groups=[([0, 1], {}), ([2, 3], {"lr": 0.02})])
    run(ours, opt, 7)
    saved = opt.state_dict()
    twin = Net(nl, np.float32)
    with nl.no_grad():
        for p, q in zip(twin.params, ours.params):
            p.copy_(q)
    resumed = getattr(optim, name)([{"params": twin.params[:2]}, {"params": twin.params[2:]}])
    resumed.load_state_dict(saved)
    assert resumed.param_groups[1]["lr"] == 0.02
    run(ours, opt, 8)
    run(twin, resumed, 8)
    for a, b in zip(ours.numpy(), twin.numpy()):
        np.testing.assert_array_equal(a, b)


# --- step(closure), zero_grad ------------------------------------------------------------
@pytest.mark.parametrize("name", ALL)
def test_step_returns_the_closures_loss(name):
    (ours, opt), (theirs, ref) = pair(name, {"max_iter": 3} if name == "LBFGS" else None)
    with nl.no_grad():  # the closure runs with gradients enabled anyway, as in torch
        loss = opt.step(ours.closure(opt))
    expected = ref.step(theirs.closure(ref))
    assert isinstance(loss, nl.Tensor)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert_same(ours, theirs, rtol=1e-5, atol=1e-6)


def test_zero_grad_sets_grads_to_none_by_default():
    (net, opt), _ = pair("Adam")
    net.closure(opt)()
    opt.zero_grad()
    assert all(p.grad is None for p in net.params)
    net.closure(opt)()
    opt.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in net.params)


# --- errors -------------------------------------------------------------------------------
ERRORS = [
    ("SGD", {"lr": -1}),
    ("SGD", {"lr": 0.1, "momentum": -0.5}),
    ("SGD", {"lr": 0.1, "weight_decay": -1e-4}),
    ("SGD", {"lr": 0.1, "nesterov": True}),
    ("Adam", {"betas": (0.9, 1.0)}),
    ("Adam", {"eps": -1.0}),
    ("AdamW", {"betas": (-0.1, 0.9)}),
    ("RMSprop", {"alpha": -0.5}),
    ("Adagrad", {"lr_decay": -1}),
    ("Adagrad", {"initial_accumulator_value": -1}),
    ("Adadelta", {"rho": 1.5}),
    ("Adamax", {"betas": (0.9, 1.5)}),
    ("NAdam", {"momentum_decay": -1}),
    ("RAdam", {"weight_decay": -1}),
    ("ASGD", {"lr": -0.01}),
    ("Rprop", {"etas": (1.2, 0.5)}),
    ("LBFGS", {"lr": -1}),
]


@pytest.mark.parametrize("name, kwargs", ERRORS, ids=[f"{n}-{k}" for n, k in ERRORS])
def test_invalid_values_raise_torchs_message(name, kwargs):
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError, match="^" + re.escape(str(theirs.value))):
        getattr(optim, name)([Parameter(np.zeros(2, np.float32))], **kwargs)


def test_refused_and_odd_options():
    p = Parameter(np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="differentiable=True is not supported"):
        optim.Adam([p], differentiable=True)
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        optim.SGD([p], lr=0.1, fused=True, foreach=True)
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        optim.Adam([p], lr=nl.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="line_search_fn='armijo'"):
        optim.LBFGS([p], line_search_fn="armijo")
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        optim.LBFGS([{"params": [p]}, {"params": [Parameter(np.zeros(1, np.float32))]}])
    with pytest.raises(TypeError, match="step\\(\\) missing 1 required positional argument"):
        optim.LBFGS([p]).step()


# --- hooks ------------------------------------------------------------------------------
def test_step_hooks_run_around_step_and_can_be_removed():
    (net, opt), _ = pair("SGD", {"lr": 0.1})
    calls = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o, args)))
    post = opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", o, args)))
    net.closure(opt)()
    opt.step()
    assert calls == [("pre", opt, ()), ("post", opt, ())]
    pre.remove()
    post.remove()
    opt.step()
    assert len(calls) == 2


def test_pre_hook_may_replace_the_arguments_and_global_hooks_see_every_optimizer():
    from neuralab.optim.optimizer import register_optimizer_step_post_hook

    (net, opt), _ = pair("LBFGS", {"max_iter": 2})
    seen = []
    opt.register_step_pre_hook(lambda o, args, kwargs: ((net.closure(o),), {}))
    handle = register_optimizer_step_post_hook(lambda o, args, kwargs: seen.append(type(o)))
    try:
        loss = opt.step(lambda: 1 / 0)  # replaced by the hook's closure
        optim.SGD([Parameter(np.zeros(1, np.float32))], lr=0.1).step()
    finally:
        handle.remove()
    assert isinstance(loss, nl.Tensor)
    assert seen == [optim.LBFGS, optim.SGD]


def test_state_dict_hooks():
    (net, opt), _ = pair("Adam")
    order = []
    opt.register_state_dict_pre_hook(lambda o: order.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    opt.register_load_state_dict_pre_hook(lambda o, sd: {k: v for k, v in sd.items() if k != "x"})
    opt.register_load_state_dict_post_hook(lambda o: order.append("loaded"))
    sd = opt.state_dict()
    assert sd["extra"] == 1 and order == ["pre"]
    opt.load_state_dict({**sd, "x": None})
    assert order == ["pre", "loaded"]


# --- subclassing, as the tutorials do ---------------------------------------------------------
def tutorial_optimizers(lib):
    """A plain SGD and a momentum-Adam written exactly as PyTorch tutorials write them."""

    class PlainSGD(lib.optim.Optimizer):
        def __init__(self, params, lr=0.01):
            if lr < 0.0:
                raise ValueError(f"Invalid learning rate: {lr}")
            super().__init__(params, dict(lr=lr))

        @lib.no_grad()
        def step(self, closure=None):
            loss = None
            if closure is not None:
                with lib.enable_grad():
                    loss = closure()
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    p.add_(p.grad, alpha=-group["lr"])
            return loss

    class TinyAdam(lib.optim.Optimizer):
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
            super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

        @lib.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                beta1, beta2 = group["betas"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = 0
                        state["exp_avg"] = lib.zeros_like(p, memory_format=lib.preserve_format)
                        state["exp_avg_sq"] = lib.zeros_like(p, memory_format=lib.preserve_format)
                    state["step"] += 1
                    grad, exp_avg, exp_avg_sq = p.grad, state["exp_avg"], state["exp_avg_sq"]
                    exp_avg.lerp_(grad, 1 - beta1)
                    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                    correction1 = 1 - beta1 ** state["step"]
                    correction2 = 1 - beta2 ** state["step"]
                    denom = (exp_avg_sq.sqrt() / math.sqrt(correction2)).add_(group["eps"])
                    p.data.addcdiv_(exp_avg, denom, value=-group["lr"] / correction1)

    return PlainSGD, TinyAdam


@pytest.mark.parametrize("which", [0, 1])
def test_user_written_optimizer_subclass_matches_torch(which):
    ours_cls, theirs_cls = tutorial_optimizers(nl)[which], tutorial_optimizers(torch)[which]
    ours, theirs = Net(nl, np.float32), Net(torch, np.float32)
    opt, ref = ours_cls(ours.params, lr=0.05), theirs_cls(theirs.params, lr=0.05)
    run(ours, opt, 20)
    run(theirs, ref, 20)
    assert_same(ours, theirs)
    calls = []
    opt.register_step_post_hook(lambda *a: calls.append(1))
    opt.step()
    assert calls == [1]  # hooks also run around a step the user wrote
    saved = opt.state_dict()
    assert saved["param_groups"][0]["params"] == [0, 1, 2, 3]
    if which:
        assert saved["state"][0]["step"] == 21
    else:
        with pytest.raises(ValueError, match="Invalid learning rate: -1"):
            ours_cls(ours.params, lr=-1)


def test_required_option_must_be_given_by_every_group():
    from neuralab.optim.optimizer import required

    class NeedsLr(optim.Optimizer):
        def __init__(self, params, lr=required):
            super().__init__(params, {"lr": lr})

    p = Parameter(np.zeros(2, np.float32))
    assert NeedsLr([{"params": [p], "lr": 0.1}]).param_groups[0]["lr"] == 0.1
    with pytest.raises(ValueError, match="didn't specify a value of required optimization"):
        NeedsLr([p])


# --- LBFGS --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"line_search_fn": "strong_wolfe"}, {"history_size": 3, "max_iter": 5, "lr": 0.5},
     {"line_search_fn": "strong_wolfe", "history_size": 4, "max_iter": 7, "max_eval": 9},
     {"tolerance_grad": 1e-3, "tolerance_change": 1e-4, "max_iter": 30}],
)  # fmt: skip
def test_lbfgs_on_a_network_follows_torch(kwargs):
    """L-BFGS amplifies rounding differences (BLAS dot products) iteration after iteration, so
    float64 is compared over 5 steps and float32 over 4 iterations; evaluation counts agree."""
    short = {**kwargs, "max_iter": 4}
    for dtype, steps, tol, kw in ((np.float64, 5, 1e-9, kwargs), (np.float32, 1, 1e-5, short)):
        (ours, opt), (theirs, ref) = pair("LBFGS", kw, dtype)
        for _ in range(steps):
            loss = opt.step(ours.closure(opt))
            expected = ref.step(theirs.closure(ref))
            assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
        assert_same(ours, theirs, dtype, rtol=tol, atol=tol)
        mine, torchs = opt.state[ours.params[0]], ref.state[theirs.params[0]]
        assert (mine["func_evals"], mine["n_iter"]) == (torchs["func_evals"], torchs["n_iter"])
        assert len(mine["old_dirs"]) == len(torchs["old_dirs"])


def rosenbrock(xy):
    return (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] * xy[0]) ** 2


@pytest.mark.parametrize(
    "kwargs",
    [{"lr": 1, "max_iter": 100, "line_search_fn": "strong_wolfe"},
     {"lr": 1, "max_iter": 30, "line_search_fn": "strong_wolfe", "history_size": 2},
     {"lr": 0.01, "max_iter": 50}],
)  # fmt: skip
def test_lbfgs_on_rosenbrock_follows_torch(kwargs):
    start = np.array([-1.5, 2.0])
    for dtype in (np.float64, np.float32):
        ours, theirs = Parameter(nl.tensor(start, dtype=dtype)), torch.tensor(start.astype(dtype))
        theirs.requires_grad_(True)
        opt, ref = optim.LBFGS([ours], **kwargs), torch.optim.LBFGS([theirs], **kwargs)
        for o, p in ((opt, ours), (ref, theirs)):
            for _ in range(2):
                o.step(lambda o=o, p=p: (o.zero_grad(), loss := rosenbrock(p), loss.backward())[1])
        if dtype == np.float64:
            np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-8)
            assert opt.state[ours]["func_evals"] == ref.state[theirs]["func_evals"]
        if "line_search_fn" in kwargs:  # both reach the minimum at (1, 1)
            np.testing.assert_allclose(ours.numpy(), [1, 1], atol=1e-3)
        else:
            np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-5)


def test_lbfgs_solves_least_squares_like_torch():
    rng = np.random.default_rng(3)
    A, b = rng.standard_normal((30, 5)), rng.standard_normal(30)
    exact = np.linalg.lstsq(A, b, rcond=None)[0]
    ours, theirs = Parameter(nl.zeros(5, dtype=nl.float64)), torch.zeros(5, dtype=torch.float64)
    theirs.requires_grad_(True)
    kwargs = {"line_search_fn": "strong_wolfe", "history_size": 10}
    for lib, p, opt in ((nl, ours, optim.LBFGS([ours], **kwargs)),
                        (torch, theirs, torch.optim.LBFGS([theirs], **kwargs))):  # fmt: skip
        A_, b_ = lib.tensor(A), lib.tensor(b)

        def closure(p=p, opt=opt, A_=A_, b_=b_):
            opt.zero_grad()
            loss = ((A_ @ p - b_) ** 2).sum()
            loss.backward()
            return loss

        opt.step(closure)
    # both stop within the tolerances of the minimum, where rounding decides the last digits
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.numpy(), exact, atol=1e-6)


def test_lbfgs_checkpoint_continues_identically():
    (ours, opt), _ = pair("LBFGS", {"history_size": 5, "max_iter": 4}, np.float64)
    run(ours, opt, 2)
    saved = opt.state_dict()
    twin = Net(nl, np.float64)
    with nl.no_grad():
        for p, q in zip(twin.params, ours.params):
            p.copy_(q)
    resumed = optim.LBFGS(twin.params, history_size=5, max_iter=4)
    resumed.load_state_dict(saved)
    run(ours, opt, 3)
    run(twin, resumed, 3)
    for a, b in zip(ours.numpy(), twin.numpy()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_new_optimizers_update_zero_dimensional_parameters(name):
    bias = Parameter(nl.tensor(1.0))
    opt = getattr(optim, name)([bias], lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            opt.zero_grad()
            (bias * bias).backward()
            opt.step()
    assert bias.shape == () and bias.item() < 1.0


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"lr": 0.02, "nesterov": False, "weight_decay": 0.0}, {"adjust_lr_fn": "match_rms_adamw"}],
)
def test_muon_follows_torch_to_bfloat16_precision(kwargs):
    # torch orthogonalizes in bfloat16, neuralab in float32: the paths agree to ~1% of the move
    rng = np.random.default_rng(0)
    start = [rng.standard_normal(s).astype(np.float32) for s in ((6, 5), (4, 9))]
    ours = [nl.tensor(a, requires_grad=True) for a in start]
    theirs = [torch.tensor(a, requires_grad=True) for a in start]
    opt, ref = nl.optim.Muon(ours, **kwargs), torch.optim.Muon(theirs, **kwargs)
    for _ in range(10):
        for o, t in zip(ours, theirs):
            g = rng.standard_normal(o.shape).astype(np.float32)
            o.grad, t.grad = nl.tensor(g), torch.tensor(g)
        opt.step()
        ref.step()
    for o, t, a in zip(ours, theirs, start):
        moved = np.abs(t.detach().numpy() - a).max()
        assert moved > 1e-3
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), atol=0.03 * moved)
    assert set(opt.state[ours[0]]) == set(ref.state[theirs[0]]) == {"momentum_buffer"}
    with pytest.raises(ValueError, match=r"Muon only supports 2D parameters .* size: \(3,\)"):
        nl.optim.Muon([nl.zeros(3, requires_grad=True)])
