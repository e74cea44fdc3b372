"""Callbacks: code that :func:`neuralab.train.fit` runs at fixed points of training (Keras' hooks).

A callback subclasses :class:`Callback` and overrides any of the hooks; ``fit`` calls them in
this order (epochs and batches count from 0, as in Keras)::

    on_train_begin(logs)
      on_epoch_begin(epoch, logs)
        on_train_batch_begin(batch, logs)
        on_after_backward(batch, logs)      # gradients are in p.grad, before clipping and step
        on_train_batch_end(batch, logs)     # logs: running 'loss' and metrics of the epoch
        ...
      on_epoch_end(epoch, logs)             # logs: 'loss', metrics, 'val_*', 'lr'
      ...
    on_train_end(logs)                      # always, however training ends (also Ctrl-C)

``callback.model`` is the model being trained and ``callback.params`` holds ``epochs``,
``steps`` (batches per epoch), ``verbose``, ``initial_epoch`` (> 0 when resuming from a
checkpoint) and ``optimizer``. A callback ends training by setting ``self.model.stop_training =
True`` (as in Keras) or, to say why, by calling :meth:`Callback.stop`; ``fit`` stops after the
current batch or epoch. A callback whose :meth:`Callback.state_dict` returns something has that
state saved in ``fit``'s checkpoints and restored on resume.

``on_after_backward`` is not a Keras hook (Keras has no gradient hook); it is where
:class:`GradientStats` reads the gradients.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from neuralab.io import save
from neuralab.nn.module import Module
from neuralab.optim.lr_scheduler import ReduceLROnPlateau
from neuralab.train.checkpoint import restore_model, snapshot_model
from neuralab.train.metrics import HIGHER_IS_BETTER

__all__ = [
    "Callback",
    "CallbackList",
    "CSVLogger",
    "EarlyStopping",
    "ExponentialMovingAverage",
    "GradientStats",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "StepHistory",
    "TensorBoard",
    "TerminateOnNaN",
]

HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_after_backward",
    "on_train_batch_end",
)


class Callback:
    """Base class of callbacks: every hook does nothing until overridden."""

    model: Module | None = None
    trainer: Any = None  # the Trainer running the callback (its step_logs, optimizer, ...)
    params: dict[str, Any] = {}  # replaced per instance by set_params
    _session: CallbackList | None = None

    def set_model(self, model: Module) -> None:
        """Attach the model being trained (``fit`` calls this before training)."""
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Attach the run's parameters: epochs, steps, verbose, initial_epoch, optimizer."""
        self.params = params

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Called once before the first epoch."""

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Called once at the end, however training ended (also after Ctrl-C or divergence)."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Called at the start of each epoch (counted from 0)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Called after each epoch with its training and validation values."""

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called before each training batch."""

    def on_after_backward(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called after ``loss.backward()``, before gradient clipping and the optimizer step."""

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called after each training batch with the epoch's running loss and metrics."""

    def state_dict(self) -> dict[str, Any] | None:
        """State to save in fit's checkpoints (None: nothing to save)."""
        return None

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (called when fit resumes)."""

    def stop(self, reason: str, message: str | None = None) -> None:
        """Ask fit to stop; ``reason`` becomes ``history.stopped_reason``, ``message`` is shown."""
        if self.model is not None:
            self.model.stop_training = True
        if self._session is not None:
            self._session.request_stop(reason, message)

    def report(self, message: str) -> None:
        """Show ``message`` (unless verbose=0) and keep it in ``history.messages``."""
        if self._session is not None:
            self._session.report(message)
        else:
            print(message)


class CallbackList:
    """The callbacks of one ``fit`` run, called in order; also routes their messages and stops."""

    def __init__(
        self,
        callbacks: Iterable[Callback],
        model: Module,
        params: dict[str, Any],
        messages: list[str],
        write: Callable[[str], None] | None,
        trainer: Any = None,
    ) -> None:
        self.callbacks = list(callbacks)
        self.messages = messages
        self.write = write
        self.stop_reason: str | None = None
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks: {cb!r} is a {type(cb).__name__}, not a neuralab.train.Callback"
                )
            cb.set_model(model)
            cb.set_params(params)
            cb.trainer = trainer
            cb._session = self

    def uses(self, hook: str) -> bool:
        """Whether any callback overrides ``hook`` (fit skips work whose only reader it is)."""
        base = getattr(Callback, hook)
        return any(
            hook in vars(cb) or getattr(type(cb), hook, base) is not base for cb in self.callbacks
        )

    def call(self, hook: str, *args: Any) -> None:
        """Run ``hook`` on every callback, in order."""
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def report(self, message: str) -> None:
        """Record ``message`` and show it (when fit is not silent)."""
        self.messages.append(message)
        if self.write is not None:
            self.write(message)

    def request_stop(self, reason: str, message: str | None) -> None:
        """Record the first reason given for stopping, and show its message."""
        if self.stop_reason is None:
            self.stop_reason = reason
        if message:
            self.report(message)

    def _keys(self) -> list[str]:
        """A name per callback: its class name, with ``#2``, ``#3``, ... for repeats."""
        keys, seen = [], {}
        for cb in self.callbacks:
            name = type(cb).__name__
            seen[name] = seen.get(name, 0) + 1
            keys.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
        return keys

    def state_dict(self) -> dict[str, Any]:
        """Each stateful callback's state, keyed by class name (``#n`` for the n-th repeat)."""
        states = {key: cb.state_dict() for key, cb in zip(self._keys(), self.callbacks)}
        return {key: state for key, state in states.items() if state is not None}

    def load_state_dict(self, states: dict[str, Any]) -> None:
        """Give each callback the state saved under its key; report states nobody takes."""
        keys = self._keys()
        for key, cb in zip(keys, self.callbacks):
            if key in states:
                cb.load_state_dict(states[key])
        unused = [key for key in states if key not in keys]
        if unused:
            self.report(
                f"fit: the checkpoint holds the state of callbacks this run does not have "
                f"({', '.join(unused)}); ignored"
            )


