"""autocast (accepted, full precision), GradScaler (checked against torch's CPU GradScaler) and
compile (returns the model or function itself)."""

import warnings

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import nn, optim


def _net():
    nl.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


# ----------------------------------------------------------------------------- autocast


@pytest.mark.parametrize(
    "make",
    [
        lambda: nl.autocast("cpu"),
        lambda: nl.amp.autocast(device_type="cpu", dtype=nl.bfloat16),
        lambda: nl.autocast("cpu", dtype=nl.float16, cache_enabled=False),
        lambda: nl.autocast("cpu", enabled=False),
    ],
)
def test_autocast_keeps_float32_and_the_same_outputs(make):
    model, x = _net(), nl.randn(5, 4)
    plain = model(x).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a supported CPU autocast says nothing
        with make():
            out = model(x)
            mm = x @ x.T
    assert out.dtype == nl.float32 and mm.dtype == nl.float32
    np.testing.assert_array_equal(out.numpy(), plain)

    @make()
    def forward(inp):
        return model(inp)

    np.testing.assert_array_equal(forward(x).numpy(), plain)


def test_autocast_backward_matches_the_run_without_it():
    model, x = _net(), nl.randn(5, 4)
    model(x).pow(2).mean().backward()
    expected = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    with nl.autocast("cpu"):
        loss = model(x).pow(2).mean()
    loss.backward()
    for p, g in zip(model.parameters(), expected):
        np.testing.assert_array_equal(p.grad.numpy(), g)


def test_autocast_for_other_devices_and_dtypes_warns_and_disables_as_torch():
    for lib in (torch, nl):
        with pytest.warns(UserWarning, match="(?i)disabling autocast"):
            with lib.autocast("cuda"):
                pass
        with pytest.warns(UserWarning, match="(?i)disabling autocast"):
            lib.autocast("cpu", dtype=lib.float32)
    with pytest.warns(UserWarning, match="device 'cuda' is not available"):
        assert not nl.amp.autocast("cuda")._enabled
    with pytest.raises(RuntimeError, match="expected one of cpu, cuda"):
        nl.autocast("gpu")
    with pytest.raises(ValueError, match="autocast: expected device_type as a string"):
        nl.autocast(nl.device("cpu"))
    with pytest.raises(TypeError):
        nl.autocast()  # device_type is required, as in torch
    assert nl.amp.is_autocast_available("cpu") and not nl.amp.is_autocast_available("cuda")


def test_deprecated_cpu_and_cuda_autocast():
    with pytest.warns(FutureWarning, match="cpu.amp.autocast.*is deprecated"):
        ctx = nl.cpu.amp.autocast()
    assert ctx._enabled and ctx.fast_dtype is nl.bfloat16
    with pytest.warns(FutureWarning, match="cuda.amp.autocast.*is deprecated"):
        with pytest.warns(UserWarning, match="disabling autocast"):
            ctx = nl.cuda.amp.autocast()
    assert not ctx._enabled


# ----------------------------------------------------------------------------- GradScaler


def _torch_twin(model):
    twin = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    with torch.no_grad():
        for p, q in zip(twin.parameters(), model.parameters()):
            p.copy_(torch.from_numpy(q.numpy().copy()))
    return twin


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # NumPy on the inf/NaN losses
def test_grad_scaler_steps_skips_and_rescales_as_torchs_cpu_scaler():
    model = _net()
    twin = _torch_twin(model)
    runs = []
    for lib, m in ((nl, model), (torch, twin)):
        opt = lib.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
        scaler = lib.amp.GradScaler("cpu", init_scale=8.0, growth_interval=3)
        rng = np.random.default_rng(3)
        trace = []
        for i in range(12):
            x = lib.from_numpy(rng.standard_normal((6, 4)).astype(np.float32))
            opt.zero_grad()
            loss = m(x).pow(2).mean()
            if i in (4, 5, 9):  # an overflow: inf (twice in a row) or NaN gradients
                loss = loss * (float("nan") if i == 9 else float("inf"))
            scaled = scaler.scale(loss)
            scaled.backward()
            before = (
                m[0].weight.detach().numpy().copy() if lib is torch else m[0].weight.numpy().copy()
            )
            scaler.step(opt)
            after = m[0].weight.detach().numpy() if lib is torch else m[0].weight.numpy()
            scaler.update()
            trace.append(
                (not np.array_equal(before, after), scaler.get_scale(), scaler.state_dict())
            )
        runs.append(
            (trace, [p.detach().numpy() if lib is torch else p.numpy() for p in m.parameters()])
        )
    (ours, our_weights), (theirs, their_weights) = runs
    assert [t[0] for t in ours] == [t[0] for t in theirs]  # which steps ran
    assert [t[0] for t in ours].count(False) == 3
    assert [t[1] for t in ours] == [t[1] for t in theirs]  # the scale schedule
    assert [t[2] for t in ours] == [t[2] for t in theirs]  # state_dict, growth tracker included
    for a, b in zip(our_weights, their_weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_unscale_then_clip_then_step_as_torch():
    model = _net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    scaler = nl.amp.GradScaler("cpu", init_scale=1024.0)
    x = nl.randn(3, 4)
    model(x).sum().backward()
    plain = [p.grad.numpy().copy() for p in model.parameters()]
    opt.zero_grad()
    scaler.scale(model(x).sum()).backward()
    scaler.unscale_(opt)
    for p, g in zip(model.parameters(), plain):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-6)
    with pytest.raises(RuntimeError, match="unscale_: already called on this optimizer"):
        scaler.unscale_(opt)
    assert scaler.step(opt) is None  # SGD.step returns None; the step ran
    with pytest.raises(RuntimeError, match="step: already called since the last update"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="unscale_: called after step"):
        scaler.unscale_(opt)
    scaler.update()
    assert scaler.get_scale() == 1024.0


