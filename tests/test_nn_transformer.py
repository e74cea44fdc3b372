"""MultiheadAttention and the transformer layers against PyTorch: values, masks and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab.nn.layers.attention import MultiheadAttention
from neuralab.nn.layers.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
    generate_square_subsequent_mask,
)

# Mixing a bool padding mask with a float attn_mask is tested on purpose; torch warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched:UserWarning")

TOL = dict(rtol=1e-4, atol=1e-5)
E, HEADS, L, S, B, FF = 8, 2, 4, 5, 3, 16
rng = np.random.default_rng(0)


def rand(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def copy_weights(ours, theirs) -> None:
    """Load torch's state_dict arrays into our module (same names, same shapes, same order)."""
    theirs_state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [
        (k, v.shape) for k, v in theirs_state.items()
    ]
    ours.load_state_dict(theirs_state)


def check_against_torch(ours, theirs, arrays, call, tol=TOL, grad=None):
    """``call(model, inputs, lib)`` on both sides: outputs, input and parameter gradients agree.

    ``call`` returns (output, extras...): the loss uses the output only, extras (attention
    weights) are compared by value.
    """
    copy_weights(ours, theirs)
    grad = grad or [True] * len(arrays)
    ours_in = [nl.tensor(a, requires_grad=g) for a, g in zip(arrays, grad)]
    theirs_in = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grad)]
    outs_o, outs_t = call(ours, ours_in, nl), call(theirs, theirs_in, torch)
    outs_o = outs_o if isinstance(outs_o, tuple) else (outs_o,)
    outs_t = outs_t if isinstance(outs_t, tuple) else (outs_t,)
    for o, t in zip(outs_o, outs_t):
        assert (o is None) == (t is None)
        if o is not None:
            assert o.shape == tuple(t.shape) and o.dtype == np.float32
            np.testing.assert_allclose(o.numpy(), t.detach().numpy(), **tol)
    g = np.random.default_rng(1).standard_normal(outs_o[0].shape).astype(np.float32)
    (outs_o[0] * nl.tensor(g)).sum().backward()
    (outs_t[0] * torch.tensor(g)).sum().backward()
    for k, (a, b) in enumerate(zip(ours_in, theirs_in)):
        if b.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), err_msg=f"input {k}", **tol)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        expected = theirs_params[name].grad
        expected = np.zeros(p.shape, np.float32) if expected is None else expected.numpy()
        np.testing.assert_allclose(p.grad.numpy(), expected, err_msg=name, **tol)


def bool_mask(*shape, p=0.3):
    """Random True = masked entries, leaving the first key always allowed (no all-masked row)."""
    m = rng.random(shape) < p
    m[..., 0] = False
    return m


# ----------------------------------------------------------------------------- MultiheadAttention


