"""nn.Module's API against torch's: registration, traversal, conversion, state dicts, hooks,
copying, containers, reprs, torch.nn.modules paths, DataParallel and neuralab.distributed."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn as tnn

import neuralab as nl
import neuralab.nn as nn

RNG = np.random.default_rng(0)


def copy_weights(ours: nn.Module, theirs: tnn.Module) -> None:
    """Load torch's state dict (as arrays) into our module of the same architecture."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def nested(lib):
    """A model with every kind of member: nested containers, a shared module and buffers."""
    shared = lib.Linear(3, 3)
    return lib.Sequential(
        OrderedDict(
            first=shared,
            block=lib.Sequential(lib.Conv1d(1, 2, 3), lib.BatchNorm1d(2)),
            heads=lib.ModuleDict({"a": lib.Linear(3, 1), "b": shared}),
            rnn=lib.LSTM(3, 4, 2, bidirectional=True),
        )
    )


# ----------------------------------------------------------------------------- traversal


def test_named_traversals_match_torch():
    ours, theirs = nested(nn), nested(tnn)

    def names(it):
        return [n for n, _ in it]

    for kwargs in ({}, {"remove_duplicate": False}):
        assert names(ours.named_modules(**kwargs)) == names(theirs.named_modules(**kwargs))
    for kwargs in ({}, {"prefix": "net"}, {"recurse": False}, {"remove_duplicate": False}):
        assert names(ours.named_parameters(**kwargs)) == names(theirs.named_parameters(**kwargs))
        assert names(ours.named_buffers(**kwargs)) == names(theirs.named_buffers(**kwargs))
    assert names(ours.named_children()) == names(theirs.named_children())
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert len(list(ours.children())) == len(list(theirs.children()))
    assert list(ours.state_dict()) == list(theirs.state_dict())  # shared members under each name


def test_apply_visits_children_first_like_torch():
    def order(lib):
        seen = []
        model = lib.Sequential(lib.Linear(1, 1), lib.Sequential(lib.ReLU(), lib.Tanh()))
        assert model.apply(lambda m: seen.append(type(m).__name__)) is model
        return seen

    assert order(nn) == order(tnn) == ["Linear", "ReLU", "Tanh", "Sequential", "Sequential"]


def test_train_recurses_through_children_train_and_returns_self():
    class Frozen(nn.Module):
        def train(self, mode=True):  # a subclass override is honoured, as in torch
            return super().train(False)

    model = nn.Sequential(nn.Linear(1, 1), Frozen())
    assert model.eval() is model and not model.training
    assert model.train() is model and model[0].training and not model[1].training
    with pytest.raises(ValueError, match="boolean"):
        model.train("yes")


def test_get_submodule_parameter_buffer_and_set_submodule():
    model = nested(nn)
    assert model.get_submodule("block.1") is model.block[1]
    assert model.get_submodule("") is model
    assert model.get_parameter("rnn.weight_hh_l1_reverse") is model.rnn.weight_hh_l1_reverse
    assert model.get_buffer("block.1.running_var") is model.block[1].running_var
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        model.get_submodule("block.nope")
    with pytest.raises(AttributeError, match="`running_var` is not an nn.Parameter"):
        model.get_parameter("block.1.running_var")
    new = nn.Linear(3, 2)
    model.set_submodule("heads.a", new)
    assert model.heads["a"] is new


# ----------------------------------------------------------------------------- registration


class Net(nn.Module):
    def __init__(self) -> None:
        self.note = "set before super().__init__(), as torch allows"
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.register_buffer("count", nl.zeros(1))
        self.register_buffer("scratch", nl.zeros(2), persistent=False)
        self.register_parameter("extra", None)

    def forward(self, x):
        return self.fc(x)


