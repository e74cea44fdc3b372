"""optim.swa_utils against torch.optim.swa_utils: averaged weights, SWALR lrs, update_bn statistics.

Both sides start from the same weights and see the same sequence of model states; the averages,
n_averaged, learning rates and BatchNorm running statistics must agree, and so must the errors.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
import torch.nn as tnn
from torch.optim import swa_utils as tswa

import neuralab as nl
import neuralab.nn as nn
import neuralab.optim.swa_utils
from neuralab import optim
from neuralab.nn import Parameter
from neuralab.optim import swa_utils

DTYPES = {np.float32: torch.float32, np.float64: torch.float64}


def bn_net(lib):
    """Linear → BatchNorm1d → ReLU → Linear: parameters and buffers (float and int64)."""
    return lib.Sequential(lib.Linear(3, 5), lib.BatchNorm1d(5), lib.ReLU(), lib.Linear(5, 2))


def random_state(theirs: tnn.Module, seed: int) -> dict[str, np.ndarray]:
    """A state dict of torch's module's keys and dtypes, random values (ints for int buffers,
    positive running variances)."""
    rng = np.random.default_rng(seed)
    state = {}
    for key, value in theirs.state_dict().items():
        dtype = value.numpy().dtype
        if key.endswith("running_var"):
            state[key] = rng.uniform(0.5, 3.0, tuple(value.shape)).astype(dtype)
        elif dtype.kind == "f":
            state[key] = (rng.standard_normal(tuple(value.shape)) * 3).astype(dtype)
        else:
            state[key] = np.array(rng.integers(0, 50, tuple(value.shape)), dtype)
    return state


def load(ours: nn.Module, theirs: tnn.Module, state: dict[str, np.ndarray]) -> None:
    ours.load_state_dict({k: nl.tensor(v, dtype=v.dtype) for k, v in state.items()})
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})


def assert_same_state(ours: nn.Module, theirs: tnn.Module, **tol) -> None:
    """Same keys, dtypes and shapes; equal values (exactly, unless a tolerance is given)."""
    got, want = ours.state_dict(), theirs.state_dict()
    assert list(got) == list(want)
    for key, value in want.items():
        expected, actual = value.numpy(), got[key].numpy()
        assert actual.dtype == expected.dtype and actual.shape == expected.shape, key
        if tol and expected.dtype.kind == "f":
            np.testing.assert_allclose(actual, expected, err_msg=key, **tol)
        else:
            np.testing.assert_array_equal(actual, expected, err_msg=key)


# (neuralab's averaging arguments, torch's, whether the floats agree exactly in float64)
def _custom(lib):
    return lambda averaged, current, n: averaged * 0.25 + current * 0.75 + n * 0.01


AVERAGING = {
    "default-swa": (lambda lib: {}, True),
    "swa-avg-fn": (lambda lib: {"avg_fn": lib.get_swa_avg_fn()}, True),
    "ema-avg-fn": (lambda lib: {"avg_fn": lib.get_ema_avg_fn(0.7)}, True),
    "custom-avg-fn": (lambda lib: {"avg_fn": _custom(lib)}, True),
    "ema-multi": (lambda lib: {"multi_avg_fn": lib.get_ema_multi_avg_fn(0.9)}, False),
    "swa-multi": (lambda lib: {"multi_avg_fn": lib.get_swa_multi_avg_fn()}, False),
}


def averaged_pair(kind: str, dtype, use_buffers: bool, updates: int = 5):
    """Our AveragedModel and torch's after ``updates`` calls with different weights each time."""
    make_kwargs, _ = AVERAGING[kind]
    ours, theirs = bn_net(nn).to(dtype), bn_net(tnn).to(DTYPES[dtype])
    load(ours, theirs, random_state(theirs, 0))
    avg_ours = swa_utils.AveragedModel(ours, use_buffers=use_buffers, **make_kwargs(swa_utils))
    avg_theirs = tswa.AveragedModel(theirs, use_buffers=use_buffers, **make_kwargs(tswa))
    for step in range(updates):
        load(ours, theirs, random_state(theirs, step + 1))
        avg_ours.update_parameters(ours)
        avg_theirs.update_parameters(theirs)
    return ours, avg_ours, avg_theirs


# ----------------------------------------------------------------------------- AveragedModel


