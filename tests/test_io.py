"""Tests of nl.save / nl.load: exact round trips, whole models, atomic saves, refused files."""

from __future__ import annotations

import math
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.numpy

import neuralab as nl
import neuralab.io as nio
from neuralab import nn, optim
from neuralab.io import LoadError, register
from neuralab.nn import Module, Parameter
from neuralab.tensor import Tensor


def assert_same(a: object, b: object) -> None:
    """Equal values of the same types, dtypes, shapes, key order and requires_grad flags."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, (Tensor, np.ndarray)):
        arr_a, arr_b = (a.numpy(), b.numpy()) if isinstance(a, Tensor) else (a, b)
        assert arr_a.dtype == arr_b.dtype and arr_a.shape == arr_b.shape
        np.testing.assert_array_equal(arr_a, arr_b)
        if isinstance(a, Tensor):
            assert a.requires_grad == b.requires_grad
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def roundtrip(obj: object, tmp_path: os.PathLike) -> object:
    path = os.path.join(tmp_path, "obj.safetensors")
    nl.save(obj, path)
    return nl.load(path)


# ----------------------------------------------------------------------------- tensors, dicts


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool"])
@pytest.mark.parametrize("shape", [(), (0, 3), (5,), (2, 3, 4)])
def test_tensor_roundtrip_keeps_dtype_and_shape(tmp_path, dtype, shape):
    arr = (np.arange(math.prod(shape)).reshape(shape) % 3).astype(dtype)
    t = Tensor(arr, dtype=dtype)
    back = roundtrip(t, tmp_path)
    assert_same(t, back)
    assert back.numpy().flags.writeable  # in-place updates (optimizers) must work on loaded tensors


def test_requires_grad_and_parameter_roundtrip(tmp_path):
    obj = [nl.randn(2, 3, requires_grad=True), Parameter(nl.randn(3, dtype=nl.float64))]
    assert_same(obj, roundtrip(obj, tmp_path))


def test_non_contiguous_arrays_roundtrip_exactly(tmp_path):
    """safetensors 0.8 scrambles views (its #825): they must be made contiguous first."""
    a = np.arange(24, dtype=np.float32).reshape(4, 6)
    views = {
        "transposed": a.T,
        "sliced": a[:, 1:5:2],
        "reversed": a[::-1],
        "tensor_T": Tensor(a).T,
        "big_endian": a.astype(">f4"),
    }
    back = roundtrip(views, tmp_path)
    for name, view in views.items():
        got = back[name].numpy() if isinstance(view, Tensor) else back[name]
        want = view.numpy() if isinstance(view, Tensor) else view
        assert got.shape == want.shape and got.dtype.name == want.dtype.name, name
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_state_dict_roundtrip_is_a_plain_safetensors_state_dict(tmp_path):
    state = OrderedDict(
        [("layer.0.weight", nl.randn(3, 2)), ("layer.0.bias", nl.zeros(3)), ("steps", nl.tensor(7))]
    )
    path = tmp_path / "state.safetensors"
    nl.save(state, path)
    assert_same(state, nl.load(path))
    raw = safetensors.numpy.load_file(path)  # any safetensors reader sees the same names
    assert sorted(raw) == sorted(state)
    np.testing.assert_array_equal(raw["layer.0.weight"], state["layer.0.weight"].numpy())


def test_plain_safetensors_file_loads_as_dict_of_tensors(tmp_path):
    path = tmp_path / "foreign.safetensors"
    arrays = {"w": np.ones((2, 2), np.float64), "i": np.arange(3, dtype=np.int32)}
    safetensors.numpy.save_file(arrays, path)
    back = nl.load(path)
    assert set(back) == {"w", "i"}
    assert_same(back["w"], Tensor(arrays["w"], dtype=np.float64))
    assert_same(back["i"], Tensor(arrays["i"], dtype=np.int32))


def test_nested_structure_roundtrip(tmp_path):
    obj = {
        "epoch": 3,
        "history": {"loss": [0.5, 0.25, float("nan")], "best": None, "name": "run-1"},
        "by_int": {0: nl.ones(2), 1: (np.float32(0.5), np.int64(2), True)},
        "arrays": [np.zeros((2, 2), np.float64), np.array([True, False])],
        "ordered": OrderedDict(b=1, a=2),
        "dtype": np.dtype("float64"),
        "tricky": {"__nl__": "not a tag", "x": 1},
    }
    assert_same(obj, roundtrip(obj, tmp_path))


def test_optimizer_state_dict_roundtrip_resumes_identically(tmp_path):
    def make() -> tuple[list[Parameter], optim.Adam]:
        nl.manual_seed(0)
        params = [Parameter(nl.randn(3, 2)), Parameter(nl.randn(2))]
        return params, optim.Adam(params, lr=0.1, betas=(0.8, 0.9))

    def step(params: list[Parameter], opt: optim.Adam, seed: int) -> None:
        rng = np.random.default_rng(seed)
        for p in params:
            p.grad = Tensor(rng.standard_normal(p.shape).astype(np.float32))
        opt.step()

    params, opt = make()
    for seed in range(2):
        step(params, opt, seed)
    saved = opt.state_dict()
    back = roundtrip(saved, tmp_path)
    assert_same(saved, back)  # int keys, the betas tuple, state tensors: all exact

    params2, opt2 = make()
    for p, q in zip(params, params2):
        q.data = p.numpy().copy()
    opt2.load_state_dict(back)
    step(params, opt, 5)
    step(params2, opt2, 5)
    for p, q in zip(params, params2):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


# ----------------------------------------------------------------------------- whole models


@register
class IoTestAffine(Module):
    """scale * (x @ w + b), with a buffer, keyword-only and tuple arguments."""

    def __init__(self, n_in: int, n_out: int, scale: float = 2.0, *, dtype: object = None) -> None:
        super().__init__()
        self.w = Parameter(nl.randn(n_in, n_out, dtype=dtype))
        self.b = Parameter(nl.randn(n_out, dtype=dtype))
        self.register_buffer("calls", nl.tensor(0))
        self.scale = scale

    def forward(self, x: Tensor) -> Tensor:
        self.calls.data += 1
        return (x @ self.w + self.b) * self.scale


@register(name="IoTestStack")
class IoTestStacked(Module):
    """A registered model built from neuralab layers and a registered sublayer."""

    def __init__(self, sizes: tuple[int, ...], head: Module | None = None) -> None:
        super().__init__()
        layers: list[Module] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.Tanh()]
        self.body = nn.Sequential(*layers)
        self.head = head if head is not None else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))