def test_buffers_parameters_and_persistence():
    net = Net()
    assert list(net.state_dict()) == ["count", "fc.weight", "fc.bias"]
    assert [n for n, _ in net.named_buffers()] == ["count", "scratch"]
    assert net.extra is None and "extra" not in net.state_dict()
    net.count = nl.ones(1)  # assigning a tensor to a buffer name updates the buffer
    assert net.state_dict()["count"].item() == 1
    net.extra = nn.Parameter(nl.ones(3))
    assert [n for n, _ in net.named_parameters()] == ["extra", "fc.weight", "fc.bias"]
    del net.extra
    assert "extra" not in dict(net.named_parameters()) and not hasattr(net, "extra")
    net.fc = None  # a registered child may be set to None
    assert list(net.state_dict()) == ["count"]


def test_registry_edits_are_seen_through_attributes():
    net = Net()
    replacement = nn.Parameter(nl.zeros(2, 2))
    net.fc._parameters["weight"] = replacement  # torch internals and some user code do this
    assert net.fc.weight is replacement
    assert np.all(net(nl.ones(1, 2)).numpy() == net.fc.bias.numpy())


def test_assignment_errors_match_torch():
    net = Net()
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        net.fc.weight = nl.zeros(2, 2)
    with pytest.raises(TypeError, match="as child module 'fc'"):
        net.fc = 3
    with pytest.raises(TypeError, match="as buffer 'count'"):
        net.count = 3
    with pytest.raises(KeyError, match="attribute 'note' already exists"):
        net.register_buffer("note", nl.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        net.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="nn.Parameter or None required"):
        net.register_parameter("w", nl.zeros(1))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        net.add_module("x", 3)

    class Early(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Early()
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'missing'"):
        net.missing  # noqa: B018


def test_register_module_alias_and_dir():
    net = Net()
    net.register_module("head", nn.Linear(2, 1))
    assert net.head is net._modules["head"]
    assert {"fc", "head", "count", "extra"} <= set(dir(net))


def test_parameter_from_tensors():
    t = nl.randn(2, 3, dtype=nl.float64)
    p = nn.Parameter(t)
    assert p.requires_grad and p.dtype == nl.float64 and isinstance(p, nl.Tensor)
    p.data[0, 0] = 5.0
    assert t[0, 0].item() == 5.0  # shares storage, like torch
    assert not nn.Parameter(nl.zeros(2), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert nn.Parameter().shape == (0,)


def test_zero_grad_and_requires_grad():
    net = Net()
    net(nl.ones(1, 2)).sum().backward()
    net.zero_grad(set_to_none=False)
    assert np.all(net.fc.weight.grad.numpy() == 0)
    net.zero_grad()
    assert net.fc.weight.grad is None
    assert net.requires_grad_(False) is net and not any(p.requires_grad for p in net.parameters())


# ----------------------------------------------------------------------------- conversion


def test_to_overloads_cast_in_place_and_return_self():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    weight = model[0].weight
    assert model.to(nl.float64) is model and weight.dtype == nl.float64
    assert model[0].weight is weight  # optimizers keep their references
    assert model[1].num_batches_tracked.dtype == nl.int64  # only floating tensors change
    assert model.to("cpu", nl.float32) is model and weight.dtype == nl.float32
    model.to(nl.zeros(1, dtype=nl.float64))
    assert weight.dtype == nl.float64
    model.to(device="cpu", dtype=nl.float32, non_blocking=True)
    assert weight.dtype == nl.float32
    assert model.to(nl.device("cpu")) is model and model.cpu() is model
    assert model.half() is model and weight.dtype == nl.float16
    assert model.double() is model and weight.dtype == nl.float64
    assert model.float() is model and weight.dtype == nl.float32
    model.type(nl.float64)
    assert model[1].num_batches_tracked.dtype == nl.float64  # type() casts every tensor, as torch


def test_to_converts_gradients_too():
    lin = nn.Linear(2, 1)
    lin(nl.ones(1, 2)).sum().backward()
    lin.double()
    assert lin.weight.grad.dtype == nl.float64


def test_devices_other_than_cpu_and_bad_dtypes_are_refused():
    model = nn.Linear(2, 3)
    with pytest.raises(RuntimeError, match="CPU only"):
        model.to("cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        model.cuda()
    with pytest.raises(TypeError, match="only accepts floating point"):
        model.to(nl.int64)
    with pytest.raises(TypeError, match="bfloat16"):
        model.bfloat16()
    with pytest.raises(TypeError, match="unexpected arguments"):
        model.to("cpu", nl.float32, True, 5)


def test_a_float64_input_to_a_float32_layer_is_refused_as_torch_does():
    """torch.from_numpy keeps NumPy's float64: torch raises rather than compute a float32 layer
    in float64, and so do we (NumPy alone would promote the model's output to float64)."""
    x64 = np.random.default_rng(0).random((3, 4))
    for lib, module in ((torch, tnn), (nl, nn)):
        lin = module.Linear(4, 2)
        x = lib.from_numpy(x64)
        raises = RuntimeError if lib is torch else TypeError
        for bad in (x, x[:1], x.long()):  # one row takes another path
            with pytest.raises(raises, match="same dtype"):
                lin(bad)
        with pytest.raises(raises, match="same dtype"):
            lib.nn.functional.linear(x.float(), lin.weight, lin.bias.double())
        assert lin(x.float()).dtype == lib.float32
        assert lin.double()(x).dtype == lib.float64
    with pytest.raises(TypeError, match=r"input and weight .* float64 and float32; .*x.float\(\)"):
        nn.Linear(4, 2)(nl.from_numpy(x64))


def test_a_double_model_takes_what_torch_tensor_makes_of_a_numpy_array():
    """torch.tensor(ndarray) is float64 in torch and float32 here (the default float dtype), so
    a ``.double()`` model computes such an input in float64, as torch does, and learns."""
    a = np.random.default_rng(1).random((5, 3))
    lin = nn.Linear(3, 1).double()
    out = lin(nl.tensor(a))
    assert out.dtype == nl.float64
    a32 = a.astype(np.float32).astype(np.float64)  # what nl.tensor kept of a
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    np.testing.assert_allclose(out.detach().numpy(), a32 @ w.T + b, rtol=1e-12, atol=1e-12)
    out.sum().backward()
    assert lin.weight.grad.dtype == nl.float64


# ----------------------------------------------------------------------------- state dicts


def test_state_dict_keys_match_torch_across_architectures():
    def build(lib):
        return [
            lib.Linear(3, 2),
            lib.Conv2d(2, 4, 3, bias=False),
            lib.LSTM(3, 4, num_layers=2, bidirectional=True),
            lib.GRU(3, 4, bias=False),
            lib.MultiheadAttention(8, 2),
            lib.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True),
            lib.TransformerEncoderLayer(8, 2, 16),
            lib.TransformerDecoderLayer(8, 2, 16),
            lib.Transformer(8, 2, 1, 1, 16),
            lib.BatchNorm2d(3),
            lib.Embedding(5, 2),
            lib.EmbeddingBag(5, 2),
            lib.Bilinear(2, 3, 4),
            lib.ConvTranspose1d(2, 3, 3),
            lib.LSTMCell(3, 4),
            lib.DataParallel(lib.Linear(2, 1)),
        ]

    for ours, theirs in zip(build(nn), build(tnn)):
        sd_o, sd_t = ours.state_dict(), theirs.state_dict()
        assert list(sd_o) == list(sd_t), type(ours).__name__
        assert [v.shape for v in sd_o.values()] == [tuple(v.shape) for v in sd_t.values()]


def test_state_dict_prefix_keep_vars_and_sharing():
    lin = nn.Linear(2, 2)
    sd = lin.state_dict(prefix="enc.")
    assert list(sd) == ["enc.weight", "enc.bias"]
    assert not sd["enc.weight"].requires_grad and lin.state_dict(keep_vars=True)["weight"] is (
        lin.weight
    )
    sd["enc.weight"].numpy()[0, 0] = 7.0  # detached, yet sharing memory with the parameter
    assert lin.weight[0, 0].item() == 7.0


def test_load_state_dict_result_and_errors_match_torch():
    lin, ref = nn.Linear(2, 3), tnn.Linear(2, 3)
    result = lin.load_state_dict(lin.state_dict())
    assert (
        repr(result)
        == repr(ref.load_state_dict(ref.state_dict()))
        == ("<All keys matched successfully>")
    )
    assert result.missing_keys == [] and result.unexpected_keys == []
    result = lin.load_state_dict({"weight": lin.weight, "foo": nl.zeros(1)}, strict=False)
    assert result == (["bias"], ["foo"]) and result.missing_keys == ["bias"]
    bad = {"weight": nl.zeros(3, 3), "foo": nl.zeros(1)}
    with pytest.raises(RuntimeError) as ours:
        lin.load_state_dict(bad)
    with pytest.raises(RuntimeError) as theirs:
        ref.load_state_dict({"weight": torch.zeros(3, 3), "foo": torch.zeros(1)})
    first_lines = [str(e.value).split("\n\t")[:3] for e in (ours, theirs)]
    assert first_lines[0][:3] == first_lines[1][:3]  # same header, missing and unexpected lines
    assert "size mismatch for weight" in str(ours.value)
    with pytest.raises(RuntimeError, match="size mismatch"):  # even when not strict
        lin.load_state_dict({"weight": nl.zeros(3, 3)}, strict=False)
    with pytest.raises(TypeError, match="dict-like"):
        lin.load_state_dict([1, 2])


def test_load_state_dict_copies_or_assigns():
    lin = nn.Linear(2, 2)
    weight = lin.weight
    values = nl.ones(2, 2)
    lin.load_state_dict({"weight": values, "bias": nl.zeros(2)})
    assert lin.weight is weight and np.all(weight.numpy() == 1)
    values.numpy()[0, 0] = 9.0
    assert weight[0, 0].item() == 1.0  # copied
    lin.load_state_dict({"weight": values, "bias": nl.zeros(2)}, assign=True)
    assert lin.weight[0, 0].item() == 9.0


def test_loaded_torch_weights_give_torch_outputs_and_gradients():
    torch.manual_seed(0)
    pairs = [
        (nn.Linear(3, 4), tnn.Linear(3, 4), (5, 3)),
        (nn.Conv2d(2, 3, 3, padding=1), tnn.Conv2d(2, 3, 3, padding=1), (2, 2, 5, 5)),
        (nn.TransformerEncoderLayer(8, 2, 16).eval(), tnn.TransformerEncoderLayer(8, 2, 16).eval(),
         (4, 2, 8)),
    ]  # fmt: skip
    for ours, theirs, shape in pairs:
        copy_weights(ours, theirs)
        x = RNG.standard_normal(shape).astype(np.float32)
        xo, xt = nl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
        (yo * yo).sum().backward()
        (yt * yt).sum().backward()
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-4)
        for name, p in theirs.named_parameters():
            got = ours.get_parameter(name).grad.numpy()
            np.testing.assert_allclose(got, p.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=name)


# ----------------------------------------------------------------------------- hooks


def test_forward_hooks_pre_hooks_and_handles():
    lin = nn.Linear(2, 2)
    calls = []
    pre = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = lin.register_forward_hook(lambda m, args, out: calls.append(args[0].numpy()) or out + 1)
    out = lin(nl.ones(1, 2))
    assert np.all(calls[0] == 0)
    np.testing.assert_allclose(out.numpy(), lin.bias.numpy()[None] + 1)
    pre.remove()
    post.remove()
    post.remove()  # a second remove does nothing
    assert not lin._forward_hooks and not lin._forward_pre_hooks
    np.testing.assert_allclose(lin(nl.zeros(1, 2)).numpy(), lin.bias.numpy()[None])


def test_hooks_with_kwargs_prepend_and_context_manager():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    mod, order = Scale(), []
    mod.register_forward_hook(lambda m, a, o: order.append("second"))
    mod.register_forward_hook(lambda m, a, o: order.append("first"), prepend=True)

    def double_factor(m, args, kwargs):
        return args, {**kwargs, "factor": kwargs["factor"] * 2}

    mod.register_forward_pre_hook(double_factor, with_kwargs=True)
    seen = []
    with mod.register_forward_hook(lambda m, a, kw, o: seen.append(kw), with_kwargs=True):
        assert mod(nl.ones(1), factor=3.0).item() == 6.0
    assert order == ["first", "second"] and seen == [{"factor": 6.0}]
    mod(nl.ones(1), factor=1.0)
    assert len(seen) == 1


def test_full_backward_hooks_see_torchs_gradients():
    torch.manual_seed(0)
    theirs = tnn.Linear(3, 2)
    ours = nn.Linear(3, 2)
    copy_weights(ours, theirs)
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    records = {"ours": [], "torch": []}
    for key, mod in (("ours", ours), ("torch", theirs)):
        mod.register_full_backward_hook(lambda m, gi, go, k=key: records[k].append((gi, go)))
        mod.register_full_backward_pre_hook(lambda m, go: (go[0] * 2,))
    xo, xt = nl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ours(xo) ** 2).sum().backward()
    (theirs(xt) ** 2).sum().backward()
    (gi_o, go_o), (gi_t, go_t) = records["ours"][0], records["torch"][0]
    np.testing.assert_allclose(go_o[0].numpy(), go_t[0].numpy(), rtol=1e-5)
    np.testing.assert_allclose(gi_o[0].numpy(), gi_t[0].numpy(), rtol=1e-5)
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-5)