# ----------------------------------------------------------------------------- monitoring


def _resolve_mode(name: str, monitor: str, mode: str) -> str:
    """'min' or 'max'; 'auto' is 'max' for accuracy-like names (acc, precision, f1, r2, ...)."""
    if mode == "auto":
        return "max" if any(key in monitor for key in HIGHER_IS_BETTER) else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"{name}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    return mode


def _monitored(name: str, monitor: str, logs: dict[str, Any] | None) -> float:
    """The monitored value from the epoch's logs, or a ValueError listing what is there."""
    if not logs or monitor not in logs:
        available = ", ".join(logs or {}) or "nothing"
        hint = " (pass val_data to fit for val_* values)" if monitor.startswith("val_") else ""
        raise ValueError(f"{name}: monitor={monitor!r} is not logged{hint}; logged: {available}")
    return float(logs[monitor])


def _improves(current: float, best: float, mode: str, min_delta: float = 0.0) -> bool:
    """Whether ``current`` beats ``best`` by more than ``min_delta`` (NaN never does)."""
    if mode == "min":
        return current < best - min_delta
    return current > best + min_delta


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; optionally restore the best.

    An epoch improves when its value beats the best so far by more than ``min_delta``
    (``mode='auto'``: larger is better for accuracy-like names, smaller otherwise). After
    ``patience`` epochs without improvement, training stops (``history.stopped_reason ==
    'early_stopping'``). With ``restore_best_weights`` the model gets the weights of the best
    epoch back at the end of training however it ended (all epochs done, early stop,
    divergence, Ctrl-C), and a message names that epoch. ``baseline``: a value the monitored
    quantity must beat to count as an improvement at all. Epochs before ``start_from_epoch``
    are not judged (warm-up).

    ``best_of`` says which epoch is "the best" (kept as ``best``/``best_epoch`` and restored):
    ``'improvements'`` (Keras) the last epoch that improved by more than ``min_delta``;
    ``'all'`` (scikit-learn's rule) the epoch with the best value of all, even when it beat
    the previous best by less than ``min_delta`` (patience still counts only real improvements).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
        best_of: str = "improvements",
    ) -> None:
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        if best_of not in ("improvements", "all"):
            raise ValueError(
                f"EarlyStopping: best_of must be 'improvements' or 'all', got {best_of!r}"
            )
        self.best_of = best_of
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = patience
        self.mode = _resolve_mode("EarlyStopping", monitor, mode)
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.restored_epoch: int | None = None
        self._reset()

    def _reset(self) -> None:
        worst = math.inf if self.mode == "min" else -math.inf
        self.best = worst if self.baseline is None else float(self.baseline)
        self.best_epoch: int | None = None
        self.best_weights: dict[str, Any] | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._reset()
        self.restored_epoch = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        current = _monitored("EarlyStopping", self.monitor, logs)
        if epoch < self.start_from_epoch:
            return
        improved = _improves(current, self.best, self.mode, self.min_delta)
        if improved or (self.best_of == "all" and _improves(current, self.best, self.mode)):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = snapshot_model(self.model)
        if improved:
            self.wait = 0
            return
        self.wait += 1
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            best = (
                f"best {self.best:.4g} at epoch {self.best_epoch + 1}"
                if self.best_epoch is not None
                else f"never better than {self.best:.4g}"
            )
            self.stop(
                "early_stopping",
                f"EarlyStopping: {self.monitor} has not improved for {self.wait} epoch(s) "
                f"({best}); stopping after epoch {epoch + 1}",
            )

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            restore_model(self.model, self.best_weights)
            self.restored_epoch = self.best_epoch
            self.report(
                f"EarlyStopping: restored the weights from the end of epoch "
                f"{self.best_epoch + 1}, the best epoch ({self.monitor} {self.best:.4g})"
            )

    def state_dict(self) -> dict[str, Any]:
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "best_weights": self.best_weights,
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


