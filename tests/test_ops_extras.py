"""Smaller torch functions against torch: windows, frombuffer, gcd/lcm/ldexp/frexp,
unravel_index, slice/select/diagonal_scatter, combinations, the trapezoidal rule, vander and
matrix_exp (values, dtypes and gradients)."""

import numpy as np
import pytest
import torch
from oracle import compare

import neuralab as nl

WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("n", [0, 1, 2, 7, 16])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_torch(name, n, periodic):
    ours, theirs = getattr(nl, name)(n, periodic), getattr(torch, name)(n, periodic)
    assert ours.dtype == nl.float32 and theirs.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=2e-6)
    doubled = getattr(nl, name)(n, periodic, dtype=nl.float64)
    np.testing.assert_allclose(
        doubled.numpy(), getattr(torch, name)(n, periodic, dtype=torch.float64).numpy(), atol=1e-12
    )


def test_window_arguments_and_errors():
    np.testing.assert_allclose(
        nl.hamming_window(9, alpha=0.5, beta=0.5).numpy(),
        torch.hamming_window(9, True, 0.5, 0.5).numpy(),
        atol=1e-6,
    )
    np.testing.assert_allclose(
        nl.kaiser_window(9, beta=5.0).numpy(), torch.kaiser_window(9, True, 5.0).numpy(), atol=1e-6
    )
    with pytest.raises(TypeError, match="floating-point"):
        nl.hann_window(4, dtype=nl.int64)


def test_frombuffer_shares_a_writable_buffer():
    buf = bytearray(np.arange(6, dtype=np.float32).tobytes())
    t = nl.frombuffer(buf, dtype=nl.float32, count=4, offset=4)
    assert t.tolist() == [1.0, 2.0, 3.0, 4.0]
    t[0] = 100.0
    assert np.frombuffer(buf, np.float32)[1] == 100.0


def test_gcd_lcm_ldexp_frexp_match_torch():
    a, b = np.array([12, -18, 0, 7]), np.array([8, 27, 0, -21])
    for fn in ("gcd", "lcm"):
        ours = getattr(nl, fn)(nl.tensor(a), nl.tensor(b))
        np.testing.assert_array_equal(
            ours.numpy(), getattr(torch, fn)(torch.tensor(a), torch.tensor(b)).numpy()
        )
        x = nl.tensor(a)
        getattr(x, fn + "_")(nl.tensor(b))
        np.testing.assert_array_equal(x.numpy(), ours.numpy())
    with pytest.raises(TypeError, match="gcd: expected integer tensors"):
        nl.gcd(nl.tensor([1.5]), nl.tensor([2.0]))
    x, e = np.array([0.75, -3.0, 1e-3]), np.array([2, 0, 10])
    compare(lambda t: nl.ldexp(t, nl.tensor(e)), lambda t: torch.ldexp(t, torch.tensor(e)), [x])
    # a negative integer exponent: the slope is 2^e (torch's backward gives 0 there)
    t = nl.tensor([3.0], requires_grad=True)
    nl.ldexp(t, nl.tensor([-2])).backward()
    assert t.grad.tolist() == [0.25]
    m, ex = nl.frexp(nl.tensor(x.astype(np.float32)))
    tm, tex = torch.frexp(torch.tensor(x.astype(np.float32)))
    np.testing.assert_array_equal(m.numpy(), tm.numpy())
    np.testing.assert_array_equal(ex.numpy(), tex.numpy())
    assert ex.dtype == nl.int32


def test_unravel_index_matches_torch():
    idx = np.array([[0, 5, 11], [-1, 7, 3]])
    ours = nl.unravel_index(nl.tensor(idx), (3, 4))
    theirs = torch.unravel_index(torch.tensor(idx), (3, 4))
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.numpy(), t.numpy())
    with pytest.raises(RuntimeError, match=r"must be in \[-12, 12\) for shape \(3, 4\)"):
        nl.unravel_index(nl.tensor([12]), (3, 4))