@pytest.mark.parametrize("average", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_self_attention(batch_first, average):
    theirs = torch.nn.MultiheadAttention(E, HEADS, batch_first=batch_first)
    ours = MultiheadAttention(E, HEADS, batch_first=batch_first)
    x = rand(B, L, E) if batch_first else rand(L, B, E)

    def call(m, ins, lib):
        return m(ins[0], ins[0], ins[0], average_attn_weights=average)

    check_against_torch(ours, theirs, [x], call)


MASKS = {
    "bool_padding_and_bool_mask": lambda: dict(
        key_padding_mask=bool_mask(B, S), attn_mask=bool_mask(L, S)
    ),
    "float_mask_3d": lambda: dict(attn_mask=rand(B * HEADS, L, S)),
    "bool_padding_float_mask": lambda: dict(key_padding_mask=bool_mask(B, S), attn_mask=rand(L, S)),
    "float_padding": lambda: dict(key_padding_mask=rand(B, S)),
    "bool_mask_3d": lambda: dict(attn_mask=bool_mask(B * HEADS, L, S)),
}


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("masks", list(MASKS))
def test_mha_cross_attention_with_masks(masks, need_weights):
    theirs = torch.nn.MultiheadAttention(E, HEADS)
    ours = MultiheadAttention(E, HEADS)
    mask_arrays = MASKS[masks]()

    def call(m, ins, lib):
        kw = {k: lib.tensor(v) for k, v in mask_arrays.items()}
        return m(ins[0], ins[1], ins[2], need_weights=need_weights, **kw)

    check_against_torch(ours, theirs, [rand(L, B, E), rand(S, B, E), rand(S, B, E)], call)


@pytest.mark.parametrize(
    "options",
    [
        dict(kdim=3, vdim=5),
        dict(bias=False),
        dict(add_bias_kv=True),
        dict(add_zero_attn=True),
        dict(add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=5),
    ],
    ids=["kdim_vdim", "no_bias", "bias_kv", "zero_attn", "all"],
)
def test_mha_options(options):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(E, HEADS, batch_first=True, **options)
    ours = MultiheadAttention(E, HEADS, batch_first=True, **options)
    kdim, vdim = options.get("kdim", E), options.get("vdim", E)
    padding, mask = bool_mask(B, S), rand(L, S)

    def call(m, ins, lib):
        return m(
            *ins, key_padding_mask=lib.tensor(padding), attn_mask=lib.tensor(mask),
            average_attn_weights=False,
        )  # fmt: skip

    check_against_torch(ours, theirs, [rand(B, L, E), rand(B, S, kdim), rand(B, S, vdim)], call)


@pytest.mark.parametrize("average", [True, False])
def test_mha_unbatched(average):
    theirs, ours = torch.nn.MultiheadAttention(E, HEADS), MultiheadAttention(E, HEADS)
    padding, mask = bool_mask(S), bool_mask(HEADS, L, S)

    def call(m, ins, lib):
        return m(
            *ins, key_padding_mask=lib.tensor(padding), attn_mask=lib.tensor(mask),
            average_attn_weights=average,
        )  # fmt: skip

    check_against_torch(ours, theirs, [rand(L, E), rand(S, E), rand(S, E)], call)


def test_mha_float_mask_receives_gradient():
    theirs, ours = torch.nn.MultiheadAttention(E, HEADS), MultiheadAttention(E, HEADS)

    def call(m, ins, lib):
        return m(ins[0], ins[1], ins[1], attn_mask=ins[2])

    check_against_torch(ours, theirs, [rand(L, B, E), rand(S, B, E), rand(L, S)], call)


def test_mha_init_and_names_match_torch():
    nl.manual_seed(0)
    ours, theirs = MultiheadAttention(E, HEADS), torch.nn.MultiheadAttention(E, HEADS)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    bound = np.sqrt(6 / (E + 3 * E))
    w = ours.in_proj_weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert not ours.in_proj_bias.numpy().any() and not ours.out_proj.bias.numpy().any()
    separate = MultiheadAttention(E, HEADS, kdim=3, vdim=5, add_bias_kv=True)
    assert separate.in_proj_weight is None
    assert separate.k_proj_weight.shape == (E, 3) and separate.bias_k.shape == (1, 1, E)


def test_mha_dropout_only_in_training():
    theirs = torch.nn.MultiheadAttention(E, HEADS, dropout=0.5)
    ours = MultiheadAttention(E, HEADS, dropout=0.5)
    copy_weights(ours, theirs)
    x = nl.tensor(rand(L, B, E))
    nl.manual_seed(0)
    a, wa = ours(x, x, x)
    b, _ = ours(x, x, x)
    assert not np.allclose(a.numpy(), b.numpy())
    assert (wa.numpy() == 0).any()  # dropped weights are returned as zeros, like torch
    ours.eval()
    theirs.eval()
    x_t = torch.tensor(x.numpy())
    expected = theirs(x_t, x_t, x_t)[0].detach().numpy()
    np.testing.assert_allclose(ours(x, x, x)[0].numpy(), expected, **TOL)


def test_mha_errors_name_the_problem():
    with pytest.raises(ValueError, match="divisible"):
        MultiheadAttention(7, 2)
    m = MultiheadAttention(E, HEADS)
    q = nl.tensor(rand(L, B, E))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 3\)"):
        m(q, q, q, attn_mask=nl.zeros(3, 3))
    with pytest.raises(ValueError, match=r"key_padding_mask of shape \(4, 4\)"):
        m(q, q, q, key_padding_mask=nl.zeros(4, 4))
    with pytest.raises(RuntimeError, match="is_causal"):
        m(q, q, q, is_causal=True)
    with pytest.raises(ValueError, match="embed_dim=8"):
        m(nl.tensor(rand(L, B, 5)), q, q)
    with pytest.raises(TypeError, match="dtype"):
        m(q.double(), q.double(), q.double())


