"""Recurrent layers and the fused recurrence ops against PyTorch: values, final states, gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab.nn.layers.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from neuralab.ops import recurrent
from neuralab.ops.recurrent import gru_recurrence, lstm_recurrence, rnn_recurrence

TOL = dict(rtol=1e-4, atol=1e-5)
T, B, I, H = 5, 3, 4, 6


def rand(rng, *shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def copy_weights(ours, theirs) -> None:
    """Load torch's state_dict arrays into our module (same names, same shapes)."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def as_list(out):
    """Flatten (output, h) / (output, (h, c)) / (h, c) / h into a list of tensors."""
    if isinstance(out, tuple | list):
        return [t for o in out for t in as_list(o)]
    return [out]


def check_against_torch(ours, theirs, inputs, tol=TOL, seed=0):
    """Same weights and inputs: outputs, input gradients and parameter gradients agree."""
    copy_weights(ours, theirs)
    rng = np.random.default_rng(seed)
    ours_in = [nl.tensor(a, requires_grad=True) for a in inputs]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in inputs]
    pack = ours.__class__.__name__.startswith("LSTM") and len(inputs) == 3
    args_o = [ours_in[0]] + ([tuple(ours_in[1:])] if pack else ours_in[1:])
    args_t = [theirs_in[0]] + ([tuple(theirs_in[1:])] if pack else theirs_in[1:])
    outs_o, outs_t = as_list(ours(*args_o)), as_list(theirs(*args_t))
    assert len(outs_o) == len(outs_t)
    loss_o, loss_t = 0, 0
    for o, t in zip(outs_o, outs_t):
        assert o.shape == tuple(t.shape) and o.dtype == np.float32
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), **tol)
        g = rand(rng, *o.shape)
        loss_o = loss_o + (o * nl.tensor(g)).sum()
        loss_t = loss_t + (t * torch.tensor(g)).sum()
    loss_o.backward()
    loss_t.backward()
    for k, (a, b) in enumerate(zip(ours_in, theirs_in)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), err_msg=f"input {k}", **tol)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), theirs_params[name].grad.numpy(), err_msg=name, **tol
        )


MODES = {
    "rnn_tanh": (lambda **kw: RNN(**kw), lambda **kw: torch.nn.RNN(**kw), 1),
    "rnn_relu": (
        lambda **kw: RNN(nonlinearity="relu", **kw),
        lambda **kw: torch.nn.RNN(nonlinearity="relu", **kw),
        1,
    ),
    "lstm": (lambda **kw: LSTM(**kw), lambda **kw: torch.nn.LSTM(**kw), 2),
    "gru": (lambda **kw: GRU(**kw), lambda **kw: torch.nn.GRU(**kw), 1),
}
CONFIGS = {
    "2layer_bi_seqfirst_h0": dict(num_layers=2, bidirectional=True, batch_first=False, hx=True),
    "2layer_bi_batchfirst": dict(num_layers=2, bidirectional=True, batch_first=True, hx=False),
    "1layer_batchfirst_h0_nobias": dict(num_layers=1, batch_first=True, bias=False, hx=True),
    "3layer_seqfirst_h0": dict(num_layers=3, hx=True),
}


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("mode", list(MODES))
def test_stack_matches_torch(mode, config):
    make_ours, make_theirs, n_states = MODES[mode]
    kw = dict(CONFIGS[config])
    with_hx = kw.pop("hx")
    kw.update(input_size=I, hidden_size=H)
    torch.manual_seed(0)
    theirs = make_theirs(**kw)
    ours = make_ours(**kw)
    rng = np.random.default_rng(1)
    shape = (B, T, I) if kw.get("batch_first") else (T, B, I)
    d = 2 if kw.get("bidirectional") else 1
    inputs = [rand(rng, *shape)]
    if with_hx:
        inputs += [rand(rng, d * kw["num_layers"], B, H) for _ in range(n_states)]
    check_against_torch(ours, theirs, inputs)


@pytest.mark.parametrize("mode", list(MODES))
def test_unbatched_input_matches_torch(mode):
    make_ours, make_theirs, n_states = MODES[mode]
    kw = dict(input_size=I, hidden_size=H, num_layers=2, bidirectional=True)
    torch.manual_seed(0)
    theirs, ours = make_theirs(**kw), make_ours(**kw)
    rng = np.random.default_rng(2)
    inputs = [rand(rng, T, I)] + [rand(rng, 4, H) for _ in range(n_states)]
    check_against_torch(ours, theirs, inputs)