def reload(model: Module, tmp_path: os.PathLike) -> Module:
    back = roundtrip(model, tmp_path)
    assert type(back) is type(model) and back is not model
    assert_same(model.state_dict(), back.state_dict())
    return back


def test_registered_module_subclass_reloads(tmp_path):
    model = IoTestAffine(3, 2, scale=0.5, dtype=nl.float64)
    x = nl.randn(4, 3, dtype=nl.float64)
    model(x)
    back = reload(model, tmp_path)
    assert back.scale == 0.5 and back.w.dtype == np.float64 and back.calls.item() == 1
    assert_same(model(x), back(x))


def test_builtin_sequential_reloads_with_identical_outputs(tmp_path):
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    back = reload(model, tmp_path)
    x = nl.randn(5, 3)
    assert_same(model(x), back(x))
    assert repr(back) == repr(model)


def test_nested_model_with_registered_argument_module_reloads(tmp_path):
    model = IoTestStacked((3, 5, 4), head=IoTestAffine(4, 1))
    model.eval()
    model.body[0].weight.requires_grad_(False)
    back = reload(model, tmp_path)
    assert not back.training and not back.body[0].training
    assert not back.body[0].weight.requires_grad and back.body[2].weight.requires_grad
    x = nl.randn(2, 3)
    assert_same(model(x), back(x))


