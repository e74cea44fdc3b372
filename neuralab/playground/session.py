"""One browser tab's playground: its data, network, optimizer, training loop and snapshots.

Everything here is synchronous and single-threaded; :mod:`neuralab.playground.server` calls it
from the event loop in short slices. Training is neuralab's: an ``nn.Sequential`` of ``Linear``
layers and activation modules, a loss from ``neuralab.nn.functional``, an optimizer (and an
optional ``LambdaLR`` schedule) from ``neuralab.optim`` and the ``optim.L1``/``optim.L2``
penalties, exactly as the exported script writes it.

TensorFlow Playground semantics are the defaults: weights U(-0.5, 0.5), biases 0.1 (``initZero``:
all 0), loss ½(o - t)², tanh output for classification and a linear one for regression, and an
epoch that walks the training points in a fixed order with an update every ``batchSize``
points, a batch that runs past the end wrapping round to the start (TF's carry-over). Deviations
are listed in docs/playground.md.
"""

from __future__ import annotations

import base64
import contextlib
import math
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import neuralab as nl
import neuralab.nn.functional as F
import neuralab.random as nl_random
from neuralab import nn, optim
from neuralab.models.mlp import mlp_layers
from neuralab.nn.registry import ACTIVATIONS, LOSSES
from neuralab.nn.utils import train_mode
from neuralab.optim.lr_scheduler import LambdaLR
from neuralab.optim.registry import OPTIMIZERS, SCHEDULES
from neuralab.playground import config as cfg
from neuralab.playground.data import (
    EXTENT,
    Split,
    coordinate_error,
    features,
    label_error,
    split_generated,
    split_points,
)
from neuralab.tensor import Tensor, constant
from neuralab.train import Trainer, TrainingDiverged

GRID = 100  # the output heatmap is GRID × GRID over [-6, 6]² (TF's density)
THUMB = 20  # neuron thumbnails are pooled to THUMB × THUMB
DIVERGED = 1e6  # a mini-batch loss this many times the first one's (or not finite) pauses training
BURST = 0.25  # seconds of training a paused-then-resumed or slow frame may catch up
MAX_PENDING = 10_000  # epoch records kept for the page between two snapshots


def lr_factor(schedule: str, decay: float, every: int, epoch: int) -> float:
    """The schedule's multiplier of the base learning rate at ``epoch`` (see ``SCHEDULES``)."""
    return SCHEDULES.get(schedule).factor(epoch, decay, every)


def quantize(values: np.ndarray) -> np.ndarray:
    """Values clamped to [-1, 1] as uint8 0..255 (NaN becomes the middle grey)."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0)
    return np.rint((np.clip(v, -1, 1) + 1) * 127.5).astype(np.uint8)


def b64(arr: np.ndarray) -> str:
    """A uint8 array's bytes as base64 text."""
    return base64.b64encode(np.ascontiguousarray(arr, dtype=np.uint8).tobytes()).decode("ascii")


def json_numbers(values: Any, digits: int = 4) -> Any:
    """A float array (any shape) as nested lists rounded to ``digits`` significant digits.

    Non-finite values become None, since JSON has no NaN or infinity.
    """
    a = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(a)
    magnitude = np.where(finite & (a != 0), np.abs(a), 1.0)
    scale = 10.0 ** (digits - 1 - np.floor(np.log10(magnitude)))
    rounded = np.where(finite, np.round(np.where(finite, a, 0) * scale) / scale, 0.0)
    out = rounded.tolist()
    if finite.all():
        return out
    return _none_where(out, finite.tolist())


def _none_where(values: Any, finite: Any) -> Any:
    if isinstance(values, list):
        return [_none_where(v, f) for v, f in zip(values, finite)]
    return values if finite else None


def _number(value: float) -> float | None:
    """A float for JSON: None when not finite."""
    return float(value) if math.isfinite(value) else None


def _grid_points() -> np.ndarray:
    """The heatmap's GRID² points, row by row from the top (y = 6) to the bottom (y = -6)."""
    axis = np.linspace(-EXTENT, EXTENT, GRID)
    x, y = np.meshgrid(axis, axis[::-1])
    return np.stack([x.ravel(), y.ravel()], axis=1).astype(np.float32)


GRID_POINTS = _grid_points()


