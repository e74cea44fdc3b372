"""The Teachable Machine tab: name classes, give examples, train a small CNN live, export it.

A person names 2 to 10 classes and gives each up to 200 examples: drawings, uploaded pictures or
webcam frames, which the page turns into small grayscale images (drawings are white ink on
black). Every example is kept as a SIZE × SIZE uint8 image (other sizes are resized).
**Train** builds a fresh small CNN from ``neuralab.nn`` (:func:`build_model`: conv 5×5, 8 →
ReLU → max-pool → conv 3×3, 16 → ReLU → max-pool → linear) and trains it with Adam and
cross-entropy in short slices, as the playground trains: the server calls
:meth:`TeachableSession.run_for` once a frame, so the page stays live. After every epoch the
session evaluates the training and the held-out examples (loss, accuracy, accuracy per class, a
confusion matrix). Snapshots also carry the first layer's filters and, for the drawing to
classify, the class probabilities and the first layer's feature maps. **Export** writes the
model with ``nl.save``; ``nl.load`` rebuilds it.

This module holds the session, the WebSocket commands (checked by :func:`parse`, carried out by
:func:`apply`, served at ``/ws/teachable``) and the hello frame; it needs no web server.

========= ======================================================= ============================
cmd       fields                                                  effect
========= ======================================================= ============================
classes   op: add (name?) | remove (class) | rename (class,       edit the classes
          name) | clear (class)
add       class, images: [base64, ...], width, height             add examples to a class
remove    id                                                      delete one example
settings  settings: {key: value} (see SETTINGS)                   change training settings
train     –                                                       fresh weights, then train
                                                                  ``epochs`` epochs
stop      –                                                       pause training
predict   image: base64 or null, width, height                    the drawing to classify
export    format: neuralab | onnx, inPage (bool)                  a ``file`` frame comes back
snapshot  –                                                       send a snapshot now
ack       seq                                                     as in the playground
========= ======================================================= ============================

An image is width × height bytes (row by row, 0 black to 255 white) in base64, with
MIN_SIDE ≤ width, height ≤ MAX_SIDE. Snapshots hold ``config`` (the settings) and ``data`` (the
class names, the example ids per class and the images the page has not seen yet) when they
changed; see :meth:`TeachableSession.snapshot`.
"""

from __future__ import annotations

import base64
import binascii
import importlib.util
import math
import os
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

import neuralab as nl
import neuralab.nn.functional as F
import neuralab.random as nl_random
from neuralab import nn, optim
from neuralab.nn.utils import eval_mode, train_mode
from neuralab.playground.data import train_mask
from neuralab.playground.protocol import ProtocolError, _ack, _bare, _fields, _number, file_frame
from neuralab.playground.protocol import parse as parse_frame
from neuralab.playground.session import SessionError, b64, json_numbers
from neuralab.tensor import constant
from neuralab.train import Trainer, TrainingDiverged

SIZE = 28  # examples are SIZE × SIZE grayscale images
MIN_CLASSES, MAX_CLASSES = 2, 10
MAX_EXAMPLES = 200  # per class
MIN_SIDE, MAX_SIDE = 8, 64  # an image sent by the page, in pixels
MAX_NAME = 40  # characters in a class name
SHIFT = 2  # augmentation: random shifts of up to SHIFT pixels
EVAL_CHUNK = 256  # examples per forward pass when evaluating
MODEL_NAME = "teachable_model.safetensors"
ONNX_NAME = "teachable_model.onnx"
FORMATS = ("neuralab", "onnx")  # what ``export`` writes: nl.save's file or ONNX


@dataclass(frozen=True)
class Setting:
    """A training setting: its default and range (a yes/no switch when the default is a bool)."""

    default: bool | int | float
    lo: float = 0
    hi: float = 0
    help: str = ""


SETTINGS = {
    "epochs": Setting(50, 1, 1000, "passes over the training examples per Train"),
    "batchSize": Setting(16, 1, 256, "examples per update step"),
    "learningRate": Setting(0.001, 1e-5, 1.0, "Adam's step size; applies live"),
    "testPercent": Setting(15, 0, 50, "share of each class's examples held out for testing"),
    "augment": Setting(True, help=f"shift training images by up to {SHIFT} pixels at random"),
}
"""Training settings by name (Teachable Machine's defaults: 50 epochs, batch 16, lr 0.001)."""


