"""LSTM with projections (``proj_size``) against PyTorch: parameters, values, states, gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as trnn

import neuralab as nl
from neuralab.compiled import load
from neuralab.nn.layers.rnn import LSTM
from neuralab.nn.utils import rnn
from neuralab.ops import recurrent
from neuralab.ops.recurrent import lstm_recurrence

# torch warns on every projected LSTM call that oneDNN does not cover it
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")

TOL32 = dict(rtol=1e-5, atol=1e-6)
TOL64 = dict(rtol=1e-10, atol=1e-12)
T, B, I, H, P = 5, 3, 4, 6, 3
DTYPES = {
    "float32": (np.float32, torch.float32, TOL32),
    "float64": (np.float64, torch.float64, TOL64),
}


def make_pair(dtype: str = "float32", **kw):
    """(ours, theirs) with the same settings; torch's state_dict copied into ours."""
    np_dtype, torch_dtype, _ = DTYPES[dtype]
    kw = dict(dict(input_size=I, hidden_size=H, proj_size=P), **kw)
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(**kw).to(torch_dtype)
    ours = LSTM(**kw, dtype=nl.float64 if np_dtype == np.float64 else nl.float32)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def ours_tensor(a: np.ndarray, requires_grad: bool = False):
    """A neuralab tensor keeping ``a``'s float dtype (nl.tensor alone makes float32)."""
    dtype = nl.float64 if a.dtype == np.float64 else nl.float32
    return nl.tensor(a, dtype=dtype, requires_grad=requires_grad)


def flat(out):
    """(output, (h_n, c_n)) as the list [output, h_n, c_n]."""
    return [out[0], *out[1]]


def backward_both(outs_o, outs_t, seed: int) -> None:
    """Backpropagate the same random weighting of every output through both graphs."""
    rng = np.random.default_rng(seed)
    loss_o, loss_t = 0, 0
    for o, t in zip(outs_o, outs_t):
        g = rng.standard_normal(o.shape).astype(o.numpy().dtype)
        loss_o = loss_o + (o * ours_tensor(g)).sum()
        loss_t = loss_t + (t * torch.tensor(g)).sum()
    loss_o.backward()
    loss_t.backward()


def assert_grads_match(ours, theirs, pairs, tol) -> None:
    """Every parameter's gradient, and each (ours, theirs) input's, agree."""
    for k, (a, b) in enumerate(pairs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), err_msg=f"input {k}", **tol)
    theirs_params = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(theirs_params)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), theirs_params[name].grad.numpy(), err_msg=name, **tol
        )


def check_against_torch(ours, theirs, inputs, tol, seed=0) -> None:
    """Run both on ``inputs`` (x, or x, h0, c0): outputs, h_n, c_n and all gradients agree."""
    ours_in = [ours_tensor(a, requires_grad=True) for a in inputs]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in inputs]
    hx_o = tuple(ours_in[1:]) or None
    hx_t = tuple(theirs_in[1:]) or None
    outs_o, outs_t = flat(ours(ours_in[0], hx_o)), flat(theirs(theirs_in[0], hx_t))
    for o, t in zip(outs_o, outs_t):
        assert o.shape == tuple(t.shape) and o.dtype == inputs[0].dtype
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), **tol)
    backward_both(outs_o, outs_t, seed)
    assert_grads_match(ours, theirs, list(zip(ours_in, theirs_in)), tol)


def inputs_for(ours, rng, dtype, batch_first=False, with_hx=True, batched=True):
    """x and, with ``with_hx``, (h_0, c_0) of the shapes ``ours`` expects."""
    count = ours.num_layers * (2 if ours.bidirectional else 1)
    lead = ((B, T) if batch_first else (T, B)) if batched else (T,)
    state = (count, B) if batched else (count,)
    shapes = [(*lead, I)] + ([(*state, P), (*state, H)] if with_hx else [])
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