class ModelCheckpoint(Callback):
    """Save the model after each epoch with ``nl.save`` (atomic: a crash keeps the old file).

    ``filepath`` may hold ``str.format`` fields: ``{epoch}`` (counted from 1, as in Keras) and
    any logged value, e.g. ``"ckpt/e{epoch:03d}-{val_loss:.3f}.safetensors"``. With
    ``save_best_only`` a file is written only when ``monitor`` improves, so a fixed
    ``filepath`` always holds the best epoch's model. ``save_weights_only`` saves
    ``model.state_dict()`` (load it with ``model.load_state_dict(nl.load(path))``); otherwise
    the whole model (``nl.load(path)`` rebuilds it; a custom class must be imported by the
    loading program, see docs/save_load.md).
    """

    def __init__(
        self,
        filepath: str | os.PathLike,
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
        save_weights_only: bool = False,
    ) -> None:
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.mode = _resolve_mode("ModelCheckpoint", monitor, mode)
        self.save_weights_only = save_weights_only
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.last_saved: str | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.save_best_only:
            current = _monitored("ModelCheckpoint", self.monitor, logs)
            if not _improves(current, self.best, self.mode):
                return
            self.best, self.best_epoch = current, epoch
        path = self.filepath.format(epoch=epoch + 1, **logs)
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        save(self.model.state_dict() if self.save_weights_only else self.model, path)
        self.last_saved = path

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "last_saved": self.last_saved}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


class LearningRateScheduler(Callback):
    """Drive a learning-rate schedule from fit: an ``optim.lr_scheduler`` or a Keras function.

    ``schedule`` is a scheduler object (``StepLR``, ``CosineAnnealingLR``, ...), stepped after
    every epoch (``interval='epoch'``) or every batch (``interval='batch'``, for ``OneCycleLR``);
    ``ReduceLROnPlateau`` is stepped with the epoch's ``monitor`` value. Or ``schedule`` is a
    Keras-style function ``schedule(epoch, lr) -> new_lr``, applied to every parameter group at
    the start of each epoch. ``fit(scheduler=...)`` wraps its scheduler in this callback.
    """

    def __init__(self, schedule: Any, monitor: str = "val_loss", interval: str = "epoch") -> None:
        if interval not in ("epoch", "batch"):
            raise ValueError(
                f"LearningRateScheduler: interval must be 'epoch' or 'batch', got {interval!r}"
            )
        if not (hasattr(schedule, "step") or callable(schedule)):
            raise TypeError(
                "LearningRateScheduler: schedule must be an optim.lr_scheduler object or a "
                f"function (epoch, lr) -> lr, got {type(schedule).__name__}"
            )
        self.schedule = schedule
        self.monitor = monitor
        self.interval = interval
        self._is_scheduler = hasattr(schedule, "step")

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._is_scheduler:
            return
        for group in self.params["optimizer"].param_groups:
            group["lr"] = float(self.schedule(epoch, group["lr"]))

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self._is_scheduler and self.interval == "batch":
            self.schedule.step()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._is_scheduler or self.interval != "epoch":
            return
        if isinstance(self.schedule, ReduceLROnPlateau):
            self.schedule.step(_monitored("ReduceLROnPlateau", self.monitor, logs))
        else:
            self.schedule.step()

    def state_dict(self) -> dict[str, Any] | None:
        return self.schedule.state_dict() if self._is_scheduler else None

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.schedule.load_state_dict(state)