# ----------------------------------------------------------------------------- transformer layers

LAYER_VARIANTS = [
    (norm_first, activation) for norm_first in (False, True) for activation in ("relu", "gelu")
]


@pytest.mark.parametrize("norm_first,activation", LAYER_VARIANTS)
def test_encoder_layer(norm_first, activation):
    kw = dict(dim_feedforward=FF, activation=activation, norm_first=norm_first, batch_first=True)
    theirs = torch.nn.TransformerEncoderLayer(E, HEADS, **kw).eval()
    ours = TransformerEncoderLayer(E, HEADS, **kw).eval()
    causal = generate_square_subsequent_mask(L).numpy()
    padding = bool_mask(B, L)

    def call(m, ins, lib):
        mask = lib.tensor(causal)
        return m(ins[0], src_mask=mask, src_key_padding_mask=lib.tensor(padding), is_causal=True)

    check_against_torch(ours, theirs, [rand(B, L, E)], call)


@pytest.mark.parametrize("norm_first,activation", LAYER_VARIANTS)
def test_decoder_layer(norm_first, activation):
    kw = dict(dim_feedforward=FF, activation=activation, norm_first=norm_first)
    theirs = torch.nn.TransformerDecoderLayer(E, HEADS, **kw).eval()
    ours = TransformerDecoderLayer(E, HEADS, **kw).eval()
    causal = generate_square_subsequent_mask(L).numpy()
    tgt_padding, memory_padding, memory_mask = bool_mask(B, L), bool_mask(B, S), rand(L, S)

    def call(m, ins, lib):
        return m(
            ins[0], ins[1], tgt_mask=lib.tensor(causal), memory_mask=lib.tensor(memory_mask),
            tgt_key_padding_mask=lib.tensor(tgt_padding),
            memory_key_padding_mask=lib.tensor(memory_padding), tgt_is_causal=True,
        )  # fmt: skip

    check_against_torch(ours, theirs, [rand(L, B, E), rand(S, B, E)], call)


def test_encoder_two_layers_with_norm():
    layer_t = torch.nn.TransformerEncoderLayer(E, HEADS, FF, batch_first=True)
    theirs = torch.nn.TransformerEncoder(
        layer_t, 2, norm=torch.nn.LayerNorm(E), enable_nested_tensor=False
    ).eval()
    layer_o = TransformerEncoderLayer(E, HEADS, FF, batch_first=True)
    ours = TransformerEncoder(layer_o, 2, norm=nl.nn.LayerNorm(E)).eval()
    padding = bool_mask(B, L)

    def call(m, ins, lib):
        return m(ins[0], src_key_padding_mask=lib.tensor(padding))

    check_against_torch(ours, theirs, [rand(B, L, E)], call)
    # deep copies: the stacked layers own independent parameters, not the template's
    assert ours.layers[0].linear1.weight is not ours.layers[1].linear1.weight
    assert ours.layers[0].linear1.weight is not layer_o.linear1.weight
    with nl.no_grad():
        ours.layers[0].linear1.weight.fill_(0.0)
    assert ours.layers[1].linear1.weight.numpy().any()


