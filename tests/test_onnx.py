"""ONNX export and import: every layer family and zoo model through ONNX Runtime with a dynamic
batch, round trips through neuralab.onnx.load, and PyTorch-exported files imported."""

import io
import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import neuralab as nl  # noqa: E402
from neuralab import nn  # noqa: E402
from neuralab import onnx as nx  # noqa: E402
from neuralab.models import get_model, list_models  # noqa: E402
from neuralab.models.alexnet import AlexNet  # noqa: E402
from neuralab.models.vit import VisionTransformer  # noqa: E402

RNG = np.random.default_rng(0)


def _randomize(model):
    """Non-trivial weights and running statistics (zero-initialized heads would hide errors)."""
    for p in model.parameters():
        p._data[...] = RNG.normal(0, 0.3, p.shape).astype(p._data.dtype)
    for name, b in model.named_buffers():
        if "running_var" in name:
            b._data[...] = RNG.uniform(0.5, 2.0, b.shape).astype(b._data.dtype)
        elif "running_mean" in name:
            b._data[...] = RNG.normal(0, 0.3, b.shape).astype(b._data.dtype)
    return model.eval()


def _like(x, batch):
    """A new input like ``x`` with ``batch`` rows: normal floats or ids in x's range."""
    a = x.numpy()
    shape = (batch,) + a.shape[1:]
    if a.dtype.kind == "f":
        return RNG.normal(size=shape).astype(a.dtype)
    ids = RNG.integers(a.min(), a.max() + 1, shape).astype(a.dtype)
    ids[:, 0] = a.max()  # every row has a real (non-PAD) first token
    return ids


def _outputs(out):
    out = out if isinstance(out, tuple | list) else (out,)
    flat = []
    for o in out:
        flat += _outputs(o) if isinstance(o, tuple | list) else [o] if o is not None else []
    return flat


def _close(got, want, what):
    want = np.asarray(want, dtype=np.float64)
    err = np.abs(np.asarray(got, dtype=np.float64) - want).max() if want.size else 0.0
    assert err <= 1e-4 * max(np.abs(want).max(), 1.0), f"{what}: max error {err}"


class Resize1d3d(nn.Module):
    """Linear resizing of a sequence and trilinear resizing of a volume."""

    def forward(self, seq, volume):
        return (
            nn.functional.interpolate(seq, scale_factor=2, mode="linear"),
            nn.functional.interpolate(volume, size=(4, 6, 5), mode="trilinear", align_corners=True),
        )


def check_runtime(model, *inputs, randomize=True):
    """Export with a dynamic batch (dim 0 of every input), run ONNX Runtime on a larger batch."""
    model = _randomize(model) if randomize else model.eval()
    names = [f"x{i}" for i in range(len(inputs))]
    f = io.BytesIO()
    nx.export(model, inputs, f, input_names=names, dynamic_axes={n: {0: "batch"} for n in names})
    session = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    fresh = [_like(x, x.shape[0] + 2) for x in inputs]
    got = session.run(None, dict(zip(names, fresh)))
    with nl.no_grad():
        want = _outputs(model(*[nl.tensor(a) for a in fresh]))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        _close(g, w.numpy(), type(model).__name__)
    return f.getvalue()


# --- the zoo -----------------------------------------------------------------------------
def _ids(low, high, shape):
    return nl.tensor(RNG.integers(low, high, shape))