def build_model(classes: int) -> nn.Sequential:
    """The small CNN for SIZE × SIZE grayscale images: two conv + pool stages and a linear layer."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * (SIZE // 4) ** 2, classes),
    )


def resize(image: np.ndarray) -> np.ndarray:
    """A 2-D grayscale image (0 to 255) as SIZE × SIZE uint8: bilinear up, area-averaged down."""
    a = np.asarray(image, dtype=np.float32)
    if a.ndim != 2 or a.size == 0:
        raise ValueError(f"an example must be a 2-D grayscale image, got shape {a.shape}")
    h, w = a.shape
    if (h, w) != (SIZE, SIZE):
        x = constant(a[None, None])
        if h < SIZE or w < SIZE:
            x = F.interpolate(x, size=(max(h, SIZE), max(w, SIZE)), mode="bilinear")
        a = F.adaptive_avg_pool2d(x, SIZE).numpy()[0, 0]
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def to_input(image: np.ndarray) -> np.ndarray:
    """A grayscale image (any size, 0 to 255) as the model's input: (1, 1, SIZE, SIZE) in [0, 1]."""
    return resize(image)[None, None].astype(np.float32) / 255


class TeachableSession:
    """One Teachable Machine view: classes and examples, the CNN, training and its metrics.

    Synchronous and single-threaded like :class:`~neuralab.playground.session.Session`, with
    the same interface for the server (``playing``, ``run_for``, ``notices``, ``snapshot``,
    ``config`` and ``config_version``, ``data_payload`` and ``data_version``).
    """

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.config: dict[str, Any] = {key: s.default for key, s in SETTINGS.items()}
        self.names = ["Class 1", "Class 2"]
        self.examples: list[list[tuple[int, np.ndarray]]] = [[], []]  # (id, image) per class
        self._next_id = 0
        self._unsent: dict[int, np.ndarray] = {}  # images the page has not been sent yet
        self.model: nn.Sequential | None = None
        self.opt: optim.Adam | None = None
        self.trainer: Trainer | None = None
        self.playing = False
        self.notices: list[dict[str, Any]] = []
        self.config_version = 0
        self.data_version = 0
        self.model_version = 0
        self.epoch = 0
        self.updates = 0
        self.hist_pending: list[list[Any]] = []
        self.hist_reset = True
        self.probe: np.ndarray | None = None  # the drawing to classify, as the model's input
        self._probe_version = 0
        self._order = np.zeros(0, dtype=np.int64)  # this epoch's visiting order
        self._pos = 0
        self._epoch_data: tuple[np.ndarray, np.ndarray] | None = None
        self._split_cache: tuple[int, dict[str, tuple[np.ndarray, np.ndarray]]] | None = None
        self._metrics_cache: tuple[tuple, dict[str, Any]] | None = None
        self._prediction_cache: tuple[tuple, dict[str, Any]] | None = None

    def notice(self, message: str, level: str = "warn") -> None:
        """Queue a message for the page (shown as a toast)."""
        self.notices.append({"type": "notice", "level": level, "message": message})

    # --------------------------------------------------------------------- classes and examples
    def _class(self, index: int) -> int:
        if not 0 <= index < len(self.names):
            raise SessionError(f"there is no class {index} (classes 0 to {len(self.names) - 1})")
        return index

    def _data_changed(self, classes_changed: bool = False) -> None:
        self.data_version += 1
        if classes_changed and self.model is not None:
            self.model = self.opt = self.trainer = None
            self.model_version += 1
            self.hist_reset = True
            self.hist_pending = []
            self.playing = False
            self.notice("The classes changed: press Train to train a model for them.", "info")

    def add_class(self, name: str | None = None) -> None:
        """Add an empty class (``name`` defaults to 'Class N'); the model must be trained again."""
        if len(self.names) >= MAX_CLASSES:
            raise SessionError(f"there can be at most {MAX_CLASSES} classes")
        self.names.append(name or f"Class {len(self.names) + 1}")
        self.examples.append([])
        self._data_changed(classes_changed=True)

    def remove_class(self, index: int) -> None:
        """Delete a class and its examples; the model must be trained again."""
        self._class(index)
        if len(self.names) <= MIN_CLASSES:
            raise SessionError(f"there must be at least {MIN_CLASSES} classes")
        for example_id, _ in self.examples[index]:
            self._unsent.pop(example_id, None)
        del self.names[index], self.examples[index]
        self._data_changed(classes_changed=True)

    def rename_class(self, index: int, name: str) -> None:
        """Give a class a new name (the model is kept)."""
        self.names[self._class(index)] = name
        self._data_changed()

    def clear_class(self, index: int) -> None:
        """Delete every example of a class."""
        for example_id, _ in self.examples[self._class(index)]:
            self._unsent.pop(example_id, None)
        self.examples[index] = []
        self._data_changed()

    def add_examples(self, index: int, images: list[np.ndarray]) -> list[int]:
        """Add grayscale images (resized to SIZE × SIZE) to a class; returns their ids."""
        have = len(self.examples[self._class(index)])
        if have + len(images) > MAX_EXAMPLES:
            raise SessionError(
                f"class '{self.names[index]}' has {have} examples; {len(images)} more would pass "
                f"the limit of {MAX_EXAMPLES}"
            )
        ids = []
        for image in images:
            small = resize(image)
            self.examples[index].append((self._next_id, small))
            self._unsent[self._next_id] = small
            ids.append(self._next_id)
            self._next_id += 1
        self._data_changed()
        return ids

    def remove_example(self, example_id: int) -> None:
        """Delete the example with this id."""
        for examples in self.examples:
            for i, (found, _) in enumerate(examples):
                if found == example_id:
                    del examples[i]
                    self._unsent.pop(example_id, None)
                    self._data_changed()
                    return
        raise SessionError(f"there is no example with id {example_id}")

    def data_payload(self) -> dict[str, Any]:
        """The class names, the example ids per class, and the images not sent before (base64).

        Each image goes to the page once: the server calls this whenever ``data_version`` moved.
        """
        images = {str(i): b64(image) for i, image in self._unsent.items()}
        self._unsent = {}
        ids = [[i for i, _ in examples] for examples in self.examples]
        return {"names": list(self.names), "ids": ids, "images": images, "size": SIZE}

    def _split(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Inputs (N, 1, SIZE, SIZE) in [0, 1] and labels for 'train' and 'test'.

        Each class holds out a fixed interleaving of its examples (``testPercent``): adding an
        example never moves another from one part to the other.
        """
        key = (self.data_version, self.config["testPercent"])
        if self._split_cache is None or self._split_cache[0] != key:
            parts: dict[str, tuple[list, list]] = {"train": ([], []), "test": ([], [])}
            for label, examples in enumerate(self.examples):
                held_out = train_mask(len(examples), self.config["testPercent"] / 100)
                for (_, image), test in zip(examples, held_out):
                    images, labels = parts["test" if test else "train"]
                    images.append(image)
                    labels.append(label)
            split = {}
            for part, (images, labels) in parts.items():
                x = np.zeros((len(images), 1, SIZE, SIZE), dtype=np.float32)
                if images:
                    x[:, 0] = np.stack(images).astype(np.float32) / 255
                split[part] = (x, np.asarray(labels, dtype=np.int64))
            self._split_cache = (key, split)
        return self._split_cache[1]

    # --------------------------------------------------------------------- settings
    def configure(self, changes: dict[str, Any]) -> None:
        """Apply validated settings; a new learning rate applies to the running training."""
        changed = {k: v for k, v in changes.items() if self.config[k] != v}
        if not changed:
            return
        self.config.update(changed)
        self.config_version += 1
        if "learningRate" in changed and self.opt is not None:
            for group in self.opt.param_groups:
                group["lr"] = self.config["learningRate"]

    # --------------------------------------------------------------------- training
    def train(self) -> None:
        """Fresh weights and optimizer, epoch 0, then train ``epochs`` epochs (``playing``)."""
        empty = [name for name, examples in zip(self.names, self.examples) if not examples]
        if empty:
            raise SessionError(
                f"class{'es' if len(empty) > 1 else ''} {', '.join(map(repr, empty))} "
                f"{'have' if len(empty) > 1 else 'has'} no examples: add some, or remove "
                f"{'them' if len(empty) > 1 else 'it'}, before training"
            )
        with nl_random.use_generator(self.rng):
            self.model = build_model(len(self.names))
        self.opt = optim.Adam(self.model.parameters(), lr=self.config["learningRate"])
        self.trainer = Trainer(
            self.model, F.cross_entropy, self.opt, metrics=(), verbose=0, name="teachable"
        )
        self.model_version += 1
        self.epoch = self.updates = 0
        self._order = np.zeros(0, dtype=np.int64)
        self._pos = 0
        self.hist_pending = []
        self.hist_reset = True
        self.playing = True

    def _begin_epoch(self) -> bool:
        """Take the current training examples in a new random order; False when there are none."""
        self._epoch_data = self._split()["train"]
        self._order = self.rng.permutation(len(self._epoch_data[1]))
        self._pos = 0
        return len(self._order) > 0

    def _shifted(self, batch: np.ndarray) -> np.ndarray:
        """Each image moved by up to SHIFT pixels in x and y (edges repeated)."""
        pad = ((0, 0), (0, 0), (SHIFT, SHIFT), (SHIFT, SHIFT))
        padded = np.pad(batch, pad, mode="edge")
        dy, dx = self.rng.integers(0, 2 * SHIFT + 1, size=(2, len(batch)))
        return np.stack([p[:, y : y + SIZE, x : x + SIZE] for p, y, x in zip(padded, dy, dx)])

    def _update(self) -> None:
        """One Adam step on the next mini-batch; at the end of the order, the end of an epoch."""
        if self._pos >= len(self._order) and not self._begin_epoch():
            self.playing = False
            self.notice("There are no training examples: add some, then Train.")
            return
        assert self.model is not None and self.trainer is not None and self._epoch_data is not None
        idx = self._order[self._pos : self._pos + self.config["batchSize"]]
        images, labels = self._epoch_data
        x = self._shifted(images[idx]) if self.config["augment"] else images[idx]
        with nl_random.use_generator(self.rng), train_mode(self.model):
            try:
                self.trainer.step((constant(x), constant(labels[idx])))
            except TrainingDiverged as d:
                self.playing = False
                self.notice(
                    f"Training diverged in epoch {self.epoch + 1} ({d.what}): lower the learning "
                    "rate, then Train again."
                )
                return
        self._pos += len(idx)
        self.updates += 1
        if self._pos >= len(self._order):
            self.epoch += 1
            self._end_epoch()

    def _end_epoch(self) -> None:
        """Record the epoch's metrics; stop at ``epochs``."""
        m = self.metrics()
        assert m is not None
        train, test = m["train"], m["test"]
        self.hist_pending.append(
            [self.epoch, train["loss"], train["acc"], test["loss"], test["acc"]]
        )
        if self.epoch >= self.config["epochs"]:
            self.playing = False
            if train["confusion"] is not None:
                right, total = int(np.trace(train["confusion"])), len(self._split()["train"][1])
                self.notice(
                    f"Trained {self.epoch} epochs: {right} of {total} training examples right.",
                    "info",
                )

    def run_for(self, seconds: float, elapsed: float = 0.0) -> None:
        """Train while playing for up to ``seconds`` of wall time.

        ``elapsed`` (the time since the previous call) is part of the server's interface; this
        session trains as fast as the slices allow, without a speed cap.
        """
        end = time.perf_counter() + seconds
        while self.playing and self.model is not None and time.perf_counter() < end:
            self._update()

    # --------------------------------------------------------------------- evaluation
    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Logits and the first layer's feature maps (after ReLU), in eval mode, in chunks."""
        assert self.model is not None
        logits, maps = [], []
        with eval_mode(self.model):
            for start in range(0, len(x), EVAL_CHUNK):
                h = constant(x[start : start + EVAL_CHUNK])
                for i, layer in enumerate(self.model):
                    h = layer(h)
                    if i == 1:
                        maps.append(h.numpy())
                logits.append(h.numpy())
        return np.concatenate(logits), np.concatenate(maps)

    def _evaluate(self, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        """Mean loss, accuracy, confusion matrix (true × predicted) and accuracy per class."""
        k = len(self.names)
        if len(y) == 0:
            return {"loss": None, "acc": None, "confusion": None, "perClass": [None] * k}
        logits, _ = self._forward(x)
        loss = F.cross_entropy(constant(logits), constant(y)).item()
        confusion = np.zeros((k, k), dtype=np.int64)
        np.add.at(confusion, (y, logits.argmax(axis=1)), 1)
        totals = confusion.sum(axis=1)
        return {
            "loss": loss if math.isfinite(loss) else None,
            "acc": float(np.trace(confusion) / len(y)),
            "confusion": confusion.tolist(),
            "perClass": [
                float(confusion[c, c] / totals[c]) if totals[c] else None for c in range(k)
            ],
        }

    def metrics(self) -> dict[str, Any] | None:
        """'train' and 'test' metrics of the current model (None before training).

        Recomputed at each epoch's end and when the examples change, not after every step.
        """
        if self.model is None:
            return None
        key = (self.model_version, self.epoch, self.data_version, self.config["testPercent"])
        if self._metrics_cache is None or self._metrics_cache[0] != key:
            split = self._split()
            result = {part: self._evaluate(*split[part]) for part in ("train", "test")}
            self._metrics_cache = (key, result)
        return self._metrics_cache[1]

    def set_probe(self, image: np.ndarray | None) -> None:
        """The image to classify in every snapshot (None: none)."""
        self.probe = None if image is None else to_input(image)
        self._probe_version += 1

    def predict(self, image: np.ndarray) -> np.ndarray:
        """Class probabilities for one grayscale image (any size, 0 to 255)."""
        if self.model is None:
            raise SessionError("there is no trained model yet: press Train")
        logits, _ = self._forward(to_input(image))
        return F.softmax(constant(logits), 1).numpy()[0]

    def prediction(self) -> dict[str, Any] | None:
        """The probe's class probabilities and first-layer feature maps (bytes, each map scaled
        to its maximum), or None without a probe or a model."""
        if self.model is None or self.probe is None:
            return None
        key = (self._probe_version, self.model_version, self.updates)
        if self._prediction_cache is None or self._prediction_cache[0] != key:
            logits, maps = self._forward(self.probe)
            probs = F.softmax(constant(logits), 1).numpy()[0]
            peak = maps[0].max(axis=(1, 2), keepdims=True)
            scaled = np.where(peak > 0, maps[0] / np.where(peak > 0, peak, 1), 0)
            result = {
                "probs": json_numbers(probs),
                "maps": b64(np.rint(scaled * 255)),
                "mapSize": SIZE,
            }
            self._prediction_cache = (key, result)
        return self._prediction_cache[1]

    # --------------------------------------------------------------------- snapshots and export
    def snapshot(self) -> dict[str, Any]:
        """What the page draws: progress, metrics, new epoch records, filters and the prediction."""
        filters = None
        if self.model is not None:
            filters = json_numbers(self.model[0].weight.numpy()[:, 0])
        snap = {
            "type": "snap",
            "epoch": self.epoch,
            "epochs": self.config["epochs"],
            "updates": self.updates,
            "playing": self.playing,
            "trained": self.model is not None,
            "counts": [len(examples) for examples in self.examples],
            "metrics": self.metrics(),
            "filters": filters,
            "prediction": self.prediction(),
            "hist": self.hist_pending,
            "histReset": self.hist_reset,
            "configVersion": self.config_version,
            "dataVersion": self.data_version,
        }
        self.hist_pending = []
        self.hist_reset = False
        return snap

    def export_onnx(self) -> bytes:
        """The model as ONNX bytes: input ``image`` (batch, 1, SIZE, SIZE) in [0, 1] (white ink
        on black, as :func:`to_input` makes it), output ``logits`` (batch, classes)."""
        import io

        if self.model is None:
            raise SessionError("there is no trained model yet: press Train first")
        try:
            from neuralab import onnx as nx
        except ImportError:
            raise SessionError("ONNX export needs: pip install 'neuralab[onnx]'") from None
        buffer = io.BytesIO()
        nx.export(
            self.model, (nl.zeros(1, 1, SIZE, SIZE),), buffer, input_names=["image"],
            output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
        )  # fmt: skip
        return buffer.getvalue()

    def export(self) -> bytes:
        """The model file's bytes: ``nl.save`` of a checkpoint dict (see docs).

        ``model`` (the ``nn.Sequential``; input (N, 1, SIZE, SIZE) in [0, 1], output logits),
        ``classes`` (the names, in output order), ``input`` (size, channels, scale), ``epoch``
        and ``settings``.
        """
        if self.model is None:
            raise SessionError("there is no trained model yet: press Train first")
        checkpoint = {
            "model": self.model,
            "classes": list(self.names),
            "input": {"size": SIZE, "channels": 1, "scale": 255.0},
            "epoch": self.epoch,
            "settings": dict(self.config),
        }
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, MODEL_NAME)
            nl.save(checkpoint, path)
            with open(path, "rb") as f:
                return f.read()


# ------------------------------------------------------------------------- protocol
_B64_LIMIT = 4 * ((MAX_SIDE * MAX_SIDE + 2) // 3)  # base64 characters of the largest image


def _size(msg: dict) -> tuple[int, int]:
    return (
        _number(msg, "width", MIN_SIDE, MAX_SIDE, integer=True),
        _number(msg, "height", MIN_SIDE, MAX_SIDE, integer=True),
    )


def _pixels(cmd: str, text: Any, width: int, height: int, what: str) -> np.ndarray:
    """A base64 image of width × height bytes as a (height, width) uint8 array."""
    if not isinstance(text, str) or len(text) > _B64_LIMIT:
        raise ProtocolError(
            f"{cmd}: {what} must be base64 text of at most {_B64_LIMIT} characters", cmd
        )
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(f"{cmd}: {what} is not valid base64", cmd) from None
    if len(raw) != width * height:
        raise ProtocolError(
            f"{cmd}: {what} has {len(raw)} bytes, expected {width}×{height} = {width * height}",
            cmd,
        )
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width)


def _name(msg: dict) -> str | None:
    name = msg.get("name")
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        raise ProtocolError(
            f"{msg['cmd']}: 'name' must be text of 1 to {MAX_NAME} characters, got {name!r}",
            msg["cmd"],
        )
    if not name.isprintable():
        raise ProtocolError(f"{msg['cmd']}: 'name' has control characters: {name!r}", msg["cmd"])
    return name.strip()


def _classes(msg: dict) -> dict:
    op = msg.get("op")
    needs = {"add": {"op", "name"}, "remove": {"op", "class"}, "rename": {"op", "class", "name"}}
    needs["clear"] = needs["remove"]
    if not isinstance(op, str) or op not in needs:
        raise ProtocolError(
            f"classes: 'op' must be add, remove, rename or clear, got {op!r}", "classes"
        )
    _fields(msg, needs[op])
    out: dict[str, Any] = {"cmd": "classes", "op": op}
    if "class" in needs[op]:
        out["class"] = _number(msg, "class", 0, MAX_CLASSES - 1, integer=True)
    if "name" in needs[op]:
        out["name"] = _name(msg)
        if op == "rename" and out["name"] is None:
            raise ProtocolError("classes: rename needs a 'name'", "classes")
    return out


def _add(msg: dict) -> dict:
    _fields(msg, {"class", "images", "width", "height"})
    index = _number(msg, "class", 0, MAX_CLASSES - 1, integer=True)
    width, height = _size(msg)
    images = msg.get("images")
    if not isinstance(images, list) or not 1 <= len(images) <= MAX_EXAMPLES:
        raise ProtocolError(f"add: 'images' must be a list of 1 to {MAX_EXAMPLES} images", "add")
    pixels = [_pixels("add", t, width, height, f"image {i}") for i, t in enumerate(images)]
    return {"cmd": "add", "class": index, "images": pixels}


def _remove(msg: dict) -> dict:
    _fields(msg, {"id"})
    return {"cmd": "remove", "id": _number(msg, "id", 0, 2**53, integer=True)}


def _settings(msg: dict) -> dict:
    _fields(msg, {"settings"})
    values = msg.get("settings")
    if not isinstance(values, dict):
        raise ProtocolError(f"settings: expected an object of settings, got {values!r}", "settings")
    out = {}
    for key, value in values.items():
        setting = SETTINGS.get(key)
        if setting is None:
            known = ", ".join(SETTINGS)
            raise ProtocolError(f"settings: unknown setting {key!r} (known: {known})", "settings")
        if isinstance(setting.default, bool):
            if not isinstance(value, bool):
                raise ProtocolError(
                    f"settings: {key!r} must be true or false, got {value!r}", "settings"
                )
            out[key] = value
        else:
            integer = isinstance(setting.default, int)
            out[key] = _number(
                {"cmd": "settings", key: value}, key, setting.lo, setting.hi, integer
            )
    return {"cmd": "settings", "settings": out}


def _export(msg: dict) -> dict:
    """``format`` 'neuralab' (default) or 'onnx'; ``inPage`` asks for a file the page runs
    itself (ONNX Runtime Web) instead of downloading it."""
    _fields(msg, {"format", "inPage"})
    fmt, in_page = msg.get("format", "neuralab"), msg.get("inPage", False)
    if fmt not in FORMATS:
        raise ProtocolError(f"export: 'format' must be one of {FORMATS}, got {fmt!r}", "export")
    if not isinstance(in_page, bool):
        raise ProtocolError(f"export: 'inPage' must be true or false, got {in_page!r}", "export")
    return {"cmd": "export", "format": fmt, "inPage": in_page}


def _predict(msg: dict) -> dict:
    if msg.get("image") is None:
        _fields(msg, {"image"})
        return {"cmd": "predict", "image": None}
    _fields(msg, {"image", "width", "height"})
    width, height = _size(msg)
    return {"cmd": "predict", "image": _pixels("predict", msg["image"], width, height, "image")}


COMMANDS = {
    "classes": _classes,
    "add": _add,
    "remove": _remove,
    "settings": _settings,
    "train": _bare,
    "stop": _bare,
    "predict": _predict,
    "export": _export,
    "snapshot": _bare,
    "ack": _ack,
}


def parse(frame: str | bytes | None) -> dict[str, Any]:
    """One client frame as a checked Teachable Machine command, or a ProtocolError."""
    return parse_frame(frame, COMMANDS)


def apply(session: TeachableSession, cmd: dict[str, Any]) -> dict[str, Any] | None:
    """Run one checked command; return a reply frame (the exported file) or None."""
    name = cmd["cmd"]
    try:
        if name == "classes":
            op = cmd["op"]
            if op == "add":
                session.add_class(cmd["name"])
            elif op == "remove":
                session.remove_class(cmd["class"])
            elif op == "rename":
                session.rename_class(cmd["class"], cmd["name"])
            else:
                session.clear_class(cmd["class"])
        elif name == "add":
            session.add_examples(cmd["class"], cmd["images"])
        elif name == "remove":
            session.remove_example(cmd["id"])
        elif name == "settings":
            session.configure(cmd["settings"])
        elif name == "train":
            session.train()
        elif name == "stop":
            session.playing = False
        elif name == "predict":
            session.set_probe(cmd["image"])
        elif name == "export":
            onnx = cmd["format"] == "onnx"
            content = session.export_onnx() if onnx else session.export()
            return file_frame(
                ONNX_NAME if onnx else MODEL_NAME, "application/octet-stream", content,
                inPage=cmd["inPage"],
            )  # fmt: skip
    except SessionError as e:
        raise ProtocolError(f"{name}: {e}", name) from None
    return None


def hello(max_sessions: int) -> dict[str, Any]:
    """The first frame: the settings' defaults and ranges and the limits."""
    settings = {
        key: {"default": s.default, "lo": s.lo, "hi": s.hi, "help": s.help}
        for key, s in SETTINGS.items()
    }
    limits = {
        "maxSessions": max_sessions,
        "minClasses": MIN_CLASSES,
        "maxClasses": MAX_CLASSES,
        "maxExamples": MAX_EXAMPLES,
        "size": SIZE,
        "maxSide": MAX_SIDE,
        "maxName": MAX_NAME,
    }
    onnx = importlib.util.find_spec("onnx") is not None  # the page runs the model itself
    return {"type": "hello", "settings": settings, "limits": limits, "onnx": onnx}