def test_full_backward_hook_can_replace_grad_input_and_sees_none_without_input_grad():
    lin = nn.Linear(3, 2)
    seen = []
    handle = lin.register_full_backward_hook(lambda m, gi, go: seen.append(gi))
    lin(nl.ones(2, 3)).sum().backward()
    assert seen == [(None,)] and lin.weight.grad is not None
    handle.remove()
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0 + 1,))
    x = nl.randn(2, 3, requires_grad=True)
    lin(x).sum().backward()
    assert np.all(x.grad.numpy() == 1)


def test_backward_hook_over_two_inputs_and_a_tuple_output():
    class Pair(nn.Module):
        def forward(self, a, b):
            return a * b, a + b

    mod, seen = Pair(), []
    mod.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
    a, b = nl.tensor([2.0], requires_grad=True), nl.tensor([3.0], requires_grad=True)
    prod, total = mod(a, b)
    (prod * 10 + total).sum().backward()
    (gi, go) = seen[0]
    assert [g.item() for g in go] == [10.0, 1.0]
    assert [g.item() for g in gi] == [31.0, 21.0] == [a.grad.item(), b.grad.item()]


# ----------------------------------------------------------------------------- copying


def test_deepcopy_gives_an_independent_model_and_keeps_tied_weights():
    model = nested(nn)
    clone = copy.deepcopy(model)
    for (name, p), (name_c, q) in zip(model.named_parameters(), clone.named_parameters()):
        assert name == name_c and p is not q and np.array_equal(p.numpy(), q.numpy())
        assert type(q) is nn.Parameter and q.requires_grad
    clone.first.weight.data.fill_(0.0)
    assert np.abs(model.first.weight.numpy()).sum() > 0
    assert clone.heads["b"] is clone.first  # the shared module stays shared inside the copy
    lin = nn.Linear(2, 1)
    lin(nl.ones(1, 2)).sum().backward()
    assert copy.deepcopy(lin).weight.grad is None  # like torch, gradients are not copied


