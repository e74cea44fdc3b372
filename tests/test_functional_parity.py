"""The surface of ``neuralab.nn.functional`` and of the activation, loss, dropout, distance and
normalization modules against torch: names, parameter names in torch's order, and the values and
gradients of padding, adaptive pooling, unfold/fold, bilinear and the similarity functions."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from oracle import compare

import neuralab as nl
import neuralab.nn as nn
import neuralab.nn.functional as F

DTYPES = [np.float32, np.float64]
R = np.random.default_rng(0)

# Builtins whose signature torch does not expose: their parameters as torch documents them.
DOCUMENTED = {
    "gelu": ["input", "approximate"], "hardshrink": ["input", "lambd"], "softshrink": ["input", "lambd"],
    "softplus": ["input", "beta", "threshold"], "logsigmoid": ["input"], "prelu": ["input", "weight"],
    "cosine_similarity": ["x1", "x2", "dim", "eps"], "pdist": ["input", "p"],
    "pairwise_distance": ["x1", "x2", "p", "eps", "keepdim"], "softsign": ["input"],
    "bilinear": ["input1", "input2", "weight", "bias"], "adaptive_avg_pool1d": ["input", "output_size"],
    "tanhshrink": ["input"], "sigmoid": ["input"], "tanh": ["input"],
    "adaptive_max_pool1d": ["input", "output_size", "return_indices"],
    "adaptive_max_pool2d": ["input", "output_size", "return_indices"],
    "adaptive_max_pool3d": ["input", "output_size", "return_indices"],
    "relu_": ["input"], "selu_": ["input"], "elu_": ["input", "alpha"], "celu_": ["input", "alpha"],
    "leaky_relu_": ["input", "negative_slope"], "hardtanh_": ["input", "min_val", "max_val"],
    "rrelu_": ["input", "lower", "upper", "training"], "threshold_": ["input", "threshold", "value"],
}  # fmt: skip
# The families this suite covers (others, e.g. conv and embedding, are tested elsewhere).
FAMILIES = sorted(
    set(DOCUMENTED)
    | {
        name
        for module in (
            "activation",
            "piecewise",
            "smooth_activation",
            "loss",
            "margin_loss",
            "distribution_loss",
            "dropout",
            "norm",
            "similarity",
            "padding",
            "adaptive_pool",
            "unfold",
        )  # fmt: skip
        for name in __import__(f"neuralab.ops.{module}", fromlist=["__all__"]).__all__
        if hasattr(TF, name)
    }
)


@pytest.mark.parametrize("name", FAMILIES)
def test_functional_name_exists_with_torchs_parameters_in_order(name):
    ours = list(inspect.signature(getattr(F, name)).parameters)
    try:
        theirs = list(inspect.signature(getattr(TF, name)).parameters)
    except (TypeError, ValueError):
        theirs = DOCUMENTED[name]
    if theirs == ["args", "kwargs"]:  # a dispatcher on return_indices
        theirs = DOCUMENTED[name]
    assert ours == theirs


MODULE_FILES = ("activation", "loss", "dropout", "normalization", "distance")


def test_every_torch_module_of_these_families_exists_with_torchs_constructor():
    skipped = {"MultiheadAttention", "CTCLoss", "CrossMapLRN2d", "LinearCrossEntropyLoss"}
    for file in MODULE_FILES + ("batchnorm", "instancenorm"):
        source = getattr(tnn.modules, file)
        for name, cls in vars(source).items():
            if not (isinstance(cls, type) and issubclass(cls, tnn.Module)) or name in skipped:
                continue
            if name.startswith(("_", "Lazy", "Sync")) or cls.__module__ != source.__name__:
                continue
            ours = getattr(nn, name)
            theirs = list(inspect.signature(cls.__init__).parameters)
            if theirs[1:] == ["args", "kwargs"]:  # torch's argument-less modules
                theirs = ["self"]
            assert list(inspect.signature(ours.__init__).parameters) == theirs, name


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, pad, mode",
    [
        ((1, 3, 4), (1, 2), "circular"), ((1, 3, 4), (-1, 2), "circular"),
        ((2, 3, 4, 5), (1, 2, 2, 1, 1, 0), "circular"), ((1, 3, 4), (3, 0), "reflect"),
        ((1, 3, 4), (1, 1, 2, 1), "reflect"), ((3, 4), (2, 1), "reflect"),
        ((2, 3, 4, 5, 6), (1, 1, 1, 1, 1, 1), "reflect"), ((1, 3, 4), (-1, 1), "replicate"),
        ((2, 3, 4, 5), (1, 1, 2, 2), "replicate"), ((1, 2, 3, 4, 5), (1, 2, 1, 0, 2, 1), "replicate"),
        ((1, 3, 4), (1, -2, 0, 1), "constant"), ((2, 3, 4, 5), (1, 1, 2, 2, 0, 1, 1, 0), "constant"),
        ((5,), (2, 3), "constant"), ((2, 2, 3, 4), (-1, -1, -1, 0), "constant"),
    ],
)  # fmt: skip
def test_pad_modes_match_torch(shape, pad, mode, dtype):
    kw = {"value": 2.5} if mode == "constant" else {}
    compare(lambda a: F.pad(a, pad, mode, **kw), lambda a: TF.pad(a, pad, mode, **kw), [R.standard_normal(shape)], dtype)  # fmt: skip


@pytest.mark.parametrize(
    "shape, pad, mode, message",
    [
        ((1, 3, 4), (5, 0), "circular", r"pad: circular padding \(5, 0\) of dimension 2 needs its size to be at least 5, got 4"),
        ((1, 3, 4), (4, 0), "reflect", r"pad: reflect padding \(4, 0\) of dimension 2 needs its size to be larger than 4"),
        ((4,), (1, 1), "reflect", r"pad: reflect padding of 1 dimension\(s\) needs a 2-D or 3-D input, got shape \(4,\)"),
        ((1, 3), (1,), "constant", r"pad: the padding \(1,\) must have an even length"),
        ((1, 3), (1, 1), "wrap", r"pad: mode must be one of constant, reflect, replicate, circular, got 'wrap'"),
        ((1, 3), (1, 1, 1, 1, 1, 1), "constant", r"pad: padding \(1, 1, 1, 1, 1, 1\) names 3 dimensions but the input has 2"),
    ],
)  # fmt: skip
def test_bad_padding_raises_one_clear_line(shape, pad, mode, message):
    with pytest.raises(ValueError, match=message):
        F.pad(nl.ones(*shape), pad, mode)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "fn, shape, size",
    [
        ("adaptive_max_pool2d", (2, 3, 7, 9), (3, 4)), ("adaptive_max_pool2d", (3, 7, 9), 2),
        ("adaptive_max_pool2d", (2, 3, 5, 5), (None, 3)), ("adaptive_max_pool2d", (1, 2, 4, 4), (6, 5)),
        ("adaptive_max_pool1d", (2, 3, 7), 3), ("adaptive_max_pool1d", (3, 10), 4),
        ("adaptive_avg_pool1d", (2, 3, 7), 3), ("adaptive_avg_pool1d", (3, 5), 7),
    ],
)  # fmt: skip
def test_adaptive_pools_match_torch(fn, shape, size, dtype):
    compare(lambda a: getattr(F, fn)(a, size), lambda a: getattr(TF, fn)(a, size), [R.standard_normal(shape)], dtype)  # fmt: skip
    if "max" in fn:
        x = R.standard_normal(shape).astype(np.float32)
        _, index = getattr(F, fn)(nl.tensor(x), size, return_indices=True)
        _, expected = getattr(TF, fn)(torch.tensor(x), size, return_indices=True)
        np.testing.assert_array_equal(index.numpy(), expected.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, kw",
    [((2, 3, 5, 6), dict(kernel_size=2)), ((3, 5, 6), dict(kernel_size=(2, 3), padding=1, stride=2)),
     ((1, 2, 7, 7), dict(kernel_size=3, dilation=2, padding=(1, 2)))],
)  # fmt: skip
def test_unfold_matches_torch(shape, kw, dtype):
    compare(lambda a: F.unfold(a, **kw), lambda a: TF.unfold(a, **kw), [R.standard_normal(shape)], dtype)  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, size, kw",
    [((2, 12, 20), (5, 6), dict(kernel_size=2)), ((12, 9), (4, 5), dict(kernel_size=2, stride=2, padding=1)),
     ((1, 18, 12), (7, 7), dict(kernel_size=3, dilation=2, padding=(1, 2), stride=2))],
)  # fmt: skip
def test_fold_matches_torch(shape, size, kw, dtype):
    compare(lambda a: F.fold(a, size, **kw), lambda a: TF.fold(a, size, **kw), [R.standard_normal(shape)], dtype)  # fmt: skip
    with pytest.raises(ValueError, match=r"fold: input shape \(2, 13, 6\) does not fit"):
        F.fold(nl.ones(2, 13, 6), (4, 5), 2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bilinear_matches_torch(dtype):
    compare(F.bilinear, TF.bilinear, [R.standard_normal((3, 4)), R.standard_normal((3, 5)), R.standard_normal((6, 4, 5)), R.standard_normal(6)], dtype)  # fmt: skip
    compare(F.bilinear, TF.bilinear, [R.standard_normal((2, 3, 4)), R.standard_normal((2, 3, 5)), R.standard_normal((6, 4, 5))], dtype)  # fmt: skip
    with pytest.raises(
        ValueError,
        match=r"bilinear: expected input1 \(..., I\), input2 \(..., J\), weight \(O, I, J\)",
    ):
        F.bilinear(nl.ones(3, 4), nl.ones(3, 5), nl.ones(6, 5, 4))  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
def test_similarity_functions_match_torch(dtype):
    a, b = R.standard_normal((3, 4)), R.standard_normal((3, 4))
    tiny = [np.array([[1e-9, 2e-9, 0], [1, 2, 3.0]]), np.array([[3, 1, 2.0], [1e-10, 0, 0]])]
    compare(F.cosine_similarity, TF.cosine_similarity, [a, b], dtype)
    compare(F.cosine_similarity, TF.cosine_similarity, [a, b[0]], dtype)  # broadcast
    compare(lambda x, y: F.cosine_similarity(x, y, -1), lambda x, y: TF.cosine_similarity(x, y, -1), tiny, dtype)  # fmt: skip
    compare(F.pairwise_distance, TF.pairwise_distance, [a, b], dtype)
    compare(lambda x, y: F.pairwise_distance(x, y, 1.0, keepdim=True), lambda x, y: TF.pairwise_distance(x, y, 1.0, keepdim=True), [a, b[0]], dtype)  # fmt: skip
    compare(F.pdist, TF.pdist, [R.standard_normal((5, 3))], dtype)
    compare(lambda x: F.pdist(x, 3), lambda x: TF.pdist(x, 3), [R.standard_normal((5, 3))], dtype)
    compare(F.normalize, TF.normalize, [a], dtype)
    compare(lambda x: F.normalize(x, 1, 0), lambda x: TF.normalize(x, 1, 0), [a], dtype)
    compare(lambda x: F.normalize(x, dim=-1), lambda x: TF.normalize(x, dim=-1), [np.array([[0, 0, 0], [1, 2, 3.0]])], dtype)  # fmt: skip


def test_distance_modules_and_top_level_names_match_torch():
    a, b = (
        R.standard_normal((3, 4)).astype(np.float32),
        R.standard_normal((3, 4)).astype(np.float32),
    )
    pairs = [
        (nn.PairwiseDistance(p=1.0, keepdim=True)(nl.tensor(a), nl.tensor(b)), tnn.PairwiseDistance(p=1.0, keepdim=True)(torch.tensor(a), torch.tensor(b))),
        (nn.CosineSimilarity(dim=0)(nl.tensor(a), nl.tensor(b)), tnn.CosineSimilarity(dim=0)(torch.tensor(a), torch.tensor(b))),
        (nl.cosine_similarity(nl.tensor(a), nl.tensor(b)), torch.cosine_similarity(torch.tensor(a), torch.tensor(b))),
        (nl.pairwise_distance(nl.tensor(a), nl.tensor(b)), torch.pairwise_distance(torch.tensor(a), torch.tensor(b))),
        (nl.pdist(nl.tensor(a)), torch.pdist(torch.tensor(a))),
        (nl.layer_norm(nl.tensor(a), (4,)), torch.layer_norm(torch.tensor(a), (4,))),
        (nl.group_norm(nl.tensor(a[None]), 1), torch.group_norm(torch.tensor(a[None]), 1)),
        (nl.rms_norm(nl.tensor(a), (4,)), torch.rms_norm(torch.tensor(a), (4,))),
        (nl.dropout(nl.tensor(a), 0.5, False), torch.dropout(torch.tensor(a), 0.5, False)),
    ]  # fmt: skip
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="normalize: out= is not supported"):
        F.normalize(nl.tensor(a), out=nl.tensor(a))
