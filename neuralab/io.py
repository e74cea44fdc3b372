"""Saving and loading tensors, state dicts, checkpoints and whole models: one safetensors file.

``nl.save(obj, f)`` (``torch.save``) writes every array in ``obj`` as a safetensors tensor named
by its dotted path (so a saved ``state_dict()`` is an ordinary safetensors state dict that other
tools read) and the rest of the structure (dicts, lists, tuples, numbers, strings, a model's
architecture) as JSON in the file's ``__metadata__``. ``nl.load(f)`` (``torch.load``) rebuilds
the object; ``f`` is a path or a binary file object.

Nothing is pickled. A whole model is stored as its class (a name for neuralab's own and
registered classes, else its module and qualified name) and constructor arguments (which
``Module`` records at construction, or the class's own ``get_config()``) plus its state dict.
Loading constructs only classes defined in neuralab, registered with :func:`register`, allowed
with ``neuralab.serialization.add_safe_globals`` or already imported by the program: a file
never makes neuralab import code. Saves to a path are atomic: a crash mid-save keeps the
previous file. See docs/save_load.md for the file layout.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import json
import os
import sys
import uuid
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable
from typing import IO, Any

import numpy as np
import safetensors.numpy
from safetensors import SafetensorError, safe_open

from neuralab import serialization
from neuralab.nn.layers.containers import ModuleDict, ModuleList, Sequential
from neuralab.nn.module import Module, Parameter
from neuralab.random import generator
from neuralab.tensor import Tensor

__all__ = ["LoadError", "add_class_source", "load", "register", "save"]

_TAG = "__nl__"  # a JSON object with this key encodes a non-JSON value (tensor, tuple, model, ...)
_FORMAT = "1"
_DTYPES = frozenset(
    "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64".split()
)
_REGISTRY: dict[str, type[Module]] = {}


class LoadError(ValueError):
    """A file ``nl.load`` refuses: not safetensors, pickled, truncated, corrupted, unknown class."""


# ----------------------------------------------------------------------------- model classes


def register(cls: type[Module] | None = None, *, name: str | None = None) -> Any:
    """Make a Module subclass loadable by name: ``@register`` or ``@register(name="MyNet")``."""

    def add(cls: type[Module]) -> type[Module]:
        if not (isinstance(cls, type) and issubclass(cls, Module)):
            raise TypeError(f"register: {cls!r} is not a Module subclass")
        key = name or cls.__name__
        taken = _REGISTRY.get(key) or _builtin_classes().get(key)
        if taken is not None and _qualname(taken) != _qualname(cls):
            raise ValueError(
                f"register: the name '{key}' is already taken by {_qualname(taken)}; "
                f"register {_qualname(cls)} under another one with register(name=...)"
            )
        _REGISTRY[key] = cls
        return cls

    return add if cls is None else add(cls)


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _builtin_classes() -> dict[str, type[Module]]:
    """Module classes defined by neuralab itself, by class name: loadable without registering."""
    found: dict[str, type[Module]] = {}
    stack = [Module]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("neuralab.") and "<locals>" not in sub.__qualname__:
                found.setdefault(sub.__name__, sub)
    return found


def _class_reference(cls: type[Module]) -> dict[str, str]:
    """How a file names ``cls``: by name if neuralab's own or registered, else by import path."""
    for key, registered in _REGISTRY.items():
        if registered is cls:
            return {"class": key}
    if _builtin_classes().get(cls.__name__) is cls:
        return {"class": cls.__name__}
    return {"class": cls.__qualname__, "module": cls.__module__}


_CLASS_SOURCES: list[str] = []


def add_class_source(module: str) -> None:
    """Declare ``module`` (a package of neuralab's above this one: the zoo, an app) as defining
    model classes that files name: it is imported when a file names a class not yet defined.

    io knows no package above it: those packages are declared by ``neuralab/__init__.py``. No
    name read from a file is ever imported.
    """
    if not module.startswith("neuralab."):
        raise ValueError(f"add_class_source: {module!r} is not one of neuralab's packages")
    if module not in _CLASS_SOURCES:
        _CLASS_SOURCES.append(module)