# ----------------------------------------------------------------------------- containers


def test_sequential_indexing_and_editing_like_torch():
    def named(lib):
        return lib.Sequential(OrderedDict(a=lib.Linear(1, 2), b=lib.ReLU(), c=lib.Linear(2, 1)))

    assert list(named(nn)[1:]._modules) == list(named(tnn)[1:]._modules) == ["b", "c"]
    assert type(named(nn)[-1]) is nn.Linear and len(named(nn)) == 3
    ours, theirs = (
        nn.Sequential(nn.Linear(1, 2), nn.ReLU()),
        tnn.Sequential(tnn.Linear(1, 2), tnn.ReLU()),
    )
    for seq, lib in ((ours, nn), (theirs, tnn)):
        seq.append(lib.Tanh())
        seq.insert(1, lib.Sigmoid())
        seq.extend([lib.ReLU()])
        del seq[0]
        assert type(seq.pop(0)).__name__ == "Sigmoid"
    assert list(ours._modules) == list(theirs._modules)
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    joined = ours + nn.Sequential(nn.ReLU())
    assert len(joined) == len(ours) + 1 and isinstance(joined, nn.Sequential)
    with pytest.raises(IndexError):
        ours[10]


def test_module_list_and_dict_operations():
    layers = nn.ModuleList([nn.Linear(1, 1)])
    layers += [nn.ReLU()]
    layers.append(nn.Tanh()).extend([nn.Sigmoid()])
    layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Identity", "Linear", "ReLU", "Tanh", "Sigmoid"]
    assert type(layers.pop(1)).__name__ == "Linear" and list(layers._modules) == list("0123")
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    heads = nn.ModuleDict([("a", nn.ReLU())])
    heads["b"] = nn.Tanh()
    heads.update({"c": nn.Sigmoid()})
    assert list(heads) == ["a", "b", "c"] and "b" in heads and len(heads) == 3
    assert type(heads.pop("a")).__name__ == "ReLU" and list(heads.keys()) == ["b", "c"]