# get_swa_multi_avg_fn cannot average int64 buffers: see test_swa_multi_refuses_integer_buffers
CASES = [(k, b) for k in AVERAGING for b in (False, True) if not (k == "swa-multi" and b)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("kind, use_buffers", CASES, ids=[f"{k}-{b}" for k, b in CASES])
def test_averaged_model_matches_torch(kind, use_buffers, dtype):
    _, exact_f64 = AVERAGING[kind]
    model, ours, theirs = averaged_pair(kind, dtype, use_buffers)
    assert ours.n_averaged.dtype == np.int64 and ours.n_averaged.shape == ()
    assert ours.n_averaged.item() == theirs.n_averaged.item() == 5
    # torch's list averages fuse the multiply-add; in float64 ours rounds twice (within an ulp)
    tol = {} if exact_f64 or dtype is np.float32 else {"rtol": 1e-13, "atol": 1e-15}
    assert_same_state(ours, theirs, **tol)
    if not use_buffers:  # buffers are the latest model's, not averaged
        np.testing.assert_array_equal(
            ours.module[1].running_mean.numpy(), model[1].running_mean.numpy()
        )
    x = np.random.default_rng(9).standard_normal((4, 3)).astype(dtype)
    ours.eval()
    theirs.eval()
    got, want = ours(nl.tensor(x, dtype=dtype)), theirs(torch.from_numpy(x))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_first_update_copies_and_parameters_stay_trainable_leaves():
    model = bn_net(nn)
    averaged = swa_utils.AveragedModel(model, use_buffers=True)
    assert all(p is not q for p, q in zip(averaged.parameters(), model.parameters()))
    with nl.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    averaged.update_parameters(model)
    for p, q in zip(averaged.module.parameters(), model.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
        assert p.requires_grad and p.grad is None and p.grad_fn is None
    assert list(averaged.state_dict())[0] == "n_averaged"


def test_swa_multi_refuses_integer_buffers():
    ours, theirs = bn_net(nn), bn_net(tnn)
    avg_ours = swa_utils.AveragedModel(
        ours, use_buffers=True, multi_avg_fn=swa_utils.get_swa_multi_avg_fn()
    )
    avg_theirs = tswa.AveragedModel(
        theirs, use_buffers=True, multi_avg_fn=tswa.get_swa_multi_avg_fn()
    )
    avg_ours.update_parameters(ours)
    avg_theirs.update_parameters(theirs)
    with pytest.raises(RuntimeError):
        avg_theirs.update_parameters(theirs)
    with pytest.raises(RuntimeError, match="integer tensors cannot be averaged"):
        avg_ours.update_parameters(ours)


@pytest.mark.parametrize("name", ["get_ema_multi_avg_fn", "get_ema_avg_fn"])
@pytest.mark.parametrize("decay", [-0.1, 1.5])
def test_bad_decay_raises_torchs_error(name, decay):
    with pytest.raises(ValueError) as want:
        getattr(tswa, name)(decay)
    with pytest.raises(ValueError) as got:
        getattr(swa_utils, name)(decay)
    assert str(got.value) == str(want.value)


def test_avg_fn_and_multi_avg_fn_together_raise_like_torch():
    for lib, module in ((tswa, tnn), (swa_utils, nn)):
        net = bn_net(module)
        with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
            lib.AveragedModel(
                net, avg_fn=lib.get_swa_avg_fn(), multi_avg_fn=lib.get_swa_multi_avg_fn()
            )


def test_device_cpu_accepted_and_other_devices_refused():
    averaged = swa_utils.AveragedModel(bn_net(nn), device="cpu")
    assert averaged.n_averaged.item() == 0
    with pytest.raises(RuntimeError, match="CPU only"):
        swa_utils.AveragedModel(bn_net(nn), device="cuda")


# ----------------------------------------------------------------------------- SWALR


def sgd_pair(lrs=(0.1, 0.02)):
    ours = optim.SGD([{"params": [Parameter(np.zeros(2, np.float32))], "lr": lr} for lr in lrs])
    theirs = torch.optim.SGD([{"params": [torch.zeros(2, requires_grad=True)], "lr": lr}
                              for lr in lrs])  # fmt: skip
    return ours, theirs


def lr_trace(opt, sched, steps=15):
    out = []
    for _ in range(steps):
        out.append([float(g["lr"]) for g in opt.param_groups] + list(sched.get_last_lr()))
        opt.step()
        sched.step()
    return np.array(out)


SWALR_CASES = [
    {"swa_lr": 0.05},
    {"swa_lr": 0.05, "anneal_epochs": 4, "anneal_strategy": "linear"},
    {"swa_lr": [0.05, 0.001], "anneal_epochs": 6},
    {"swa_lr": [0.3, 0.001], "anneal_epochs": 3, "anneal_strategy": "linear"},
    {"swa_lr": 0.01, "anneal_epochs": 0},
    {"swa_lr": 0.01, "anneal_epochs": 1, "anneal_strategy": "linear"},
]


@pytest.mark.parametrize("kwargs", SWALR_CASES, ids=[str(i) for i in range(len(SWALR_CASES))])
def test_swalr_matches_torch(kwargs):
    ours, theirs = sgd_pair()
    got = lr_trace(ours, swa_utils.SWALR(ours, **kwargs))
    want = lr_trace(theirs, tswa.SWALR(theirs, **kwargs))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert [g["swa_lr"] for g in ours.param_groups] == [g["swa_lr"] for g in theirs.param_groups]


def test_swalr_after_cosine_annealing_like_torchs_recipe():
    """The usual loop: both schedulers built up front, SWALR stepping from epoch 5 on."""
    traces = []
    for lib, opt in zip((optim, torch.optim), sgd_pair()):
        cosine = lib.lr_scheduler.CosineAnnealingLR(opt, T_max=20)
        swa = (swa_utils if lib is optim else tswa).SWALR(opt, swa_lr=0.03, anneal_epochs=5)
        trace = []
        for epoch in range(15):
            opt.step()
            (swa if epoch >= 5 else cosine).step()
            trace.append([float(g["lr"]) for g in opt.param_groups])
        traces.append(trace)
    np.testing.assert_allclose(traces[0], traces[1], rtol=0, atol=1e-12)


def test_swalr_state_dict_resumes_the_sequence():
    opt, _ = sgd_pair()
    sched = swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=8, anneal_strategy="linear")
    for _ in range(3):
        sched.step()
    state = sched.state_dict()
    assert all(not callable(v) for v in state.values())
    expected = lr_trace(opt, sched, steps=6)
    opt2, _ = sgd_pair()
    other = swa_utils.SWALR(opt2, swa_lr=0.05, anneal_epochs=8)  # cos until the state loads
    other.load_state_dict(state)
    for g2, lr in zip(opt2.param_groups, expected[0]):  # SWALR steps from the groups' lrs
        g2["lr"] = lr
    np.testing.assert_array_equal(lr_trace(opt2, other, steps=6), expected)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"swa_lr": 0.1, "anneal_strategy": "exp"},
        {"swa_lr": 0.1, "anneal_epochs": -1},
        {"swa_lr": 0.1, "anneal_epochs": 2.5},
    ],
    ids=["strategy", "negative-epochs", "float-epochs"],
)
def test_swalr_bad_arguments_raise_torchs_errors(kwargs):
    ours, theirs = sgd_pair()
    with pytest.raises(ValueError) as want:
        tswa.SWALR(theirs, **kwargs)
    with pytest.raises(ValueError) as got:
        swa_utils.SWALR(ours, **kwargs)
    assert str(got.value) == str(want.value)