class TerminateOnNaN(Callback):
    """Stop when any value of an epoch (validation loss, a metric, ...) is NaN or infinite.

    ``fit`` itself already stops at the first non-finite *training* loss (see "divergence" in
    :func:`neuralab.train.fit`); this catches the values it does not watch, such as a NaN
    ``val_loss`` from a model that trains fine but breaks in evaluation mode.
    """

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        bad = [k for k, v in (logs or {}).items() if not math.isfinite(v)]
        if bad:
            values = ", ".join(f"{k} = {logs[k]}" for k in bad)
            self.stop("nan", f"TerminateOnNaN: {values} at epoch {epoch + 1}; stopping")


class GradientStats(Callback):
    """Per-layer gradient norms every epoch: the picture of vanishing or exploding gradients.

    After each backward pass, for every module that owns parameters (a "layer", named as in
    ``model.named_modules()``; the model itself by its class name), the L2 norm of all its
    parameters' gradients together is taken; ``norms[layer]`` gets the mean over the epoch's
    batches, one value per epoch. Norms are measured before gradient clipping.
    """

    def __init__(self) -> None:
        self.norms: dict[str, list[float]] = {}
        self._sums: dict[str, float] = {}
        self._batches = 0

    def _layers(self) -> Iterable[tuple[str, list[Any]]]:
        for name, module in self.model.named_modules():
            params = [p for p in module._parameters.values() if p is not None]
            if params:
                yield name or type(module).__name__, params

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._sums, self._batches = {}, 0

    def on_after_backward(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._batches += 1
        for name, params in self._layers():
            squares = sum(_squared_norm(p.grad.numpy()) for p in params if p.grad is not None)
            self._sums[name] = self._sums.get(name, 0.0) + math.sqrt(squares)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for name, total in self._sums.items():
            self.norms.setdefault(name, []).append(total / max(self._batches, 1))

    def state_dict(self) -> dict[str, Any]:
        return {"norms": self.norms}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.norms = {name: list(values) for name, values in state["norms"].items()}


def _squared_norm(arr: np.ndarray) -> float:
    """The squared L2 norm of an array of any shape, summed in float64 (no float32 overflow)."""
    flat = arr.reshape(-1).astype(np.float64)
    return float(flat @ flat)


class CSVLogger(Callback):
    """Write one CSV row per epoch: ``epoch`` (from 0, as in Keras) and every logged value.

    Columns are the first epoch's log keys, sorted. The file is rewritten at the start of
    training unless ``append`` is set or fit resumes from a checkpoint; appending keeps the
    existing header's columns. Rows are flushed as they are written.
    """

    def __init__(
        self, filename: str | os.PathLike, separator: str = ",", append: bool = False
    ) -> None:
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = append
        self._file: Any = None
        self._keys: list[str] | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        resuming = self.params.get("initial_epoch", 0) > 0
        exists = os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._keys = None
        if (self.append or resuming) and exists:
            with open(self.filename, newline="") as f:
                header = next(csv.reader(f, delimiter=self.separator), [])
            self._keys = header[1:] or None
            self._file = open(self.filename, "a", newline="")
        else:
            self._file = open(self.filename, "w", newline="")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        writer = csv.writer(self._file, delimiter=self.separator)
        if self._keys is None:
            self._keys = sorted(logs)
            writer.writerow(["epoch", *self._keys])
        writer.writerow([epoch, *(logs.get(k, "") for k in self._keys)])
        self._file.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class TensorBoard(Callback):
    """Log each epoch's values to TensorBoard event files, as Keras' ``TensorBoard`` callback.

    Training values go to ``<log_dir>/train`` as ``epoch_<name>`` (the learning rate as
    ``epoch_learning_rate``), validation values (``val_<name>``) to ``<log_dir>/validation`` as
    ``epoch_<name>``, at step = epoch (from 0). ``update_freq='batch'`` or an int N also logs the
    running ``batch_<name>`` values every N batches (step = batches so far). ``histogram_freq``
    N > 0 logs a histogram of every parameter every N epochs. ``write_graph`` is accepted;
    neuralab writes no graph.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike = "logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        update_freq: str | int = "epoch",
    ) -> None:
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and not (isinstance(update_freq, int) and update_freq > 0):
            raise ValueError(
                f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive int, got "
                f"{update_freq!r}"
            )
        if histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be >= 0, got {histogram_freq}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.update_freq = update_freq
        self._writers: dict[str, Any] = {}
        self._batches = 0

    def _writer(self, run: str) -> Any:
        """The SummaryWriter of ``<log_dir>/<run>`` ('train' or 'validation'), opened once."""
        if run not in self._writers:
            # imported here: tensorboard's protobuf modules take 0.4 s, paid only when logging
            from neuralab.utils.tensorboard import SummaryWriter

            self._writers[run] = SummaryWriter(os.path.join(self.log_dir, run))
        return self._writers[run]

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._batches = self.params.get("initial_epoch", 0) * (self.params.get("steps") or 0)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._batches += 1
        if self.update_freq == "epoch" or self._batches % self.update_freq:
            return
        for name, value in (logs or {}).items():
            self._writer("train").add_scalar(f"batch_{name}", value, self._batches)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for name, value in (logs or {}).items():
            run = "validation" if name.startswith("val_") else "train"
            tag = "learning_rate" if name == "lr" else name.removeprefix("val_")
            self._writer(run).add_scalar(f"epoch_{tag}", value, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            for name, p in self.model.named_parameters():
                self._writer("train").add_histogram(f"{name}/histogram", p.numpy(), epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


class LambdaCallback(Callback):
    """A callback made of functions, as Keras': ``LambdaCallback(on_epoch_end=fn)``.

    Each keyword is a hook name (``on_train_batch_end``, ...) and its function takes the
    hook's arguments (``fn(epoch, logs)``, ``fn(batch, logs)``, ``fn(logs)``).
    """

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        for name, fn in hooks.items():
            if name not in HOOKS:
                raise TypeError(
                    f"LambdaCallback: {name!r} is not a hook; hooks are {', '.join(HOOKS)}"
                )
            if not callable(fn):
                raise TypeError(f"LambdaCallback: {name} must be callable, got {fn!r}")
            setattr(self, name, fn)


class StepHistory(Callback):
    """Every training step's own logs, not the epoch's running means: ``steps[name]`` has one
    value per step (the loss curves of step-based training: GANs, diffusion, RL)."""

    def __init__(self) -> None:
        self.steps: dict[str, list[float]] = {}

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        for key, value in self.trainer.step_logs.items():
            self.steps.setdefault(key, []).append(value)

    def state_dict(self) -> dict[str, Any]:
        return {"steps": self.steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = {key: list(values) for key, values in state["steps"].items()}


class ExponentialMovingAverage(Callback):
    """An exponential moving average of the weights, updated after every step, ``avg ← decay
    ·avg + (1 - decay)·w`` from the initial weights; put into the model when training ends."""

    def __init__(self, decay: float = 0.999) -> None:
        if not 0 <= decay < 1:
            raise ValueError(f"ExponentialMovingAverage: decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.averages: list[np.ndarray] = []

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._params = list(self.model.parameters())
        self.averages = [p.numpy().copy() for p in self._params]

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        for avg, p in zip(self.averages, self._params):
            avg *= self.decay
            avg += (1 - self.decay) * p.numpy()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        for avg, p in zip(self.averages, self._params):
            p.data = avg