def test_long_sequence_lstm_matches_torch():
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(I, H, batch_first=True)
    ours = LSTM(I, H, batch_first=True)
    x = rand(np.random.default_rng(3), 2, 60, I)
    check_against_torch(ours, theirs, [x])


@pytest.mark.parametrize("batch", [1, 2, 3, 9])
@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_batch_sizes_either_side_of_the_stored_weight_layout_match_torch(mode, batch):
    # up to STORED_ROWS rows the hidden product reads W_hh as stored, above from its transpose
    assert recurrent.STORED_ROWS in (1, 2)
    make_ours, make_theirs, _ = MODES[mode]
    torch.manual_seed(0)
    theirs, ours = (
        make_theirs(input_size=I, hidden_size=20),
        make_ours(input_size=I, hidden_size=20),
    )
    x = rand(np.random.default_rng(4), T, batch, I)
    check_against_torch(ours, theirs, [x])
    with nl.no_grad():  # the inference path keeps two state slots, not every step's
        out = ours(nl.tensor(x))[0].numpy()
    np.testing.assert_allclose(out, theirs(torch.tensor(x))[0].detach().numpy(), **TOL)


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("mode", list(MODES))
def test_stack_over_an_embedding_matches_torch(mode, batch_first):
    # 60 lookups into 7 rows: the first layer's input projection may come from the table
    make_ours, make_theirs, _ = MODES[mode]
    kw = dict(
        input_size=I, hidden_size=H, num_layers=2, bidirectional=True, batch_first=batch_first
    )
    torch.manual_seed(0)
    theirs, ours = make_theirs(**kw), make_ours(**kw)
    copy_weights(ours, theirs)
    table = rand(np.random.default_rng(4), 7, I)
    idx = np.random.default_rng(5).integers(0, 7, (B, 20) if batch_first else (20, B))
    e, te = nl.tensor(table, requires_grad=True), torch.tensor(table, requires_grad=True)
    out = as_list(ours(nl.nn.functional.embedding(nl.tensor(idx), e)))
    ref = as_list(theirs(torch.nn.functional.embedding(torch.tensor(idx), te)))
    g = [rand(np.random.default_rng(6 + k), *o.shape) for k, o in enumerate(out)]
    sum((o * nl.tensor(a)).sum() for o, a in zip(out, g)).backward()
    sum((r * torch.tensor(a)).sum() for r, a in zip(ref, g)).backward()
    for o, r in zip(out, ref):
        np.testing.assert_allclose(o.numpy(), r.detach().numpy(), **TOL)
    np.testing.assert_allclose(e.grad.numpy(), te.grad.numpy(), **TOL)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), theirs_params[name].grad.numpy(), err_msg=name, **TOL
        )


CELLS = {
    "rnn_tanh": (RNNCell, torch.nn.RNNCell, {}, 1),
    "rnn_relu": (RNNCell, torch.nn.RNNCell, dict(nonlinearity="relu"), 1),
    "lstm": (LSTMCell, torch.nn.LSTMCell, {}, 2),
    "gru": (GRUCell, torch.nn.GRUCell, {}, 1),
}


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_hx", [True, False])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("cell", list(CELLS))
def test_cell_matches_torch(cell, bias, with_hx, batched):
    ours_cls, theirs_cls, extra, n_states = CELLS[cell]
    torch.manual_seed(0)
    theirs = theirs_cls(I, H, bias=bias, **extra)
    ours = ours_cls(I, H, bias=bias, **extra)
    rng = np.random.default_rng(4)
    lead = (B,) if batched else ()
    inputs = [rand(rng, *lead, I)]
    if with_hx:
        inputs += [rand(rng, *lead, H) for _ in range(n_states)]
    check_against_torch(ours, theirs, inputs)