def test_swalr_per_group_list_of_wrong_length_and_non_optimizer():
    ours, theirs = sgd_pair()
    with pytest.raises(ValueError, match="swa_lr"):
        tswa.SWALR(theirs, swa_lr=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="swa_lr"):
        swa_utils.SWALR(ours, swa_lr=[0.1, 0.2, 0.3])
    assert all("swa_lr" not in g for g in ours.param_groups)  # checked before any change
    with pytest.raises(TypeError, match="not an Optimizer"):
        swa_utils.SWALR(object(), swa_lr=0.1)


# ----------------------------------------------------------------------------- update_bn


def conv_bn_net(lib):
    return lib.Sequential(
        lib.Conv2d(2, 3, 3), lib.BatchNorm2d(3), lib.ReLU(), lib.Flatten(),
        lib.Linear(3 * 4 * 4, 6), lib.BatchNorm1d(6, momentum=0.3), lib.Linear(6, 2),
        lib.BatchNorm1d(2, momentum=None),
    )  # fmt: skip


def batch_norms(model):
    return [m for m in model.modules() if type(m).__name__.startswith("BatchNorm")]


def batches(as_tuples: bool):
    rng = np.random.default_rng(3)
    xs = [(rng.standard_normal((5, 2, 6, 6)) * 2 + 1).astype(np.float32) for _ in range(4)]
    if as_tuples:
        return [(x, np.zeros(5, np.int64)) for x in xs]
    return xs


