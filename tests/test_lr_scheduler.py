"""Learning-rate schedulers against torch.optim.lr_scheduler: identical lr sequences."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from neuralab import optim
from neuralab.nn import Parameter
from neuralab.optim import lr_scheduler

STEPS = 40
LRS = (0.1, 0.02)


def optimizers(name="SGD", **kwargs):
    """Our optimizer and torch's, each with two param groups of different lrs."""
    ours = getattr(optim, name)(
        [{"params": [Parameter(np.zeros(2, np.float32))], "lr": lr} for lr in LRS], **kwargs
    )
    theirs = getattr(torch.optim, name)(
        [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in LRS], **kwargs
    )
    return ours, theirs


def trace(opt, sched, steps, metrics=None):
    """Per step: each group's lr (and momentum or beta1), plus get_last_lr()."""
    out = []
    for i in range(steps):
        out.append(
            [(g["lr"], g.get("momentum"), g.get("betas", (None,))[0]) for g in opt.param_groups]
        )
        out.append(list(sched.get_last_lr()))
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
    return out


def same_sequence(cls_name, kwargs, opt_name="SGD", opt_kwargs=None, steps=STEPS, metrics=None):
    ours, theirs = optimizers(opt_name, **(opt_kwargs or {}))
    ours_sched = getattr(lr_scheduler, cls_name)(ours, **kwargs)
    theirs_sched = getattr(torch.optim.lr_scheduler, cls_name)(theirs, **kwargs)
    got = trace(ours, ours_sched, steps, metrics)
    want = trace(theirs, theirs_sched, steps, metrics)
    assert got == want  # exactly the same floats
    return ours, ours_sched


def decay(epoch):
    return 0.95**epoch


CASES = [
    ("StepLR", {"step_size": 3}),
    ("StepLR", {"step_size": 7, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 5, 9]}),
    ("MultiStepLR", {"milestones": [10, 3, 3, 25], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("ExponentialLR", {"gamma": 0.5}),
    ("CosineAnnealingLR", {"T_max": 10}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),
    ("CosineAnnealingLR", {"T_max": 40, "eta_min": 0.01}),
    ("LambdaLR", {"lr_lambda": decay}),
    ("LambdaLR", {"lr_lambda": [lambda e: 1 / (1 + e), lambda e: e // 5 + 1]}),
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 0.25, "end_factor": 0.75, "total_iters": 10}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.0, "total_iters": 30}),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_sequence_matches_torch(name, kwargs):
    same_sequence(name, kwargs)


ONE_CYCLE = [
    ({"max_lr": 1.0, "total_steps": STEPS}, "SGD", {"momentum": 0.9}),
    ({"max_lr": [1.0, 0.5], "total_steps": STEPS, "anneal_strategy": "linear"}, "SGD",
     {"momentum": 0.9}),
    ({"max_lr": 0.5, "epochs": 4, "steps_per_epoch": 10, "three_phase": True}, "SGD",
     {"momentum": 0.9}),
    ({"max_lr": 0.01, "total_steps": STEPS, "pct_start": 0.25, "base_momentum": 0.8,
      "max_momentum": [0.9, 0.99], "div_factor": 10.0, "final_div_factor": 100.0}, "Adam", {}),
    ({"max_lr": 0.01, "total_steps": STEPS, "three_phase": True, "anneal_strategy": "linear"},
     "AdamW", {}),
    ({"max_lr": 0.01, "total_steps": STEPS, "cycle_momentum": False}, "Adagrad", {}),
    ({"max_lr": 0.1, "total_steps": STEPS}, "RMSprop", {"momentum": 0.5}),
]  # fmt: skip


@pytest.mark.parametrize("kwargs, opt_name, opt_kwargs", ONE_CYCLE)
def test_one_cycle_matches_torch(kwargs, opt_name, opt_kwargs):
    same_sequence("OneCycleLR", kwargs, opt_name, opt_kwargs)


PLATEAU_METRICS = [
    [1.0, 0.9, 0.8, 0.8, 0.8, 0.81, 0.79, 0.79, 0.79, 0.79] * 4,
    list(np.linspace(1, 0, 10)) + [0.0] * 10 + list(np.linspace(0, 1, 20)),
]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"patience": 2},
        {"patience": 1, "factor": 0.5, "cooldown": 2, "min_lr": 0.005},
        {"patience": 0, "threshold": 0.05, "threshold_mode": "abs", "min_lr": [0.01, 0.001]},
        {"mode": "max", "patience": 1, "threshold": 0.1},
        {"mode": "max", "patience": 2, "threshold_mode": "abs", "factor": 0.3, "eps": 1e-3},
    ],
)
@pytest.mark.parametrize("metrics", PLATEAU_METRICS, ids=["noisy", "valley"])
def test_reduce_on_plateau_matches_torch(kwargs, metrics):
    same_sequence("ReduceLROnPlateau", kwargs, metrics=metrics)


def test_epoch_argument_uses_closed_form_like_torch():
    for name, kwargs in CASES[:9] + CASES[11:]:
        ours, theirs = optimizers()
        a = getattr(lr_scheduler, name)(ours, **kwargs)
        b = getattr(torch.optim.lr_scheduler, name)(theirs, **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (3, 7, 12, 2, 20):
                a.step(epoch)
                b.step(epoch)
                assert a.get_last_lr() == b.get_last_lr(), (name, epoch)


@pytest.mark.parametrize("name, kwargs", [CASES[1], CASES[3], CASES[7], CASES[9], CASES[12]])
def test_state_dict_resume(name, kwargs):
    opt, sched = optimizers()[0], None
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    for _ in range(12):
        opt.step()
        sched.step()
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    opt2 = optimizers()[0]
    sched2 = getattr(lr_scheduler, name)(opt2, **kwargs)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    assert trace(opt2, sched2, 15) == trace(opt, sched, 15)


def test_multistep_milestones_survive_json_keys():
    opt = optimizers()[0]
    sched = lr_scheduler.MultiStepLR(opt, milestones=[2, 4])
    state = sched.state_dict()
    state["milestones"] = {str(k): v for k, v in state["milestones"].items()}
    sched.load_state_dict(state)
    for _ in range(4):
        sched.step()
    assert sched.get_last_lr() == pytest.approx([0.001, 0.0002])


def test_resume_with_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(optimizers()[0], step_size=2, last_epoch=4)


def test_errors():
    opt = optimizers()[0]
    with pytest.raises(TypeError, match="not an Optimizer"):
        lr_scheduler.StepLR("sgd", step_size=2)
    with pytest.raises(ValueError, match="2 param groups"):
        lr_scheduler.LambdaLR(opt, [decay])
    with pytest.raises(ValueError, match="factor=1.5"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode='median'"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="median")
    with pytest.raises(ValueError, match="start_factor=0"):
        lr_scheduler.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="total_steps"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="anneal_strategy='step'"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=5, anneal_strategy="step")
    with pytest.raises(ValueError, match="Adagrad has neither"):
        lr_scheduler.OneCycleLR(optimizers("Adagrad")[0], max_lr=1.0, total_steps=5)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=2, cycle_momentum=False)
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="tried to step 3 times"):
        sched.step()
