"""torch.save / torch.load's API on neuralab: file objects, map_location, whole user models
saved by import path and loaded without pickle, the allow-list, and refusing torch's own files."""

import io
import sys
import types

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

import neuralab as nl
import neuralab.serialization as ser
from neuralab import nn, optim
from neuralab.device import device
from neuralab.io import LoadError


class TorchApiNet(nn.Module):
    """A user model defined at module level, never registered."""

    def __init__(self, n_in: int, hidden: int = 5, act: str = "tanh") -> None:
        super().__init__()
        self.fc1 = nn.Linear(n_in, hidden)
        self.fc2 = nn.Linear(hidden, 2)
        self.act = act

    def forward(self, x):
        h = self.fc1(x)
        return self.fc2(h.tanh() if self.act == "tanh" else h.relu())


@pytest.fixture(autouse=True)
def _empty_allow_list():
    ser.clear_safe_globals()
    yield
    ser.clear_safe_globals()


def _same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, nl.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        assert a == b or (a != a and b != b)


def _bytes_roundtrip(obj, **load_kw):
    buf = io.BytesIO()
    nl.save(obj, buf)
    buf.seek(0)
    return nl.load(buf, **load_kw)


# ----------------------------------------------------------------------------- files and objects


def test_file_objects_paths_and_open_files(tmp_path):
    obj = {"w": nl.randn(3, 2), "step": 4, "name": "run", "none": None, "t": (1, 2.5)}
    _same(obj, _bytes_roundtrip(obj))
    with open(tmp_path / "a.pt", "wb") as f:
        nl.save(obj, f)
    with open(tmp_path / "a.pt", "rb") as f:
        _same(obj, nl.load(f))
    nl.save(obj, str(tmp_path / "b.pt"))
    _same(obj, nl.load(tmp_path / "b.pt"))  # a str or a PathLike, either way


def test_loading_reads_from_the_current_position():
    buf = io.BytesIO()
    buf.write(b"header")
    nl.save(nl.ones(2), buf)
    buf.seek(6)
    np.testing.assert_array_equal(nl.load(buf).numpy(), [1.0, 1.0])


def test_structures_come_back_as_torch_gives_them_back():
    """Same container types, key types and values as torch.save/torch.load on the same data."""
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)

    def make(t):
        return {3: [t(arr), (1, "x", None)], "lr": 0.1, "flag": True}

    buf = io.BytesIO()
    torch.save(make(torch.tensor), buf)
    buf.seek(0)
    theirs = torch.load(buf)
    ours = _bytes_roundtrip(make(nl.tensor))
    assert list(ours) == list(theirs) == [3, "lr", "flag"]
    assert type(ours[3][1]) is type(theirs[3][1]) is tuple
    assert ours[3][1] == theirs[3][1] and ours["flag"] is theirs["flag"] is True
    np.testing.assert_array_equal(ours[3][0].numpy(), theirs[3][0].numpy())
    assert ours[3][0].dtype == nl.float32


def test_model_and_optimizer_state_dicts_resume_identically():
    nl.manual_seed(0)
    model = TorchApiNet(3)
    opt = optim.Adam(model.parameters(), lr=0.01)
    x = nl.randn(8, 3)
    model(x).sum().backward()
    opt.step()
    ckpt = _bytes_roundtrip({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 1})
    assert sorted(ckpt["optim"]["state"]) == [0, 1, 2, 3]  # int keys stay ints, as in torch
    twin = TorchApiNet(3)
    twin.load_state_dict(ckpt["model"])
    twin_opt = optim.Adam(twin.parameters(), lr=0.01)
    twin_opt.load_state_dict(ckpt["optim"])
    for m, o in ((model, opt), (twin, twin_opt)):
        o.zero_grad()
        m(x).sum().backward()
        o.step()
    _same(model.state_dict(), twin.state_dict())


# ----------------------------------------------------------------------------- torch.load options