def loaders(as_tuples: bool):
    """The same batches for us and for torch: plain inputs, or (input, target) pairs."""
    data = batches(as_tuples)
    if as_tuples:
        return ([(nl.tensor(x), nl.tensor(y)) for x, y in data],
                [[torch.from_numpy(x), torch.from_numpy(y)] for x, y in data])  # fmt: skip
    return [nl.tensor(x) for x in data], [torch.from_numpy(x) for x in data]


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("as_tuples", [False, True], ids=["inputs", "pairs"])
def test_update_bn_matches_torch(as_tuples, training):
    ours, theirs = conv_bn_net(nn), conv_bn_net(tnn)
    load(ours, theirs, random_state(theirs, 5))
    ours.train(training)
    theirs.train(training)
    loader_ours, loader_theirs = loaders(as_tuples)
    swa_utils.update_bn(loader_ours, ours)
    tswa.update_bn(loader_theirs, theirs)
    pairs = list(zip(batch_norms(ours), batch_norms(theirs)))
    assert len(pairs) == 3
    for o, t in pairs:
        for name in ("running_mean", "running_var"):
            np.testing.assert_allclose(
                getattr(o, name).numpy(), getattr(t, name).numpy(), rtol=1e-5, atol=1e-6
            )
        assert o.num_batches_tracked.item() == t.num_batches_tracked.item() == 4
        assert o.momentum == t.momentum
    assert [o.momentum for o, _ in pairs] == [0.1, 0.3, None]
    assert all(m.training is training for m in ours.modules())


def test_update_bn_on_an_averaged_model_with_device():
    """torch's recipe: update_bn(loader, swa_model) after averaging, inputs moved to ``device``."""
    ours, theirs = conv_bn_net(nn), conv_bn_net(tnn)
    load(ours, theirs, random_state(theirs, 6))
    avg_ours, avg_theirs = swa_utils.AveragedModel(ours), tswa.AveragedModel(theirs)
    for step in range(2):
        load(ours, theirs, random_state(theirs, 10 + step))
        avg_ours.update_parameters(ours)
        avg_theirs.update_parameters(theirs)
    loader_ours, loader_theirs = loaders(True)
    swa_utils.update_bn(loader_ours, avg_ours, device="cpu")
    tswa.update_bn(loader_theirs, avg_theirs, device="cpu")
    assert_same_state(avg_ours, avg_theirs, rtol=1e-5, atol=1e-6)


def test_update_bn_without_batchnorm_leaves_the_model_alone():
    model = nn.Sequential(nn.Linear(3, 2)).eval()
    swa_utils.update_bn([nl.ones(4, 3)], model)
    assert not model.training


def test_update_bn_restores_momenta_when_the_forward_fails():
    model = conv_bn_net(nn).eval()
    with pytest.raises(ValueError, match="conv2d"):
        swa_utils.update_bn([nl.ones(4, 7)], model)
    assert [m.momentum for m in batch_norms(model)] == [0.1, 0.3, None]
    assert not model.training


# ----------------------------------------------------------------------------- module paths


def test_import_paths_and_names_match_torch():
    assert sys.modules["neuralab.optim.swa_utils"] is neuralab.optim.swa_utils is swa_utils
    assert nl.optim.swa_utils is swa_utils and "swa_utils" in optim.__all__
    assert set(swa_utils.__all__) == set(tswa.__all__)
    assert issubclass(swa_utils.SWALR, optim.lr_scheduler.LRScheduler)
    assert issubclass(swa_utils.AveragedModel, nn.Module)
    assert "torch" not in sys.modules["neuralab.optim.swa_utils"].__dict__
