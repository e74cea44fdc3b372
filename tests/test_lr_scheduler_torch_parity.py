"""The schedulers added for torch parity, against torch.optim.lr_scheduler: identical floats."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import optim
from neuralab.nn import Parameter
from neuralab.optim import lr_scheduler

STEPS = 50
LRS = (0.1, 0.02)


def optimizers(name="SGD", lr=None, **kwargs):
    """Our optimizer and torch's, two param groups of different lrs (or one group of ``lr``)."""
    if lr is not None:
        return (
            getattr(optim, name)([Parameter(np.zeros(2, np.float32))], lr=lr[0], **kwargs),
            getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], lr=lr[1], **kwargs),
        )
    ours = getattr(optim, name)(
        [{"params": [Parameter(np.zeros(2, np.float32))], "lr": lr} for lr in LRS], **kwargs
    )
    theirs = getattr(torch.optim, name)(
        [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in LRS], **kwargs
    )
    return ours, theirs


def trace(opt, sched, steps=STEPS, epochs=None):
    """Per step: each group's lr and momentum or beta1, and get_last_lr()."""
    out = []
    for i in range(steps):
        out.append(
            [(float(g["lr"]), g.get("momentum"), g.get("betas", (None,))[0])
             for g in opt.param_groups]
        )  # fmt: skip
        out.append([float(lr) for lr in sched.get_last_lr()])
        opt.step()
        if epochs is None:
            sched.step()
        else:
            sched.step(epochs[i])
    return out


def build(module, opt, name, kwargs):
    """A scheduler; for composite ones, ``kwargs`` holds (name, kwargs) parts."""
    if name == "SequentialLR":
        parts = [build(module, opt, n, k) for n, k in kwargs["schedulers"]]
        return module.SequentialLR(opt, parts, milestones=kwargs["milestones"])
    if name == "ChainedScheduler":
        return module.ChainedScheduler([build(module, opt, n, k) for n, k in kwargs])
    return getattr(module, name)(opt, **kwargs)


def same_sequence(name, kwargs, opt_name="SGD", opt_kwargs=None, epochs=None):
    ours, theirs = optimizers(opt_name, **(opt_kwargs or {}))
    got = trace(ours, build(lr_scheduler, ours, name, kwargs), epochs=epochs)
    want = trace(theirs, build(torch.optim.lr_scheduler, theirs, name, kwargs), epochs=epochs)
    assert got == want  # exactly the same floats


class Halving:
    """A callable object: its state travels in the scheduler's state dict."""

    def __init__(self):
        self.factor = 0.9

    def __call__(self, epoch):
        return self.factor


CASES = [
    ("MultiplicativeLR", {"lr_lambda": lambda e: 0.95}),
    ("MultiplicativeLR", {"lr_lambda": [lambda e: 0.9 if e % 3 else 1.0, Halving()]}),
    ("ConstantLR", {}),
    ("ConstantLR", {"factor": 0.5, "total_iters": 12}),
    ("PolynomialLR", {}),
    ("PolynomialLR", {"total_iters": 30, "power": 2.0}),
    ("CosineAnnealingWarmRestarts", {"T_0": 7}),
    ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2, "eta_min": 0.001}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5}),
    ("CyclicLR", {"base_lr": [0.01, 0.001], "max_lr": [0.1, 0.05], "step_size_up": 4,
                  "step_size_down": 9, "mode": "triangular2", "base_momentum": 0.7}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "mode": "exp_range",
                  "gamma": 0.97, "cycle_momentum": False}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 6,
                  "scale_fn": lambda x: 1 / (1 + x), "scale_mode": "iterations"}),
    ("SequentialLR", {"schedulers": [("LinearLR", {"start_factor": 0.1, "total_iters": 5}),
                                     ("CosineAnnealingLR", {"T_max": 20})], "milestones": [5]}),
    ("SequentialLR", {"schedulers": [("ConstantLR", {"factor": 0.2, "total_iters": 3}),
                                     ("ExponentialLR", {"gamma": 0.9}),
                                     ("StepLR", {"step_size": 4, "gamma": 0.5})],
                      "milestones": [6, 20]}),
    ("ChainedScheduler", [("ConstantLR", {"factor": 0.5, "total_iters": 4}),
                          ("ExponentialLR", {"gamma": 0.9})]),
    ("ChainedScheduler", [("LinearLR", {"start_factor": 0.2, "total_iters": 10}),
                          ("MultiStepLR", {"milestones": [15, 30], "gamma": 0.3}),
                          ("CosineAnnealingLR", {"T_max": 25})]),
]  # fmt: skip
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CASES)]


@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_sequence_matches_torch(name, kwargs):
    same_sequence(name, kwargs)


@pytest.mark.parametrize(
    "opt_name, opt_kwargs", [("Adam", {}), ("RMSprop", {"momentum": 0.5}), ("NAdam", {})]
)
def test_cyclic_momentum_moves_betas_or_momentum_like_torch(opt_name, opt_kwargs):
    same_sequence(
        "CyclicLR", {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 5}, opt_name, opt_kwargs
    )


