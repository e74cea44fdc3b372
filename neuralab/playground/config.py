"""The playground's settings: every field, its URL key, default, range, and what changing it does.

The page keeps the whole configuration in ``location.hash`` under these keys (the TensorFlow
Playground's names where it has the control, so its links mostly work here), and sends changes
to the server as ``{"cmd": "config", "config": {key: value, ...}}``. :func:`validate` checks
every value against :data:`FIELDS` and raises :class:`ConfigError` naming the key, the value and
the accepted range; :func:`check_consistent` checks the combinations (a loss must suit the
problem type).

What a change does (``Field.effect``):

- ``"data"``: regenerate the data and rebuild the network (TF: the same);
- ``"model"``: rebuild the network with fresh weights from ``initSeed``;
- ``"live"``: applied to the running training, weights kept (TF resets on batch size and
  regularization; we do not, and the learning rate applies live as in TF).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# Caps that keep one session small (documented in docs/playground.md).
MAX_LAYERS = 8  # hidden layers (TF: 6)
MAX_NEURONS = 16  # neurons per hidden layer (TF: 8)
MAX_BATCH = 1000
MAX_POINTS = 2000  # user points per session (clicked or uploaded)
MAX_CLASSES = 6
MAX_SEED = 2**31 - 1

FEATURES = ("x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY")
"""The input features in network order, by URL key: X1, X2, X1², X2², X1X2, sin X1, sin X2."""

PROBLEMS = ("classification", "regression", "multiclass")
CLASSIFICATION_DATASETS = ("circle", "xor", "gauss", "spiral", "moons", "custom")
REGRESSION_DATASETS = ("reg-plane", "reg-gauss", "custom")
MULTICLASS_DATASETS = ("blobs", "checker", "custom")
LOSSES = ("squared", "hinge", "logistic", "cross_entropy", "perceptron")
MARGIN_LOSSES = ("hinge", "logistic", "perceptron")


class ConfigError(ValueError):
    """A setting the playground cannot use; ``field`` names its key."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Field:
    """One setting: its kind (``choice``, ``int``, ``float``, ``bool``, ``shape``) and bounds."""

    kind: str
    default: Any
    effect: str
    choices: tuple[str, ...] = ()
    lo: float = 0
    hi: float = 0

    def check(self, key: str, value: Any) -> Any:
        """The value normalised to this field's type, or a ConfigError saying what is wrong."""
        if self.kind == "choice":
            if value not in self.choices:
                raise ConfigError(key, f"{value!r} is not one of {', '.join(self.choices)}")
            return value
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ConfigError(key, f"expected true or false, got {value!r}")
            return value
        if self.kind == "shape":
            return _check_shape(key, value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(key, f"expected a number, got {value!r}")
        if not (math.isfinite(value) and self.lo <= value <= self.hi):
            raise ConfigError(key, f"{value!r} is out of range [{self.lo:g}, {self.hi:g}]")
        if self.kind == "int" and value != int(value):
            raise ConfigError(key, f"expected a whole number, got {value!r}")
        return int(value) if self.kind == "int" else float(value)


def _check_shape(key: str, value: Any) -> list[int]:
    if not isinstance(value, list) or len(value) > MAX_LAYERS:
        raise ConfigError(
            key, f"expected a list of at most {MAX_LAYERS} layer sizes, got {value!r}"
        )
    for n in value:
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_NEURONS:
            raise ConfigError(
                key, f"each hidden layer needs 1 to {MAX_NEURONS} neurons, got {value!r}"
            )
    return list(value)


def _choice(default: str, choices: tuple[str, ...], effect: str) -> Field:
    return Field("choice", default, effect, choices)


FIELDS: dict[str, Field] = {
    # data
    "problem": _choice("classification", PROBLEMS, "data"),
    "dataset": _choice("circle", CLASSIFICATION_DATASETS, "data"),
    "regDataset": _choice("reg-plane", REGRESSION_DATASETS, "data"),
    "mcDataset": _choice("blobs", MULTICLASS_DATASETS, "data"),
    "classes": Field("int", 3, "data", lo=3, hi=MAX_CLASSES),
    "noise": Field("int", 0, "data", lo=0, hi=80),
    "percTrainData": Field("int", 50, "data", lo=10, hi=90),
    "seed": Field("int", 1, "data", lo=0, hi=MAX_SEED),
    # network
    **{key: Field("bool", key in ("x", "y"), "model") for key in FEATURES},
    "networkShape": Field("shape", [4, 2], "model"),
    "activation": _choice("tanh", ("tanh", "relu", "sigmoid", "linear", "leakyrelu"), "model"),
    "loss": _choice("squared", LOSSES, "model"),
    "output": _choice("auto", ("auto", "tanh", "linear", "sigmoid"), "model"),
    "initZero": Field("bool", False, "model"),
    "initSeed": Field("int", 1, "model", lo=0, hi=MAX_SEED),
    # training, applied live
    "learningRate": Field("float", 0.03, "live", lo=0, hi=100),
    "batchSize": Field("int", 10, "live", lo=1, hi=MAX_BATCH),
    "regularization": _choice("none", ("none", "L1", "L2"), "live"),
    "regularizationRate": Field("float", 0.0, "live", lo=0, hi=10),
    "optimizer": _choice("sgd", ("sgd", "momentum", "adam", "rmsprop"), "live"),
    "momentum": Field("float", 0.9, "live", lo=0, hi=0.999),
    "dropout": Field("float", 0.0, "live", lo=0, hi=0.9),
    "lrSchedule": _choice("none", ("none", "step", "exp", "cosine"), "live"),
    "lrDecay": Field("float", 0.5, "live", lo=0.001, hi=1),
    "lrEvery": Field("int", 100, "live", lo=1, hi=1_000_000),
    "stopLoss": Field("float", 0.0, "live", lo=0, hi=100),
    "stopEpoch": Field("int", 0, "live", lo=0, hi=10_000_000),
    "speed": Field("float", 60.0, "live", lo=0, hi=10_000),
}
"""Every server-side setting by URL key. ``speed`` is epochs per second while playing (0: as
fast as the machine allows); ``stopLoss``/``stopEpoch`` 0 means off."""

DEFAULTS: dict[str, Any] = {key: f.default for key, f in FIELDS.items()}


def validate(partial: Any) -> dict[str, Any]:
    """Check a dict of settings key by key; return it normalised (ints, floats, lists)."""
    if not isinstance(partial, dict):
        raise ConfigError("config", f"expected an object of settings, got {type(partial).__name__}")
    out = {}
    for key, value in partial.items():
        field = FIELDS.get(key)
        if field is None:
            raise ConfigError(key, f"unknown setting (known: {', '.join(FIELDS)})")
        out[key] = field.check(key, value)
    return out


def dataset_key(config: dict[str, Any]) -> str:
    """The URL key that holds the dataset of the configuration's problem type."""
    return {"classification": "dataset", "regression": "regDataset", "multiclass": "mcDataset"}[
        config["problem"]
    ]


def num_classes(config: dict[str, Any]) -> int:
    """How many classes the problem has (1 for regression: one real-valued output)."""
    return {"classification": 2, "regression": 1, "multiclass": config["classes"]}[
        config["problem"]
    ]


def loss_name(config: dict[str, Any]) -> str:
    """The loss's name in ``neuralab.nn.registry.LOSSES``: multiclass problems use the softmax
    cross-entropy; the URL's two-class 'cross_entropy' is the binary one (on a sigmoid)."""
    if config["problem"] == "multiclass":
        return "cross_entropy"
    return "binary_cross_entropy" if config["loss"] == "cross_entropy" else config["loss"]


def output_activation(config: dict[str, Any]) -> str:
    """The output unit: 'tanh', 'sigmoid', 'linear' (a score) or 'softmax'.

    Squared error uses ``output`` ('auto': tanh for classification as in TF, linear for
    regression); cross-entropy uses a sigmoid (two classes) or a softmax; the margin losses
    (hinge, logistic, soft perceptron) act on a linear score.
    """
    loss = config["loss"]
    if loss == "cross_entropy":
        return "softmax" if config["problem"] == "multiclass" else "sigmoid"
    if loss in MARGIN_LOSSES:
        return "linear"
    if config["output"] == "auto":
        return "linear" if config["problem"] == "regression" else "tanh"
    return config["output"]


def check_consistent(config: dict[str, Any]) -> None:
    """Raise ConfigError when the loss does not suit the problem type, or no input is on."""
    if not any(config[k] for k in FEATURES):
        raise ConfigError("x", "select at least one input feature")
    problem, loss = config["problem"], config["loss"]
    if problem == "multiclass" and loss != "cross_entropy":
        raise ConfigError(
            "loss", f"{loss!r} needs two classes; multiclass data uses cross_entropy (softmax)"
        )
    if problem == "regression" and loss != "squared":
        raise ConfigError(
            "loss", f"{loss!r} needs class labels; the regression problem uses squared error"
        )