def test_parameter_list_and_dict_register_like_torch():
    def build(lib, make):
        plist = lib.ParameterList([lib.Parameter(make(2)), make(3)])
        plist.append(make(1))
        pdict = lib.ParameterDict({"w": make(2)})
        pdict["v"] = lib.Parameter(make(1))
        return lib.ModuleDict({"l": plist, "d": pdict})

    ours, theirs = build(nn, nl.zeros), build(tnn, torch.zeros)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    plist, pdict = ours["l"], ours["d"]
    assert all(type(p) is nn.Parameter for p in plist) and len(plist) == 3
    assert plist[-1].shape == (1,) and isinstance(plist[0:2], nn.ParameterList)
    assert list(pdict.keys()) == ["w", "v"] and pdict.get("x") is None
    assert "v" in pdict and type(pdict["w"]) is nn.Parameter
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        plist()
    assert "(0): Parameter containing: [float32 of size 2]" in repr(plist)


def test_reprs_match_torch():
    cases = [
        lambda L: L.Sequential(OrderedDict(fc=L.Linear(1, 2, bias=False), act=L.ReLU())),
        lambda L: L.ModuleList([L.Linear(1, 1) for _ in range(3)] + [L.ReLU(), L.ReLU()]),
        lambda L: L.ModuleDict({"a": L.Conv2d(1, 2, 3, padding="same")}),
        lambda L: L.LSTM(3, 4, 2, batch_first=True, bidirectional=True, dropout=0.1),
        lambda L: L.Sequential(L.Embedding(10, 3, padding_idx=0), L.GRUCell(3, 2)),
        lambda L: L.MultiheadAttention(4, 2, kdim=3, vdim=5),
        lambda L: L.DataParallel(L.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1)),
        lambda L: L.TransformerEncoderLayer(4, 2, 8),
    ]
    for case in cases:
        assert repr(case(nn)) == repr(case(tnn))