def test_warm_restarts_with_fractional_epochs_match_torch():
    epochs = [e + i / 5 for e in range(10) for i in range(5)]
    for kwargs in ({"T_0": 3}, {"T_0": 2, "T_mult": 3, "eta_min": 0.005}):
        same_sequence("CosineAnnealingWarmRestarts", kwargs, epochs=epochs)


def test_closed_forms_of_the_new_schedulers_match_torch():
    for name, kwargs in [("ConstantLR", {"total_iters": 6}), ("PolynomialLR", {"power": 0.5})]:
        ours, theirs = optimizers()
        a = getattr(lr_scheduler, name)(ours, **kwargs)
        b = getattr(torch.optim.lr_scheduler, name)(theirs, **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (3, 7, 1, 12, 4):
                a.step(epoch)
                b.step(epoch)
                assert a.get_last_lr() == b.get_last_lr(), (name, epoch)


@pytest.mark.parametrize("name, kwargs", [CASES[1], CASES[7], CASES[9], CASES[13], CASES[15]])
def test_state_dict_resume_continues_identically(name, kwargs):
    def fresh():
        opt = optimizers()[0]
        return opt, build(lr_scheduler, opt, name, kwargs)

    opt, sched = fresh()
    for _ in range(17):
        opt.step()
        sched.step()
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    opt2, sched2 = fresh()
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    assert trace(opt2, sched2, 20) == trace(opt, sched, 20)


def test_scheduler_state_dicts_have_torchs_keys():
    for name, kwargs in CASES:
        ours, theirs = optimizers()
        a = build(lr_scheduler, ours, name, kwargs).state_dict()
        b = build(torch.optim.lr_scheduler, theirs, name, kwargs).state_dict()
        torch_only = {"_get_lr_called_within_step", "_anneal_func_type", "_scale_fn_ref"}
        assert set(b) - set(a) <= torch_only, name
        assert a["_last_lr"] == b["_last_lr"]


def test_tensor_lr_is_filled_in_place_like_torch():
    ours, theirs = optimizers(lr=(nl.tensor(0.1), torch.tensor(0.1)))
    lr_tensor = ours.param_groups[0]["lr"]
    a = lr_scheduler.ExponentialLR(ours, gamma=0.7)
    b = torch.optim.lr_scheduler.ExponentialLR(theirs, gamma=0.7)
    assert trace(ours, a, 10) == trace(theirs, b, 10)  # float32 rounding each step, as torch
    assert ours.param_groups[0]["lr"] is lr_tensor
    assert isinstance(a.get_last_lr()[0], nl.Tensor) and a.get_last_lr()[0] is not lr_tensor


def test_user_written_scheduler_subclass_matches_torch():
    def make(module):
        class Warmup(module.LRScheduler):
            def __init__(self, optimizer, warmup, last_epoch=-1):
                self.warmup = warmup
                super().__init__(optimizer, last_epoch)

            def get_lr(self):
                scale = min(1.0, (self.last_epoch + 1) / self.warmup)
                return [base * scale for base in self.base_lrs]

        return Warmup

    ours, theirs = optimizers()
    a = make(lr_scheduler)(ours, warmup=8)
    b = make(torch.optim.lr_scheduler)(theirs, warmup=8)
    assert trace(ours, a, 20) == trace(theirs, b, 20)
    assert issubclass(lr_scheduler._LRScheduler, lr_scheduler.LRScheduler)


def test_every_torch_scheduler_exists_with_torchs_signature():
    def signature(cls):
        params = inspect.signature(cls.__init__).parameters.values()
        return [(p.name, p.kind, p.default) for p in params]

    for name in torch.optim.lr_scheduler.__all__:
        ours, theirs = getattr(lr_scheduler, name), getattr(torch.optim.lr_scheduler, name)
        assert signature(ours) == signature(theirs), name


def test_errors():
    opt = optimizers()[0]
    with pytest.raises(TypeError, match="lr_lambda should be a function"):
        lr_scheduler.MultiplicativeLR(opt, [0.9, 0.8])
    with pytest.raises(ValueError, match="between 0 and 1, got factor=2"):
        lr_scheduler.ConstantLR(opt, factor=2)
    with pytest.raises(ValueError, match="positive integer T_0, got 0"):
        lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="T_mult >= 1, got 0"):
        lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
    with pytest.raises(ValueError, match="mode='saw' is invalid"):
        lr_scheduler.CyclicLR(opt, 0.01, 0.1, mode="saw")
    with pytest.raises(ValueError, match="Adagrad has neither"):
        lr_scheduler.CyclicLR(optimizers("Adagrad")[0], 0.01, 0.1)
    step = lr_scheduler.StepLR(opt, 3)
    with pytest.raises(ValueError, match="one milestone fewer than schedulers"):
        lr_scheduler.SequentialLR(opt, [step], milestones=[3])
    with pytest.raises(ValueError, match="does not support ReduceLROnPlateau"):
        lr_scheduler.ChainedScheduler([step, lr_scheduler.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="same optimizer"):
        lr_scheduler.ChainedScheduler([step, lr_scheduler.StepLR(optimizers()[0], 2)])
    with pytest.raises(ValueError, match="at least one scheduler"):
        lr_scheduler.SequentialLR(opt, [], milestones=[])