@pytest.mark.parametrize(
    "map_location",
    ["cpu", "cpu:0", device("cpu"), {"cuda:0": "cpu"}, lambda storage, loc: storage, None],
)
def test_map_locations_that_keep_tensors_on_the_cpu(map_location):
    back = _bytes_roundtrip({"w": nl.ones(2)}, map_location=map_location)
    np.testing.assert_array_equal(back["w"].numpy(), [1.0, 1.0])


@pytest.mark.parametrize("map_location", ["cuda", device("cuda", 0), {"cpu": "cuda:1"}])
def test_map_locations_naming_another_device_are_refused(map_location):
    with pytest.raises(RuntimeError, match="runs on the CPU only"):
        _bytes_roundtrip(nl.ones(2), map_location=map_location)


def test_weights_only_mmap_and_pickle_arguments_are_accepted(tmp_path):
    path = tmp_path / "w.pt"
    nl.save(nl.ones(2), path, pickle_protocol=ser.DEFAULT_PROTOCOL)
    for kwargs in ({"weights_only": True}, {"weights_only": False}, {"mmap": True}):
        np.testing.assert_array_equal(nl.load(path, **kwargs).numpy(), [1.0, 1.0])
    assert nl.load(path, "cpu", None, encoding="latin1").shape == (2,)
    with pytest.raises(ValueError, match="mmap=True needs a file path"):
        _bytes_roundtrip(nl.ones(2), mmap=True)
    with pytest.raises(TypeError, match="save: f must be a path or a binary file object, got int"):
        nl.save(nl.ones(2), 3)


def test_serialization_module_names():
    assert ser.save is nl.save and ser.load is nl.load
    t = nl.ones(2)
    assert ser.default_restore_location(t, "cpu") is t
    with pytest.raises(RuntimeError, match="default_restore_location: device 'cuda:0'"):
        ser.default_restore_location(t, "cuda:0")
    assert issubclass(ser.SourceChangeWarning, Warning)


# ----------------------------------------------------------------------------- whole models


def test_whole_user_model_round_trips_without_registration(tmp_path):
    nl.manual_seed(1)
    model = TorchApiNet(4, hidden=6, act="relu").eval()
    nl.save(model, tmp_path / "model.pt")
    back = nl.load(tmp_path / "model.pt", weights_only=False)
    assert type(back) is TorchApiNet and back.act == "relu" and not back.training
    x = nl.randn(3, 4)
    np.testing.assert_array_equal(back(x).numpy(), model(x).numpy())


def _local_model():
    class LocalNet(nn.Module):
        def __init__(self, n: int) -> None:
            super().__init__()
            self.fc = nn.Linear(n, 1)

        def forward(self, x):
            return self.fc(x)

    return LocalNet


def test_class_defined_in_a_function_needs_the_allow_list(tmp_path):
    local = _local_model()
    path = tmp_path / "local.pt"
    nl.save(local(3), path)
    with pytest.raises(LoadError, match=r"class .*LocalNet, which this program has not imported"):
        nl.load(path)
    with pytest.raises(LoadError, match=r"add_safe_globals\(\[LocalNet\]\)"):
        nl.load(path)
    with ser.safe_globals([local]):
        assert type(nl.load(path)) is local
        assert ser.get_safe_globals() == [local]
    assert ser.get_safe_globals() == []  # the context manager restores the list
    with pytest.raises(LoadError):
        nl.load(path)
    ser.add_safe_globals([local])
    assert type(nl.load(path)) is local
    ser.clear_safe_globals()
    other = _local_model()  # same qualified name, another class: allowed under the saved name
    ser.add_safe_globals([(other, f"{__name__}._local_model.<locals>.LocalNet")])
    assert type(nl.load(path)) is other