def _class_by_name(name: str, source: str) -> type[Module]:
    """A class saved by name: registered or neuralab's own (its declared sources imported)."""
    cls = _REGISTRY.get(name) or _builtin_classes().get(name)
    if cls is None:
        for package in _CLASS_SOURCES:
            with contextlib.suppress(ImportError):
                importlib.import_module(package)
        cls = _builtin_classes().get(name)
    if cls is None:
        raise LoadError(
            f"load: '{source}' holds a model of class '{name}', which is not registered: define "
            f"it and decorate it with @neuralab.io.register before loading (neuralab never "
            f"imports code named by a file)"
        )
    return cls


def _imported(module: str, qualname: str) -> Any:
    """The object ``module.qualname`` if that module is already imported, else None.

    Reads namespaces with ``vars`` only: no import, no module ``__getattr__``, no descriptor.
    """
    obj: Any = sys.modules.get(module)
    for part in qualname.split("."):
        try:
            obj = vars(obj).get(part)
        except TypeError:  # None, or an object without a __dict__
            return None
    return obj


def _class_by_path(module: str, qualname: str, source: str) -> type[Module]:
    """A class saved by import path: allow-listed, or defined by a module already imported."""
    path = f"{module}.{qualname}"
    cls = serialization.allowed(path) or _imported(module, qualname)
    if cls is None:
        raise LoadError(
            f"load: '{source}' holds a model of class {path}, which this program has not "
            f"imported: import or define it before loading, or allow it with "
            f"neuralab.serialization.add_safe_globals([{qualname.rsplit('.', 1)[-1]}]) "
            f"(neuralab never imports code named by a file)"
        )
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise LoadError(f"load: '{source}' names {path} as a model class, but it is not a Module")
    return cls


def _sequential_arguments(seq: Sequential) -> tuple[list, dict]:
    children = OrderedDict(seq._modules)
    numbered = list(children) == [str(i) for i in range(len(children))]
    return (list(children.values()) if numbered else [children]), {}


# Containers can change after construction (append, insert, del): describe their children now,
# every slot of them (``named_children`` lists a module held twice only once, as torch's does).
_CONTAINER_ARGUMENTS: dict[type[Module], Callable[[Any], tuple[list, dict]]] = {
    Sequential: _sequential_arguments,
    ModuleList: lambda m: ([], {"modules": list(m._modules.values())}),
    ModuleDict: lambda m: ([], {"modules": OrderedDict(m._modules)}),
}


def _constructor_arguments(module: Module) -> tuple[list, dict[str, Any]]:
    """Positional and keyword arguments that rebuild ``module`` (defaults filled in, by name)."""
    if hasattr(module, "get_config"):
        return [], dict(module.get_config())
    cls = type(module)
    if cls in _CONTAINER_ARGUMENTS:
        return _CONTAINER_ARGUMENTS[cls](module)
    args, kwargs = module.__dict__.get("_init_args", ((), {}))
    signature = inspect.signature(cls)
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    has_varargs = any(p.kind is p.VAR_POSITIONAL for p in signature.parameters.values())
    positional: list = []
    named: dict[str, Any] = {}
    for p in signature.parameters.values():
        value = bound.arguments[p.name]
        if p.kind is p.VAR_POSITIONAL:
            positional.extend(value)
        elif p.kind is p.VAR_KEYWORD:
            named.update(value)
        elif p.kind is p.POSITIONAL_ONLY or (p.kind is p.POSITIONAL_OR_KEYWORD and has_varargs):
            positional.append(value)
        else:
            named[p.name] = value
    return positional, named


# ----------------------------------------------------------------------------- encoding


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _on_disk(arr: np.ndarray) -> np.ndarray:
    """``arr`` as safetensors lays it out: C-contiguous, little-endian.

    safetensors 0.8 copies raw memory from the data pointer, so a transposed or sliced view would
    be written scrambled (safetensors issue #825).
    """
    return np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))