def descend_parabola(x0: float, lr: float, steps: int) -> dict[str, Any]:
    """Gradient descent on f(x) = x² with neuralab's autograd: x ← x - lr·f'(x).

    Returns the iterates and their f values (stopping early once |x| passes 1e6) and a verdict:
    'converges' (0 < lr < 0.5), 'jumps to the minimum' (0.5), 'oscillates and converges'
    (0.5 < lr < 1), 'bounces' (1), 'diverges' (lr > 1), 'stays' (0).
    """
    x = nl.tensor(x0, dtype=nl.float64, requires_grad=True)
    xs = [x0]
    for _ in range(steps):
        loss = x**2
        loss.backward()
        with nl.no_grad():
            x -= lr * x.grad
        x.grad = None
        xs.append(x.item())
        if abs(xs[-1]) > 1e6:
            break
    if lr == 0:
        verdict = "stays"
    elif lr < 0.5:
        verdict = "converges"
    elif lr == 0.5:
        verdict = "jumps to the minimum"
    elif lr < 1:
        verdict = "oscillates and converges"
    elif lr == 1:
        verdict = "bounces"
    else:
        verdict = "diverges"
    return {
        "type": "gd",
        "x0": x0,
        "lr": lr,
        "xs": [_number(v) for v in xs],
        "fs": [_number(v * v) for v in xs],
        "factor": 1 - 2 * lr,
        "verdict": verdict,
    }


class SessionError(ValueError):
    """A command that cannot apply to the session's current state (sent back as an error)."""