# ----------------------------------------------------------------------------- paths and wrappers


def test_torch_module_paths():
    from neuralab.nn.modules.batchnorm import _BatchNorm
    from neuralab.nn.modules.container import ParameterList, Sequential
    from neuralab.nn.modules.loss import CrossEntropyLoss, _Loss, _WeightedLoss
    from neuralab.nn.modules.module import Module
    from neuralab.nn.modules.utils import (
        _pair,
        _quadruple,
        _single,
        _triple,
        consume_prefix_in_state_dict_if_present,
    )
    from neuralab.nn.parameter import Parameter

    assert Module is nn.Module and Parameter is nn.Parameter and Sequential is nn.Sequential
    assert ParameterList is nn.ParameterList
    assert issubclass(nn.BatchNorm2d, _BatchNorm) and issubclass(CrossEntropyLoss, _WeightedLoss)
    assert issubclass(_WeightedLoss, _Loss)
    assert nn.modules.activation.MultiheadAttention is nn.MultiheadAttention
    assert nn.modules.sparse.EmbeddingBag is nn.EmbeddingBag
    assert nn.modules.rnn.RNNBase is nn.RNNBase and nn.modules.pooling.MaxPool2d is nn.MaxPool2d
    assert nn.modules.padding.ZeroPad2d is nn.ZeroPad2d and nn.modules.Linear is nn.Linear
    for name in ("conv", "dropout", "flatten", "linear", "normalization", "pixelshuffle",
                 "transformer", "upsampling", "instancenorm"):  # fmt: skip
        assert hasattr(nn.modules, name)
    assert (_single(2), _pair(3), _triple((1, 2, 3)), _quadruple(0)) == (
        (2,), (3, 3), (1, 2, 3), (0, 0, 0, 0),
    )  # fmt: skip
    state = {"module.w": 1, "b": 2}
    consume_prefix_in_state_dict_if_present(state, "module.")
    assert state == {"w": 1, "b": 2}