# The full-size builders' layouts at reduced widths where the full model is large.
ZOO = {
    "alexnet": (lambda: AlexNet(5, 3, (16, 32, 48, 32, 32), 64), [nl.randn(1, 3, 64, 64)]),
    "alexnet_paper": (
        lambda: AlexNet(5, 3, (16, 32, 48, 48, 32), 64, groups=2, lrn=True),
        [nl.randn(1, 3, 64, 64)],
    ),
    "alexnet_small": ({}, [nl.randn(2, 3, 32, 32)]),
    "char_lm": ({}, [_ids(0, 40, (2, 7))]),
    "conv_autoencoder": ({}, [nl.randn(2, 1, 8, 8)]),
    "digits_gan": ({}, [nl.randn(2, 32)]),
    "lenet5": ({}, [nl.randn(2, 1, 32, 32)]),
    "mlp": (dict(in_features=20, width=16), [nl.randn(2, 20)]),
    "mlp_gan": ({}, [nl.randn(2, 8)]),
    "resnet18": (dict(num_classes=5), [nl.randn(1, 3, 32, 32)]),
    "resnet34": (dict(num_classes=5), [nl.randn(1, 3, 32, 32)]),
    "resnet50": (dict(num_classes=5), [nl.randn(1, 3, 32, 32)]),
    "resnet_cifar": ({}, [nl.randn(2, 3, 32, 32)]),
    "segnet": ({}, [nl.randn(1, 3, 32, 32)]),
    "segnet_scenes": ({}, [nl.randn(1, 3, 32, 32)]),
    "sequence_classifier": ({}, [_ids(0, 10, (2, 7))]),
    "vit_b_16": (
        lambda: VisionTransformer(32, 16, 2, 4, 32, 64, num_classes=5),
        [nl.randn(1, 3, 32, 32)],
    ),
    "vit_digits": ({}, [nl.randn(2, 1, 8, 8)]),
    # its padding mask is `src.numpy() == PAD`: a NumPy comparison of a traced array, recorded
    "transformer_seq2seq": ({}, [_ids(0, 12, (2, 6)), _ids(1, 12, (2, 5))]),
    # the reverse encoder reads each source's non-PAD prefix backwards: ONNX's ReverseSequence
    **{
        f"seq2seq_{cell}{attention}": ({}, [_ids(0, 12, (2, 7)), _ids(3, 12, (2, 5))])
        for cell in ("gru", "lstm")
        for attention in ("", "_attention")
    },
}