def test_conv_batchnorm_model_keeps_float64_and_buffers(tmp_path):
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU()).double()
    x = nl.randn(2, 2, 5, 5, dtype=nl.float64)
    model(x)  # updates the running statistics and the 0-d num_batches_tracked buffer
    model.eval()
    back = reload(model, tmp_path)
    assert back[0].weight.dtype == np.float64 and back[1].num_batches_tracked.shape == ()
    assert_same(model(x), back(x))


def test_containers_changed_after_construction_reload(tmp_path):
    seq = nn.Sequential(OrderedDict(inp=nn.Linear(2, 3)))
    seq.append(nn.ReLU())
    model = nn.ModuleDict({"a": seq, "b": nn.ModuleList([nn.Linear(3, 3)])})
    model["b"].append(nn.Linear(3, 1))
    back = reload(model, tmp_path)
    x = nl.randn(4, 2)
    assert_same(model["b"][1](model["a"](x)), back["b"][1](back["a"](x)))


def test_shared_module_stays_shared(tmp_path):
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.Tanh(), shared)
    back = reload(model, tmp_path)
    assert back[0] is back[2]
    x = nl.randn(2, 3)
    assert_same(model(x), back(x))


@register
class IoTestActivated(Module):
    """Takes a function (not storable), so it describes itself with get_config/from_config."""

    def __init__(self, n: int, activation=nl.tanh) -> None:
        super().__init__()
        self.fc = nn.Linear(n, n)
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.fc(x))

    def get_config(self) -> dict:
        return {"n": self.fc.in_features, "activation": self.activation.__name__}

    @classmethod
    def from_config(cls, config: dict) -> IoTestActivated:
        return cls(config["n"], {"tanh": nl.tanh, "relu": nl.relu}[config["activation"]])


def test_get_config_and_from_config_are_used(tmp_path):
    model = IoTestActivated(3, nl.relu)
    back = reload(model, tmp_path)
    assert back.activation is nl.relu
    x = nl.randn(2, 3)
    assert_same(model(x), back(x))


def test_saving_does_not_shift_the_random_stream(tmp_path):
    nl.manual_seed(1)
    nl.save(nn.Linear(50, 50), tmp_path / "m.safetensors")  # save rebuilds the model to check it
    after_save = nl.rand(3)
    nl.manual_seed(1)
    nn.Linear(50, 50)
    assert_same(after_save, nl.rand(3))


def test_checkpoint_dict_with_model_and_optimizer(tmp_path):
    model = nn.Sequential(nn.Linear(2, 2))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    back = roundtrip({"model": model, "optim": opt.state_dict(), "epoch": 4}, tmp_path)
    assert isinstance(back["model"], nn.Sequential) and back["epoch"] == 4
    assert_same(model.state_dict(), back["model"].state_dict())
    assert_same(opt.state_dict(), back["optim"])


# ----------------------------------------------------------------------------- save errors


class Unregistered(Module):
    def forward(self, x: Tensor) -> Tensor:
        return x


def test_unregistered_class_is_saved_by_import_path(tmp_path):
    # loadable while its module is imported (tests/test_io_torch_api.py covers the refusals)
    back = roundtrip(nn.Sequential(Unregistered()), tmp_path)
    assert type(back[0]) is Unregistered


def test_model_changed_after_construction_fails_at_save(tmp_path):
    model = IoTestStacked((3, 4))
    model.body[0] = nn.Linear(3, 7)
    with pytest.raises(ValueError, match=r"body\.0\.weight: \(7, 3\) in the model, \(4, 3\)"):
        nl.save(model, tmp_path / "m.safetensors")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        ({"s": {1, 2}}, "cannot store a set at 's'"),
        ({"f": [nl.tanh]}, "cannot store a function at 'f.0'"),
        ([np.zeros(2, np.complex128)], "cannot store '0': dtype complex128 is not supported"),
    ],
)
def test_unsupported_values_are_refused(tmp_path, obj, match):
    with pytest.raises(TypeError, match=match):
        nl.save(obj, tmp_path / "x.safetensors")
    assert os.listdir(tmp_path) == []


