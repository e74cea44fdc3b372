"""torch.autograd's names: grad(), backward(inputs=), Function, Variable — against torch."""

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import autograd


def _graph(lib, x0, w0):
    x = lib.tensor(x0, requires_grad=True)
    w = lib.tensor(w0, requires_grad=True)
    h = (x * w).tanh()
    y = (h**2).sum() + (h * x).mean()
    return x, w, h, y


X0, W0 = [0.3, -1.2, 2.0], [0.5, 0.1, -0.7]


def test_grad_returns_gradients_of_leaves_and_interior_nodes_without_touching_grad():
    ours, theirs = _graph(nl, X0, W0), _graph(torch, X0, W0)
    g_ours = autograd.grad(ours[3], [ours[0], ours[2]])
    g_theirs = torch.autograd.grad(theirs[3], [theirs[0], theirs[2]])
    for a, b in zip(g_ours, g_theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    assert ours[0].grad is None and ours[1].grad is None


def test_grad_of_several_outputs_with_grad_outputs():
    def run(lib):
        x, w, h, y = _graph(lib, X0, W0)
        return lib.autograd.grad([h, y], w, grad_outputs=[lib.tensor([1.0, 2.0, 3.0]), None])

    np.testing.assert_allclose(run(nl)[0].numpy(), run(torch)[0].numpy(), rtol=1e-6)


def test_unused_inputs_raise_unless_allowed_and_materialize_gives_zeros():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    unused = nl.tensor([3.0], requires_grad=True)
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match=r"input 1 \(shape \(1,\)\) was not used"):
        autograd.grad(y, [x, unused], retain_graph=True)
    assert autograd.grad(y, [x, unused], allow_unused=True, retain_graph=True)[1] is None
    assert autograd.grad(y, [unused], materialize_grads=True)[0].tolist() == [0.0]


def test_backward_inputs_accumulates_only_into_them():
    def run(lib):
        x, w, _, y = _graph(lib, X0, W0)
        y.backward(inputs=[w])
        return x.grad, w.grad

    (xo, wo), (xt, wt) = run(nl), run(torch)
    assert xo is None and xt is None
    np.testing.assert_allclose(wo.numpy(), wt.numpy(), rtol=1e-6)


def test_autograd_backward_sums_several_outputs():
    def run(lib):
        x, w, h, y = _graph(lib, X0, W0)
        lib.autograd.backward([y, h], [None, lib.ones(3)])
        return x.grad.numpy(), w.grad.numpy()

    for a, b in zip(run(nl), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_higher_order_gradients_are_refused_clearly():
    x = nl.tensor([1.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="create_graph=True is not supported"):
        autograd.grad((x * x).sum(), x, create_graph=True)
    with pytest.raises(NotImplementedError, match="create_graph=True"):
        (x * x).sum().backward(create_graph=True)


def _legendre(lib):
    class LegendrePolynomial3(lib.autograd.Function):
        """P3(x) = (5x³ − 3x)/2, with its derivative written by hand (the tutorial's example)."""

        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return scale * 0.5 * (5 * x**3 - 3 * x)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * ctx.scale * 1.5 * (5 * x**2 - 1), None

    return LegendrePolynomial3


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_user_function_trains_like_torchs(dtype):
    def run(lib):
        x = lib.linspace(-1, 1, 50, dtype=getattr(lib, dtype))
        a = lib.tensor(0.3, dtype=getattr(lib, dtype), requires_grad=True)
        losses = []
        P3 = _legendre(lib)
        for _ in range(5):
            loss = ((P3.apply(a * x, 2.0) - x.sin()) ** 2).sum()
            loss.backward()
            losses.append(loss.item())
            with lib.no_grad():
                a -= 1e-3 * a.grad
                a.grad = None
        return losses, a.item()

    (lo, ao), (lt, at) = run(nl), run(torch)
    np.testing.assert_allclose(lo, lt, rtol=1e-5)
    assert ao == pytest.approx(at, rel=1e-5)


def test_function_backward_must_return_one_gradient_per_input():
    class Bad(autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    x = nl.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="returned 1 gradients for 2 inputs"):
        Bad.apply(x, nl.ones(2)).sum().backward()


def test_function_knows_which_inputs_need_gradients():
    seen = {}

    class Mul(autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            seen["needs"] = ctx.needs_input_grad
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g, None

    out = Mul.apply(nl.ones(2, requires_grad=True), nl.ones(2))
    assert seen["needs"] == (True, False) and out.requires_grad and not out.is_leaf


def test_variable_is_a_tensor_sharing_the_values():
    t = nl.tensor([1.0, 2.0])
    v = autograd.Variable(t, requires_grad=True)
    assert isinstance(v, nl.Tensor) and v.requires_grad and v.is_leaf
    (v * 3).sum().backward()
    assert v.grad.tolist() == [3.0, 3.0]
    v.data[0] = 5.0
    assert t.tolist() == [5.0, 2.0]


def test_anomaly_detection_is_accepted():
    with autograd.detect_anomaly():
        assert autograd.is_anomaly_enabled()
    assert not autograd.is_anomaly_enabled()
    autograd.set_detect_anomaly(False)


def _hooked(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    seen = []
    on_leaf = x.register_hook(lambda g: g * 2)
    h = x * x
    h.register_hook(lambda g: seen.append(g.clone()))  # returns None: the gradient stays
    h2 = h.sin()
    on_h2 = h2.register_hook(lambda g: g + 1)
    h2.retain_grad()
    h2.sum().backward(retain_graph=True)
    first = (x.grad.tolist(), [s.tolist() for s in seen], h2.grad.tolist())
    on_leaf.remove()
    on_h2.remove()
    x.grad = None
    h2.sum().backward()
    return first, x.grad.tolist()


def test_tensor_hooks_see_and_replace_gradients_as_torchs():
    (ours, ours_after), (theirs, theirs_after) = _hooked(nl), _hooked(torch)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(ours_after, theirs_after, rtol=1e-6)


def test_a_hook_needs_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        nl.ones(2).register_hook(lambda g: g)