class Session:
    """The playground state of one tab: configuration, data, network and training counters."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config: dict[str, Any] = {k: v for k, v in cfg.DEFAULTS.items()}
        self.config["networkShape"] = list(cfg.DEFAULTS["networkShape"])
        self.custom = np.zeros((0, 3), dtype=np.float32)  # the user's points (x1, x2, label)
        self.playing = False
        self.focus: str | None = None
        self.notices: list[dict[str, Any]] = []
        self.config_version = 0
        self.data_version = 0
        self._credit = 0.0
        self.epoch = 0
        self._trainer_cache: Trainer | None = None
        self._load_data()
        self._build_model()
        if config:
            self.configure(cfg.validate(config))

    # --------------------------------------------------------------------- randomness
    @contextlib.contextmanager
    def _own_random(self) -> Iterator[None]:
        """Make this session's generator neuralab's global one while it initialises or trains.

        Dropout masks and initial weights come from ``neuralab.random``'s global generator; a
        session swaps its own in, so tabs do not disturb each other and the exported script
        (which calls ``nl.manual_seed(initSeed)``) draws the same numbers.
        """
        with nl_random.use_generator(self.rng):
            yield

    # --------------------------------------------------------------------- data
    def _load_data(self) -> None:
        """Build the split for the current configuration and the tensors training reads."""
        c = self.config
        if c[cfg.dataset_key(c)] == "custom":
            split = split_points(self.custom, c["problem"], c["percTrainData"] / 100)
        else:
            split = split_generated(c)
        self.split: Split = split
        self.data_version += 1
        self._prepare_inputs()

    def _prepare_inputs(self) -> None:
        """Feature matrices and target tensors for the current data and feature set."""
        keys = self.feature_keys
        s = self.split
        self.train_inputs = constant(features(s.X_train, keys))
        self.test_inputs = constant(features(s.X_test, keys))
        self.train_targets = constant(self._targets(s.y_train))
        self.test_targets = constant(self._targets(s.y_test))
        self.grid_inputs = constant(features(GRID_POINTS, keys))
        self.seen = self.epoch * len(s.X_train)  # restart the current epoch on the new data

    def _targets(self, y: np.ndarray) -> np.ndarray:
        """Labels as the loss wants them: class indices, {0, 1} for a sigmoid, else ±1 / reals."""
        if self.config["problem"] == "multiclass":
            return y.astype(np.int64)
        t = y.astype(np.float32).reshape(-1, 1)
        return (t + 1) / 2 if cfg.output_activation(self.config) == "sigmoid" else t

    @property
    def feature_keys(self) -> list[str]:
        """The active input features, in network order."""
        return [k for k in cfg.FEATURES if self.config[k]]

    @property
    def n_train(self) -> int:
        return len(self.split.X_train)

    # --------------------------------------------------------------------- network
    @property
    def layer_sizes(self) -> list[int]:
        """Neurons per layer, inputs and outputs included."""
        n_out = cfg.num_classes(self.config) if self.config["problem"] == "multiclass" else 1
        return [len(self.feature_keys), *self.config["networkShape"], n_out]

    def _build_model(self) -> None:
        """Fresh weights from ``initSeed`` (TF's U(-0.5, 0.5) and bias 0.1, or zeros)."""
        sizes = self.layer_sizes
        self.rng = np.random.default_rng(self.config["initSeed"])
        with self._own_random():
            self.linears = [nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])]
            for layer in self.linears:
                if self.config["initZero"]:
                    nn.init.zeros_(layer.weight)
                    nn.init.zeros_(layer.bias)
                else:
                    nn.init.uniform_(layer.weight, -0.5, 0.5)
                    nn.init.constant_(layer.bias, 0.1)
        self._initial = [(m.weight.numpy().copy(), m.bias.numpy().copy()) for m in self.linears]
        self._initial_rng = self.rng.bit_generator.state
        self._assemble()
        self._restart_counters()

    def _assemble(self) -> None:
        """The Sequential around the existing Linear layers (activations, dropout, output)."""
        c = self.config
        self._act = ACTIVATIONS.get(c["activation"]).function  # the URL's 'linear' is identity
        layers = mlp_layers(activation=c["activation"], dropout=c["dropout"], linears=self.linears)
        self.dropouts = [m for m in layers if isinstance(m, nn.Dropout)]
        out = cfg.output_activation(c)
        self._logits = c["loss"] == "cross_entropy"  # the network's output is a logit
        if not self._logits and out in ("tanh", "sigmoid"):
            layers.append(nn.Tanh() if out == "tanh" else nn.Sigmoid())
        self.model = nn.Sequential(*layers)
        self.dropped = [np.zeros(0, dtype=bool)] * len(self.dropouts)
        for i, d in enumerate(self.dropouts):
            d.register_forward_hook(self._dropout_hook(i))
        self.loss_fn = LOSSES.get(cfg.loss_name(c)).function

    def _dropout_hook(self, index: int) -> Callable:
        """Record which units of hidden layer ``index`` the first example of a batch dropped."""

        def hook(module: nn.Module, inputs: tuple, out: Tensor) -> None:
            if module.training:
                self.dropped[index] = (out.numpy()[0] == 0) & (inputs[0].numpy()[0] != 0)

        return hook

    def _restart_counters(self) -> None:
        """Epoch 0, empty history, a new optimizer: the start of a run."""
        self.epoch = 0
        self.updates = 0
        self.seen = 0
        self.hist_pending: list[list[Any]] = []
        self.hist_reset = True
        self._grad_sum = np.zeros(len(self.linears))
        self._grad_count = 0
        self.last_grads = [None] * len(self.linears)
        self._new_optimizer()

    def _new_optimizer(self) -> None:
        """The configured optimizer over all weights and biases, and its schedule."""
        c = self.config
        params = list(self.model.parameters())
        lr = c["learningRate"]
        self.opt = OPTIMIZERS.get(c["optimizer"]).build(params, lr, momentum=c["momentum"])
        self._new_schedule()

    def _new_schedule(self) -> None:
        """A LambdaLR for the schedule, continuing from the current epoch (None: constant)."""
        c = self.config
        self.scheduler = None
        for group in self.opt.param_groups:
            group.pop("initial_lr", None)
            group["lr"] = c["learningRate"]
        if c["lrSchedule"] != "none":
            start = self.epoch
            args = c["lrSchedule"], c["lrDecay"], c["lrEvery"]
            self.scheduler = LambdaLR(self.opt, lambda e: lr_factor(*args, start + e))

    @property
    def penalty(self) -> optim.ElasticNet | None:
        """The regularization penalty: L1 is λ‖w‖₁, L2 is (λ/2)‖w‖₂² as in TF (weights only)."""
        c = self.config
        rate = c["regularizationRate"]
        if c["regularization"] == "none" or rate == 0:
            return None
        return optim.L1(rate) if c["regularization"] == "L1" else optim.L2(rate / 2)

    @property
    def lr(self) -> float:
        """The learning rate in use now (the schedule applied)."""
        return float(self.opt.param_groups[0]["lr"])

    # --------------------------------------------------------------------- configuration
    def configure(self, changes: dict[str, Any]) -> None:
        """Apply validated settings: regenerate, rebuild or change the running training."""
        new = {**self.config, **changes}
        cfg.check_consistent(new)
        changed = {k for k, v in changes.items() if self.config[k] != v}
        if not changed:
            return
        effects = {cfg.FIELDS[k].effect for k in changed}
        self.config = new
        if "problem" in changed:
            self.custom = np.zeros((0, 3), dtype=np.float32)
        if "classes" in changed and len(self.custom):
            self.custom = self.custom[self.custom[:, 2] < new["classes"]]
        if "data" in effects:
            self._load_data()
        elif "model" in effects:
            self._prepare_inputs()
        if effects & {"data", "model"}:
            self._build_model()
            self.playing = False
        else:
            self._apply_live(changed)
        self.config_version += 1

    def _apply_live(self, changed: set[str]) -> None:
        """Settings that keep the weights: learning rate, optimizer, dropout, schedule, ..."""
        c = self.config
        if "dropout" in changed:
            self._assemble()
        if "optimizer" in changed:
            self._new_optimizer()
        elif "momentum" in changed and c["optimizer"] == "momentum":
            for group in self.opt.param_groups:
                group["momentum"] = c["momentum"]
        if changed & {"lrSchedule", "lrDecay", "lrEvery"}:
            self._new_schedule()
        elif "learningRate" in changed:  # the schedule (if any) goes on from the new base
            factor = 1.0
            if self.scheduler is not None:
                self.scheduler.base_lrs = [c["learningRate"]]
                factor = self.scheduler.lr_lambdas[0](self.scheduler.last_epoch)
            for group in self.opt.param_groups:
                group["lr"] = c["learningRate"] * factor

    # --------------------------------------------------------------------- commands
    def reset(self) -> None:
        """New random initial weights (a new ``initSeed``), epoch 0, paused."""
        self.config["initSeed"] = secrets.randbelow(cfg.MAX_SEED)
        self.config_version += 1
        self._build_model()
        self.playing = False

    def restart(self) -> None:
        """Back to the same initial weights and random stream, epoch 0, paused."""
        for layer, (w, b) in zip(self.linears, self._initial):
            layer.weight.data[...] = w
            layer.bias.data[...] = b
        self.rng.bit_generator.state = self._initial_rng
        self._restart_counters()
        self.playing = False

    def regenerate(self) -> None:
        """New data from a new seed; the weights and the epoch count stay (as in TF)."""
        c = self.config
        self.config["seed"] = secrets.randbelow(cfg.MAX_SEED)
        self.config_version += 1
        if c[cfg.dataset_key(c)] != "custom":
            self._load_data()

    def edit_weight(self, layer: int, to: int, source: int | None, value: float) -> None:
        """Set one weight (``source`` is the neuron it comes from) or a bias (source None)."""
        if layer >= len(self.linears):
            raise SessionError(f"layer {layer} does not exist (0..{len(self.linears) - 1})")
        lin = self.linears[layer]
        n_out, n_in = lin.weight.shape
        if to >= n_out or (source is not None and source >= n_in):
            what = "bias" if source is None else f"weight from {source}"
            raise SessionError(
                f"layer {layer} has weights of shape {n_out}×{n_in}; no {what} to {to}"
            )
        if source is None:
            lin.bias.data[to] = value
        else:
            lin.weight.data[to, source] = value

    def set_focus(self, node: str | None) -> None:
        """Ask for the full-resolution map of a hidden ('h<layer>_<i>') or output ('o<i>') node."""
        if node is not None and self._node_column(node) is None:
            raise SessionError(f"no node {node!r} in the current network")
        self.focus = node

    # --------------------------------------------------------------------- user points
    def _editable_points(self) -> None:
        """Switch the dataset to 'custom', starting from the points currently shown."""
        c = self.config
        key = cfg.dataset_key(c)
        if c[key] == "custom":
            return
        s = self.split
        X = np.concatenate([s.X_train, s.X_test])
        y = np.concatenate([s.y_train, s.y_test]).astype(np.float32)
        self.custom = np.concatenate([X, y[:, None]], axis=1).astype(np.float32)
        c[key] = "custom"
        self.config_version += 1

    def _check_point(self, x: float, y: float, label: float, where: str = "") -> None:
        """Raise SessionError when (x, y, label) is not a point of this problem."""
        c = self.config
        problem = coordinate_error(x, y) or label_error(label, c["problem"], cfg.num_classes(c))
        if problem:
            raise SessionError(where + problem)

    def edit_points(self, op: str, args: dict[str, Any]) -> None:
        """Add a point, erase the points near one, clear them, or replace them all."""
        if op == "add":
            self._check_point(args["x"], args["y"], args["label"])
            self._editable_points()
            if len(self.custom) >= cfg.MAX_POINTS:
                raise SessionError(f"the limit of {cfg.MAX_POINTS} points is reached")
            point = np.array([[args["x"], args["y"], args["label"]]], dtype=np.float32)
            self.custom = np.concatenate([self.custom, point])
        elif op == "erase":
            self._editable_points()
            d = np.hypot(self.custom[:, 0] - args["x"], self.custom[:, 1] - args["y"])
            self.custom = self.custom[d > args["radius"]]
        elif op == "clear":
            self._editable_points()
            self.custom = self.custom[:0]
        else:  # "set"
            points = np.asarray(args["points"], dtype=np.float64).reshape(-1, 3)
            for i, (x, y, label) in enumerate(points):
                self._check_point(x, y, label, f"point {i}: ")
            self._editable_points()
            self.custom = points.astype(np.float32)
        self._load_data()

    def load_csv(self, points: np.ndarray) -> None:
        """Replace the data by parsed CSV rows and restart training on them."""
        self._editable_points()
        self.custom = points
        self._load_data()
        self._build_model()
        self.playing = False

    # --------------------------------------------------------------------- training
    def play(self) -> None:
        """Start training continuously (the server calls :meth:`run_for` every frame)."""
        if self.n_train == 0:
            self.notice("There are no training points: add some points or pick a dataset.")
            return
        self.playing = True
        self._credit = 0.0

    def notice(self, message: str, level: str = "warn") -> None:
        """Queue a message for the page (divergence, early stop, empty data)."""
        self.notices.append({"type": "notice", "level": level, "message": message})

    def _trainer(self) -> Trainer:
        """The Trainer of the current network and optimizer (a new one when either changes)."""
        trainer = self._trainer_cache
        if trainer is None or trainer.model is not self.model or trainer.optimizer is not self.opt:
            trainer = Trainer(self.model, self.loss_fn, self.opt, metrics=(), verbose=0,
                              divergence_threshold=DIVERGED, name="playground")  # fmt: skip
            self._trainer_cache = trainer
        penalty = self.penalty
        trainer.loss, trainer.regularizers = self.loss_fn, () if penalty is None else (penalty,)
        return trainer

    def _update(self) -> None:
        """One mini-batch: the next ``batchSize`` training points in order, wrapping round."""
        n = self.n_train
        bs = self.config["batchSize"]
        idx = np.arange(self.seen, self.seen + bs) % n
        try:
            self._trainer().step((self.train_inputs[idx], self.train_targets[idx]))
        except TrainingDiverged as d:  # the step is not taken
            self.playing = False
            self.notice(
                f"Training diverged at epoch {self.epoch} (mini-batch: {d.what}): the "
                f"learning rate {self.lr:g} is probably too high. Paused: lower it, then Reset."
            )
        else:
            for i, layer in enumerate(self.linears):  # summed here, divided by size per epoch
                self._grad_sum[i] += float(np.abs(layer.weight.grad.numpy()).sum())
            self._grad_count += 1
        self.seen += bs
        self.updates += 1
        while self.seen >= (self.epoch + 1) * n:
            self.epoch += 1
            self._end_epoch()

    def _end_epoch(self) -> None:
        """Step the schedule, record the epoch's metrics, check the stop conditions."""
        if self.scheduler is not None:
            self.scheduler.step()
        count = max(self._grad_count, 1)
        sizes = [layer.weight.numpy().size for layer in self.linears]
        self.last_grads = [_number(g / count / size) for g, size in zip(self._grad_sum, sizes)]
        self._grad_sum[:] = 0
        self._grad_count = 0
        train, test = self.evaluate("train"), self.evaluate("test")
        record = [self.epoch, train["loss"], test["loss"], train["acc"], test["acc"], self.lr]
        record.append(self.last_grads)
        self.hist_pending.append(record)
        del self.hist_pending[:-MAX_PENDING]  # a page that stopped reading keeps the newest
        c = self.config
        watched = test["loss"] if len(self.split.X_test) else train["loss"]
        if self.playing and c["stopLoss"] > 0 and watched is not None and watched <= c["stopLoss"]:
            self.playing = False
            self.notice(
                f"Early stop at epoch {self.epoch}: the loss {watched:.4f} reached the target "
                f"{c['stopLoss']:g}.",
                "info",
            )
        if self.playing and c["stopEpoch"] > 0 and self.epoch >= c["stopEpoch"]:
            self.playing = False
            self.notice(f"Stopped at epoch {self.epoch}, the epoch limit.", "info")

    def step(self, unit: str) -> None:
        """Pause, then train one mini-batch or one whole epoch."""
        self.playing = False
        if self.n_train == 0:
            self.notice("There are no training points to step on.")
            return
        with self._own_random(), train_mode(self.model):
            if unit == "batch":
                self._update()
            else:
                target = self.epoch + 1
                while self.epoch < target:
                    self._update()

    def run_for(self, seconds: float, elapsed: float) -> None:
        """Train while playing for up to ``seconds``, at most ``speed`` epochs per second.

        ``elapsed`` is the wall time since the previous call; it earns ``speed·elapsed`` epochs
        of credit (0 means no limit), capped at a quarter second's worth.
        """
        if not self.playing:
            return
        n, bs, speed = self.n_train, self.config["batchSize"], self.config["speed"]
        if n == 0:
            self.playing = False
            return
        if speed > 0:
            self._credit = min(self._credit + speed * n * elapsed, speed * n * BURST + bs)
        end = time.perf_counter() + seconds
        with self._own_random(), train_mode(self.model):
            while self.playing and time.perf_counter() < end:
                if speed > 0:
                    if self._credit < bs:
                        break
                    self._credit -= bs
                self._update()

    # --------------------------------------------------------------------- evaluation
    def _forward_layers(self, inputs: Tensor) -> tuple[list[np.ndarray], np.ndarray]:
        """Every hidden layer's pre-activation z and the network output, without dropout."""
        pre = []
        with nl.no_grad():
            h = inputs
            for layer in self.linears[:-1]:
                z = layer(h)
                pre.append(z.numpy())
                h = self._act(z)
            out = self.linears[-1](h)
            kind = cfg.output_activation(self.config)
            if not self._logits and kind == "tanh":
                out = F.tanh(out)
            elif not self._logits and kind == "sigmoid":
                out = F.sigmoid(out)
        return pre, out.numpy()

    def _display(self, out: np.ndarray) -> np.ndarray:
        """Network outputs on the colour scale: a value in [-1, 1] (N,) or class probabilities."""
        kind = cfg.output_activation(self.config)
        if kind == "softmax":
            return F.softmax(constant(out), 1).numpy()
        if kind == "sigmoid":
            p = F.sigmoid(constant(out)).numpy() if self._logits else out
            return (2 * p - 1)[:, 0]
        return out[:, 0]

    def evaluate(self, part: str) -> dict[str, Any]:
        """Mean loss (no penalty), accuracy and confusion matrix on 'train' or 'test'."""
        inputs = self.train_inputs if part == "train" else self.test_inputs
        targets = self.train_targets if part == "train" else self.test_targets
        labels = self.split.y_train if part == "train" else self.split.y_test
        result: dict[str, Any] = {"loss": None, "acc": None, "confusion": None}
        if len(labels) == 0:
            return result
        _, out = self._forward_layers(inputs)
        with nl.no_grad():
            result["loss"] = _number(self.loss_fn(constant(out), targets).item())
        problem = self.config["problem"]
        if problem == "regression":
            return result
        shown = self._display(out)
        if problem == "multiclass":
            k = cfg.num_classes(self.config)
            truth, predicted = labels.astype(np.int64), shown.argmax(axis=1)
        else:
            k = 2
            truth, predicted = (labels > 0).astype(np.int64), (shown > 0).astype(np.int64)
        confusion = np.zeros((k, k), dtype=np.int64)
        np.add.at(confusion, (truth, predicted), 1)
        result["acc"] = float((truth == predicted).mean())
        result["confusion"] = confusion.tolist()
        return result

    def _health(self, pre: list[np.ndarray]) -> list[dict[str, int]]:
        """Dead (ReLU family: z ≤ 0 on every training point) and saturated units per layer.

        A tanh or sigmoid unit is saturated when its slope is below 5 % of its maximum
        (|tanh| > 0.975; sigmoid below 0.013 or above 0.987) on at least 90 % of the points.
        """
        act = self.config["activation"]
        health = []
        for z in pre:
            dead = saturated = 0
            if len(z) and act in ("relu", "leakyrelu"):
                dead = int((z <= 0).all(axis=0).sum())
            elif len(z) and act in ("tanh", "sigmoid"):
                if act == "tanh":
                    flat = 1 - np.tanh(z) ** 2 < 0.05
                else:
                    s = 1 / (1 + np.exp(-np.clip(z, -50, 50)))
                    flat = s * (1 - s) < 0.0125
                saturated = int((flat.mean(axis=0) >= 0.9).sum())
            health.append({"dead": dead, "saturated": saturated, "size": int(z.shape[1])})
        return health

    def _node_column(self, node: str) -> int | None:
        """Column of node 'h<layer>_<i>' (hidden) or 'o<i>' (output) in the grid maps."""
        sizes = self.layer_sizes
        try:
            if node.startswith("h"):
                layer, unit = (int(v) for v in node[1:].split("_"))
                if 0 <= layer < len(sizes) - 2 and 0 <= unit < sizes[layer + 1]:
                    return sum(sizes[1 : layer + 1]) + unit
            elif node.startswith("o"):
                unit = int(node[1:])
                if 0 <= unit < sizes[-1]:
                    return sum(sizes[1:-1]) + unit
        except ValueError:
            return None
        return None

    def _grid_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """Every hidden and output node over the grid (GRID², nodes) on the colour scale,
        and the displayed output (GRID²,) or class probabilities (GRID², k)."""
        pre, out = self._forward_layers(self.grid_inputs)
        shown = self._display(out)
        maps = [self._act(constant(z)).numpy() for z in pre]
        maps.append(2 * shown - 1 if shown.ndim == 2 else shown[:, None])
        return np.concatenate(maps, axis=1), shown

    # --------------------------------------------------------------------- snapshots
    def snapshot(self) -> dict[str, Any]:
        """The compact picture the page draws: grids, weights, metrics and new history."""
        values, shown = self._grid_maps()
        if shown.ndim == 2:  # class probabilities: the winning class and its probability
            grid = {
                "gridClass": b64(shown.argmax(axis=1)),
                "gridConf": b64(quantize(2 * shown.max(axis=1) - 1)),
            }
        else:
            grid = {"grid": b64(quantize(shown))}
        pool = GRID // THUMB
        thumbs = values.reshape(THUMB, pool, THUMB, pool, -1).mean(axis=(1, 3))
        train, test = self.evaluate("train"), self.evaluate("test")
        train_pre, _ = self._forward_layers(self.train_inputs)
        snap: dict[str, Any] = {
            "type": "snap",
            "epoch": self.epoch,
            "updates": self.updates,
            "playing": self.playing,
            "lr": self.lr,
            "shape": self.layer_sizes,
            "inputs": self.feature_keys,
            "outAct": cfg.output_activation(self.config),
            **grid,
            "thumbs": b64(quantize(thumbs.transpose(2, 0, 1))),
            "thumbSize": THUMB,
            "weights": [json_numbers(m.weight.numpy()) for m in self.linears],
            "biases": [json_numbers(m.bias.numpy()) for m in self.linears],
            "loss": {"train": train["loss"], "test": test["loss"]},
            "acc": {"train": train["acc"], "test": test["acc"]},
            "confusion": {"train": train["confusion"], "test": test["confusion"]},
            "grads": self.last_grads,
            "health": self._health(train_pre),
            "dropped": [np.flatnonzero(d).tolist() for d in self.dropped],
            "configVersion": self.config_version,
            "dataVersion": self.data_version,
            "hist": self.hist_pending,
            "histReset": self.hist_reset,
        }
        column = None if self.focus is None else self._node_column(self.focus)
        if column is not None:
            snap["focus"] = {"node": self.focus, "grid": b64(quantize(values[:, column]))}
        self.hist_pending = []
        self.hist_reset = False
        return snap

    def data_payload(self) -> dict[str, Any]:
        """The points to plot: [x1, x2, label] lists for the training and test parts."""
        s = self.split

        def rows(X: np.ndarray, y: np.ndarray) -> list:
            return json_numbers(np.concatenate([X, y.reshape(-1, 1).astype(np.float32)], axis=1))

        return {"train": rows(s.X_train, s.y_train), "test": rows(s.X_test, s.y_test)}
