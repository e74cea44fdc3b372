"""torch's top-level names that alias or thinly wrap functions neuralab already has (torch.conv3d,
torch.batch_norm in ATen's argument order, torch.kl_div with an int reduction, the *_copy
functions, torch.lu_solve, ...): values, dtypes and gradients against torch on the same inputs,
and an error where torch raises."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from oracle import compare

import neuralab as nl
import neuralab.nn.functional as F

rng = np.random.default_rng(7)
DTYPES = [np.float32, np.float64]


def randn(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def both(fn_name: str):
    """The function of that name in neuralab and in torch."""
    return getattr(nl, fn_name), getattr(torch, fn_name)


# ----------------------------------------------------------------------------- the names


NAMES = """conv3d conv_transpose1d conv_transpose3d max_pool3d max_pool1d_with_indices
adaptive_max_pool1d embedding batch_norm instance_norm kl_div ctc_loss
binary_cross_entropy_with_logits poisson_nll_loss margin_ranking_loss triplet_margin_loss
hinge_embedding_loss cosine_embedding_loss channel_shuffle constant_pad_nd dropout_ alpha_dropout_
feature_alpha_dropout_ feature_dropout feature_dropout_ gru_cell lstm_cell rnn_tanh_cell
rnn_relu_cell fill newaxis typename adjoint cholesky_solve cholesky_inverse lu_solve lu_unpack
triangular_solve frobenius_norm nuclear_norm is_inference set_warn_always is_warn_always_enabled
is_anomaly_enabled set_anomaly_enabled unsafe_chunk unsafe_split unsafe_split_with_sizes view_copy
permute_copy transpose_copy t_copy squeeze_copy unsqueeze_copy expand_copy select_copy slice_copy
diagonal_copy detach_copy alias_copy split_copy split_with_sizes_copy unbind_copy unfold_copy
narrow_copy as_strided_copy gcd_ lcm_ ldexp_ binomial empty_strided index_reduce
nonzero_static""".split()


def test_every_name_is_there_and_listed_by_dir():
    missing = [n for n in NAMES if not hasattr(nl, n)]
    assert not missing
    assert set(NAMES) <= set(dir(nl))
    assert nl.newaxis is torch.newaxis is None


@pytest.mark.parametrize(
    "name", ["conv3d", "conv_transpose1d", "conv_transpose3d", "max_pool3d", "channel_shuffle"]
)
def test_plain_aliases_are_the_functional_functions(name):
    assert getattr(nl, name) is getattr(F, name)


# ----------------------------------------------------------------------------- convolution, pooling


@pytest.mark.parametrize("dtype", DTYPES)
def test_convolutions_take_torchs_positional_arguments(dtype):
    x, w, b = randn(2, 4, 5, 4, 6), randn(6, 2, 2, 3, 2), randn(6)
    compare(
        lambda *a: nl.conv3d(*a, 1, 1, 1, 2), lambda *a: torch.conv3d(*a, 1, 1, 1, 2), [x, w, b],
        dtype,
    )  # fmt: skip
    x, w = randn(2, 4, 7), randn(4, 3, 3)
    compare(
        lambda *a: nl.conv_transpose1d(*a, None, 2, 1, 1), lambda *a: torch.conv_transpose1d(*a, None, 2, 1, 1),
        [x, w], dtype,
    )  # fmt: skip
    x, w = randn(1, 2, 3, 4, 3), randn(2, 3, 2, 2, 3)
    compare(
        lambda *a: nl.conv_transpose3d(*a, None, 2), lambda *a: torch.conv_transpose3d(*a, None, 2),
        [x, w], dtype,
    )  # fmt: skip


def test_conv3d_refuses_a_4d_weight_as_torch_does():
    with pytest.raises(RuntimeError):
        torch.conv3d(torch.randn(1, 2, 4, 4, 4), torch.randn(3, 2, 2, 2))
    with pytest.raises(ValueError, match="conv3d: weight must be 5-D"):
        nl.conv3d(nl.randn(1, 2, 4, 4, 4), nl.randn(3, 2, 2, 2))


@pytest.mark.parametrize("dtype", DTYPES)
def test_pooling(dtype):
    x = randn(2, 3, 5, 6, 4)
    compare(lambda a: nl.max_pool3d(a, 2, 1, 1), lambda a: torch.max_pool3d(a, 2, 1, 1), [x], dtype)
    x = randn(2, 3, 9)
    compare(
        lambda a: nl.max_pool1d_with_indices(a, 3, 2, 1),
        lambda a: torch.max_pool1d_with_indices(a, 3, 2, 1), [x], dtype,
    )  # fmt: skip
    # torch's top-level adaptive_max_pool1d returns the indices too
    ours = nl.adaptive_max_pool1d(nl.tensor(x), 4)
    theirs = torch.adaptive_max_pool1d(torch.tensor(x), 4)
    assert len(ours) == len(theirs) == 2
    compare(
        lambda a: nl.adaptive_max_pool1d(a, 4)[0], lambda a: torch.adaptive_max_pool1d(a, 4)[0],
        [x], dtype,
    )  # fmt: skip
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())


def test_channel_shuffle_and_constant_pad_nd():
    x = randn(2, 6, 3)
    compare(lambda a: nl.channel_shuffle(a, 3), lambda a: torch.channel_shuffle(a, 3), [x])
    for pad, value in [((1, 2), 0.0), ((-1, 2, 1, 0), 5.0), ((0, 0, -1, -1), 0.0)]:
        compare(
            lambda a, pad=pad, value=value: nl.constant_pad_nd(a, pad, value),
            lambda a, pad=pad, value=value: torch.constant_pad_nd(a, pad, value), [randn(2, 3, 4)],
        )  # fmt: skip
    compare(
        lambda a: nl.constant_pad_nd(a, [1, 1]), lambda a: torch.constant_pad_nd(a, [1, 1]), [x]
    )
    with pytest.raises(RuntimeError, match="divisible by groups"):
        torch.channel_shuffle(torch.randn(1, 6, 2), 4)
    with pytest.raises(ValueError, match="divisible by groups=4"):
        nl.channel_shuffle(nl.randn(1, 6, 2), 4)
    with pytest.raises(RuntimeError, match="must be even"):
        torch.constant_pad_nd(torch.ones(2, 3), (1,))
    with pytest.raises(ValueError, match="must have an even length"):
        nl.constant_pad_nd(nl.ones(2, 3), (1,))


# ----------------------------------------------------------------------------- embedding, norms


@pytest.mark.parametrize("padding_idx", [-1, -2, 0, 3])
@pytest.mark.parametrize("scale", [False, True])
def test_embedding_takes_the_table_first(padding_idx, scale):
    ids = np.array([[0, 3, 3], [4, 1, 3]])
    compare(
        lambda w, i: nl.embedding(w, i, padding_idx, scale),
        lambda w, i: torch.embedding(w, i, padding_idx, scale), [randn(5, 3), ids],
    )  # fmt: skip


def test_embedding_refuses_float_indices():
    with pytest.raises(RuntimeError, match="indices"):
        torch.embedding(torch.randn(5, 3), torch.tensor([0.5]))
    with pytest.raises(TypeError, match="indices must have an integer dtype"):
        nl.embedding(nl.randn(5, 3), nl.tensor([0.5]))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("name", ["batch_norm", "instance_norm"])
def test_norms_take_atens_argument_order(name, training):
    ours_fn, theirs_fn = both(name)
    x, w, b = randn(4, 3, 5), randn(3), randn(3)
    mean, var = rng.standard_normal(3).astype(np.float32), rng.uniform(0.5, 2, 3).astype(np.float32)
    stats_o = [nl.tensor(mean.copy()), nl.tensor(var.copy())]
    stats_t = [torch.tensor(mean.copy()), torch.tensor(var.copy())]
    compare(
        lambda *a: ours_fn(*a, *stats_o, training, 0.3, 1e-4, False),
        lambda *a: theirs_fn(*a, *stats_t, training, 0.3, 1e-4, False), [x, w, b],
    )  # fmt: skip
    for o, t in zip(stats_o, stats_t):  # the running statistics moved alike
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-5, atol=1e-6)


def test_norms_without_running_statistics():
    x = randn(4, 3, 5)
    for name in ("batch_norm", "instance_norm"):
        ours_fn, theirs_fn = both(name)
        compare(
            lambda a, f=ours_fn: f(a, None, None, None, None, True, 0.1, 1e-5, False),
            lambda a, f=theirs_fn: f(a, None, None, None, None, True, 0.1, 1e-5, False), [x],
        )  # fmt: skip
        with pytest.raises(RuntimeError, match="running_mean"):
            theirs_fn(torch.tensor(x), None, None, None, None, False, 0.1, 1e-5, False)
        with pytest.raises(ValueError, match="running_mean and running_var must be given"):
            ours_fn(nl.tensor(x), None, None, None, None, False, 0.1, 1e-5, False)


def test_batch_norm_needs_every_argument_as_torchs():
    with pytest.raises(TypeError):
        torch.batch_norm(torch.randn(4, 3), None, None, None, None, True, 0.1, 1e-5)
    with pytest.raises(TypeError):
        nl.batch_norm(nl.randn(4, 3), None, None, None, None, True, 0.1, 1e-5)


# ----------------------------------------------------------------------------- losses


def _probs(*shape: int) -> np.ndarray:
    return rng.uniform(0.05, 1.0, shape)


LOSSES = {
    "kl_div": ([randn(3, 4), _probs(3, 4)], {}),
    "binary_cross_entropy_with_logits": (
        [randn(3, 4), rng.uniform(0, 1, (3, 4))], {"pos": (None, None)}
    ),
    "margin_ranking_loss": ([randn(6), randn(6), np.sign(randn(6))], {"pos": (0.3,)}),
    "hinge_embedding_loss": ([randn(6), np.sign(randn(6))], {"pos": (0.7,)}),
    "cosine_embedding_loss": ([randn(5, 3), randn(5, 3), np.sign(randn(5))], {"pos": (0.2,)}),
    "triplet_margin_loss": ([randn(5, 3), randn(5, 3), randn(5, 3)], {"pos": (0.5, 1.5, 1e-6, True)}),
}  # fmt: skip


@pytest.mark.parametrize("reduction", [0, 1, 2])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_take_the_reduction_as_an_int(name, reduction):
    arrays, options = LOSSES[name]
    ours_fn, theirs_fn = both(name)
    pos = options.get("pos", ())
    grad = [a.dtype.kind == "f" and not set(np.unique(a)) <= {-1.0, 1.0} for a in arrays]
    for dtype in DTYPES:
        compare(
            lambda *a: ours_fn(*a, *pos, reduction), lambda *a: theirs_fn(*a, *pos, reduction),
            arrays, dtype, grad=grad,
        )  # fmt: skip


@pytest.mark.parametrize("reduction", [0, 1, 2])
def test_kl_div_log_target_and_poisson_nll_loss(reduction):
    arrays = [randn(3, 4), np.log(_probs(3, 4))]
    compare(
        lambda *a: nl.kl_div(a[0], a[1], reduction, log_target=True),
        lambda *a: torch.kl_div(a[0], a[1], reduction, log_target=True), arrays,
    )  # fmt: skip
    counts = rng.integers(0, 5, (3, 4)).astype(float)
    for log_input, rate in ((True, randn(3, 4)), (False, _probs(3, 4) * 3)):
        compare(
            lambda x, t, log=log_input: nl.poisson_nll_loss(x, t, log, True, 1e-6, reduction),
            lambda x, t, log=log_input: torch.poisson_nll_loss(x, t, log, True, 1e-6, reduction),
            [rate, counts], grad=[True, False],
        )  # fmt: skip


def test_kl_div_mean_is_the_elementwise_mean_without_fs_warning():
    x, t = nl.randn(3, 4), nl.rand(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = nl.kl_div(x, t)
    assert np.isclose(loss.item(), nl.kl_div(x, t, 0).mean().item())


def test_a_reduction_name_is_refused_as_torch_refuses_it():
    with pytest.raises(TypeError, match="reduction"):
        torch.kl_div(torch.randn(3), torch.rand(3), "mean")
    with pytest.raises(TypeError, match="kl_div: reduction must be an int"):
        nl.kl_div(nl.randn(3), nl.rand(3), "mean")
    with pytest.raises(ValueError, match=r"0 \(none\), 1 \(mean\) or 2 \(sum\), got 5"):
        nl.margin_ranking_loss(nl.randn(3), nl.randn(3), nl.ones(3), 0.0, 5)


@pytest.mark.parametrize("reduction", [0, 1, 2])
def test_ctc_loss(reduction):
    T, N, C, S = 8, 3, 5, 3
    log_probs = torch.randn(T, N, C).log_softmax(2).detach().numpy()
    targets = rng.integers(1, C, (N, S))
    in_lens, tgt_lens = [8, 7, 6], [3, 2, 3]
    compare(
        lambda lp, t: nl.ctc_loss(lp, t, in_lens, tgt_lens, 0, reduction, False),
        lambda lp, t: torch.ctc_loss(lp, t, in_lens, tgt_lens, 0, reduction, False),
        [log_probs, targets], np.float64,
    )  # fmt: skip


# ----------------------------------------------------------------------------- dropout


@pytest.mark.parametrize(
    "name", ["dropout_", "alpha_dropout_", "feature_alpha_dropout_", "feature_dropout_"]
)
def test_in_place_dropouts(name):
    ours_fn, theirs_fn = both(name)
    x, t = nl.ones(4, 3, 5), torch.ones(4, 3, 5)
    assert ours_fn(x, 0.5, False) is x and theirs_fn(t, 0.5, False) is t  # eval: unchanged
    assert x.tolist() == t.tolist()
    for p in (0.0, 1.0):  # no randomness: the same values as torch
        x, t = nl.ones(4, 3, 5), torch.ones(4, 3, 5)
        assert ours_fn(x, p, True) is x and theirs_fn(t, p, True) is t
        np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-6, atol=1e-6)
    x = nl.ones(4, 3, 5)
    out = ours_fn(x, 0.5, True)
    assert out is x and len(np.unique(x.numpy())) == 2
    with pytest.raises(RuntimeError, match="leaf"):
        theirs_fn(torch.ones(2, 3, requires_grad=True), 0.5, True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        ours_fn(nl.ones(2, 3, requires_grad=True), 0.5, True)


@pytest.mark.parametrize("name", ["dropout", "alpha_dropout", "feature_alpha_dropout"])
def test_top_level_dropouts_take_atens_train_keyword(name):
    ours_fn, theirs_fn = both(name)
    x, t = nl.ones(4, 3, 5), torch.ones(4, 3, 5)
    assert ours_fn(x, p=0.5, train=False).tolist() == theirs_fn(t, p=0.5, train=False).tolist()
    for p in (0.0, 1.0):  # no randomness: the same values as torch
        np.testing.assert_allclose(
            ours_fn(x, p, train=True).numpy(), theirs_fn(t, p, train=True).numpy(), atol=1e-6
        )
    assert len(np.unique(ours_fn(x, 0.5, train=True).numpy())) == 2


def test_t_refuses_more_than_two_dimensions_as_torch():
    with pytest.raises(RuntimeError, match="expects a tensor with <= 2 dimensions"):
        torch.randn(2, 3, 4).t()
    for call in (lambda x: x.t(), nl.t, nl.t_copy, lambda x: x.t_()):
        with pytest.raises(ValueError, match=r"at most 2 dimensions, got shape \(2, 3, 4\)"):
            call(nl.randn(2, 3, 4))
    assert nl.t(nl.randn(3)).shape == (3,) and nl.randn(2, 3).t().shape == (3, 2)


@pytest.mark.parametrize("dtype", ["int32", "float64", "float16", "uint8", "int16", "float32"])
def test_view_as_another_dtype_reads_the_same_bytes(dtype):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    ours = nl.from_numpy(a).requires_grad_().view(getattr(nl, dtype))
    theirs = torch.from_numpy(a).requires_grad_().view(getattr(torch, dtype))
    assert ours.shape == tuple(theirs.shape) and not (ours.requires_grad or theirs.requires_grad)
    assert ours.numpy().tobytes() == theirs.numpy().tobytes()


def test_view_as_a_dtype_of_another_size_needs_a_contiguous_last_dimension():
    with pytest.raises(RuntimeError, match="must be 1 to view Float as Half"):
        torch.randn(2, 4).t().view(torch.float16)
    with pytest.raises(ValueError, match=r"shape \(4, 2\) must have a contiguous last dimension"):
        nl.randn(2, 4).t().view(nl.float16)
    assert nl.randn(2, 4).t().view(nl.int32).shape == (4, 2)  # same item size: any layout
    with pytest.raises(ValueError, match=r"cannot read shape \(3,\) float32 as float64"):
        nl.randn(3).view(nl.float64)


def test_feature_dropout_zeroes_whole_channels_and_keeps_the_gradient_mask():
    x = nl.ones(6, 8, 4, requires_grad=True)
    out = nl.feature_dropout(x, 0.5, True)
    values = out.detach().numpy()
    assert set(np.unique(values)) == {0.0, 2.0}
    assert (values == values[..., :1]).all()  # one mask value per (sample, channel)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)
    assert nl.feature_dropout(x, 0.5, False) is x
    assert torch.feature_dropout(torch.ones(3), 0.5, False).tolist() == [1.0] * 3
    assert nl.feature_dropout(nl.ones(3), 0.5, False).tolist() == [1.0] * 3
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        torch.feature_dropout(torch.ones(3), 0.5, True)
    with pytest.raises(ValueError, match="at least 2 dims"):
        nl.feature_dropout(nl.ones(3), 0.5, True)
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        torch.dropout_(torch.ones(2), 1.5, True)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nl.dropout_(nl.ones(2), 1.5, True)


# ----------------------------------------------------------------------------- recurrent cells


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "name, gates", [("rnn_tanh_cell", 1), ("rnn_relu_cell", 1), ("gru_cell", 3)]
)
def test_cells(name, gates, dtype):
    ours_fn, theirs_fn = both(name)
    B, I, H = 3, 4, 5
    arrays = [randn(B, I), randn(B, H), randn(gates * H, I), randn(gates * H, H)]
    compare(ours_fn, theirs_fn, arrays, dtype)
    compare(ours_fn, theirs_fn, arrays + [randn(gates * H), randn(gates * H)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_cell(dtype):
    B, I, H = 3, 4, 5
    arrays = [
        randn(B, I),
        randn(B, H),
        randn(B, H),
        randn(4 * H, I),
        randn(4 * H, H),
        randn(4 * H),
        randn(4 * H),
    ]
    compare(
        lambda x, h, c, *w: nl.lstm_cell(x, (h, c), *w),
        lambda x, h, c, *w: torch.lstm_cell(x, (h, c), *w), arrays, dtype,
    )  # fmt: skip
    compare(
        lambda x, h, c, *w: nl.lstm_cell(x, [h, c], *w[:2]),
        lambda x, h, c, *w: torch.lstm_cell(x, [h, c], *w[:2]), arrays, dtype,
    )  # fmt: skip


def test_cells_refuse_what_torch_refuses():
    with pytest.raises(RuntimeError, match="two hidden states"):
        torch.lstm_cell(
            torch.randn(2, 3), [torch.randn(2, 4)], torch.randn(16, 3), torch.randn(16, 4)
        )
    with pytest.raises(ValueError, match="two hidden states"):
        nl.lstm_cell(nl.randn(2, 3), [nl.randn(2, 4)], nl.randn(16, 3), nl.randn(16, 4))
    with pytest.raises(IndexError):
        torch.rnn_tanh_cell(torch.randn(3), torch.randn(4), torch.randn(4, 3), torch.randn(4, 4))
    with pytest.raises(ValueError, match=r"expected input \(B, I\) and states \(B, H\)"):
        nl.rnn_tanh_cell(nl.randn(3), nl.randn(4), nl.randn(4, 3), nl.randn(4, 4))
    with pytest.raises(RuntimeError, match="hidden_size"):
        torch.gru_cell(torch.randn(2, 3), torch.randn(2, 4), torch.randn(12, 3), torch.randn(12, 3))
    with pytest.raises(ValueError, match=r"weight_hh \(12, 3\) \(expected \(12, 4\)\)"):
        nl.gru_cell(nl.randn(2, 3), nl.randn(2, 4), nl.randn(12, 3), nl.randn(12, 3))


# ----------------------------------------------------------------------------- small functions


@pytest.mark.parametrize("dtype", DTYPES)
def test_fill(dtype):
    compare(
        lambda x, v: nl.fill(x, v),
        lambda x, v: torch.fill(x, v),
        [randn(2, 3), np.array(1.5)],
        dtype,
    )
    compare(lambda x: nl.fill(x, -2.0), lambda x: torch.fill(x, -2.0), [randn(4)], dtype)
    ints = np.array([1, 2, 3])
    assert nl.fill(nl.tensor(ints), 2.7).tolist() == torch.fill(torch.tensor(ints), 2.7).tolist()
    with pytest.raises(RuntimeError, match="0-dimension value tensor"):
        torch.fill(torch.ones(2), torch.ones(2))
    with pytest.raises(ValueError, match="value must be a number or a 0-d tensor"):
        nl.fill(nl.ones(2), nl.ones(2))


def test_newaxis_indexes_as_torchs():
    x = np.arange(6.0).reshape(2, 3)
    assert nl.tensor(x)[:, nl.newaxis].shape == tuple(torch.tensor(x)[:, torch.newaxis].shape)


def test_typename():
    pairs = [(nl.float32, torch.float32), (nl.float64, torch.float64), (nl.int64, torch.int64),
             (nl.bool, torch.bool), (nl.float16, torch.float16), (nl.uint8, torch.uint8)]  # fmt: skip
    for ours, theirs in pairs:
        assert nl.typename(nl.ones(2, dtype=ours)) == torch.typename(torch.ones(2, dtype=theirs))
    assert nl.typename(nl.nn.Parameter(nl.ones(2))) == "torch.FloatTensor"
    for obj in (3, len, "x", np.ndarray, warnings.warn):
        assert nl.typename(obj) == torch.typename(obj)
    assert (
        nl.typename(nl.nn.Linear)
        == nl.typename(nl.nn.Linear(1, 1))
        == (f"{nl.nn.Linear.__module__}.Linear")
    )  # torch's: torch.nn.modules.linear.Linear
    with pytest.raises(TypeError):
        torch.typename()
    with pytest.raises(TypeError):
        nl.typename()


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4)])
def test_adjoint(shape):
    compare(nl.adjoint, torch.adjoint, [randn(*shape)])
    x = nl.tensor(randn(*shape))
    assert np.shares_memory(x.adjoint().numpy(), x.numpy())  # a view, as torch's
    ints = np.arange(6).reshape(2, 3)
    assert nl.adjoint(nl.tensor(ints)).tolist() == torch.adjoint(torch.tensor(ints)).tolist()
    with pytest.raises(RuntimeError, match="only supported on matrices"):
        torch.adjoint(torch.ones(3))
    with pytest.raises(ValueError, match="expected a matrix or a batch of matrices"):
        nl.adjoint(nl.ones(3))


def test_frobenius_and_nuclear_norms():
    x = randn(2, 3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation warnings
        for dim, keepdim in [(1, False), ((1, 2), True), ((0, 2), False)]:
            compare(
                lambda a, dim=dim, keep=keepdim: nl.frobenius_norm(a, dim, keep),
                lambda a, dim=dim, keep=keepdim: torch.frobenius_norm(a, dim, keep), [x],
            )  # fmt: skip
        for args in [(), (True,), ((0, 2),), ((0, 2), True)]:
            for dtype in DTYPES:
                compare(
                    lambda a, args=args: nl.nuclear_norm(a, *args),
                    lambda a, args=args: torch.nuclear_norm(a, *args),
                    [x], dtype,
                )  # fmt: skip
        compare(
            lambda a: nl.nuclear_norm(a, keepdim=True),
            lambda a: torch.nuclear_norm(a, keepdim=True),
            [x[0]],
        )
        with pytest.raises(RuntimeError, match="at most 2 dimensions"):
            torch.frobenius_norm(torch.tensor(x), (0, 1, 2))
        with pytest.raises(ValueError, match="at most 2 dimensions"):
            nl.frobenius_norm(nl.tensor(x), (0, 1, 2))


def test_is_inference():
    assert nl.is_inference(nl.ones(2)) is torch.is_inference(torch.ones(2)) is False
    assert nl.ones(2).is_inference() is False
    with nl.inference_mode():  # torch's would be an inference tensor (docs/porting.md)
        assert nl.is_inference(nl.ones(2)) is False
    with pytest.raises(TypeError):
        torch.is_inference([1.0])
    with pytest.raises(AttributeError):
        nl.is_inference([1.0])


def test_warn_always_and_anomaly_flags_round_trip():
    for module in (nl, torch):
        assert module.is_warn_always_enabled() is False
        module.set_warn_always(True)
        assert module.is_warn_always_enabled() is True
        module.set_warn_always(False)
        assert module.is_anomaly_enabled() is False
        module.set_anomaly_enabled(True)
        assert module.is_anomaly_enabled() is True
        module.set_anomaly_enabled(False, False)
        assert module.is_anomaly_enabled() is False
        with pytest.raises(TypeError):
            module.set_anomaly_enabled()
    with pytest.raises(RuntimeError, match="expects a bool"):
        torch.set_warn_always(1)
    with pytest.raises(TypeError, match="expects a bool, but got int"):
        nl.set_warn_always(1)


# ----------------------------------------------------------------------------- splits and copies


def test_unsafe_splits():
    x = randn(2, 7, 3)
    for ours, theirs in [
        (lambda a: nl.unsafe_chunk(a, 3, 1), lambda a: torch.unsafe_chunk(a, 3, 1)),
        (lambda a: nl.unsafe_split(a, 2, 1), lambda a: torch.unsafe_split(a, 2, 1)),
        (lambda a: nl.unsafe_split_with_sizes(a, [4, 1, 2], 1),
         lambda a: torch.unsafe_split_with_sizes(a, [4, 1, 2], 1)),
        (lambda a: a.unsafe_split(3, -1), lambda a: a.unsafe_split(3, -1)),
    ]:  # fmt: skip
        compare(ours, theirs, [x])
    with pytest.raises(RuntimeError, match="sum exactly"):
        torch.unsafe_split_with_sizes(torch.tensor(x), [1, 2], 1)
    with pytest.raises(ValueError, match="do not add up to 7"):
        nl.unsafe_split_with_sizes(nl.tensor(x), [1, 2], 1)


COPIES = [
    ("view_copy", (3, 4, 2), ((4, 6),)),
    ("permute_copy", (3, 4, 2), ((2, 0, 1),)),
    ("transpose_copy", (3, 4, 2), (0, 2)),
    ("t_copy", (3, 4), ()),
    ("squeeze_copy", (3, 1, 2, 1), ()),
    ("squeeze_copy", (3, 1, 2, 1), (1,)),
    ("squeeze_copy", (1, 3, 1), ((0, 2),)),
    ("unsqueeze_copy", (3, 4), (-1,)),
    ("expand_copy", (3, 1), ((2, 3, 4),)),
    ("select_copy", (3, 4, 2), (1, -1)),
    ("slice_copy", (3, 6, 2), (1, 1, None, 2)),
    ("slice_copy", (3, 6, 2), (1, -4, 10)),
    ("slice_copy", (3, 6, 2), ()),
    ("diagonal_copy", (3, 4, 4), (1, 1, 2)),
    ("alias_copy", (3, 4), ()),
    ("split_copy", (3, 7), (3, 1)),
    ("split_with_sizes_copy", (3, 7), ([2, 5], 1)),
    ("unbind_copy", (3, 4, 2), (1,)),
    ("unfold_copy", (3, 7), (1, 3, 2)),
    ("narrow_copy", (3, 7), (1, -4, 3)),
    ("as_strided_copy", (3, 4), ((2, 3), (1, 2), 1)),
]


@pytest.mark.parametrize("name, shape, args", COPIES, ids=[f"{c[0]}{c[2]}" for c in COPIES])
def test_copies_match_torch_and_share_no_memory(name, shape, args):
    ours_fn, theirs_fn = both(name)
    compare(lambda a: ours_fn(a, *args), lambda a: theirs_fn(a, *args), [randn(*shape)])
    x = nl.tensor(randn(*shape))
    out = ours_fn(x, *args)
    for piece in out if isinstance(out, tuple) else (out,):
        assert not np.shares_memory(piece.numpy(), x.numpy())
        assert piece.is_contiguous()


def test_detach_copy_and_narrow_copy_method():
    x = nl.tensor(randn(3, 4), requires_grad=True)
    out = nl.detach_copy(x)
    assert not out.requires_grad and not np.shares_memory(out.numpy(), x.numpy())
    np.testing.assert_array_equal(out.numpy(), x.detach().numpy())
    compare(lambda a: a.narrow_copy(0, 1, 2), lambda a: a.narrow_copy(0, 1, 2), [randn(3, 4)])


def test_copies_refuse_what_torch_refuses():
    x = randn(3, 4)
    with pytest.raises(RuntimeError, match="step must be positive"):
        torch.slice_copy(torch.tensor(x), 1, 0, 3, 0)
    with pytest.raises(ValueError, match="step must be positive"):
        nl.slice_copy(nl.tensor(x), 1, 0, 3, 0)
    with pytest.raises(IndexError, match="out of range"):
        torch.select_copy(torch.tensor(x), 1, 4)
    with pytest.raises(IndexError, match="out of range"):
        nl.select_copy(nl.tensor(x), 1, 4)


def test_in_place_gcd_lcm_ldexp():
    a, b = np.array([12, -18, 0, 7]), np.array([8, 27, 5, -21])
    for name in ("gcd_", "lcm_"):
        ours_fn, theirs_fn = both(name)
        x, t = nl.tensor(a), torch.tensor(a)
        assert ours_fn(x, nl.tensor(b)) is x and theirs_fn(t, torch.tensor(b)) is t
        np.testing.assert_array_equal(x.numpy(), t.numpy())
    x, t = nl.tensor([0.75, -3.0, 1e-3]), torch.tensor([0.75, -3.0, 1e-3])
    nl.ldexp_(x, nl.tensor([2, 0, 10]))
    torch.ldexp_(t, torch.tensor([2, 0, 10]))
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    with pytest.raises(RuntimeError):
        torch.gcd_(torch.tensor([1.5]), torch.tensor([2.0]))
    with pytest.raises(TypeError, match="expected integer tensors"):
        nl.gcd_(nl.tensor([1.5]), nl.tensor([2.0]))


# ----------------------------------------------------------------------------- linear algebra


def _spd(n: int, *batch: int) -> np.ndarray:
    a = rng.standard_normal((*batch, n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse(upper, dtype):
    L = np.linalg.cholesky(_spd(4, 2))
    factor = np.swapaxes(L, -1, -2) if upper else L
    tol = dict(rtol=1e-3, atol=1e-4) if dtype is np.float32 else None
    cases = [
        (lambda f, b: nl.cholesky_solve(b, f, upper), lambda f, b: torch.cholesky_solve(b, f, upper),
         [factor, randn(2, 4, 3)]),
        (lambda f, b: nl.cholesky_solve(b, f, upper), lambda f, b: torch.cholesky_solve(b, f, upper),
         [factor[0], randn(5, 2, 4, 1)]),
        (lambda f: nl.cholesky_inverse(f, upper), lambda f: torch.cholesky_inverse(f, upper),
         [factor]),
    ]  # fmt: skip
    for ours, theirs, arrays in cases:
        grad = [False] + [True] * (len(arrays) - 1)
        compare(ours, theirs, arrays, dtype, grad=grad, tol=tol)
        _compare_factor_gradient(ours, theirs, arrays, upper, dtype)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_after_cholesky_gives_torchs_gradient(upper):
    compare(
        lambda A, b: nl.cholesky_solve(b, nl.linalg.cholesky(A, upper=upper), upper),
        lambda A, b: torch.cholesky_solve(b, torch.linalg.cholesky(A, upper=upper), upper),
        [_spd(4, 2), randn(2, 4, 3)], np.float64,
    )  # fmt: skip
    compare(
        lambda A: nl.cholesky_inverse(nl.linalg.cholesky(A, upper=upper), upper),
        lambda A: torch.cholesky_inverse(torch.linalg.cholesky(A, upper=upper), upper),
        [_spd(3)], np.float64,
    )  # fmt: skip


def _compare_factor_gradient(ours, theirs, arrays, upper: bool, dtype) -> None:
    """The factor's gradient (of the sum of the output times a random array): torch's on the
    factor's triangle, zero on the other, which the forward never reads (torch's backward fills
    it as if the whole matrix were the factor: docs/porting.md)."""
    arrays = [a.astype(dtype) for a in arrays]
    f_o = nl.from_numpy(arrays[0].copy()).requires_grad_()
    f_t = torch.tensor(arrays[0].copy(), requires_grad=True)
    out_o = ours(f_o, *(nl.from_numpy(a) for a in arrays[1:]))
    out_t = theirs(f_t, *(torch.tensor(a) for a in arrays[1:]))
    g = rng.standard_normal(out_o.shape).astype(dtype)
    (out_o * nl.from_numpy(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    keep = np.triu if upper else np.tril
    tol = dict(rtol=1e-3, atol=1e-4) if dtype is np.float32 else dict(rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(f_o.grad.numpy(), keep(f_t.grad.numpy()), **tol)


def _triangular(n: int, *batch: int) -> np.ndarray:
    return rng.standard_normal((*batch, n, n)) + 3 * np.eye(n)


@pytest.mark.parametrize("upper, transpose, unit", [
    (True, False, False), (False, False, False), (True, True, False), (False, True, True),
])  # fmt: skip
def test_triangular_solve(upper, transpose, unit):
    for b, A in [(randn(4, 2), _triangular(4)), (randn(3, 4, 2), _triangular(4)),
                 (randn(4, 1), _triangular(4, 2))]:  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.triangular_solve is deprecated
            compare(
                lambda *a: nl.triangular_solve(*a, upper, transpose, unit),
                lambda *a: torch.triangular_solve(*a, upper, transpose, unit), [b, A], np.float64,
            )  # fmt: skip
    solution, coefficient = nl.triangular_solve(nl.randn(3, 4, 2), nl.randn(4, 4))
    assert solution.shape == (3, 4, 2) and coefficient.shape == (3, 4, 4)


def test_the_solvers_refuse_a_vector_b():
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        torch.triangular_solve(torch.randn(3), torch.randn(3, 3))
    with pytest.raises(ValueError, match=r"expected b of shape \(..., n, k\)"):
        nl.triangular_solve(nl.randn(3), nl.randn(3, 3))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        torch.cholesky_solve(torch.randn(3), torch.randn(3, 3))
    with pytest.raises(ValueError, match=r"expected b of shape \(..., n, k\)"):
        nl.cholesky_solve(nl.randn(3), nl.randn(3, 3))


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 4, 4)])
def test_lu_unpack(shape):
    LU, pivots = torch.linalg.lu_factor(torch.tensor(randn(*shape)))
    piv = pivots.numpy()
    compare(
        lambda lu: nl.lu_unpack(lu, nl.tensor(piv)), lambda lu: torch.lu_unpack(lu, pivots),
        [LU.numpy()], np.float64,
    )  # fmt: skip
    for flags in [(False, True), (True, False), (False, False)]:
        ours = nl.lu_unpack(nl.from_numpy(LU.numpy()), nl.tensor(piv), *flags)
        theirs = torch.lu_unpack(LU, pivots, *flags)
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o.numpy(), t.numpy())


def test_lu_unpack_rebuilds_the_matrix():
    A = randn(2, 5, 5)
    LU, pivots = torch.linalg.lu_factor(torch.tensor(A))
    P, L, U = nl.lu_unpack(nl.from_numpy(LU.numpy()), nl.tensor(pivots.numpy()))
    np.testing.assert_allclose((P @ L @ U).numpy(), A, atol=1e-12)


@pytest.mark.parametrize(
    "b_shape, a_shape", [((4, 2), (4, 4)), ((3, 4, 2), (4, 4)), ((4, 1), (2, 4, 4))]
)
def test_lu_solve(b_shape, a_shape):
    LU, pivots = torch.linalg.lu_factor(torch.tensor(_triangular(a_shape[-1], *a_shape[:-2])))
    piv = pivots.numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.lu_solve is deprecated
        compare(
            lambda b, lu: nl.lu_solve(b, lu, nl.tensor(piv)),
            lambda b, lu: torch.lu_solve(b, lu, pivots), [randn(*b_shape), LU.numpy()], np.float64,
        )  # fmt: skip


def test_lu_refuses_bad_pivots():
    with pytest.raises(RuntimeError, match="between 1 and LU.size"):
        torch.lu_unpack(torch.randn(3, 3), torch.tensor([1, 2, 4], dtype=torch.int32))
    with pytest.raises(ValueError, match=r"integers in 1..3 of shape \(3,\); got 1..4"):
        nl.lu_unpack(nl.randn(3, 3), nl.tensor([1, 2, 4], dtype=nl.int32))


# ----------------------------------------------------------------------------- sampling, factories


def test_binomial():
    count = nl.tensor([0.0, 5.0, 20.0, 7.0])
    prob = nl.tensor([0.5, 1.0, 0.0, 0.25])
    out = nl.binomial(count, prob)
    assert out.dtype == nl.float32 and out.shape == (4,)
    assert (
        out.tolist()[:3]
        == torch.binomial(torch.tensor([0.0, 5, 20]), torch.tensor([0.5, 1, 0])).tolist()
    )
    many = nl.binomial(
        nl.full((20000,), 10.0, dtype=nl.float64), nl.full((20000,), 0.3, dtype=nl.float64)
    )
    assert many.dtype == nl.float64 and abs(many.mean().item() - 3.0) < 0.05
    assert 0 <= many.min().item() and many.max().item() <= 10
    broadcast = nl.binomial(nl.tensor([[10.0], [20.0]]), nl.tensor([0.5, 0.5, 0.5]))
    assert broadcast.shape == (2, 3)
    gen = [nl.Generator().manual_seed(3) for _ in range(2)]
    assert nl.binomial(count, prob, gen[0]).tolist() == nl.binomial(count, prob, gen[1]).tolist()
    with pytest.raises(ValueError, match="floating-point"):
        torch.binomial(torch.tensor([10, 5]), torch.tensor([0.5, 1.0]))
    with pytest.raises(TypeError, match="floating-point dtype"):
        nl.binomial(nl.tensor([10, 5]), nl.tensor([0.5, 1.0]))


@pytest.mark.parametrize(
    "size, stride",
    [
        ((2, 3), (3, 1)),
        ((2, 3), (1, 2)),
        ((2, 3), (0, 1)),
        ((4,), (2,)),
        ((), ()),
        ((0, 3), (3, 1)),
    ],
)
def test_empty_strided(size, stride):
    ours, theirs = nl.empty_strided(size, stride), torch.empty_strided(size, stride)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == nl.float32
    assert ours.stride() == theirs.stride()
    ours.fill_(2.0)
    assert (ours.numpy() == 2.0).all()
    doubled = nl.empty_strided(size, stride, dtype=nl.float64, requires_grad=True)
    assert doubled.dtype == nl.float64 and doubled.requires_grad


def test_empty_strided_refuses_unpaired_strides():
    with pytest.raises(RuntimeError, match="must match dimensionality of strides"):
        torch.empty_strided((2, 3), (3,))
    with pytest.raises(ValueError, match="must pair up"):
        nl.empty_strided((2, 3), (3,))


# ----------------------------------------------------------------------------- index_reduce


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_reduce(reduce, include_self, dim):
    x, index = randn(5, 4, 3), np.array([0, 2, 2, 1, 2])
    source_shape = list(x.shape)
    source_shape[dim] = len(index)
    index = index % x.shape[dim]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's: index_reduce is in beta
        compare(
            lambda a, i, s: nl.index_reduce(a, dim, i, s, reduce, include_self=include_self),
            lambda a, i, s: torch.index_reduce(a, dim, i, s, reduce, include_self=include_self),
            [x, index, randn(*source_shape)], np.float64,
        )  # fmt: skip
        ours, theirs = nl.from_numpy(x.copy()), torch.tensor(x)
        source = randn(*source_shape)
        ours.index_reduce_(dim, nl.tensor(index), nl.from_numpy(source), reduce)
        theirs.index_reduce_(dim, torch.tensor(index), torch.tensor(source), reduce)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy())


def test_index_reduce_refuses_what_torch_refuses():
    args = (nl.ones(5, 2), 0, nl.tensor([0, 0, 3]), nl.ones(3, 2))
    with pytest.raises(RuntimeError, match="prod, mean, amax or amin"):
        torch.index_reduce(torch.ones(5, 2), 0, torch.tensor([0, 0, 3]), torch.ones(3, 2), "sum")
    with pytest.raises(ValueError, match="'prod', 'mean', 'amax' or 'amin', got 'sum'"):
        nl.index_reduce(*args, "sum")
    with pytest.raises(IndexError, match="index out of range"):
        torch.index_reduce(torch.ones(5, 2), 0, torch.tensor([-1]), torch.ones(1, 2), "amax")
    with pytest.raises(IndexError, match="index -1 is out of range"):
        nl.index_reduce(nl.ones(5, 2), 0, nl.tensor([-1]), nl.ones(1, 2), "amax")


@pytest.mark.parametrize("size, fill_value", [(5, -1), (2, 7), (0, -1), (3, 9)])
def test_nonzero_static(size, fill_value):
    for x in (np.array([[0, 1], [1, 1]]), np.array([0.0, 2.0, 0.0]), np.array(3)):
        ours = nl.nonzero_static(nl.tensor(x), size=size, fill_value=fill_value)
        theirs = torch.nonzero_static(torch.tensor(x), size=size, fill_value=fill_value)
        assert ours.dtype == nl.int64 and ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert nl.tensor([0, 1, 1]).nonzero_static(size=1).tolist() == [[1]]
    with pytest.raises(RuntimeError, match="non-negative integer"):
        torch.nonzero_static(torch.tensor([0, 1]), size=-1)
    with pytest.raises(ValueError, match="non-negative integer"):
        nl.nonzero_static(nl.tensor([0, 1]), size=-1)
