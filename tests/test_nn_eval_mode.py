"""nn.utils.eval_mode / train_mode: each module's own mode restored, also after exceptions."""

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import nn
from neuralab.nn.utils import eval_mode, train_mode


def mixed() -> nn.Sequential:
    """A model whose modules are in different modes: a frozen (eval) block under training ones."""
    model = nn.Sequential(
        nn.Linear(4, 8),
        nn.Sequential(nn.BatchNorm1d(8), nn.Dropout(0.5)),
        nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.3)),
        nn.Linear(8, 2),
    )
    model[1].eval()  # the frozen block
    model[2][1].eval()  # one dropout switched off by hand
    return model


def modes(model: nn.Module) -> list[bool]:
    return [m.training for m in model.modules()]


@pytest.mark.parametrize("switch", [eval_mode, train_mode])
def test_nested_mixed_modes_are_restored_exactly(switch):
    model = mixed()
    before = modes(model)
    assert True in before and False in before
    with switch(model) as inside:
        assert inside is model
        assert modes(model) == [switch is train_mode] * len(before)
        with switch(model[2]):  # nested, on a submodule
            assert modes(model) == [switch is train_mode] * len(before)
        assert modes(model) == [switch is train_mode] * len(before)
    assert modes(model) == before


@pytest.mark.parametrize("switch", [eval_mode, train_mode])
def test_an_exception_restores_modes_and_gradient_recording(switch):
    model = mixed()
    before = modes(model)
    with pytest.raises(KeyError, match="boom"):
        with switch(model):
            raise KeyError("boom")
    assert modes(model) == before
    assert nl.is_grad_enabled()


def test_eval_mode_turns_off_gradients_unless_asked_and_train_mode_leaves_them():
    model = mixed()
    x = nl.randn(3, 4)
    with eval_mode(model):
        assert not nl.is_grad_enabled()
        assert not model(x).requires_grad
    with eval_mode(model, no_grad=False):
        assert nl.is_grad_enabled() and model(x).requires_grad
    with nl.no_grad(), train_mode(model):
        assert not nl.is_grad_enabled()  # train_mode does not switch recording back on
    assert nl.is_grad_enabled()


def test_eval_mode_gives_torch_eval_outputs():
    """Inside eval_mode dropout is off and batch norm uses running statistics, as torch.eval()."""
    nl.manual_seed(0)
    ours = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Dropout(0.5), nn.Linear(6, 2))
    ref = torch.nn.Sequential(
        torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.Dropout(0.5), torch.nn.Linear(6, 2)
    )
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    ours(nl.tensor(x)), ref(torch.tensor(x))  # one training step of batch statistics each
    with eval_mode(ours):
        got = ours(nl.tensor(x)).numpy()
    ref.eval()
    with torch.no_grad():
        want = ref(torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert ours.training and all(m.training for m in ours.modules())


def test_decorator_forms():
    model = mixed()
    before = modes(model)
    seen = []

    @eval_mode(model)
    def look(depth: int) -> None:
        seen.append((modes(model), nl.is_grad_enabled()))
        if depth:
            look(depth - 1)  # re-entrant: the inner call restores to the outer's modes

    look(1)
    assert seen == [([False] * len(before), False)] * 2 and modes(model) == before

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.drop = nn.Dropout(0.5)

        @eval_mode
        def sample(self) -> tuple[bool, bool]:
            return self.drop.training, nl.is_grad_enabled()

    net = Net()
    assert net.sample() == (False, False) and net.drop.training


def test_a_non_module_is_refused_by_name():
    with pytest.raises(TypeError, match="eval_mode: expected a neuralab Module, got int"):
        eval_mode(3)
    with pytest.raises(TypeError, match="train_mode: expected a neuralab Module, got list"):
        train_mode([])