def test_function_constructor_argument_without_get_config_is_refused(tmp_path):
    @register(name="IoTestLocalFn")
    class WithFunction(Module):
        def __init__(self, fn=nl.tanh) -> None:
            super().__init__()
            self.fn = fn

    with pytest.raises(TypeError, match="cannot store a function at 'config.kwargs.fn'"):
        nl.save(WithFunction(), tmp_path / "m.safetensors")


def test_register_errors():
    with pytest.raises(TypeError, match="not a Module subclass"):
        register(int)

    class Linear(Module):
        pass

    with pytest.raises(ValueError, match="'Linear' is already taken by neuralab"):
        register(Linear)
    register(name="IoTestMyLinear")(Linear)  # fine under another name


def test_save_into_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        nl.save(nl.ones(2), tmp_path / "missing" / "x.safetensors")


# ----------------------------------------------------------------------------- atomic saves


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch, error):
    path = tmp_path / "w.safetensors"
    nl.save({"v": nl.tensor([1.0, 2.0])}, path)

    def write_half_then_fail(arrays, metadata, file):
        data = safetensors.numpy.save(arrays, metadata=metadata)
        file.write(data[: len(data) // 2])
        file.flush()
        raise error

    monkeypatch.setattr(nio, "_serialize", write_half_then_fail)
    with pytest.raises(type(error)):
        nl.save({"v": nl.tensor([3.0, 4.0, 5.0])}, path)
    assert os.listdir(tmp_path) == ["w.safetensors"]  # no temporary file left behind
    assert_same(nl.load(path), {"v": nl.tensor([1.0, 2.0])})


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "w.safetensors"
    nl.save(nl.ones(2), path)
    nl.save(nl.zeros(3), path)
    assert_same(nl.load(path), nl.zeros(3))
    assert os.listdir(tmp_path) == ["w.safetensors"]


# ----------------------------------------------------------------------------- refused files


class _Payload:
    """Unpickling this creates the file ``marker``: a real code-execution payload."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("protocol", [2, 4, pickle.HIGHEST_PROTOCOL])
def test_malicious_pickle_is_refused_without_running_it(tmp_path, protocol):
    live = tmp_path / "live_marker"
    pickle.loads(pickle.dumps(_Payload(str(live)), protocol=protocol)).close()
    assert live.exists()  # the payload really runs when unpickled

    marker = tmp_path / "marker"
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"w": _Payload(str(marker))}, protocol=protocol))
    with pytest.raises(LoadError, match=r"evil\.pt' is a pickle file"):
        nl.load(path)
    assert not marker.exists()


def test_torch_style_zip_is_refused(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(_Payload(str(marker))))
    with pytest.raises(LoadError, match=r"model\.pt' was written by PyTorch's torch\.save"):
        nl.load(path)
    assert not marker.exists()


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        nl.load(tmp_path / "nope.safetensors")


def _saved_bytes(tmp_path) -> bytes:
    path = tmp_path / "good.safetensors"
    nl.save(nn.Sequential(nn.Linear(4, 3)), path)
    return path.read_bytes()


@pytest.mark.parametrize(
    ("cut", "match"),
    [(0, "too short"), (5, "too short"), (60, "header length"), (-7, "corrupted safetensors")],
)
def test_truncated_file_is_refused(tmp_path, cut, match):
    path = tmp_path / "cut.safetensors"
    path.write_bytes(_saved_bytes(tmp_path)[:cut])
    with pytest.raises(LoadError, match=rf"cut\.safetensors.*{match}"):
        nl.load(path)


def test_absurd_header_length_is_refused(tmp_path):
    path = tmp_path / "huge.safetensors"
    path.write_bytes((2**60).to_bytes(8, "little") + b'{"a": 1}')
    with pytest.raises(LoadError, match=r"huge\.safetensors.*header length 1152921504606846976"):
        nl.load(path)


def test_text_file_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a model at all")
    with pytest.raises(LoadError, match=r"notes\.txt"):
        nl.load(path)


def test_corrupted_weights_fail_the_checksum(tmp_path):
    data = bytearray(_saved_bytes(tmp_path))
    data[-3] ^= 0x40
    path = tmp_path / "flipped.safetensors"
    path.write_bytes(bytes(data))
    with pytest.raises(LoadError, match=r"flipped\.safetensors' is corrupted: its checksum"):
        nl.load(path)


def test_corrupted_header_is_refused(tmp_path):
    data = bytearray(_saved_bytes(tmp_path))
    data[12] = ord("!")  # inside the JSON header
    path = tmp_path / "header.safetensors"
    path.write_bytes(bytes(data))
    with pytest.raises(LoadError, match=r"header\.safetensors' is a corrupted safetensors file"):
        nl.load(path)


def _crafted(tmp_path, structure: str, arrays: dict | None = None) -> str:
    """A file with valid checksum and a hand-written structure (what an attacker could write)."""
    arrays = arrays or {}
    path = os.path.join(tmp_path, "crafted.safetensors")
    metadata = {
        "neuralab": structure,
        "neuralab_format": "1",
        "neuralab_crc32": nio._checksum(structure, arrays),
    }
    safetensors.numpy.save_file(arrays, path, metadata=metadata)
    return path


@pytest.mark.parametrize(
    ("structure", "match"),
    [
        ('{"__nl__": "bogus"}', "unknown entry 'bogus'"),
        ('{"__nl__": "tensor", "key": "w", "requires_grad": false}', "tensor 'w' it does not"),
        ('{"__nl__": "tuple"}', "malformed neuralab metadata"),
        ('{"__nl__": "module", "class": "Linear"}', "unknown entry 'module'"),
    ],
)
def test_malformed_metadata_is_refused(tmp_path, structure, match):
    with pytest.raises(LoadError, match=match):
        nl.load(_crafted(tmp_path, structure))


def test_unknown_class_is_refused_by_name(tmp_path, monkeypatch):
    structure = (
        '{"__nl__": "model", "module": {"__nl__": "module", "class": "os.system", '
        '"args": ["touch pwned"]}, "state": {}, "training": true}'
    )
    with pytest.raises(LoadError, match="class 'os.system', which is not registered"):
        nl.load(_crafted(tmp_path, structure))

    path = tmp_path / "affine.safetensors"
    nl.save(IoTestAffine(2, 2), path)
    monkeypatch.delitem(nio._REGISTRY, "IoTestAffine")
    with pytest.raises(LoadError, match="class 'IoTestAffine', which is not registered"):
        nl.load(path)


def test_constructor_failure_is_reported(tmp_path):
    structure = (
        '{"__nl__": "model", "module": {"__nl__": "module", "class": "Linear", '
        '"kwargs": {"in_features": 2}}, "state": {}, "training": true}'
    )
    with pytest.raises(LoadError, match="rebuilding Linear from its saved arguments failed"):
        nl.load(_crafted(tmp_path, structure))


def test_weights_that_do_not_fit_are_reported(tmp_path):
    w = np.zeros((5, 2), np.float32)
    structure = (
        '{"__nl__": "model", "module": {"__nl__": "module", "class": "Linear", '
        '"kwargs": {"in_features": 2, "out_features": 3, "bias": false}}, '
        '"state": {"weight": {"__nl__": "tensor", "key": "weight", "requires_grad": false}}, '
        '"training": true}'
    )
    with pytest.raises(LoadError, match=r"do not fit the rebuilt Linear.*weight"):
        nl.load(_crafted(tmp_path, structure, {"weight": w}))


def test_zoo_model_loads_in_a_fresh_process_without_importing_the_zoo(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "lenet.safetensors"
    save = "import neuralab as nl; from neuralab.models import lenet5; nl.save(lenet5(), {!r})"
    load = (
        "import sys, neuralab as nl; m = nl.load({!r}); "
        "assert type(m).__name__ == 'LeNet5', type(m); print(m.num_parameters())"
    )
    subprocess.run([sys.executable, "-c", save.format(str(path))], check=True)
    out = subprocess.run(
        [sys.executable, "-c", load.format(str(path))], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "61706"