def test_class_whose_module_is_not_imported_is_refused_without_importing_it(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "nl_ghost_models.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
    )  # importing this module would leave the marker
    monkeypatch.syspath_prepend(str(tmp_path))
    ghost = types.ModuleType("nl_ghost_models")
    ghost.__dict__["GhostNet"] = type(
        "GhostNet", (nn.Module,), {"__module__": "nl_ghost_models", "forward": lambda s, x: x}
    )
    monkeypatch.setitem(sys.modules, "nl_ghost_models", ghost)
    path = tmp_path / "ghost.pt"
    nl.save(ghost.GhostNet(), path)
    assert type(nl.load(path)).__name__ == "GhostNet"
    monkeypatch.delitem(sys.modules, "nl_ghost_models")
    with pytest.raises(LoadError, match="class nl_ghost_models.GhostNet, which this program"):
        nl.load(path)
    assert not marker.exists()


def _crafted(tmp_path, module: str, qualname: str) -> str:
    """A whole-model file with a valid checksum naming ``module.qualname`` (an attacker's file)."""
    structure = (
        f'{{"__nl__": "model", "module": {{"__nl__": "module", "class": "{qualname}", '
        f'"module": "{module}", "args": ["touch pwned"]}}, "state": {{}}, "training": true}}'
    )
    path = str(tmp_path / "crafted.pt")
    metadata = {"neuralab": structure, "neuralab_format": "1"}
    metadata["neuralab_crc32"] = nl.io._checksum(structure, {})
    safetensors.numpy.save_file({}, path, metadata=metadata)
    return path


@pytest.mark.parametrize(
    ("module", "qualname", "match"),
    [
        ("subprocess", "Popen", "names subprocess.Popen as a model class, but it is not a Module"),
        ("os", "system", "names os.system as a model class, but it is not a Module"),
        ("os", "path.join", "names os.path.join as a model class"),
        ("nl_never_imported", "Net", "nl_never_imported.Net, which this program has not imported"),
        ("neuralab.serialization", "save", "neuralab.serialization.save, which this program has"),
    ],
)
def test_a_file_naming_anything_but_an_imported_module_class_is_refused(
    tmp_path, module, qualname, match
):
    import subprocess  # noqa: F401  (imported, so only the Module check stands in the way)

    before = set(sys.modules)
    with pytest.raises(LoadError, match=match):
        nl.load(_crafted(tmp_path, module, qualname))
    assert set(sys.modules) == before  # nothing was imported, no module __getattr__ ran


def test_allow_list_refuses_malformed_entries():
    with pytest.raises(TypeError, match=r"a tuple entry must be \(class, 'module.QualName'\)"):
        ser.add_safe_globals([(TorchApiNet,)])
    with pytest.raises(TypeError, match="expected classes or .* got a int"):
        ser.add_safe_globals([3])


# ----------------------------------------------------------------------------- torch's own files


def test_a_file_written_by_torch_save_is_refused_with_the_way_to_convert_it(tmp_path):
    tmodel = torch.nn.Linear(3, 2)
    path = tmp_path / "model.pt"
    torch.save(tmodel.state_dict(), path)
    with pytest.raises(LoadError, match=r"written by PyTorch's torch\.save.*save_file"):
        nl.load(path)
    with open(path, "rb") as f, pytest.raises(LoadError, match="written by PyTorch's"):
        nl.load(f)
    legacy = tmp_path / "legacy.pt"
    torch.save(tmodel.state_dict(), legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(LoadError, match=r"pickle file \(PyTorch's legacy torch\.save format"):
        nl.load(legacy)
    # the conversion the message gives, then the weights load into the same neuralab layer
    converted = tmp_path / "weights.safetensors"
    safetensors.torch.save_file(torch.load(path), converted)
    layer = nn.Linear(3, 2)
    layer.load_state_dict(nl.load(converted))
    np.testing.assert_array_equal(layer.weight.numpy(), tmodel.weight.detach().numpy())
    np.testing.assert_array_equal(layer.bias.numpy(), tmodel.bias.detach().numpy())
