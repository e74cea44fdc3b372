"""Selection, sorting, counting, rearranging and in-place ops beside PyTorch: values, indices
and gradients in float32 and float64, torch's keywords and return types, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import compare

import neuralab as nl

rng = np.random.default_rng(11)
T = torch


def r(*shape):
    return rng.standard_normal(shape)


def ties(*shape):
    return rng.integers(0, 3, shape).astype(float)


IDX = np.array([[0, 2, 2], [1, 0, 1]])
SCAT = np.array([[0, 3, 2], [1, 0, 2]])
ROWS3 = np.array([2, 0, 2])
MASK = rng.random((3, 4)) > 0.5


def both(arr):
    """The same index or mask in neuralab and in torch."""
    return nl.tensor(arr), T.tensor(arr)


I, TI = both(IDX)
S, TS = both(SCAT)
R3, TR3 = both(ROWS3)
M, TM = both(MASK)

# (id, ours, torch's, input arrays)
ROWS = [
    ("gather", lambda x: nl.gather(x, 1, I), lambda x: T.gather(x, 1, TI), [r(2, 4)]),
    ("gather_smaller_index", lambda x: x.gather(-2, I[:, :2]), lambda x: x.gather(-2, TI[:, :2]), [r(3, 4)]),
    ("scatter_src", lambda x, s: nl.scatter(x, 1, S, s), lambda x, s: T.scatter(x, 1, TS, s), [r(2, 4), r(2, 3)]),
    ("scatter_value", lambda x: x.scatter(1, S, value=1.5), lambda x: x.scatter(1, TS, value=1.5), [r(2, 4)]),
    ("scatter_add", lambda x, s: nl.scatter_add(x, 1, I, s), lambda x, s: T.scatter_add(x, 1, TI, s), [r(2, 4), r(2, 3)]),
    ("index_select", lambda x: nl.index_select(x, 1, R3), lambda x: T.index_select(x, 1, TR3), [r(2, 4)]),
    ("index_add", lambda x, s: nl.index_add(x, 0, R3, s, alpha=2), lambda x, s: T.index_add(x, 0, TR3, s, alpha=2), [r(3, 4), r(3, 4)]),
    ("index_copy", lambda x, s: x.index_copy(1, nl.tensor([2, 0]), s), lambda x, s: x.index_copy(1, T.tensor([2, 0]), s), [r(3, 4), r(3, 2)]),
    ("index_fill", lambda x: nl.index_fill(x, 1, R3, -1.0), lambda x: T.index_fill(x, 1, TR3, -1.0), [r(3, 4)]),
    ("index_put_acc", lambda x, v: nl.index_put(x, (R3,), v, True), lambda x, v: T.index_put(x, (TR3,), v, True), [r(3, 4), r(4)]),
    ("index_put_pairs", lambda x, v: x.index_put((nl.tensor([0, 2]), nl.tensor([1, 1])), v), lambda x, v: x.index_put((T.tensor([0, 2]), T.tensor([1, 1])), v), [r(3, 4), r()]),
    ("masked_fill", lambda x: nl.masked_fill(x, M, -1e9), lambda x: T.masked_fill(x, TM, -1e9), [r(3, 4)]),
    ("masked_fill_bcast", lambda x: x.masked_fill(M, 0.5), lambda x: x.masked_fill(TM, 0.5), [r(3, 1)]),
    ("masked_fill_tensor_value", lambda x, v: x.masked_fill(M, v), lambda x, v: x.masked_fill(TM, v), [r(3, 4), r()]),
    ("masked_select", lambda x: nl.masked_select(x, M), lambda x: T.masked_select(x, TM), [r(1, 4)]),
    ("masked_scatter", lambda x, s: x.masked_scatter(M, s), lambda x, s: x.masked_scatter(TM, s), [r(3, 4), r(4, 4)]),
    ("take", lambda x: nl.take(x, nl.tensor([[0, 5], [5, -1]])), lambda x: T.take(x, T.tensor([[0, 5], [5, -1]])), [r(3, 4)]),
    ("take_along_dim", lambda x: nl.take_along_dim(x, I, 1), lambda x: T.take_along_dim(x, TI, 1), [r(2, 4)]),
    ("take_along_dim_bcast", lambda x: x.take_along_dim(nl.tensor([[0, 1, 1]]), 0), lambda x: x.take_along_dim(T.tensor([[0, 1, 1]]), 0), [r(2, 1)]),
    ("take_along_dim_flat", lambda x: nl.take_along_dim(x, nl.tensor([0, 7])), lambda x: T.take_along_dim(x, T.tensor([0, 7])), [r(2, 4)]),
    ("select", lambda x: nl.select(x, -1, 2), lambda x: T.select(x, -1, 2), [r(3, 4)]),
    # sorting
    ("sort", lambda x: nl.sort(x), lambda x: T.sort(x), [r(3, 4)]),
    ("sort_desc", lambda x: x.sort(0, descending=True), lambda x: x.sort(0, descending=True), [r(3, 4)]),
    ("argsort", lambda x: nl.argsort(x, 1, descending=True) * 1.0 + x, lambda x: T.argsort(x, 1, descending=True) * 1.0 + x, [r(3, 4)]),
    ("msort", nl.msort, T.msort, [r(3, 4)]),
    ("topk", lambda x: nl.topk(x, 2), lambda x: T.topk(x, 2), [r(3, 4)]),
    ("topk_smallest", lambda x: x.topk(2, 0, largest=False), lambda x: x.topk(2, 0, largest=False), [r(3, 4)]),
    ("kthvalue", lambda x: nl.kthvalue(x, 2, 0, True), lambda x: T.kthvalue(x, 2, 0, True), [r(3, 4)]),
    ("median_all", nl.median, T.median, [r(3, 4)]),
    ("median_dim", lambda x: x.median(1), lambda x: x.median(1), [r(3, 4)]),
    ("median_keepdim", lambda x: nl.median(x, -2, keepdim=True), lambda x: T.median(x, -2, keepdim=True), [r(4, 3)]),
    ("mode", lambda x: nl.mode(x, 1), lambda x: T.mode(x, 1), [ties(4, 6)]),
    ("quantile_lists", lambda x, q: nl.quantile(x, q, 1, keepdim=True), lambda x, q: T.quantile(x, q, 1, keepdim=True), [r(3, 4), np.array([0.2, 0.9])]),
    ("quantile_dim0", lambda x, q: x.quantile(q, 0), lambda x, q: x.quantile(q, 0), [r(3, 4), np.array([0.2, 0.9])]),
    ("quantile_all_keep", lambda x, q: nl.quantile(x, q, keepdim=True), lambda x, q: T.quantile(x, q, keepdim=True), [r(3, 4), np.array([0.5])]),
    ("quantile_scalar_keep", lambda x: nl.quantile(x, 0.5, 1, keepdim=True), lambda x: T.quantile(x, 0.5, 1, keepdim=True), [r(3, 4)]),
    ("nanquantile", lambda x: nl.nanquantile(x, 0.4), lambda x: T.nanquantile(x, 0.4), [np.array([1.0, np.nan, 3.0, -2.0, 0.5])]),
    ("nanmedian", lambda x: nl.nanmedian(x, 1), lambda x: T.nanmedian(x, 1), [np.array([[1.0, np.nan, 3.0, -2.0, 0.5], [np.nan] * 5, [2.0, 1.0, 0.0, 4.0, np.nan]])]),
    ("median_nan", lambda x: nl.median(x, 1)[0], lambda x: T.median(x, 1)[0], [np.array([[1.0, np.nan, 3.0], [2.0, 1.0, 0.0]])]),
    # rearranging
    ("movedim", lambda x: nl.movedim(x, (0, -1), (2, 0)), lambda x: T.movedim(x, (0, -1), (2, 0)), [r(2, 3, 4)]),
    ("moveaxis", lambda x: x.moveaxis(0, -1), lambda x: x.moveaxis(0, -1), [r(2, 3, 4)]),
    ("swapaxes", lambda x: x.swapaxes(0, 2), lambda x: x.swapaxes(0, 2), [r(2, 3, 4)]),
    ("roll_dims", lambda x: nl.roll(x, (1, -2), (0, 2)), lambda x: T.roll(x, (1, -2), (0, 2)), [r(2, 3, 4)]),
    ("roll_flat", lambda x: x.roll(5), lambda x: x.roll(5), [r(2, 3, 4)]),
    ("narrow", lambda x: nl.narrow(x, -1, -3, 2), lambda x: T.narrow(x, -1, -3, 2), [r(2, 3, 4)]),
    ("unflatten", lambda x: x.unflatten(1, (2, -1)), lambda x: x.unflatten(1, (2, -1)), [r(2, 6)]),
    ("tile_short", lambda x: nl.tile(x, (2,)), lambda x: T.tile(x, (2,)), [r(2, 3)]),
    ("tile_long", lambda x: x.tile((2, 1, 2)), lambda x: x.tile((2, 1, 2)), [r(2, 3)]),
    ("repeat_interleave", lambda x: nl.repeat_interleave(x, 2, 1), lambda x: T.repeat_interleave(x, 2, 1), [r(2, 3)]),
    ("repeat_interleave_counts", lambda x: x.repeat_interleave(nl.tensor([1, 0, 3]), dim=1), lambda x: x.repeat_interleave(T.tensor([1, 0, 3]), dim=1), [r(2, 3)]),
    ("repeat_interleave_flat", lambda x: nl.repeat_interleave(x, 2), lambda x: T.repeat_interleave(x, 2), [r(2, 3)]),
    ("rot90", lambda x: nl.rot90(x), lambda x: T.rot90(x), [r(2, 3, 4)]),
    ("rot90_k", lambda x: x.rot90(-3, (2, 0)), lambda x: x.rot90(-3, (2, 0)), [r(2, 3, 4)]),
    ("broadcast_to", lambda x: nl.broadcast_to(x, (2, -1, 3)), lambda x: T.broadcast_to(x, (2, -1, 3)), [r(4, 1)]),
    ("hstack", lambda a, b: nl.hstack([a, b]), lambda a, b: T.hstack([a, b]), [r(2, 3), r(2, 1)]),
    ("vstack", lambda a, b: nl.vstack([a, b]), lambda a, b: T.vstack([a, b]), [r(3), r(2, 3)]),
    ("dstack", lambda a, b: nl.dstack([a, b]), lambda a, b: T.dstack([a, b]), [r(3), r(3)]),
    ("column_stack", lambda a, b: nl.column_stack([a, b]), lambda a, b: T.column_stack([a, b]), [r(3), r(3, 2)]),
    ("unbind", lambda a: nl.unbind(a, -1), lambda a: T.unbind(a, -1), [r(2, 3)]),
    ("tensor_split_n", lambda a: a.tensor_split(3, 1), lambda a: a.tensor_split(3, 1), [r(2, 7)]),
    ("tensor_split_at", lambda a: nl.tensor_split(a, [1, -2, 9]), lambda a: T.tensor_split(a, [1, -2, 9]), [r(7)]),
    ("hsplit", lambda a: nl.hsplit(a, 2), lambda a: T.hsplit(a, 2), [r(3, 4)]),
    ("vsplit", lambda a: a.vsplit([1]), lambda a: a.vsplit([1]), [r(3, 4)]),
    ("split_sizes", lambda a: a.split([1, 3], 1), lambda a: a.split([1, 3], 1), [r(3, 4)]),
    ("broadcast_tensors", nl.broadcast_tensors, T.broadcast_tensors, [r(3, 1), r(4)]),
    ("meshgrid_xy", lambda a, b: nl.meshgrid(a, b, indexing="xy"), lambda a, b: T.meshgrid(a, b, indexing="xy"), [r(3), r(4)]),
    ("meshgrid_ij3", lambda a, b, c: nl.meshgrid([a, b, c]), lambda a, b, c: T.meshgrid([a, b, c], indexing="ij"), [r(3), r(4), r(2)]),
    ("cartesian_prod", nl.cartesian_prod, T.cartesian_prod, [r(3), r(2)]),
    ("block_diag", nl.block_diag, T.block_diag, [r(2, 3), r(2), r()]),
    ("atleast_3d", nl.atleast_3d, T.atleast_3d, [r(2, 3)]),
    ("atleast_2d_list", lambda a: nl.atleast_2d([a]), lambda a: T.atleast_2d([a]), [r(3)]),
    ("squeeze_dims", lambda a: a.squeeze((0, 2)), lambda a: a.squeeze((0, 2)), [r(1, 3, 1, 2)]),
    ("where_tensor_scalar", lambda a: nl.where(a > 0, a, 0.0), lambda a: T.where(a > 0, a, 0.0), [r(3, 4)]),
]  # fmt: skip

for _red in ("sum", "mean", "amax", "amin", "prod"):
    for _inc in (True, False):
        ROWS.append((
            f"scatter_reduce_{_red}_{_inc}",
            lambda x, s, d=_red, i=_inc: nl.scatter_reduce(x, 0, I, s, d, include_self=i),
            lambda x, s, d=_red, i=_inc: T.scatter_reduce(x, 0, TI, s, d, include_self=i),
            [r(3, 4), r(2, 3)],
        ))  # fmt: skip
for _interp in ("linear", "lower", "higher", "midpoint", "nearest"):
    ROWS.append((
        f"quantile_{_interp}",
        lambda x, m=_interp: nl.quantile(x, 0.3, interpolation=m),
        lambda x, m=_interp: T.quantile(x, 0.3, interpolation=m),
        [r(3, 4)],
    ))  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("row", ROWS, ids=[row[0] for row in ROWS])
def test_matches_torch(row, dtype):
    _, ours, theirs, arrays = row
    compare(ours, theirs, arrays, dtype=dtype)


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_with_reduce_matches_torch_forward():
    x, s = r(2, 4), r(2, 3)
    for reduce in ("add", "multiply"):
        ours = nl.tensor(x).scatter(1, I, nl.tensor(s), reduce=reduce)
        theirs = T.tensor(x, dtype=T.float32).scatter(
            1, TI, T.tensor(s, dtype=T.float32), reduce=reduce
        )
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_results_are_named_like_torch():
    x = nl.tensor([[3.0, 1.0, 2.0]])
    for result in (x.sort(), x.topk(1), x.max(1), x.min(1), x.median(1), x.kthvalue(1), x.mode()):
        values, indices = result
        assert result.values is values and result.indices is indices
        assert indices.dtype == nl.int64
    assert nl.cummax(x, 1).indices.tolist() == [[0, 0, 0]]
    assert nl.aminmax(x).min.item() == 1.0


def test_index_outputs():
    a = nl.tensor([[0, 1], [1, 1]])
    assert nl.nonzero(a).tolist() == [[0, 1], [1, 0], [1, 1]]
    assert [t.tolist() for t in nl.nonzero(a, as_tuple=True)] == [[0, 1, 1], [1, 0, 1]]
    assert [t.tolist() for t in nl.where(a)] == [[0, 1, 1], [1, 0, 1]]
    assert nl.argwhere(a).shape == (3, 2)
    assert nl.argsort(nl.tensor([3, 1, 2, 1]), descending=True).tolist() == [0, 2, 1, 3]
    seq, vals = nl.tensor([[1, 3, 5], [2, 4, 6]]), nl.tensor([[3, 6], [1, 7]])
    assert nl.searchsorted(seq, vals, right=True).tolist() == [[2, 3], [0, 3]]
    assert nl.searchsorted(nl.tensor([1, 3, 5]), 3).item() == 1
    assert nl.bucketize(nl.tensor([3, 4]), nl.tensor([1, 3, 5]), right=True).tolist() == [2, 2]
    assert nl.bucketize(nl.tensor([3]), nl.tensor([1, 3]), out_int32=True).dtype == nl.int32
    assert nl.repeat_interleave(nl.tensor([2, 1])).tolist() == [0, 0, 1]


def test_counting_matches_torch():
    x, tx = both(np.array([3, 1, 3, 2, 2, 2]))
    for kwargs in ({}, {"return_inverse": True}, {"return_counts": True, "return_inverse": True}):
        ours, theirs = nl.unique(x, **kwargs), T.unique(tx, **kwargs)
        ours, theirs = (ours,) if not isinstance(ours, tuple) else ours, (theirs,) if not isinstance(theirs, tuple) else theirs  # fmt: skip
        assert [o.tolist() for o in ours] == [t.tolist() for t in theirs]
    m, tm = both(np.array([[1, 2], [1, 2], [0, 1]]))
    assert [o.tolist() for o in m.unique(dim=0, return_inverse=True)] == [t.tolist() for t in tm.unique(dim=0, return_inverse=True)]  # fmt: skip
    ours = nl.unique_consecutive(x, return_inverse=True, return_counts=True)
    theirs = T.unique_consecutive(tx, return_inverse=True, return_counts=True)
    assert [o.tolist() for o in ours] == [t.tolist() for t in theirs]
    assert nl.bincount(nl.tensor([0, 1, 1, 4]), minlength=6).tolist() == [1, 2, 0, 0, 1, 0]
    w = nl.bincount(nl.tensor([0, 1, 1]), nl.tensor([1.0, 2.0, 3.0]))
    assert w.tolist() == [1.0, 5.0] and w.dtype == nl.float32
    v = rng.standard_normal(50).astype(np.float32)
    assert nl.histc(nl.tensor(v), 5).tolist() == T.histc(T.tensor(v), 5).tolist()
    assert nl.histc(nl.tensor(v), 4, -1, 1).tolist() == T.histc(T.tensor(v), 4, -1, 1).tolist()
    hist, edges = nl.histogram(nl.tensor(v), 3)
    th = T.histogram(T.tensor(v), 3)
    assert hist.tolist() == th.hist.tolist()
    np.testing.assert_allclose(edges.numpy(), th.bin_edges.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="bincount: the input must be non-negative"):
        nl.bincount(nl.tensor([1, -1]))


def test_selection_errors_are_one_line():
    x = nl.zeros(2, 3)
    with pytest.raises(
        IndexError, match="gather: index 5 is out of bounds for dimension 1 with size 3"
    ):
        nl.gather(x, 1, nl.tensor([[0, 5]]))
    with pytest.raises(TypeError, match="gather: index must be an integer tensor"):
        nl.gather(x, 1, nl.tensor([[0.0]]))
    with pytest.raises(ValueError, match="gather: index must have as many dimensions as input"):
        nl.gather(x, 1, nl.tensor([0]))
    with pytest.raises(TypeError, match="masked_fill: mask must be a bool tensor"):
        x.masked_fill(nl.ones(2, 3), 0.0)
    with pytest.raises(
        ValueError, match=r"topk: k \(5\) is out of range for dimension -1 of size 3"
    ):
        x.topk(5)
    with pytest.raises(IndexError, match="index_select: index 3 is out of bounds"):
        x.index_select(0, nl.tensor([3]))
    with pytest.raises(TypeError, match="scatter: give exactly one of src and value"):
        nl.scatter(x, 1, nl.tensor([[0]]))
    with pytest.raises(IndexError, match="narrow: start 2 and length 3 are out of range"):
        x.narrow(1, 2, 3)
    with pytest.raises(IndexError, match="select: index 3 is out of range"):
        x.select(1, 3)
    with pytest.raises(ValueError, match="meshgrid: indexing must be 'ij' or 'xy'"):
        nl.meshgrid(nl.zeros(2), indexing="yx")


# ----------------------------------------------------------------------------- in place


def test_inplace_outside_the_graph_writes_the_same_array():
    x = nl.tensor([[1.0, 4.0], [9.0, 16.0]])
    view = x.data
    assert x.sqrt_() is x
    assert view.tolist() == [[1.0, 2.0], [3.0, 4.0]]  # the storage itself changed
    x.div_(2).pow_(2).masked_fill_(x > 3, 0.0)
    assert x.tolist() == [[0.25, 1.0], [2.25, 0.0]]
    buf = nl.zeros(3)
    buf.index_add_(0, nl.tensor([0, 2, 0]), nl.tensor([1.0, 2.0, 3.0]))
    assert buf.tolist() == [4.0, 0.0, 2.0]
    buf.scatter_(0, nl.tensor([1]), nl.tensor([7.0])).clamp_max_(5)
    assert buf.tolist() == [4.0, 5.0, 2.0]
    m = nl.zeros(3, 3)
    m.fill_diagonal_(1.0)
    assert m.tolist() == np.eye(3).tolist()


def test_optimizer_style_updates():
    p, g = nl.tensor([1.0, 2.0]), nl.tensor([0.5, -0.5])
    avg, sq = nl.zeros(2), nl.zeros(2)
    avg.mul_(0.9).add_(g, alpha=0.1)
    sq.mul_(0.99).addcmul_(g, g, value=0.01)
    p.addcdiv_(avg, sq.sqrt().add_(1e-8), value=-0.1)
    expected = np.array([1.0, 2.0]) - 0.1 * (0.1 * np.array([0.5, -0.5])) / (
        np.sqrt(0.01 * 0.25) + 1e-8
    )
    np.testing.assert_allclose(p.numpy(), expected, rtol=1e-5)
    p.lerp_(nl.zeros(2), 0.5)
    np.testing.assert_allclose(p.numpy(), expected / 2, rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_inplace_on_a_graph_tensor_keeps_gradients_like_torch(dtype):
    mask = MASK

    def run(lib, x):
        h = x * 2
        h.masked_fill_(lib.tensor(mask), -1.0)
        h *= 3
        h.div_(x.abs() + 1).exp_()
        return h

    compare(lambda x: run(nl, x), lambda x: run(T, x), [r(3, 4)], dtype=dtype)
    compare(
        lambda s: nl.zeros(3, 4, dtype=s.dtype).index_add_(0, R3, s),
        lambda s: T.zeros(3, 4, dtype=s.dtype).index_add_(0, TR3, s),
        [r(3, 4)],
        dtype=dtype,
    )


def test_inplace_refuses_leaves_that_require_grad_and_bad_targets():
    w = nl.ones(3, requires_grad=True)
    with pytest.raises(
        RuntimeError, match="div_: a leaf tensor that requires grad cannot be changed"
    ):
        w.div_(2)
    with nl.no_grad():
        w.div_(2)
    assert w.tolist() == [0.5, 0.5, 0.5]
    with pytest.raises(RuntimeError, match=r"does not fit the tensor's shape \(3, 1\)"):
        nl.ones(3, 1).div_(nl.ones(4))
    with pytest.raises(RuntimeError, match="cannot be stored in a int64 tensor"):
        nl.tensor([1, 2]).div_(2)


def test_sampling_methods_refuse_a_recorded_leaf():
    w = nl.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError):
        w.bernoulli_(0.5)