class _Writer:
    """Encodes an object as JSON-able structure, collecting its arrays under unique dotted names."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.classes: dict[str, type[Module]] = {}  # classes named by import path, by that path

    def array(self, arr: np.ndarray, path: str) -> dict[str, Any]:
        """Store ``arr`` under a name derived from ``path``; return the reference for the JSON."""
        if arr.dtype.name not in _DTYPES:
            raise TypeError(
                f"save: cannot store '{path or 'the tensor'}': dtype {arr.dtype} is not supported "
                f"(supported: {', '.join(sorted(_DTYPES))})"
            )
        key, n = path or "tensor", 0
        while key in self.arrays:
            n += 1
            key = f"{path or 'tensor'}~{n}"
        self.arrays[key] = _on_disk(arr)
        ref: dict[str, Any] = {"key": key}
        if arr.ndim == 0:
            ref["shape"] = []  # safetensors stores a 0-d array with shape [1]
        return ref

    def encode(self, obj: Any, path: str, modules: dict[int, int] | None = None) -> Any:
        """JSON-able form of ``obj``; ``modules`` is set inside a model's architecture."""
        if isinstance(obj, np.generic):  # before float: np.float64 is a float subclass
            return {_TAG: "scalar", **self.array(np.asarray(obj), path)}
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, Tensor):
            kind = "parameter" if isinstance(obj, Parameter) else "tensor"
            return {_TAG: kind, "requires_grad": obj.requires_grad, **self.array(obj._data, path)}
        if isinstance(obj, np.ndarray):
            return {_TAG: "ndarray", **self.array(obj, path)}
        if isinstance(obj, Module):
            return self.model(obj, path) if modules is None else self.module(obj, path, modules)
        if isinstance(obj, np.dtype) or (isinstance(obj, type) and issubclass(obj, np.generic)):
            return {_TAG: "dtype", "name": np.dtype(obj).name}
        if isinstance(obj, (list, tuple)):
            items = [self.encode(v, _join(path, i), modules) for i, v in enumerate(obj)]
            return items if isinstance(obj, list) else {_TAG: "tuple", "items": items}
        if isinstance(obj, dict):
            if type(obj) is dict and _TAG not in obj and all(isinstance(k, str) for k in obj):
                return {k: self.encode(v, _join(path, k), modules) for k, v in obj.items()}
            items = [
                [self.encode(k, path, modules), self.encode(v, _join(path, k), modules)]
                for k, v in obj.items()
            ]
            return {_TAG: "odict" if isinstance(obj, OrderedDict) else "dict", "items": items}
        raise TypeError(
            f"save: cannot store a {type(obj).__name__} at '{path or 'the top level'}': only "
            f"tensors, arrays, numbers, strings, None, dtypes, lists, tuples, dicts and Modules "
            f"are saved (never pickle)"
        )

    def module(self, module: Module, path: str, modules: dict[int, int]) -> dict[str, Any]:
        """A module's architecture: its class and constructor arguments; a shared one once."""
        if id(module) in modules:
            return {_TAG: "ref", "index": modules[id(module)]}
        args, kwargs = _constructor_arguments(module)
        node: dict[str, Any] = {_TAG: "module", **_class_reference(type(module))}
        if "module" in node:
            self.classes[f"{node['module']}.{node['class']}"] = type(module)
        if args:
            node["args"] = self.encode(args, _join(path, "args"), modules)
        if kwargs:
            node["kwargs"] = self.encode(kwargs, _join(path, "kwargs"), modules)
        modules[id(module)] = len(modules)  # numbered after its arguments, as load builds them
        return node

    def model(self, model: Module, path: str) -> dict[str, Any]:
        """A whole model: its state dict (tensors named as in ``state_dict()``) and architecture."""
        state = self.encode(model.state_dict(), path)
        architecture = self.module(model, _join(path, "config"), {})
        _check_rebuildable(model, architecture, self)
        node = {_TAG: "model", "module": architecture, "state": state, "training": model.training}
        frozen = [name for name, p in model.named_parameters() if not p.requires_grad]
        if frozen:
            node["frozen"] = frozen
        return node