def test_decoder_two_layers_and_full_transformer():
    theirs = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(E, HEADS, FF), 2).eval()
    ours = TransformerDecoder(TransformerDecoderLayer(E, HEADS, FF), 2).eval()
    causal = generate_square_subsequent_mask(L).numpy()

    def call(m, ins, lib):
        return m(ins[0], ins[1], tgt_mask=lib.tensor(causal))

    check_against_torch(ours, theirs, [rand(L, B, E), rand(S, B, E)], call)

    kw = dict(num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=FF, batch_first=True)
    theirs = torch.nn.Transformer(E, HEADS, **kw).eval()
    ours = Transformer(E, HEADS, **kw).eval()

    def call_full(m, ins, lib):
        return m(ins[0], ins[1], tgt_mask=lib.tensor(causal))

    check_against_torch(ours, theirs, [rand(B, S, E), rand(B, L, E)], call_full)


def test_callable_activation_and_dropout_in_training():
    theirs = torch.nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.3, activation=torch.tanh)
    ours = TransformerEncoderLayer(E, HEADS, FF, dropout=0.3, activation=nl.tanh)
    copy_weights(ours, theirs)
    x = nl.tensor(rand(L, B, E))
    nl.manual_seed(0)
    assert not np.allclose(ours(x).numpy(), ours(x).numpy())
    expected = theirs.eval()(torch.tensor(x.numpy())).detach().numpy()
    np.testing.assert_allclose(ours.eval()(x).numpy(), expected, **TOL)
    with pytest.raises(RuntimeError, match="relu/gelu"):
        TransformerEncoderLayer(E, HEADS, activation="swish")


def test_generate_square_subsequent_mask_matches_torch():
    ours = generate_square_subsequent_mask(5)
    theirs = torch.nn.Transformer.generate_square_subsequent_mask(5)
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert Transformer.generate_square_subsequent_mask(2, dtype=nl.float64).dtype == np.float64


# ----------------------------------------------------------------------------- float64 gradcheck


def _functional(module, names, call):
    """fn(*inputs, *params) running ``call(module, inputs)`` with the given tensors as params."""

    def fn(*tensors):
        inputs, params = tensors[: len(tensors) - len(names)], tensors[len(tensors) - len(names) :]
        for name, p in zip(names, params):
            owner = module
            *path, leaf = name.split(".")
            for part in path:
                owner = getattr(owner, part)
            owner._parameters[leaf] = p
        return call(module, inputs)

    return fn


def _gradcheck(module, inputs, call):
    module.double()
    names = [n for n, _ in module.named_parameters()]
    params = [nl.tensor(p.numpy(), requires_grad=True) for p in module.parameters()]
    inputs = [nl.tensor(a.astype(np.float64), requires_grad=True) for a in inputs]
    assert nl.gradcheck(_functional(module, names, call), [*inputs, *params])


def test_gradcheck_mha_float64():
    m = MultiheadAttention(4, 2, add_bias_kv=True, kdim=3)
    padding = nl.tensor(bool_mask(2, 3))
    _gradcheck(
        m,
        [rand(2, 2, 4), rand(3, 2, 3), rand(3, 2, 4), rand(2, 3)],
        lambda m, x: m(x[0], x[1], x[2], key_padding_mask=padding, attn_mask=x[3])[0],
    )


@pytest.mark.parametrize("norm_first", [False, True])
def test_gradcheck_encoder_layer_float64(norm_first):
    m = TransformerEncoderLayer(4, 2, 6, activation="gelu", norm_first=norm_first).eval()
    mask = generate_square_subsequent_mask(3, dtype=nl.float64)
    _gradcheck(m, [rand(3, 2, 4)], lambda m, x: m(x[0], src_mask=mask))


def test_gradcheck_decoder_layer_float64():
    m = TransformerDecoderLayer(4, 2, 6, norm_first=True).eval()
    padding = nl.tensor(bool_mask(2, 3))
    _gradcheck(
        m,
        [rand(2, 2, 4), rand(3, 2, 4)],
        lambda m, x: m(x[0], x[1], memory_key_padding_mask=padding),
    )