@pytest.mark.parametrize("with_hx", [True, False], ids=["hx", "no_hx"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq_first", "batch_first"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_stack_matches_torch(num_layers, bidirectional, batch_first, with_hx):
    kw = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    ours, theirs = make_pair(**kw)
    rng = np.random.default_rng(1)
    inputs = inputs_for(ours, rng, np.float32, batch_first, with_hx)
    check_against_torch(ours, theirs, inputs, TOL32)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", list(DTYPES))
def test_stack_matches_torch_per_dtype(dtype, bias):
    # float64 runs the NumPy gate math, float32 the compiled per-step one when numba is there
    ours, theirs = make_pair(dtype, num_layers=2, bidirectional=True, bias=bias)
    inputs = inputs_for(ours, np.random.default_rng(2), DTYPES[dtype][0])
    check_against_torch(ours, theirs, inputs, DTYPES[dtype][2])


@pytest.mark.parametrize("with_hx", [True, False])
def test_unbatched_input_matches_torch(with_hx):
    ours, theirs = make_pair(num_layers=2, bidirectional=True)
    inputs = inputs_for(ours, np.random.default_rng(3), np.float32, with_hx=with_hx, batched=False)
    check_against_torch(ours, theirs, inputs, TOL32)


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_packed_padded_batch_matches_torch(dtype):
    """Each sequence stops at its own length: outputs, last valid h and c, every gradient."""
    np_dtype, _, tol = DTYPES[dtype]
    ours, theirs = make_pair(dtype, num_layers=2, bidirectional=True, batch_first=True)
    rng = np.random.default_rng(4)
    lengths = [3, 5, 1, 4]
    x, h0, c0 = (rng.standard_normal(s).astype(np_dtype) for s in [(4, 5, I), (4, 4, P), (4, 4, H)])
    ins_o = [ours_tensor(a, requires_grad=True) for a in (x, h0, c0)]
    ins_t = [torch.tensor(a, requires_grad=True) for a in (x, h0, c0)]
    packed_o = rnn.pack_padded_sequence(ins_o[0], lengths, batch_first=True, enforce_sorted=False)
    packed_t = trnn.pack_padded_sequence(ins_t[0], lengths, batch_first=True, enforce_sorted=False)
    y_o, states_o = ours(packed_o, tuple(ins_o[1:]))
    y_t, states_t = theirs(packed_t, tuple(ins_t[1:]))
    assert isinstance(y_o, rnn.PackedSequence)
    out_o = rnn.pad_packed_sequence(y_o, batch_first=True)[0]
    out_t = trnn.pad_packed_sequence(y_t, batch_first=True)[0]
    outs_o, outs_t = [out_o, *states_o], [out_t, *states_t]
    for o, t in zip(outs_o, outs_t):
        assert o.shape == tuple(t.shape)
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), **tol)
    backward_both(outs_o, outs_t, seed=5)
    assert_grads_match(ours, theirs, list(zip(ins_o, ins_t)), tol)