@pytest.mark.parametrize(
    "name, shapes, kwargs",
    [
        ("slice_scatter", [(5, 4), (2, 4)], dict(dim=0, start=1, end=5, step=2)),
        ("slice_scatter", [(3, 6), (3, 3)], dict(dim=1, start=3)),
        ("select_scatter", [(3, 4, 2), (3, 2)], dict(dim=1, index=-1)),
        ("diagonal_scatter", [(4, 5), (4,)], dict(offset=1)),
        ("diagonal_scatter", [(2, 3, 3), (2, 2)], dict(offset=-1, dim1=1, dim2=2)),
    ],
)
def test_scatters_into_views_match_torch(name, shapes, kwargs):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    compare(
        lambda x, s: getattr(nl, name)(x, s, **kwargs),
        lambda x, s: getattr(torch, name)(x, s, **kwargs),
        arrays,
    )


def test_a_scatter_into_a_view_refuses_a_source_of_the_wrong_shape():
    with pytest.raises(RuntimeError, match=r"src of shape \(3,\) does not fit .* \(2,\)"):
        nl.zeros(2, 2).diagonal_scatter(nl.ones(3))
    with pytest.raises(RuntimeError, match=r"slice_scatter: src of shape \(1, 2\)"):
        nl.slice_scatter(nl.zeros(4, 2), nl.ones(1, 2), start=0, end=2)


@pytest.mark.parametrize("r, replace", [(2, False), (3, False), (2, True), (0, False), (5, False)])
def test_combinations_match_torch(r, replace):
    x = np.array([1.0, 2.0, 4.0, 8.0])
    ours = nl.combinations(nl.tensor(x), r, replace)
    theirs = torch.combinations(torch.tensor(x), r, replace)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    if ours.numel():
        compare(
            lambda t: nl.combinations(t, r, replace),
            lambda t: torch.combinations(t, r, replace),
            [x],
        )


@pytest.mark.parametrize(
    "fn, kwargs",
    [
        ("trapezoid", {}),
        ("trapezoid", dict(dx=0.5, dim=0)),
        ("trapz", dict(dim=0)),
        ("cumulative_trapezoid", {}),
        ("cumulative_trapezoid", dict(dx=2.0, dim=0)),
    ],
)
def test_the_trapezoidal_rule_matches_torch(fn, kwargs):
    y = np.random.default_rng(1).standard_normal((4, 5))
    compare(lambda t: getattr(nl, fn)(t, **kwargs), lambda t: getattr(torch, fn)(t, **kwargs), [y])


@pytest.mark.parametrize("fn", ["trapezoid", "cumulative_trapezoid"])
def test_the_trapezoidal_rule_at_given_points_matches_torch(fn):
    rng = np.random.default_rng(2)
    y, x1, x2 = rng.standard_normal((3, 5)), np.sort(rng.random(5)), np.sort(rng.random((3, 5)))
    for x in (x1, x2):
        compare(lambda a, b: getattr(nl, fn)(a, b), lambda a, b: getattr(torch, fn)(a, b), [y, x])
    with pytest.raises(ValueError, match="x has 4 points for 5 values"):
        nl.trapezoid(nl.tensor(y), nl.tensor(x1[:4]))


def test_vander_matches_torch():
    x = np.array([1.5, -2.0, 0.5])
    for kw in ({}, dict(N=4), dict(N=2, increasing=True)):
        ours, theirs = nl.vander(nl.from_numpy(x), **kw), torch.vander(torch.from_numpy(x), **kw)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    # torch's own backward of vander fails here ("modified by an inplace operation"), so the
    # gradient is checked against its formula: d/dx_i Σ_j g_ij x_i^p_j = Σ_j g_ij p_j x_i^(p_j - 1)
    t = nl.from_numpy(x.copy()).requires_grad_()
    g = np.random.default_rng(4).standard_normal((3, 4))
    nl.vander(t, N=4).backward(nl.from_numpy(g))
    powers = np.arange(3, -1, -1)
    expected = (g * powers * x[:, None] ** np.maximum(powers - 1, 0)).sum(1)
    np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-12)
    ints = nl.vander(nl.tensor([1, 2, 3]))
    assert (
        ints.dtype == nl.int64 and ints.tolist() == torch.vander(torch.tensor([1, 2, 3])).tolist()
    )


def test_matrix_exp_matches_torch():
    a = np.random.default_rng(3).standard_normal((2, 3, 3)) * 0.7
    compare(nl.matrix_exp, torch.matrix_exp, [a])
    compare(nl.linalg.matrix_exp, torch.linalg.matrix_exp, [a], np.float64)
    np.testing.assert_allclose(
        nl.from_numpy(a[0]).matrix_exp().numpy(),
        torch.from_numpy(a[0]).matrix_exp().numpy(),
        rtol=1e-10,
    )