def test_data_parallel_runs_its_module_like_torch_without_gpus():
    ours, theirs = nn.DataParallel(nn.Linear(2, 3)), tnn.DataParallel(tnn.Linear(2, 3))
    copy_weights(ours, theirs)
    x = RNG.standard_normal((4, 2)).astype(np.float32)
    expected = theirs(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(nl.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert list(ours.state_dict()) == ["module.weight", "module.bias"]
    assert ours.device_ids == theirs.device_ids == []
    assert isinstance(ours.module, nn.Linear)


def test_distributed_needs_a_process_group():  # the MPI side: tests/test_distributed.py
    import neuralab.distributed as dist
    from neuralab.nn.parallel import DistributedDataParallel

    assert nl.distributed is dist
    assert dist.is_initialized() is False
    for fn in (dist.get_rank, dist.get_world_size):
        with pytest.raises(ValueError, match="call init_process_group"):
            fn()
    with pytest.raises(ValueError, match="backend 'gloo' is not available"):
        dist.init_process_group("gloo")
    with pytest.raises(ValueError, match="process group has not been initialized"):
        DistributedDataParallel(nn.Linear(1, 1))


def test_saving_a_layer_built_with_a_device_object(tmp_path):
    model = nn.Linear(2, 1, device=nl.device("cpu"))
    nl.save(model, tmp_path / "m.nl")
    loaded = nl.load(tmp_path / "m.nl")
    np.testing.assert_array_equal(loaded.weight.numpy(), model.weight.numpy())


def test_deepcopy_of_a_module_built_from_a_generator():
    """ModuleList(copy.deepcopy(layer) for _ in range(n)), as TransformerEncoder and many
    tutorials build it: the recorded constructor arguments must not hold the spent generator."""
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2)
    twin = copy.deepcopy(encoder)
    x = nl.randn(3, 1, 8)
    encoder.eval(), twin.eval()
    np.testing.assert_array_equal(encoder(x).numpy(), twin(x).numpy())
    twin.layers[0].linear1.weight.data.zero_()
    assert encoder.layers[0].linear1.weight.abs().sum().item() > 0