def _check_rebuildable(model: Module, architecture: dict, writer: _Writer) -> None:
    """Rebuild ``model`` now, so a model changed after construction fails at save, not at load."""
    rng = generator().bit_generator
    rng_state = rng.state  # rebuilding draws initial weights: saving must not shift the stream
    try:
        reader = _Reader(writer.arrays, "<model being saved>", writer.classes)
        rebuilt = reader.module(architecture, [])
    except LoadError as e:
        raise ValueError(f"save: {type(model).__name__} cannot be rebuilt: {e}") from e
    finally:
        rng.state = rng_state
    want = {k: t.shape for k, t in model.state_dict().items()}
    got = {k: t.shape for k, t in rebuilt.state_dict().items()}
    if want != got:
        diffs = [
            f"{k}: {want.get(k, 'absent')} in the model, {got.get(k, 'absent')} rebuilt"
            for k in sorted(want.keys() | got.keys())
            if want.get(k) != got.get(k)
        ]
        raise ValueError(
            f"save: {type(model).__name__} rebuilt from its constructor arguments differs from "
            f"the model being saved ({'; '.join(diffs[:5])}); was a layer replaced or added "
            f"after construction? Give the class a get_config() returning the arguments that "
            f"build the current architecture, or save model.state_dict() instead"
        )


# ----------------------------------------------------------------------------- decoding


class _Reader:
    """Rebuilds an object from the JSON structure and the arrays that :class:`_Writer` made."""

    def __init__(
        self,
        arrays: dict[str, np.ndarray],
        source: str,
        classes: dict[str, type[Module]] | None = None,
    ) -> None:
        self.arrays = arrays
        self.source = source
        self.classes = classes or {}  # classes known by import path (the saving side's own)

    def array(self, node: dict[str, Any]) -> np.ndarray:
        key = node["key"]
        if key not in self.arrays:
            raise LoadError(f"load: '{self.source}' refers to a tensor '{key}' it does not contain")
        arr = self.arrays[key]
        return arr.reshape(node["shape"]) if "shape" in node else arr

    def decode(self, node: Any, built: list[Module] | None = None) -> Any:
        """The object that ``node`` encodes; ``built`` lists a model's modules built so far."""
        if isinstance(node, list):
            return [self.decode(v, built) for v in node]
        if not isinstance(node, dict):
            return node
        tag = node.get(_TAG)
        if tag is None:
            return {k: self.decode(v, built) for k, v in node.items()}
        if tag == "tensor":
            arr = self.array(node)
            return Tensor(arr, dtype=arr.dtype, requires_grad=node["requires_grad"])
        if tag == "parameter":
            arr = self.array(node)
            return Parameter(Tensor(arr, dtype=arr.dtype), node["requires_grad"])
        if tag == "ndarray":
            return self.array(node)
        if tag == "scalar":
            return self.array(node)[()]
        if tag == "dtype":
            return np.dtype(node["name"])
        if tag == "tuple":
            return tuple(self.decode(node["items"], built))
        if tag in ("dict", "odict"):
            pairs = ((self.decode(k, built), self.decode(v, built)) for k, v in node["items"])
            return OrderedDict(pairs) if tag == "odict" else dict(pairs)
        if tag == "model":
            return self.model(node)
        if tag in ("module", "ref") and built is not None:
            return self.module(node, built)
        raise LoadError(f"load: '{self.source}' has an unknown entry {tag!r} in its metadata")

    def module(self, node: dict[str, Any], built: list[Module]) -> Module:
        """Construct the module that ``node`` describes (its argument modules first)."""
        if node[_TAG] == "ref":
            return built[node["index"]]
        name = node["class"]
        cls = self.model_class(node)
        args = self.decode(node.get("args", []), built)
        kwargs = self.decode(node.get("kwargs", {}), built)
        try:
            module = (
                cls.from_config(kwargs) if hasattr(cls, "from_config") else cls(*args, **kwargs)
            )
        except Exception as e:
            raise LoadError(
                f"load: '{self.source}': rebuilding {name} from its saved arguments failed: "
                f"{type(e).__name__}: {e}"
            ) from e
        built.append(module)
        return module

    def model_class(self, node: dict[str, Any]) -> type[Module]:
        """The class a module node names: by name, or by import path (module + qualified name)."""
        if "module" not in node:
            return _class_by_name(node["class"], self.source)
        path = f"{node['module']}.{node['class']}"
        return self.classes.get(path) or _class_by_path(node["module"], node["class"], self.source)

    def model(self, node: dict[str, Any]) -> Module:
        """Rebuild a model, then load its weights with their saved dtypes and flags."""
        model = self.module(node["module"], [])
        state = self.decode(node["state"])
        try:
            model.load_state_dict(state)
        except RuntimeError as e:
            raise LoadError(
                f"load: '{self.source}': the saved weights do not fit the rebuilt "
                f"{type(model).__name__}: {' '.join(str(e).split())}"
            ) from e
        live = {**dict(model.named_parameters()), **dict(model.named_buffers())}
        for name, t in live.items():
            if name in state and state[name].dtype != t.dtype:
                t._data = state[name]._data  # load_state_dict cast it to the constructor's dtype
        frozen = set(node.get("frozen", ()))
        for name, p in model.named_parameters():
            if name in frozen:
                p.requires_grad_(False)
        return model.train(node["training"])


