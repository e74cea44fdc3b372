"""Norm penalties: values by hand, gradients through autograd, which parameters they cover."""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
from neuralab import nn, optim
from neuralab.nn import Module, Parameter


def param(values, dtype=np.float32):
    return Parameter(nl.tensor(values, dtype=dtype))


class Affine(Module):
    """y = x W + bias, parameters named like nn.Linear's."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = param(np.arange(n_in * n_out, dtype=np.float32).reshape(n_in, n_out) - 2)
        self.bias = param(np.ones(n_out, np.float32))


class MyLayerNorm(Module):
    """A normalisation layer: its (1-D) parameters are not penalised."""

    def __init__(self, n):
        super().__init__()
        self.weight = param(np.full(n, 3.0, np.float32))
        self.bias = param(np.zeros(n, np.float32))


class Net(Module):
    def __init__(self):
        super().__init__()
        self.fc1 = Affine(2, 3)
        self.norm = MyLayerNorm(3)
        self.fc2 = Affine(3, 1)
        self.fc2_again = self.fc2  # shared: counted once
        self.scale = param([2.0, -1.0])  # a plain vector of weights: penalised
        self.out_bias = param([5.0])


def test_values_by_hand():
    theta = param([1.0, -2.0])
    assert optim.L1(0.5)([theta]).item() == pytest.approx(1.5)
    assert optim.L2(0.5)([theta]).item() == pytest.approx(2.5)  # λ‖θ‖², no 1/2
    assert optim.ElasticNet(0.5, 0.25)([theta]).item() == pytest.approx(0.5 * (0.75 * 3 + 0.25 * 5))
    two = [param([1.0, -2.0]), param([[3.0], [0.0]])]
    assert optim.L1(2.0)(two).item() == pytest.approx(12.0)
    assert optim.L2(0.1)(two).item() == pytest.approx(1.4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_through_backward(dtype):
    values = np.array([[1.5, -2.0, 0.0], [0.25, -0.5, 3.0]])
    lam, alpha = 0.3, 0.4
    expected = {
        "L1": lam * np.sign(values),
        "L2": 2 * lam * values,
        "ElasticNet": lam * ((1 - alpha) * np.sign(values) + alpha * 2 * values),
    }
    for name, penalty in (
        ("L1", optim.L1(lam)),
        ("L2", optim.L2(lam)),
        ("ElasticNet", optim.ElasticNet(lam, alpha)),
    ):
        theta = param(values, dtype)
        value = penalty([theta])
        assert value.dtype == dtype and value.shape == ()
        value.backward()
        assert theta.grad.dtype == dtype
        np.testing.assert_allclose(theta.grad.numpy(), expected[name], rtol=1e-6, err_msg=name)


def test_elastic_net_ends_are_l1_and_l2():
    values = np.array([0.5, -1.5, 0.0, 2.0], np.float32)
    for alpha, plain in ((0.0, optim.L1(0.7)), (1.0, optim.L2(0.7))):
        a, b = param(values), param(values)
        va, vb = optim.ElasticNet(0.7, alpha)([a]), plain([b])
        assert va.item() == vb.item()
        va.backward()
        vb.backward()
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_model_penalises_weights_only():
    net = Net()
    chosen = list(optim.regularized_parameters(net))
    assert [id(p) for p in chosen] == [id(net.scale), id(net.fc1.weight), id(net.fc2.weight)]
    expected = sum(float((p.numpy() ** 2).sum()) for p in chosen)
    assert optim.L2(1.0)(net).item() == pytest.approx(expected)
    optim.L1(1.0)(net).backward()
    assert net.fc1.bias.grad is None and net.norm.weight.grad is None and net.out_bias.grad is None
    np.testing.assert_array_equal(net.scale.grad.numpy(), [1.0, -1.0])


def test_explicit_parameters_and_named_pairs():
    net = Net()
    everything = list(net.parameters())
    total = sum(float(np.abs(p.numpy()).sum()) for p in everything)
    assert optim.L1(1.0)(everything).item() == pytest.approx(total)
    named = optim.L1(1.0)(net.named_parameters())  # names: only "...bias" is skipped
    kept = [p for n, p in net.named_parameters() if not n.endswith("bias")]
    assert named.item() == pytest.approx(sum(float(np.abs(p.numpy()).sum()) for p in kept))
    assert optim.L2(1.0)(net.scale).item() == pytest.approx(5.0)  # a single tensor


def test_empty_selection_and_zero_lambda_give_zero():
    for value in (optim.L2(1.0)([]), optim.L1(0.0)([param([1.0, 2.0])])):
        assert value.item() == 0.0 and value.dtype == np.float32


def test_added_to_a_loss_and_trained():
    """SGD(weight_decay=wd) takes the same steps as plain SGD on loss + L2(wd/2)."""
    start = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)
    target = nl.tensor(np.array([[0.0, 1.0], [1.0, 0.0]], np.float32))
    wd = 0.2
    a, b = param(start), param(start)
    opt_a = optim.SGD([a], lr=0.1, weight_decay=wd)
    opt_b = optim.SGD([b], lr=0.1)
    for _ in range(10):
        for p, opt, penalty in ((a, opt_a, None), (b, opt_b, optim.L2(wd / 2))):
            opt.zero_grad()
            loss = ((p - target) ** 2).sum()
            if penalty is not None:
                loss = loss + penalty([p])
            loss.backward()
            opt.step()
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
    # ... while Adam's coupled weight decay and AdamW's decoupled one differ
    c, d = param(start), param(start)
    for p, opt in (
        (c, optim.Adam([c], lr=0.1, weight_decay=wd)),
        (d, optim.AdamW([d], lr=0.1, weight_decay=wd)),
    ):
        for _ in range(5):
            opt.zero_grad()
            ((p - target) ** 2).sum().backward()
            opt.step()
    assert not np.allclose(c.numpy(), d.numpy(), rtol=1e-3)


def test_errors_and_repr():
    with pytest.raises(ValueError, match="lam=-1"):
        optim.L2(-1)
    with pytest.raises(ValueError, match="alpha=1.5"):
        optim.ElasticNet(0.1, alpha=1.5)
    with pytest.raises(TypeError, match="ndarray"):
        optim.L1(0.1)([np.zeros(3)])
    assert repr(optim.L2(0.01)) == "L2(lam=0.01)"
    assert repr(optim.ElasticNet(0.1, 0.3)) == "ElasticNet(lam=0.1, alpha=0.3)"


def test_with_real_layers():
    model = nn.Sequential(
        nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2)
    )
    chosen = [id(p) for p in optim.regularized_parameters(model)]
    assert chosen == [id(model[0].weight), id(model[2].weight), id(model[4].weight)]
    value = optim.L2(0.5)(model)
    weights = (model[0].weight, model[2].weight, model[4].weight)
    assert value.item() == pytest.approx(0.5 * sum(float((w.numpy() ** 2).sum()) for w in weights))
    value.backward()
    assert model[0].bias.grad is None and model[1].weight.grad is None
    np.testing.assert_allclose(model[2].weight.grad.numpy(), model[2].weight.numpy(), rtol=1e-6)


def test_rnn_style_bias_names_are_skipped():
    named = [("rnn.weight_ih_l0", param([1.0])), ("rnn.bias_ih_l0", param([2.0]))]
    named += [("head.out_bias", param([4.0]))]
    assert optim.L1(1.0)(named).item() == 1.0
