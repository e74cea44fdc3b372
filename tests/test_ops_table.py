"""The op table: every engine op beside PyTorch — forward values and gradients, float32 and float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from oracle import compare

import neuralab as nl
from neuralab.ops import shape as S

rng = np.random.default_rng(42)


def r(*shape):
    return rng.standard_normal(shape)


def pos(*shape):
    return rng.uniform(0.5, 2.0, shape)


def away(*shape):
    """Values kept away from 0 (kinks of abs/relu/clamp)."""
    x = rng.uniform(0.2, 2.0, shape)
    return x * rng.choice([-1.0, 1.0], shape)


def ints(high, *shape):
    return rng.integers(0, high, shape)


# (id, ours, torch's, input arrays)
ROWS = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, [r(3, 4), r(3, 4)]),
    ("add_bcast", lambda a, b: a + b, lambda a, b: a + b, [r(3, 1), r(1, 4)]),
    ("add_bcast3", lambda a, b: a + b, lambda a, b: a + b, [r(2, 3, 4), r(4)]),
    ("add_scalar", lambda a: a + 2.5, lambda a: a + 2.5, [r(3)]),
    ("radd_scalar", lambda a: 2.5 + a, lambda a: 2.5 + a, [r(3)]),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, [r(2, 3), r(3)]),
    ("rsub", lambda a: 1.0 - a, lambda a: 1.0 - a, [r(2, 3)]),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, [r(2, 3), r(2, 1)]),
    ("mul_scalar", lambda a: a * 3, lambda a: a * 3, [r(4)]),
    ("div", lambda a, b: a / b, lambda a, b: a / b, [r(2, 3), away(3)]),
    ("rdiv", lambda a: 2.0 / a, lambda a: 2.0 / a, [away(5)]),
    ("neg", lambda a: -a, lambda a: -a, [r(3, 2)]),
    ("pow_scalar", lambda a: a**3, lambda a: a**3, [r(3, 2)]),
    ("pow_half", lambda a: a**0.5, lambda a: a**0.5, [pos(4)]),
    ("pow_square", lambda a: a**2, lambda a: a**2, [r(4)]),
    ("pow_tensor", lambda a, b: a**b, lambda a, b: a**b, [pos(2, 3), r(3)]),
    ("rpow", lambda a: 2.0**a, lambda a: 2.0**a, [r(4)]),
    ("exp", nl.exp, torch.exp, [r(3, 4)]),
    ("log", nl.log, torch.log, [pos(3, 4)]),
    ("sqrt", nl.sqrt, torch.sqrt, [pos(5)]),
    ("abs", nl.abs, torch.abs, [away(5)]),
    ("sin", nl.sin, torch.sin, [r(5)]),
    ("cos", nl.cos, torch.cos, [r(5)]),
    ("clamp", lambda a: nl.clamp(a, -0.5, 0.7), lambda a: torch.clamp(a, -0.5, 0.7), [r(10)]),
    ("clamp_min", lambda a: a.clamp(min=0.1), lambda a: a.clamp(min=0.1), [r(10)]),
    ("maximum", nl.maximum, torch.maximum, [r(3, 4), r(4)]),
    ("minimum", nl.minimum, torch.minimum, [r(3, 4), r(3, 1)]),
    (
        "where",
        lambda a, b: nl.where(a > 0, a, b),
        lambda a, b: torch.where(a > 0, a, b),
        [r(3, 4), r(4)],
    ),
    ("relu", nl.relu, torch.relu, [away(4, 5)]),
    ("leaky_relu", lambda a: nl.leaky_relu(a, 0.2), lambda a: TF.leaky_relu(a, 0.2), [away(6)]),
    ("sigmoid", nl.sigmoid, torch.sigmoid, [r(3, 4) * 3]),
    ("tanh", nl.tanh, torch.tanh, [r(3, 4)]),
    ("gelu", nl.gelu, TF.gelu, [r(3, 4)]),
    (
        "gelu_tanh",
        lambda a: nl.gelu(a, approximate="tanh"),
        lambda a: TF.gelu(a, approximate="tanh"),
        [r(3, 4)],
    ),
    ("softmax", lambda a: nl.softmax(a, -1), lambda a: torch.softmax(a, -1), [r(3, 5)]),
    ("softmax0", lambda a: nl.softmax(a, 0), lambda a: torch.softmax(a, 0), [r(3, 5)]),
    ("log_softmax", lambda a: nl.log_softmax(a, 1), lambda a: torch.log_softmax(a, 1), [r(2, 4, 3)]),
    ("sum_all", lambda a: a.sum(), lambda a: a.sum(), [r(3, 4)]),
    ("sum_dim", lambda a: a.sum(1), lambda a: a.sum(1), [r(3, 4, 2)]),
    ("sum_dims_keep", lambda a: a.sum((0, 2), keepdim=True), lambda a: a.sum((0, 2), keepdim=True), [r(3, 4, 2)]),  # noqa: E501
    ("mean_all", lambda a: a.mean(), lambda a: a.mean(), [r(3, 4)]),
    ("mean_dim", lambda a: a.mean(-1, keepdim=True), lambda a: a.mean(-1, keepdim=True), [r(3, 4)]),
    ("var", lambda a: a.var(), lambda a: a.var(), [r(3, 4)]),
    ("var_dim_biased", lambda a: a.var(1, unbiased=False), lambda a: a.var(1, unbiased=False), [r(3, 4)]),  # noqa: E501
    ("var_correction", lambda a: a.var(0, correction=2), lambda a: a.var(0, correction=2), [r(5, 2)]),  # noqa: E501
    ("std", lambda a: a.std(1, keepdim=True), lambda a: a.std(1, keepdim=True), [r(3, 4)]),
    ("max_all", lambda a: a.max(), lambda a: a.max(), [r(3, 4)]),
    ("max_dim", lambda a: a.max(1)[0], lambda a: a.max(1)[0], [r(3, 4)]),
    ("max_dim_idx", lambda a: a.max(1)[1], lambda a: a.max(1)[1], [r(3, 4)]),
    ("min_dim_keep", lambda a: a.min(0, keepdim=True).values, lambda a: a.min(0, keepdim=True).values, [r(3, 4)]),  # noqa: E501
    ("min_all", lambda a: a.min(), lambda a: a.min(), [r(6)]),
    ("amax", lambda a: a.amax((0, 1)), lambda a: a.amax((0, 1)), [r(3, 4, 2)]),
    ("argmax", lambda a: a.argmax(1), lambda a: a.argmax(1), [r(3, 4)]),
    ("argmin", lambda a: a.argmin(), lambda a: a.argmin(), [r(3, 4)]),
    ("prod_all", lambda a: a.prod(), lambda a: a.prod(), [away(2, 3)]),
    ("prod_dim", lambda a: a.prod(1), lambda a: a.prod(1), [away(3, 4)]),
    ("prod_zero", lambda a: (a * nl.tensor([1.0, 0.0, 1.0], dtype=a.dtype)).prod(1),
     lambda a: (a * torch.tensor([1.0, 0.0, 1.0], dtype=a.dtype)).prod(1), [r(2, 3)]),
    ("cumsum", lambda a: a.cumsum(1), lambda a: a.cumsum(1), [r(3, 4)]),
    ("logsumexp", lambda a: a.logsumexp(1), lambda a: a.logsumexp(1), [r(3, 4)]),
    ("logsumexp_all", lambda a: nl.logsumexp(a, (0, 1), keepdim=True), lambda a: torch.logsumexp(a, (0, 1), keepdim=True), [r(3, 4)]),  # noqa: E501
    ("reshape", lambda a: a.reshape(4, -1), lambda a: a.reshape(4, -1), [r(2, 3, 2)]),
    ("view", lambda a: a.view(6, 2), lambda a: a.view(6, 2), [r(2, 3, 2)]),
    ("flatten", lambda a: a.flatten(1), lambda a: a.flatten(1), [r(2, 3, 2)]),
    ("transpose", lambda a: a.transpose(0, 2), lambda a: a.transpose(0, 2), [r(2, 3, 4)]),
    ("permute", lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1), [r(2, 3, 4)]),
    ("T", lambda a: a.T, lambda a: a.T, [r(2, 3)]),
    ("unsqueeze", lambda a: a.unsqueeze(-1), lambda a: a.unsqueeze(-1), [r(2, 3)]),
    ("squeeze", lambda a: a.squeeze(), lambda a: a.squeeze(), [r(2, 1, 3, 1)]),
    ("squeeze_dim", lambda a: a.squeeze(1), lambda a: a.squeeze(1), [r(2, 1, 3, 1)]),
    ("expand", lambda a: a.expand(2, 3, 4), lambda a: a.expand(2, 3, 4), [r(3, 1)]),
    ("expand_keep", lambda a: a.expand(-1, 4), lambda a: a.expand(-1, 4), [r(3, 1)]),
    ("repeat", lambda a: a.repeat(2, 1, 3), lambda a: a.repeat(2, 1, 3), [r(3, 2)]),
    ("flip", lambda a: a.flip((0, 2)), lambda a: a.flip((0, 2)), [r(2, 3, 4)]),
    ("cat", lambda a, b: nl.cat([a, b], 1), lambda a, b: torch.cat([a, b], 1), [r(2, 3), r(2, 5)]),
    ("stack", lambda a, b: nl.stack([a, b], -1), lambda a, b: torch.stack([a, b], -1), [r(2, 3), r(2, 3)]),  # noqa: E501
    ("split", lambda a: a.split(2, 1), lambda a: a.split(2, 1), [r(3, 5)]),
    ("split_sizes", lambda a: a.split([1, 4], 1), lambda a: a.split([1, 4], 1), [r(3, 5)]),
    ("chunk", lambda a: a.chunk(3, 0), lambda a: a.chunk(3, 0), [r(7, 2)]),
    ("idx_int", lambda a: a[1], lambda a: a[1], [r(3, 4)]),
    ("idx_slice", lambda a: a[:, 1:3], lambda a: a[:, 1:3], [r(3, 4)]),
    ("idx_step", lambda a: a[::2, ::-1] if False else a[::2], lambda a: a[::2], [r(5, 4)]),
    ("idx_none_ellipsis", lambda a: a[None, ..., 0], lambda a: a[None, ..., 0], [r(3, 4)]),
    ("idx_mask", lambda a: a[a > 0], lambda a: a[a > 0], [away(4, 5)]),
    ("idx_int_array_repeat", lambda a: a[nl.tensor([0, 2, 0, 0])], lambda a: a[torch.tensor([0, 2, 0, 0])], [r(3, 4)]),  # noqa: E501
    ("idx_negative_alias", lambda a: a[nl.tensor([0, -3, 1])], lambda a: a[torch.tensor([0, -3, 1])], [r(3, 4)]),  # noqa: E501
    ("idx_distinct", lambda a: a[nl.tensor([2, 0])], lambda a: a[torch.tensor([2, 0])], [r(3, 4)]),
    ("idx_two_arrays", lambda a: a[nl.tensor([0, 1, 1]), nl.tensor([2, 2, 0])], lambda a: a[torch.tensor([0, 1, 1]), torch.tensor([2, 2, 0])], [r(3, 4)]),  # noqa: E501
    ("idx_list", lambda a: a[:, [3, 3, 1]], lambda a: a[:, [3, 3, 1]], [r(3, 4)]),
    ("matmul", lambda a, b: a @ b, lambda a, b: a @ b, [r(3, 4), r(4, 5)]),
    ("matmul_batched", lambda a, b: a @ b, lambda a, b: a @ b, [r(2, 1, 3, 4), r(5, 4, 2)]),
    ("matmul_stack_mat", lambda a, b: a @ b, lambda a, b: a @ b, [r(2, 3, 4), r(4, 5)]),  # folded
    ("matmul_strided_stack_mat", lambda a, b: a.mT @ b, lambda a, b: a.mT @ b, [r(2, 2, 4, 3), r(4, 5)]),  # noqa: E501
    ("matmul_vec_mat", lambda a, b: a @ b, lambda a, b: a @ b, [r(4), r(2, 4, 3)]),
    ("matmul_mat_vec", lambda a, b: a @ b, lambda a, b: a @ b, [r(2, 3, 4), r(4)]),
    ("matmul_dot", nl.matmul, torch.matmul, [r(4), r(4)]),
    ("linear", lambda x, w, b: nl.ops.linear(x, w, b), TF.linear, [r(2, 3, 4), r(5, 4), r(5)]),
    ("linear_nobias", lambda x, w: nl.ops.linear(x, w), TF.linear, [r(6, 4), r(5, 4)]),
    ("pad_constant", lambda a: S.pad(a, (1, 2), value=0.5), lambda a: TF.pad(a, (1, 2), value=0.5), [r(2, 3)]),  # noqa: E501
    ("pad_2d", lambda a: S.pad(a, (1, 0, 2, 1)), lambda a: TF.pad(a, (1, 0, 2, 1)), [r(1, 2, 3, 3)]),  # noqa: E501
    ("pad_reflect", lambda a: S.pad(a, (2, 1), mode="reflect"), lambda a: TF.pad(a, (2, 1), mode="reflect"), [r(1, 2, 4)]),  # noqa: E501
    ("pad_replicate", lambda a: S.pad(a, (1, 2, 2, 0), mode="replicate"), lambda a: TF.pad(a, (1, 2, 2, 0), mode="replicate"), [r(1, 1, 3, 3)]),  # noqa: E501
    ("composite", lambda a, b: ((a * b).tanh() + a.exp() / (1 + b * b)).sum(0),
     lambda a, b: ((a * b).tanh() + a.exp() / (1 + b * b)).sum(0), [r(3, 4), r(3, 4)]),
]  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("row", ROWS, ids=[row[0] for row in ROWS])
def test_matches_torch(row, dtype):
    _, ours, theirs, arrays = row
    compare(ours, theirs, arrays, dtype=dtype)


# Ops whose inputs must stay away from kinks and ties for finite differences.
GRADCHECK_SKIP = {"max_dim_idx", "argmax", "argmin", "idx_mask", "where"}


@pytest.mark.parametrize("row", [row for row in ROWS if row[0] not in GRADCHECK_SKIP],
                         ids=[row[0] for row in ROWS if row[0] not in GRADCHECK_SKIP])  # fmt: skip
def test_gradcheck(row):
    _, ours, _, arrays = row
    inputs = [nl.Tensor(a, dtype=nl.float64, requires_grad=True) for a in arrays]
    assert nl.gradcheck(ours, inputs)


def test_where_gradcheck_away_from_the_switch():
    a = nl.Tensor(away(3, 4), dtype=nl.float64, requires_grad=True)
    b = nl.Tensor(r(4), dtype=nl.float64, requires_grad=True)
    cond = a.detach() > 0
    assert nl.gradcheck(lambda a, b: nl.where(cond, a, b), [a, b])


def test_integer_ops_keep_integer_dtype_and_true_division_gives_float32():
    a, b = nl.tensor([1, 2, 3]), nl.tensor([2, 2, 2])
    assert (a + b).dtype == nl.int64
    assert (a * 2).dtype == nl.int64
    assert (a / b).dtype == nl.float32
    assert (a * 2.5).dtype == nl.float32
    assert (a + nl.tensor([0.5, 0.5, 0.5])).dtype == nl.float32
    np.testing.assert_allclose((a / b).numpy(), [0.5, 1.0, 1.5])


@pytest.mark.parametrize("default", [nl.float32, nl.float64])
@pytest.mark.parametrize("name", ["tanh", "sigmoid", "exp", "lgamma", "logsumexp"])
def test_float_functions_of_integers_compute_in_the_default_dtype_as_torch(name, default):
    previous = nl.get_default_dtype()
    nl.set_default_dtype(default)
    try:
        args = (0,) if name == "logsumexp" else ()
        ours = getattr(nl, name)(nl.tensor([1, 2, 3]), *args)
    finally:
        nl.set_default_dtype(previous)
    theirs = getattr(torch, name)(torch.tensor([1, 2, 3]).to(torch.float64), *args)
    assert ours.dtype == default
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_lgamma_at_minus_infinity_is_plus_infinity_as_torch():
    x = [-np.inf, np.inf, -0.5, 0.5]
    ours = nl.lgamma(nl.tensor(x)).numpy()
    np.testing.assert_allclose(ours, torch.lgamma(torch.tensor(x)).numpy(), rtol=1e-6)
    assert ours[0] == np.inf


def test_comparisons_return_bool_without_grad():
    a = nl.tensor([1.0, -2.0, 3.0], requires_grad=True)
    for result in (a > 0, a >= 1, a < 0, a <= 1, a == 3, a != 3):
        assert result.dtype == nl.bool and not result.requires_grad
    assert (a > 0).tolist() == [True, False, True]