def test_parameters_state_dict_and_init_match_torch():
    nl.manual_seed(0)
    for kw in (dict(num_layers=2, bidirectional=True), dict(bias=False, num_layers=2)):
        ours, theirs = LSTM(I, H, proj_size=P, **kw), torch.nn.LSTM(I, H, proj_size=P, **kw)
        assert [(k, v.shape) for k, v in ours.state_dict().items()] == [
            (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
        ]
        ours_groups = [[p.shape for p in group] for group in ours.all_weights]
        assert ours_groups == [[tuple(p.shape) for p in group] for group in theirs.all_weights]
        assert all(p.dtype == np.float32 for p in ours.parameters())
        values = np.abs(np.concatenate([p.numpy().ravel() for p in ours.parameters()]))
        assert 0.9 / math.sqrt(H) < values.max() <= 1 / math.sqrt(H)  # the bound uses H, not P


@pytest.mark.parametrize(
    "kw",
    [dict(), dict(num_layers=2, bias=False), dict(batch_first=True, dropout=0.5, num_layers=3)],
)
def test_repr_matches_torch(kw):
    assert repr(LSTM(I, H, proj_size=P, **kw)) == repr(torch.nn.LSTM(I, H, proj_size=P, **kw))
    assert repr(LSTM(I, H, **kw)) == repr(torch.nn.LSTM(I, H, **kw))


@pytest.mark.parametrize("proj_size", [H, H + 1, -1])
def test_bad_proj_size_raises_torch_error(proj_size):
    with pytest.raises(ValueError) as theirs:
        torch.nn.LSTM(I, H, proj_size=proj_size)
    with pytest.raises(ValueError, match=str(theirs.value)):
        LSTM(I, H, proj_size=proj_size)


def test_state_shapes_are_checked():
    ours = LSTM(I, H, num_layers=2, proj_size=P)
    x = nl.zeros(T, B, I)
    with pytest.raises(ValueError, match=r"h_0 of shape \(2, 3, 3\) .*proj_size"):
        ours(x, (nl.zeros(2, B, H), nl.zeros(2, B, H)))
    with pytest.raises(ValueError, match=r"c_0 of shape \(2, 3, 6\) .*hidden_size"):
        ours(x, (nl.zeros(2, B, P), nl.zeros(2, B, P)))
    with pytest.raises(ValueError, match=r"weight_hr \(3, 5\) \(expected \(3, 6\)\)"):
        lstm_recurrence(
            nl.zeros(T, B, 4 * H), nl.zeros(B, P), nl.zeros(B, H), nl.zeros(4 * H, P),
            weight_hr=nl.zeros(P, 5),
        )  # fmt: skip


def test_dropout_between_layers_only_in_training():
    ours, theirs = make_pair(num_layers=2, dropout=0.5)
    x = np.random.default_rng(6).standard_normal((T, B, I)).astype(np.float32)
    nl.manual_seed(0)
    train_a, train_b = (ours(nl.tensor(x))[0].numpy() for _ in range(2))
    assert not np.allclose(train_a, train_b)
    ours.eval()
    theirs.eval()
    evaluated = ours(nl.tensor(x))[0].numpy()
    np.testing.assert_allclose(evaluated, theirs(torch.tensor(x))[0].detach().numpy(), **TOL32)


def _op_inputs(seed, steps=4, batch=2, hidden=3, proj=2):
    rng = np.random.default_rng(seed)
    shapes = [(steps, batch, 4 * hidden), (batch, proj), (batch, hidden)]
    shapes += [(4 * hidden, proj), (4 * hidden,), (proj, hidden)]
    return [
        nl.tensor(rng.standard_normal(s) * 0.7, dtype=nl.float64, requires_grad=True)
        for s in shapes
    ]


@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck_projected_op(reverse):
    def fn(x, h, c, w, b, w_hr):
        return lstm_recurrence(x, h, c, w, b, reverse, weight_hr=w_hr)

    assert nl.gradcheck(fn, _op_inputs(seed=7))
    for k in range(3):  # the loss uses only the sequence, only h_n or only c_n
        assert nl.gradcheck(lambda *a, k=k: fn(*a)[k], _op_inputs(seed=8 + k, steps=3))
    x, h, c, w, b, w_hr = _op_inputs(seed=11)
    w_hr.requires_grad_(False)
    assert nl.gradcheck(lambda x, w: fn(x, h, c, w, None, w_hr), [x, w])


def test_projected_op_float32_inference_path_gives_the_same_values():
    inputs = [nl.tensor(t.numpy().astype(np.float32), requires_grad=True) for t in _op_inputs(12)]
    x, h, c, w, b, w_hr = inputs
    outs = lstm_recurrence(x, h, c, w, b, weight_hr=w_hr)
    with nl.no_grad():  # keeps two state slots instead of every step's
        again = lstm_recurrence(x, h, c, w, b, weight_hr=w_hr)
    for a, r in zip(outs, again):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a.numpy(), r.numpy())


def test_projection_leaves_the_compiled_sequence_path_to_proj_size_zero(monkeypatch):
    """proj_size > 0 never reaches the whole-sequence kernel; proj_size = 0 still does."""
    calls = []
    original = recurrent._LSTM.run

    def spy(self, *args):
        calls.append(type(self).__name__)
        return original(self, *args)

    monkeypatch.setattr(recurrent._LSTM, "run", spy)
    x = nl.tensor(np.random.default_rng(13).standard_normal((T, B, I)).astype(np.float32))
    make_pair()[0](x)
    assert calls == []
    LSTM(I, H)(x)
    compiled = load("neuralab.compiled.rnn_sequence") is not None  # needs numba and OpenBLAS
    assert calls == (["_LSTM"] if compiled else [])