@pytest.mark.parametrize("args", [(1, 3, 2), (1, 3, 1), (2, 5, 5), (0, 1, 1), (-1, 2, 3)])
def test_tensor_unfold_matches_torch(args):
    x = np.random.default_rng(5).standard_normal((3, 8, 5))
    compare(lambda t: t.unfold(*args), lambda t: t.unfold(*args), [x])


def test_tensor_unfold_makes_patches_like_torch():
    x = np.random.default_rng(6).standard_normal((2, 3, 8, 8))
    compare(
        lambda t: t.unfold(2, 4, 4).unfold(3, 4, 4).reshape(2, 3, 4, 16),
        lambda t: t.unfold(2, 4, 4).unfold(3, 4, 4).reshape(2, 3, 4, 16),
        [x],
    )
    with pytest.raises(ValueError, match="size 9 must be in 0..8"):
        nl.zeros(8).unfold(0, 9, 1)


def test_sum_to_size_renorm_put_nextafter_match_torch():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 8, 5))
    for size in ((1, 8, 1), (5,), (3, 1, 5)):
        compare(lambda t, s=size: t.sum_to_size(*s), lambda t, s=size: t.sum_to_size(*s), [x])
    with pytest.raises(RuntimeError, match=r"size \(4,\) is not expandable to shape \(3, 8, 5\)"):
        nl.tensor(x).sum_to_size(4)
    for p, dim, most in ((2, 0, 3.0), (1, 1, 2.0), (3, -1, 0.5)):
        compare(
            lambda t, a=(p, dim, most): t.renorm(*a), lambda t, a=(p, dim, most): t.renorm(*a), [x]
        )
    idx = np.array([0, 5, -1, 7])
    for acc in (False, True):
        compare(
            lambda t, s, a=acc: t.put(nl.tensor(idx), s, a),
            lambda t, s, a=acc: t.put(torch.tensor(idx), s, a),
            [x, rng.standard_normal(4)],
        )
    b = nl.ones(4)
    b.put_(nl.tensor([1]), nl.tensor([5.0]))
    assert b.tolist() == [1.0, 5.0, 1.0, 1.0]
    a = np.array([1.0, 2.0], np.float32)
    ours = nl.tensor(a).nextafter(nl.tensor(a[::-1].copy()))
    np.testing.assert_array_equal(
        ours.numpy(), torch.tensor(a).nextafter(torch.tensor(a[::-1].copy())).numpy()
    )


def test_a_real_tensor_is_its_own_conjugate_and_real_part():
    a = nl.tensor([1.0, 2.0])
    assert a.conj() is a and a.resolve_conj() is a and a.resolve_neg() is a and a.real is a
    assert not a.is_conj() and not a.is_neg() and (a.itemsize, a.nbytes) == (4, 8)
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex"):
        _ = a.imag


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(scale_grad_by_freq=True),
        dict(scale_grad_by_freq=True, padding_idx=3),
        dict(max_norm=1.0),
        dict(max_norm=0.5, norm_type=1.0, scale_grad_by_freq=True),
    ],
)
def test_embedding_options_match_torch(kwargs):
    idx, w = np.array([[1, 3, 3], [0, 3, 1]]), np.random.default_rng(8).standard_normal((5, 4))
    compare(
        lambda t: nl.nn.functional.embedding(nl.tensor(idx), t, **kwargs),
        lambda t: torch.nn.functional.embedding(torch.tensor(idx), t, **kwargs),
        [w],
    )