def test_grad_scaler_errors_and_scale_of_containers():
    scaler = nl.amp.GradScaler("cpu")
    opt = optim.SGD(_net().parameters(), lr=0.1)
    assert scaler.get_scale() == 65536.0  # before the first scale(), as torch
    with pytest.raises(RuntimeError, match="GradScaler.step: no scale yet"):
        scaler.step(opt)
    a, b = nl.tensor(1.0), nl.tensor(2.0)
    out = scaler.scale([a, (b,)])
    assert isinstance(out, list) and isinstance(out[1], tuple)
    assert out[0].item() == 65536.0 and out[1][0].item() == 131072.0
    with pytest.raises(ValueError, match="outputs must be a Tensor or an iterable of Tensors"):
        scaler.scale(3.0)
    with pytest.raises(RuntimeError, match="no inf checks were recorded"):
        scaler.update()
    with pytest.raises(RuntimeError, match="a closure is not supported"):
        scaler.step(opt, closure=lambda: 0.0)
    scaler.update(new_scale=8.0)
    assert scaler.get_scale() == 8.0
    scaler.update(new_scale=nl.tensor(16.0))
    assert scaler.get_scale() == 16.0
    with pytest.raises(ValueError, match="one-element tensor"):
        scaler.update(new_scale=nl.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="growth_factor must be > 1.0"):
        nl.amp.GradScaler("cpu", growth_factor=0.5)
    with pytest.raises(ValueError, match="backoff_factor must be < 1.0"):
        nl.amp.GradScaler("cpu", backoff_factor=1.5)
    with pytest.raises(RuntimeError, match="the state dict is empty"):
        scaler.load_state_dict({})


def test_growth_stops_short_of_overflow_as_torch():
    scalers = [lib.amp.GradScaler("cpu", init_scale=3e38, growth_interval=1) for lib in (nl, torch)]
    for scaler, lib in zip(scalers, (nl, torch)):
        m = lib.nn.Linear(2, 1)
        opt = lib.optim.SGD(m.parameters(), lr=0.0)
        scaler.scale(m(lib.ones(1, 2)).sum()).backward()
        scaler.step(opt)
        scaler.update()
    assert scalers[0].state_dict() == scalers[1].state_dict()


def test_state_dict_round_trip_through_save(tmp_path):
    scaler = nl.amp.GradScaler(
        "cpu", init_scale=4.0, growth_factor=3.0, backoff_factor=0.25, growth_interval=5
    )
    nl.save(scaler.state_dict(), tmp_path / "scaler.pt")
    other = nl.amp.GradScaler("cpu")
    other.load_state_dict(nl.load(tmp_path / "scaler.pt"))
    assert (
        other.state_dict()
        == scaler.state_dict()
        == {
            "scale": 4.0,
            "growth_factor": 3.0,
            "backoff_factor": 0.25,
            "growth_interval": 5,
            "_growth_tracker": 0,
        }
    )
    assert (other.get_growth_factor(), other.get_backoff_factor(), other.get_growth_interval()) == (
        3.0,
        0.25,
        5,
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: nl.amp.GradScaler(),  # torch's default device is 'cuda'
        lambda: nl.amp.GradScaler("cuda"),
        lambda: nl.amp.GradScaler("cpu", enabled=False),
        lambda: nl.cuda.amp.GradScaler(),
        lambda: nl.cuda.amp.GradScaler(enabled=False),
    ],
)
def test_disabled_scalers_pass_everything_through(make):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scaler = make()
    assert not scaler.is_enabled()
    model = _net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    loss = model(nl.randn(2, 4)).sum()
    assert scaler.scale(loss) is loss
    loss.backward()
    before = model[0].weight.numpy().copy()
    scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    assert not np.array_equal(before, model[0].weight.numpy())
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    scaler.load_state_dict({})  # ignored when disabled, as torch
    kinds = {type(w.message) for w in caught}
    messages = " ".join(str(w.message) for w in caught)
    assert ("device 'cuda' is not available" in messages) == (UserWarning in kinds)


def test_cuda_grad_scaler_warnings_match_torchs():
    for lib in (torch, nl):
        with pytest.warns(FutureWarning, match="deprecated"):
            with pytest.warns(UserWarning, match="(?i)disabling"):
                lib.cuda.amp.GradScaler()
        with pytest.warns(UserWarning, match="(?i)disabling"):
            lib.amp.GradScaler()


# ----------------------------------------------------------------------------- compile


def test_compile_returns_the_model_itself():
    model = _net()
    compiled = nl.compile(model)
    assert compiled is model
    assert list(compiled.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert nl.compile(model, mode="max-autotune", fullgraph=True, dynamic=False) is model
    assert (
        nl.compile(model, backend="eager", options={"trace.enabled": True}, disable=True) is model
    )


def test_compile_as_a_decorator():
    @nl.compile
    def double(x):
        return x * 2

    @nl.compile(mode="reduce-overhead")
    def triple(x):
        return x * 3

    assert double(nl.tensor(2.0)).item() == 4.0 and triple(nl.tensor(2.0)).item() == 6.0
    assert nl.compiler.disable(double) is double
    assert nl.compiler.disable()(triple) is triple
    assert not nl.compiler.is_compiling()


def test_compile_checks_its_arguments_as_torch():
    for lib in (torch, nl):
        with pytest.raises(RuntimeError, match="(?i)mode"):
            lib.compile(_net(), mode="fastest")
        with pytest.raises(RuntimeError, match="(?i)mode or options"):
            lib.compile(_net(), mode="default", options={"a": 1})
    with pytest.raises(TypeError, match="compile: expected a Module or a function, got a int"):
        nl.compile(3)