# ----------------------------------------------------------------------------- files


def _checksum(structure: str, arrays: dict[str, np.ndarray]) -> str:
    """CRC-32 of the structure and of every array's name, dtype, shape and bytes."""
    crc = zlib.crc32(structure.encode())
    for key in sorted(arrays):
        arr = _on_disk(arrays[key])
        crc = zlib.crc32(f"{key}|{arr.dtype.name}|{arr.shape}".encode(), crc)
        crc = zlib.crc32(arr, crc)
    return str(crc)


def _serialize(arrays: dict[str, np.ndarray], metadata: dict[str, str], file: IO[bytes]) -> None:
    file.write(safetensors.numpy.save(arrays, metadata=metadata))


def _atomic_write(path: str, arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Write to a temporary file beside ``path``, fsync it, then rename it over ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: directory '{directory}' does not exist (saving '{path}')")
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies, like open()
    try:
        with os.fdopen(fd, "wb") as f:
            _serialize(arrays, metadata, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if os.name == "posix":  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _path(where: str, f: Any) -> str:
    """``f`` as a path string, or a TypeError saying what ``f`` may be."""
    try:
        return os.fspath(f)
    except TypeError:
        raise TypeError(
            f"{where}: f must be a path or a binary file object, got {type(f).__name__}"
        ) from None


def save(
    obj: Any,
    f: str | os.PathLike | IO[bytes],
    pickle_module: Any = None,
    pickle_protocol: int = serialization.DEFAULT_PROTOCOL,
) -> None:
    """Save a tensor, state dict, checkpoint or whole model to a path or a binary file object.

    A path is written atomically. ``pickle_module`` and ``pickle_protocol`` (torch's) are
    accepted and ignored: nothing is pickled.
    """
    path = None if hasattr(f, "write") else _path("save", f)
    writer = _Writer()
    structure = json.dumps(writer.encode(obj, ""), separators=(",", ":"))
    metadata = {
        "neuralab": structure,
        "neuralab_format": _FORMAT,
        "neuralab_crc32": _checksum(structure, writer.arrays),
    }
    if path is None:
        _serialize(writer.arrays, metadata, f)
    else:
        _atomic_write(path, writer.arrays, metadata)


def _zip_message(stream: IO[bytes], name: str) -> str:
    """Why a zip archive is refused; torch.save's own archives get the way to convert them."""
    try:
        names = zipfile.ZipFile(stream).namelist()  # reads the directory only
    except zipfile.BadZipFile:
        names = []
    if any(n.endswith("data.pkl") for n in names):
        return (
            f"load: '{name}' was written by PyTorch's torch.save: a zip archive around a pickle, "
            f"which neuralab never loads (unpickling can run arbitrary code). Convert it where "
            f"PyTorch is installed: safetensors.torch.save_file(torch.load(...), "
            f"'weights.safetensors') for a state dict (for a whole model, its state_dict()), "
            f"then load that file"
        )
    return (
        f"load: '{name}' is a zip archive (np.savez output?), not safetensors; neuralab never "
        f"unpickles. Convert it with safetensors in its original environment"
    )


def _check_header(stream: IO[bytes], name: str) -> None:
    """Refuse what is not plausibly safetensors before safetensors parses it, saying what it is."""
    head = stream.read(9)
    size = stream.seek(0, io.SEEK_END)
    header_len = int.from_bytes(head[:8], "little")
    if len(head) == 9 and header_len <= size - 8 and head[8:9] == b"{":
        return
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise LoadError(
            f"load: '{name}' is a pickle file (PyTorch's legacy torch.save format, or pickle); "
            f"neuralab never unpickles (a pickle can run arbitrary code). Convert it to "
            f"safetensors where it was made (safetensors.torch.save_file for a state dict)"
        )
    if head[:4] == b"PK\x03\x04":
        raise LoadError(_zip_message(stream, name))
    if len(head) < 9:
        raise LoadError(f"load: '{name}' is too short ({size} bytes) to be a safetensors file")
    if header_len > size - 8:
        raise LoadError(
            f"load: '{name}' is truncated or not safetensors: its header length {header_len} "
            f"exceeds the file size ({size} bytes)"
        )
    raise LoadError(f"load: '{name}' is not a safetensors file (no JSON header after 8 bytes)")


def _read(source: str | bytes, name: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays and the ``__metadata__`` of a safetensors file (a path) or of its bytes."""
    try:
        if isinstance(source, bytes):
            header = json.loads(source[8 : 8 + int.from_bytes(source[:8], "little")])
            return safetensors.numpy.load(source), header.get("__metadata__") or {}
        with safe_open(source, framework="np") as f:
            return {key: f.get_tensor(key) for key in f.keys()}, f.metadata() or {}
    except (SafetensorError, ValueError) as e:
        raise LoadError(f"load: '{name}' is a corrupted safetensors file: {e}") from e


def _decode(arrays: dict[str, np.ndarray], metadata: dict[str, str], name: str) -> Any:
    """The object that :func:`save` encoded into ``arrays`` and ``metadata``."""
    structure = metadata.get("neuralab")
    if structure is None:  # written by another tool: a flat state dict
        return {key: Tensor(arr, dtype=arr.dtype) for key, arr in arrays.items()}
    if metadata.get("neuralab_format") != _FORMAT:
        raise LoadError(
            f"load: '{name}' has neuralab format {metadata.get('neuralab_format')!r}; this "
            f"version reads format {_FORMAT!r}"
        )
    if metadata.get("neuralab_crc32") != _checksum(structure, arrays):
        raise LoadError(f"load: '{name}' is corrupted: its checksum does not match its contents")
    try:
        return _Reader(arrays, name).decode(json.loads(structure))
    except LoadError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, RuntimeError) as e:
        raise LoadError(
            f"load: '{name}' has malformed neuralab metadata: {type(e).__name__}: {e}"
        ) from e


def load(
    f: str | os.PathLike | IO[bytes],
    map_location: Any = None,
    pickle_module: Any = None,
    *,
    weights_only: bool | None = None,
    mmap: bool | None = None,
    **pickle_load_args: Any,
) -> Any:
    """Load what :func:`save` wrote, from a path or a binary file object (torch.load's options).

    A plain safetensors file gives a dict of tensors. ``map_location`` may only name the CPU
    (a dict or callable is accepted: every tensor is on the CPU). ``weights_only`` changes
    nothing (the format holds data only); ``mmap`` and the pickle arguments are ignored.
    """
    serialization.check_map_location(map_location)
    if hasattr(f, "read"):
        if mmap:
            raise ValueError("load: mmap=True needs a file path, not a file object")
        data, name = f.read(), getattr(f, "name", None)
        name = name if isinstance(name, str) else f"<{type(f).__name__}>"
        _check_header(io.BytesIO(data), name)
        return _decode(*_read(data, name), name)
    path = _path("load", f)
    with open(path, "rb") as stream:
        _check_header(stream, path)
    return _decode(*_read(path, path), path)