def test_a_frequency_scaled_embedding_under_a_linear_layer_matches_torch():
    # many lookups of few rows: the fused embedding-projection path must not skip the scaling
    theirs = torch.nn.Embedding(5, 4, scale_grad_by_freq=True)
    ours = nl.nn.Embedding(5, 4, scale_grad_by_freq=True)
    ours.load_state_dict({"weight": nl.tensor(theirs.weight.detach().numpy())})
    t_lin, o_lin = torch.nn.Linear(4, 2), nl.nn.Linear(4, 2)
    o_lin.load_state_dict({k: nl.tensor(v.detach().numpy()) for k, v in t_lin.state_dict().items()})
    ids = np.array([[0, 1, 1, 1, 2] * 30])
    t_lin(theirs(torch.tensor(ids))).sum().backward()
    o_lin(ours(nl.tensor(ids))).sum().backward()
    np.testing.assert_allclose(
        ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-5, atol=1e-6
    )
    assert repr(ours) == repr(theirs) == "Embedding(5, 4, scale_grad_by_freq=True)"


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_functional_embedding_bag_matches_torch(mode):
    rng = np.random.default_rng(9)
    w = rng.standard_normal((6, 3))
    ids, offsets = np.array([1, 2, 4, 5, 4, 3, 2, 0]), np.array([0, 2, 2, 5])  # an empty bag
    kw = dict(mode=mode, padding_idx=4)
    compare(
        lambda t: nl.nn.functional.embedding_bag(nl.tensor(ids), t, nl.tensor(offsets), **kw),
        lambda t: torch.nn.functional.embedding_bag(
            torch.tensor(ids), t, torch.tensor(offsets), **kw
        ),
        [w],
    )
    grid = ids.reshape(2, 4)
    compare(
        lambda t: nl.nn.functional.embedding_bag(nl.tensor(grid), t, mode=mode),
        lambda t: torch.nn.functional.embedding_bag(torch.tensor(grid), t, mode=mode),
        [w],
    )
    if mode == "sum":
        psw = rng.standard_normal(ids.size)
        compare(
            lambda t, p: nl.nn.functional.embedding_bag(
                nl.tensor(ids), t, nl.tensor(offsets), mode="sum", per_sample_weights=p
            ),
            lambda t, p: torch.nn.functional.embedding_bag(
                torch.tensor(ids), t, torch.tensor(offsets), mode="sum", per_sample_weights=p
            ),
            [w, psw],
        )


@pytest.mark.parametrize("causal", [False, True])
def test_grouped_query_attention_matches_torch(causal):
    rng = np.random.default_rng(10)
    q, k, v = (rng.standard_normal(s) for s in ((2, 6, 5, 4), (2, 2, 5, 4), (2, 2, 5, 4)))
    compare(
        lambda a, b, c: nl.nn.functional.scaled_dot_product_attention(
            a, b, c, is_causal=causal, enable_gqa=True
        ),
        lambda a, b, c: torch.nn.functional.scaled_dot_product_attention(
            a, b, c, is_causal=causal, enable_gqa=True
        ),
        [q, k, v],
    )
    with pytest.raises(
        ValueError,
        match="query's 6 heads must be a multiple of the key's and value's \\(4 and 4\\)",
    ):
        nl.nn.functional.scaled_dot_product_attention(
            nl.tensor(q), nl.randn(2, 4, 5, 4), nl.randn(2, 4, 5, 4), enable_gqa=True
        )


@pytest.mark.parametrize(
    "args", [((3, 3), (5, 1)), ((2, 2), (1, 2), 3), ((4, 4), (1, 5)), ((3, 2), (0, 1))]
)
def test_as_strided_matches_torch(args):
    x = np.random.default_rng(11).standard_normal((4, 5))
    compare(lambda t: t.as_strided(*args), lambda t: t.as_strided(*args), [x])
    with pytest.raises(ValueError, match="not contiguous; call .contiguous"):
        nl.tensor(x).t().as_strided((2, 2), (1, 1))


def test_post_accumulate_grad_hooks_run_once_per_backward_as_torchs():
    seen = {}
    for lib in (nl, torch):
        w = lib.ones(3, requires_grad=True)
        seen[lib.__name__] = []
        handle = w.register_post_accumulate_grad_hook(
            lambda t, s=seen[lib.__name__]: s.append(t.grad.tolist())
        )
        ((w * 2).sum() + (w * 3).sum()).backward()  # two paths, one call with the sum
        (w * 1).sum().backward()
        handle.remove()
        (w * 1).sum().backward()
        with pytest.raises(RuntimeError, match="cannot be registered on non-leaf tensors"):
            (w * 2).register_post_accumulate_grad_hook(lambda t: None)
    assert seen["neuralab"] == seen["torch"] == [[5.0] * 3, [6.0] * 3]