def test_the_zoo_is_covered():
    assert set(ZOO) == set(list_models())


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_model_runs_in_onnx_runtime(name):
    build, inputs = ZOO[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_runtime(build() if callable(build) else get_model(name, **build), *inputs)


class NumpyMasked(nn.Module):
    """Self-attention whose padding mask is built in NumPy from the ids, then wrapped."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 8)

    def forward(self, ids):
        x = self.embed(ids)
        mask = nl.tensor((ids.numpy() != 0)[:, None, :])  # outside the engine's ops
        return nn.functional.scaled_dot_product_attention(x, x, x, attn_mask=mask)


@pytest.mark.parametrize("dynamic", [True, False])
def test_numpy_computed_masks_are_refused_with_the_layer(dynamic):
    ids = _ids(3, 10, (2, 6))
    ids._data[0, 4:] = 0  # PAD: the mask depends on the ids
    axes = {"ids": {0: "b"}} if dynamic else None
    with pytest.raises(nx.ExportError, match=r"op '\w+' in layer .*outside the engine"):
        nx.export(NumpyMasked(), (ids,), io.BytesIO(), input_names=["ids"], dynamic_axes=axes)


# --- layer families ----------------------------------------------------------------------
class Unpool(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.pool = nn.MaxPool2d(2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2)

    def forward(self, x):
        y, idx = self.pool(self.conv(x))
        return self.unpool(y, idx)


class Recurrent(nn.Module):
    """A recurrent layer fed its own initial state; returns every output."""

    def __init__(self, layer, states):
        super().__init__()
        self.layer, self.states = layer, states

    def forward(self, x, h):
        state = (h, h * 0.5) if self.states == 2 else h
        out, final = self.layer(x, state)
        return (out, *final) if isinstance(final, tuple) else (out, final)


class Attention(nn.Module):
    def __init__(self, **kw):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, **kw)

    def forward(self, q, kv):
        return self.attn(q, kv, kv)


class PaddedAttention(nn.Module):
    """Self-attention over embedded ids that ignores PAD (0) keys: the mask comes from the input."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 8)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, ids):
        x = self.embed(ids)
        return self.attn(x, x, x, key_padding_mask=ids == 0)[0]


class NumpyMask(nn.Module):
    """A mask computed with NumPy from the ids (a TracedArray while exporting), then a tensor."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)

    def forward(self, ids):
        a = ids.numpy()
        keep = nl.tensor((a != 0) & (a < 8))
        return self.embed(ids) * keep.unsqueeze(-1).float() + ids.double().float().unsqueeze(-1)


class Decoder(nn.Module):
    def __init__(self, **kw):
        super().__init__()
        self.layer = nn.TransformerDecoderLayer(8, 2, 16, 0.1, batch_first=True, **kw)

    def forward(self, x, memory):
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        return self.layer(x, memory, tgt_mask=mask)


ACTIVATIONS = [
    nn.ReLU(), nn.ReLU6(), nn.LeakyReLU(0.2), nn.ELU(0.7), nn.CELU(1.3), nn.SELU(), nn.GELU(),
    nn.GELU("tanh"), nn.SiLU(), nn.Mish(), nn.Sigmoid(), nn.Tanh(), nn.Softplus(2.0),
    nn.Softsign(), nn.LogSigmoid(), nn.Tanhshrink(), nn.Hardtanh(-0.5, 0.7), nn.Hardsigmoid(),
    nn.Hardswish(), nn.Hardshrink(0.3), nn.Softshrink(0.3), nn.Threshold(0.1, -2.0),
    nn.PReLU(), nn.RReLU(), nn.GLU(), nn.Softmax(dim=1), nn.LogSoftmax(dim=1),
    nn.Softmin(dim=1),
]  # fmt: skip

LAYERS = {
    "linear": (nn.Linear(6, 4), [nl.randn(2, 6)]),
    "linear_3d": (nn.Linear(6, 4), [nl.randn(2, 3, 6)]),
    "conv1d": (nn.Conv1d(3, 4, 3, stride=2, padding=1), [nl.randn(2, 3, 9)]),
    "conv2d_groups_dilation": (nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2),
                               [nl.randn(2, 4, 7, 7)]),
    "conv2d_same_reflect": (nn.Conv2d(3, 4, 4, padding="same", padding_mode="reflect"),
                            [nl.randn(2, 3, 6, 6)]),
    "conv_transpose1d": (nn.ConvTranspose1d(3, 2, 3, stride=2), [nl.randn(2, 3, 5)]),
    "conv_transpose2d": (nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1),
                         [nl.randn(2, 3, 5, 5)]),
    "maxpool": (nn.Sequential(nn.MaxPool2d(3, 2, 1, ceil_mode=True), nn.Flatten(2), nn.MaxPool1d(2)),
                [nl.randn(2, 3, 8, 8)]),
    "avgpool": (nn.Sequential(nn.AvgPool2d(3, 2, 1, count_include_pad=False), nn.Flatten(2), nn.AvgPool1d(2)),
                [nl.randn(2, 3, 8, 8)]),
    "adaptive_pools": (nn.Sequential(nn.AdaptiveAvgPool2d(3), nn.AdaptiveMaxPool2d(2),
                                     nn.AdaptiveAvgPool2d(5), nn.Flatten()), [nl.randn(2, 3, 8, 8)]),
    "unpool": (Unpool(), [nl.randn(2, 2, 6, 6)]),
    "batchnorm": (nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3), nn.Flatten(),
                                nn.BatchNorm1d(48)), [nl.randn(2, 2, 4, 4)]),
    "norms": (nn.Sequential(nn.GroupNorm(2, 4), nn.InstanceNorm2d(4, affine=True),
                            nn.LocalResponseNorm(3), nn.LayerNorm([5, 5]), nn.RMSNorm(5)),
              [nl.randn(2, 4, 5, 5)]),
    "dropout_embedding": (nn.Sequential(nn.Embedding(12, 5), nn.Dropout(0.5), nn.Linear(5, 2)),
                          [_ids(0, 12, (2, 4))]),
    "upsample_shuffle": (nn.Sequential(nn.Upsample(scale_factor=2), nn.Upsample(
        scale_factor=2, mode="bilinear"), nn.PixelShuffle(2)), [nl.randn(2, 4, 3, 3)]),
    "resize_modes": (nn.Sequential(nn.Upsample(scale_factor=2, mode="bicubic"), nn.Upsample(
        scale_factor=1.5, mode="nearest-exact"), nn.Upsample(size=(7, 5), mode="bilinear",
        align_corners=True)), [nl.randn(2, 3, 4, 4)]),
    "resize_1d_3d": (Resize1d3d(), [nl.randn(2, 3, 5), nl.randn(2, 2, 3, 4, 4)]),
    "padding_layers": (nn.Sequential(nn.ZeroPad2d((1, 2, 0, 1)), nn.ReflectionPad2d(1),
                                     nn.ReplicationPad2d(1), nn.ConstantPad2d(1, 0.5)),
                       [nl.randn(2, 3, 4, 4)]),
    "activations": (nn.Sequential(*ACTIVATIONS), [nl.randn(2, 64, 4)]),
    "mha": (Attention(batch_first=True), [nl.randn(2, 3, 8), nl.randn(2, 5, 8)]),
    "mha_seq_first": (Attention(), [nl.randn(3, 2, 8), nl.randn(5, 2, 8)]),
    "numpy_mask": (NumpyMask(), [nl.tensor(np.array([[1, 0, 9], [3, 8, 2]]))]),
    "mha_padding_mask": (PaddedAttention(), [nl.tensor(np.array([[3, 4, 0, 0], [5, 1, 2, 0]]))]),
    "encoder_layer": (nn.TransformerEncoder(nn.TransformerEncoderLayer(
        8, 2, 16, batch_first=True), 2), [nl.randn(2, 5, 8)]),
    "decoder_layer": (Decoder(), [nl.randn(2, 4, 8), nl.randn(2, 6, 8)]),
    "transformer": (
        nn.Transformer(8, 2, 1, 1, 16, batch_first=True),
        [nl.randn(2, 5, 8), nl.randn(2, 4, 8)],
    ),
    "decoder_layer_norm_first": (Decoder(norm_first=True), [nl.randn(2, 4, 8),
                                                             nl.randn(2, 6, 8)]),
}  # fmt: skip

RECURRENT = {
    "rnn_relu": (nn.RNN(4, 5, 2, nonlinearity="relu", batch_first=True), 1, 2),
    "lstm_bidirectional": (nn.LSTM(4, 5, 2, batch_first=True, bidirectional=True), 2, 4),
    "gru_seq_first": (nn.GRU(4, 5, 1), 1, 1),
    "gru_bidirectional": (nn.GRU(4, 5, 2, bidirectional=True, batch_first=True), 1, 4),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_family_runs_in_onnx_runtime(name):
    model, inputs = LAYERS[name]
    check_runtime(model, *inputs)


@pytest.mark.parametrize("opset", [17, 18, 19, 21])
def test_every_supported_opset(opset):
    model = _randomize(nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular"), nn.GroupNorm(2, 4),
        nn.LayerNorm([6, 6]), nn.Flatten(), nn.Linear(144, 3), nn.LogSoftmax(-1),
    ))  # fmt: skip
    f = io.BytesIO()
    nx.export(model, nl.randn(2, 3, 6, 6), f, input_names=["x"], dynamic_axes={"x": [0]},
              opset_version=opset)  # fmt: skip
    assert onnx.load_from_string(f.getvalue()).opset_import[0].version == opset
    x = RNG.normal(size=(5, 3, 6, 6)).astype(np.float32)
    with nl.no_grad():
        _close(_run(f.getvalue(), {"x": x}), model(nl.tensor(x)).numpy(), f"opset {opset}")
    with pytest.raises(ValueError, match="opset_version"):
        nx.export(model, nl.randn(2, 3, 6, 6), io.BytesIO(), opset_version=16)


@pytest.mark.parametrize("name", sorted(RECURRENT))
def test_recurrent_layer_runs_in_onnx_runtime(name):
    layer, states, count = RECURRENT[name]
    model = _randomize(Recurrent(layer, states))
    batch_first = layer.batch_first
    x = nl.randn(2, 6, 4) if batch_first else nl.randn(6, 2, 4)
    h = nl.randn(count, 2, 5)
    names = ["x", "h"]
    axes = {"x": {0 if batch_first else 1: "batch"}, "h": {1: "batch"}}
    f = io.BytesIO()
    nx.export(model, (x, h), f, input_names=names, dynamic_axes=axes)
    session = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    x2 = RNG.normal(size=(3, 6, 4) if batch_first else (6, 3, 4)).astype(np.float32)
    h2 = RNG.normal(size=(count, 3, 5)).astype(np.float32)
    got = session.run(None, {"x": x2, "h": h2})
    with nl.no_grad():
        want = model(nl.tensor(x2), nl.tensor(h2))
    for g, w in zip(got, want):
        _close(g, w.numpy(), name)


def test_unmapped_op_is_refused_with_its_name_and_layer():
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            return nl.cummax(self.fc(x), dim=1)[0]

    with pytest.raises(nx.ExportError, match=r"op 'cummax' in layer \(model\) \(Odd\)"):
        nx.export(Odd(), nl.randn(2, 3), io.BytesIO())


def test_lstm_with_a_projection_is_refused_naming_it():
    lstm = nn.LSTM(4, 6, proj_size=3, batch_first=True)
    with pytest.raises(NotImplementedError, match=r"LSTM\(proj_size=3\) has no ONNX"):
        nx.export(lstm, nl.randn(2, 5, 4), io.BytesIO())


def test_batch_dependent_numpy_constant_is_refused():
    class Leaky(nn.Module):
        def forward(self, x):
            return x + nl.tensor(np.ones(x.shape, np.float32) * x.shape[0])

    with pytest.raises(nx.ExportError, match="outside the engine"):
        nx.export(Leaky(), nl.randn(2, 3), io.BytesIO(), input_names=["x"],
                  dynamic_axes={"x": [0]})  # fmt: skip


# --- import ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["lenet5", "char_lm", "segnet", "vit_digits", "resnet_cifar"])
def test_round_trip_export_load_same_outputs_and_trainable(name):
    kwargs, inputs = ZOO[name]
    model = _randomize(get_model(name, **kwargs))
    f = io.BytesIO()
    nx.export(model, tuple(inputs), f)
    back = nx.load(onnx.load_from_string(f.getvalue()))
    with nl.no_grad():
        _close(back(*inputs).numpy(), model(*inputs).numpy(), name)
    assert sum(p.numel() for p in back.parameters()) >= sum(
        p.numel() for p in model.parameters()
    ) - sum(b.numel() for b in model.buffers())
    back.train()
    out = back(*inputs)
    (out * out).mean().backward()
    grads = [p.grad for p in back.parameters() if p.grad is not None]
    assert grads and any(np.abs(g.numpy()).max() > 0 for g in grads)


def test_every_resize_mode_round_trips_through_load():
    model = nn.Sequential(nn.Upsample(scale_factor=2, mode="bicubic"),
                          nn.Upsample(scale_factor=1.5, mode="nearest-exact"),
                          nn.Upsample(size=(7, 5), mode="bilinear", align_corners=True))  # fmt: skip
    x = nl.randn(1, 2, 4, 4)
    f = io.BytesIO()
    nx.export(model, (x,), f)
    back = nx.load(onnx.load_from_string(f.getvalue()))
    with nl.no_grad():
        _close(back(x).numpy(), model(x).numpy(), "resize")
    with pytest.raises(nx.ExportError, match="mode='area'.* not an ONNX Resize"):
        nx.export(nn.Upsample(size=(2, 2), mode="area"), (x,), io.BytesIO())


def test_unsupported_operator_is_named_on_load():
    node = onnx.helper.make_node("Einsum", ["a", "b"], ["c"], equation="ij,jk->ik")
    graph = onnx.helper.make_graph(
        [node], "g",
        [onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, [2, 2]) for n in "ab"],
        [onnx.helper.make_tensor_value_info("c", onnx.TensorProto.FLOAT, [2, 2])],
    )  # fmt: skip
    with pytest.raises(NotImplementedError, match="Einsum"):
        nx.load(onnx.helper.make_model(graph))


def _torch_models():
    import torch

    torch.manual_seed(0)
    tnn = torch.nn

    class Cnn(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv = tnn.Conv2d(1, 4, 3, padding=1)
            self.bn = tnn.BatchNorm2d(4)
            self.fc = tnn.Linear(4 * 4 * 4, 3)

        def forward(self, x):
            x = torch.nn.functional.max_pool2d(torch.relu(self.bn(self.conv(x))), 2)
            return self.fc(torch.flatten(x, 1))

    class Lstm(tnn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = tnn.LSTM(3, 5, num_layers=2, batch_first=True, bidirectional=True)
            self.gru = tnn.GRU(10, 4, batch_first=True)
            self.fc = tnn.Linear(4, 2)

        def forward(self, x):
            out, _ = self.lstm(x)
            out, _ = self.gru(out)
            return self.fc(out[:, -1])

    class Attention(tnn.Module):
        def __init__(self):
            super().__init__()
            self.attn = tnn.MultiheadAttention(8, 2, batch_first=True)
            self.norm = tnn.LayerNorm(8)

        def forward(self, x):
            return self.norm(x + self.attn(x, x, x, need_weights=False)[0])

    mlp = tnn.Sequential(tnn.Linear(6, 8), tnn.Tanh(), tnn.Linear(8, 8), tnn.GELU(),
                         tnn.LayerNorm(8), tnn.Linear(8, 2), tnn.Softmax(dim=-1))  # fmt: skip
    cnn = Cnn()
    with torch.no_grad():
        cnn.bn.running_mean.uniform_(-0.5, 0.5)
        cnn.bn.running_var.uniform_(0.5, 2)
    return {
        "mlp": (mlp, (4, 6)),
        "cnn": (cnn, (4, 1, 8, 8)),
        "lstm": (Lstm(), (4, 7, 3)),
        "attention": (Attention(), (3, 5, 8)),
    }


@pytest.mark.parametrize("name", ["mlp", "cnn", "lstm", "attention"])
def test_pytorch_exported_model_imports_and_matches_torch(name):
    torch = pytest.importorskip("torch")
    model, shape = _torch_models()[name]
    model.eval()
    x = torch.randn(*shape)
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), f, dynamo=False, input_names=["x"],
                          dynamic_axes={"x": {0: "batch"}})  # fmt: skip
    imported = nx.load(onnx.load_from_string(f.getvalue()))
    x2 = torch.randn(shape[0] + 3, *shape[1:])
    with torch.no_grad():
        want = model(x2).numpy()
    with nl.no_grad():
        got = imported(nl.tensor(x2.numpy())).numpy()
    _close(got, want, name)


# --- the command line and the playground's exports -----------------------------------------
def _run(data, inputs):
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, inputs)[0]


def test_cli_exports_a_saved_checkpoint(tmp_path, capsys):
    from neuralab.cli import main

    model = _randomize(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(),
                                     nn.Linear(2 * 4 * 4, 3)))  # fmt: skip
    nl.save({"model": model, "meta": {"input_shape": [1, 6, 6]}}, tmp_path / "m.safetensors")
    assert main(["export", str(tmp_path / "m.safetensors"), "--format", "onnx"]) == 0
    assert "m.onnx" in capsys.readouterr().out
    x = RNG.normal(size=(5, 1, 6, 6)).astype(np.float32)
    with nl.no_grad():
        _close(_run(str(tmp_path / "m.onnx"), {"input": x}), model(nl.tensor(x)).numpy(), "cli")
    nl.save(model, tmp_path / "bare.safetensors")
    assert main(["export", str(tmp_path / "bare.safetensors")]) == 2
    assert "--input-shape" in capsys.readouterr().err


def test_playground_and_teachable_export_onnx():
    import base64

    from neuralab.playground import commands, protocol, teachable
    from neuralab.playground.session import Session

    session = Session()
    frame = commands.apply(session, protocol.parse('{"cmd": "export", "what": "onnx"}'))
    assert frame["name"] == "playground_model.onnx"
    x = RNG.normal(size=(7, len(session.feature_keys))).astype(np.float32)
    with nl.no_grad():
        want = session.model(nl.tensor(x)).numpy()
    _close(_run(base64.b64decode(frame["b64"]), {"features": x}), want, "playground")

    tm = teachable.TeachableSession(0)
    tm.model = _randomize(teachable.build_model(3))
    cmd = teachable.parse('{"cmd": "export", "format": "onnx", "inPage": true}')
    frame = teachable.apply(tm, cmd)
    assert frame["name"] == "teachable_model.onnx" and frame["inPage"] is True
    images = RNG.uniform(0, 1, (4, 1, teachable.SIZE, teachable.SIZE)).astype(np.float32)
    with nl.no_grad():
        want = tm.model(nl.tensor(images)).numpy()
    _close(_run(base64.b64decode(frame["b64"]), {"image": images}), want, "teachable")
    with pytest.raises(protocol.ProtocolError, match="format"):
        teachable.parse('{"cmd": "export", "format": "tflite"}')