def test_parameter_names_shapes_and_init_match_torch():
    nl.manual_seed(0)
    for make_ours, make_theirs, _ in MODES.values():
        kw = dict(input_size=I, hidden_size=H, num_layers=2, bidirectional=True)
        ours, theirs = make_ours(**kw), make_theirs(**kw)
        assert [(k, v.shape) for k, v in ours.state_dict().items()] == [
            (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
        ]
        assert all(p.dtype == np.float32 for p in ours.parameters())
        values = np.abs(np.concatenate([p.numpy().ravel() for p in ours.parameters()]))
        # uniform over ±1/√H: hundreds of draws reach close to the bound, none beyond it
        assert 0.95 / math.sqrt(H) < values.max() <= 1 / math.sqrt(H)
    for ours_cls, theirs_cls, extra, _ in CELLS.values():
        ours, theirs = ours_cls(I, H, **extra), theirs_cls(I, H, **extra)
        assert [(k, v.shape) for k, v in ours.state_dict().items()] == [
            (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
        ]
    assert len(LSTM(I, H, num_layers=2, bidirectional=True).all_weights) == 4


def test_dropout_between_layers_only_in_training():
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(I, H, num_layers=2, dropout=0.5)
    ours = LSTM(I, H, num_layers=2, dropout=0.5)
    copy_weights(ours, theirs)
    x = rand(np.random.default_rng(5), T, B, I)
    nl.manual_seed(0)
    train_a = ours(nl.tensor(x))[0].numpy()
    train_b = ours(nl.tensor(x))[0].numpy()
    ours.eval()
    theirs.eval()
    evaluated = ours(nl.tensor(x))[0].numpy()
    assert not np.allclose(train_a, train_b)
    assert not np.allclose(train_a, evaluated)
    np.testing.assert_allclose(evaluated, theirs(torch.tensor(x))[0].detach().numpy(), **TOL)
    # The first layer's output is never dropped: with one layer training equals eval.
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        single = GRU(I, H, dropout=0.5)
    np.testing.assert_array_equal(
        single(nl.tensor(x))[0].numpy(), single.eval()(nl.tensor(x))[0].numpy()
    )


def _functional(module, names):
    """fn(x, *states_and_params) running ``module`` with the given tensors as its parameters."""

    def fn(x, *rest):
        states, params = rest[: len(rest) - len(names)], rest[len(rest) - len(names) :]
        for name, p in zip(names, params):
            module._parameters[name] = p
        hx = None if not states else (tuple(states) if len(states) == 2 else states[0])
        return as_list(module(x, hx) if hx is not None else module(x))

    return fn


@pytest.mark.parametrize("mode", list(MODES))
def test_gradcheck_stack_float64(mode):
    make_ours, _, n_states = MODES[mode]
    nl.manual_seed(0)
    model = make_ours(input_size=2, hidden_size=2, num_layers=2, bidirectional=True).double()
    names = [n for n, _ in model.named_parameters()]
    rng = np.random.default_rng(6)

    def t(*shape):
        return nl.tensor(rng.standard_normal(shape), dtype=nl.float64, requires_grad=True)

    states = [t(4, 2, 2) for _ in range(n_states)]
    params = [
        nl.tensor(p.numpy(), dtype=nl.float64, requires_grad=True) for p in model.parameters()
    ]
    assert nl.gradcheck(_functional(model, names), [t(3, 2, 2), *states, *params])


@pytest.mark.parametrize("cell", list(CELLS))
def test_gradcheck_cell_float64(cell):
    ours_cls, _, extra, n_states = CELLS[cell]
    nl.manual_seed(0)
    model = ours_cls(3, 2, **extra).double()
    names = [n for n, _ in model.named_parameters()]
    rng = np.random.default_rng(7)

    def t(*shape):
        return nl.tensor(rng.standard_normal(shape), dtype=nl.float64, requires_grad=True)

    params = [
        nl.tensor(p.numpy(), dtype=nl.float64, requires_grad=True) for p in model.parameters()
    ]
    states = [t(2, 2) for _ in range(n_states)]
    assert nl.gradcheck(_functional(model, names), [t(2, 3), *states, *params])


# ----------------------------------------------------------------------------- the fused ops

OPS = {
    "rnn_tanh": (1, lambda x, h, c, w, b, rev: rnn_recurrence(x, h, w, b, "tanh", rev)),
    "rnn_relu": (1, lambda x, h, c, w, b, rev: rnn_recurrence(x, h, w, b, "relu", rev)),
    "lstm": (4, lambda x, h, c, w, b, rev: lstm_recurrence(x, h, c, w, b, rev)),
    "gru": (3, lambda x, h, c, w, b, rev: gru_recurrence(x, h, w, b, rev)),
}


def _op_inputs(gates, seed, steps=4, batch=2, hidden=3):
    rng = np.random.default_rng(seed)
    shapes = [(steps, batch, gates * hidden), (batch, hidden), (batch, hidden)]
    shapes += [(gates * hidden, hidden), (gates * hidden,)]
    return [
        nl.tensor(rng.standard_normal(s) * 0.7, dtype=nl.float64, requires_grad=True)
        for s in shapes
    ]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("op", list(OPS))
def test_gradcheck_fused_op(op, reverse):
    gates, fn = OPS[op]
    x, h, c, w, b = _op_inputs(gates, seed=8)
    assert nl.gradcheck(lambda x, h, c, w, b: fn(x, h, c, w, b, reverse), [x, h, c, w, b])
    # without a bias, and with only some inputs requiring grad
    assert nl.gradcheck(lambda x, h, c, w: fn(x, h, c, w, None, reverse), [x, h, c, w])
    x2, h2, c2, w2, _ = _op_inputs(gates, seed=9)
    h2.requires_grad_(False)
    c2.requires_grad_(False)
    assert nl.gradcheck(lambda x, w: fn(x, h2, c2, w, None, reverse), [x2, w2])


@pytest.mark.parametrize("op", list(OPS))
def test_fused_op_each_output_alone(op):
    """Gradients are right when the loss uses only the sequence, only h_n or only c_n."""
    gates, fn = OPS[op]
    x, h, c, w, b = _op_inputs(gates, seed=10, steps=3)
    n_out = 3 if op == "lstm" else 2
    for k in range(n_out):
        assert nl.gradcheck(lambda x, h, c, w, b, k=k: fn(x, h, c, w, b, False)[k], [x, h, c, w, b])


@pytest.mark.parametrize("op", list(OPS))
def test_fused_op_float32_no_grad_and_retain_graph(op):
    gates, fn = OPS[op]
    inputs = [
        nl.tensor(t.numpy().astype(np.float32), requires_grad=True) for t in _op_inputs(gates, 11)
    ]
    outs = fn(*inputs, False)
    assert all(o.dtype == np.float32 for o in outs)
    with nl.no_grad():  # the inference path keeps no per-step history and gives the same values
        again = fn(*inputs, False)
    assert not any(o.requires_grad for o in again)
    for a, b in zip(outs, again):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    loss = sum((o * o).sum() for o in outs)
    loss.backward(retain_graph=True)
    used = [p for p in inputs if p.grad is not None]  # the c input only feeds an LSTM
    assert len(used) == (5 if op == "lstm" else 4)
    first = [p.grad.numpy().copy() for p in used]
    for p in used:
        p.grad = None
    loss.backward()
    for p, g in zip(used, first):
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-6)


def test_fused_op_errors_name_shapes():
    x, h, c, w, b = _op_inputs(4, seed=12)
    with pytest.raises(ValueError, match=r"weight_hh \(12, 2\)"):
        lstm_recurrence(x, h, c, nl.zeros(12, 2, dtype=nl.float64), b)
    with pytest.raises(ValueError, match="gates_x"):
        gru_recurrence(x, h, w, b)
    with pytest.raises(TypeError, match="dtype"):
        lstm_recurrence(x, h, c, w.float(), b)
    with pytest.raises(ValueError, match="nonlinearity"):
        rnn_recurrence(x, h, w, b, "sigmoid")


def test_module_errors_name_the_problem():
    lstm = LSTM(I, H, num_layers=2)
    with pytest.raises(ValueError, match=r"input_size=4"):
        lstm(nl.zeros(T, B, I + 1))
    with pytest.raises(ValueError, match=r"h_0 of shape \(2, 3, 6\)"):
        lstm(nl.zeros(T, B, I), (nl.zeros(1, B, H), nl.zeros(2, B, H)))
    with pytest.raises(TypeError, match="tuple"):
        lstm(nl.zeros(T, B, I), nl.zeros(2, B, H))
    with pytest.raises(TypeError, match="float64"):
        lstm(nl.zeros(T, B, I, dtype=nl.float64))
    with pytest.raises(ValueError, match="dropout"):
        GRU(I, H, dropout=1.5)
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(I, H, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"state 0 of shape \(3, 6\)"):
        GRUCell(I, H)(nl.zeros(B, I), nl.zeros(B + 1, H))