def test_max_unpool1d_matches_torch():
    x = np.random.default_rng(12).standard_normal((2, 3, 9)).astype(np.float32)
    out, idx = nl.nn.functional.max_pool1d(nl.tensor(x), 2, return_indices=True)
    t_out, t_idx = torch.nn.functional.max_pool1d(torch.tensor(x), 2, return_indices=True)
    ours = nl.nn.MaxUnpool1d(2)(out, idx, output_size=(2, 3, 9))
    theirs = torch.nn.MaxUnpool1d(2)(t_out, t_idx, output_size=(2, 3, 9))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert repr(nl.nn.MaxUnpool1d(2)) == repr(torch.nn.MaxUnpool1d(2))


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_scales_gradients_by_frequency_like_embedding(mode):
    # torch's embedding_bag scales these rows wrongly (a row read once got 1/3 here); its
    # embedding does it right, so the reference is torch's embedding summed into the bags
    ids, offsets = np.array([1, 2, 4, 5, 4, 3, 2, 0, 2]), [0, 2, 2, 5]
    w = np.random.default_rng(15).standard_normal((6, 3))
    bounds = [*offsets, len(ids)]

    def reference(t):
        rows = torch.nn.functional.embedding(torch.tensor(ids), t, scale_grad_by_freq=True)
        bags = [
            rows[a:b].sum(0) if b > a else torch.zeros(3, dtype=t.dtype)
            for a, b in zip(bounds, bounds[1:])
        ]
        if mode == "mean":
            bags = [bag / max(b - a, 1) for bag, a, b in zip(bags, bounds, bounds[1:])]
        return torch.stack(bags)

    compare(
        lambda t: nl.nn.functional.embedding_bag(
            nl.tensor(ids), t, nl.tensor(offsets), mode=mode, scale_grad_by_freq=True
        ),
        reference,
        [w],
    )
    with pytest.raises(
        ValueError, match="scale_grad_by_freq=True is not supported with mode='max'"
    ):
        nl.nn.functional.embedding_bag(
            nl.tensor(ids), nl.tensor(w), nl.tensor(offsets), mode="max", scale_grad_by_freq=True
        )


def _gradient_cases():
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 15.0], np.float32)
    m = np.cos(np.arange(20.0, dtype=np.float32)).reshape(4, 5)
    c = np.array([0.0, 1.0, 1.5, 3.5, 4.0, 6.0], np.float32)
    c0, c1 = np.array([0.0, 1.0, 3.0, 3.5], np.float32), np.linspace(0, 2, 5, dtype=np.float32)
    return [
        ("uniform", x, {}),
        ("spacing 2", x, {"spacing": 2.0}),
        ("coordinates", x, {"spacing": (c,)}),
        ("second order", x, {"edge_order": 2}),
        ("coordinates, second order", x, {"spacing": (c,), "edge_order": 2}),
        ("one dim of two", m, {"dim": 1}),
        ("negative dim, spacing", m, {"dim": [-2], "spacing": [0.5]}),
        ("per-dim scalars", m, {"spacing": [2.0, 3.0]}),
        ("per-dim coordinates", m, {"spacing": (c0, c1), "edge_order": 2}),
        ("integers", np.array([1, 2, 4, 7]), {}),
    ]


@pytest.mark.parametrize("name, x, kw", _gradient_cases(), ids=[c[0] for c in _gradient_cases()])
def test_gradient_matches_torch(name, x, kw):
    def args(lib):
        spacing = kw.get("spacing")
        if isinstance(spacing, tuple):
            return {**kw, "spacing": tuple(lib.tensor(s) for s in spacing)}
        return kw

    ours = nl.gradient(nl.tensor(x), **args(nl))
    theirs = torch.gradient(torch.tensor(x), **args(torch))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.dtype == nl.float32
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_gradient_backward_matches_torch():
    m = np.cos(np.arange(20.0, dtype=np.float32)).reshape(4, 5)
    ours, theirs = nl.tensor(m, requires_grad=True), torch.tensor(m, requires_grad=True)
    for t, lib in ((ours, nl), (theirs, torch)):
        d0, d1 = lib.gradient(t, edge_order=2, spacing=[0.5, 2.0])
        (d0 * d0 + d1.sin()).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_gradient_refuses_what_torch_refuses():
    with pytest.raises(RuntimeError, match="at least edge_order"):
        nl.gradient(nl.tensor([1.0, 2.0]), edge_order=2)
    with pytest.raises(RuntimeError, match="only supports edge_order=1 and edge_order=2"):
        nl.gradient(nl.tensor([1.0, 2.0, 3.0]), edge_order=3)
    with pytest.raises(RuntimeError, match="list of length equal to 'self.dim\\(\\) = 1'"):
        nl.gradient(nl.tensor([1.0, 2.0, 3.0]), spacing=[1.0, 2.0])
