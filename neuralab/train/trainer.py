"""The Trainer: neuralab's one training loop (epochs, batches, callbacks, progress, divergence,
checkpoints), steppable, with an overridable ``train_step`` for training that is not "one loss,
one optimizer".

``fit`` is a thin front-end on it. The default step is the loop a PyTorch script writes by
hand (zero_grad, forward, loss plus penalties, backward, clipping, optimizer step); a GAN,
a diffusion model, an actor-critic or an estimator plug in their own step, either by passing
``train_step=fn`` (called as ``fn(trainer, batch) -> logs``) or by subclassing and overriding
:meth:`Trainer.train_step`. A step calls :meth:`Trainer.optimize` for each loss it descends,
which runs the divergence check, the gradient hooks and clipping the same way for everyone.
See docs/training.md.
"""

from __future__ import annotations

import itertools
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from neuralab.nn import functional as F
from neuralab.nn.layers.loss import BCEWithLogitsLoss
from neuralab.nn.module import Module
from neuralab.nn.utils import clip_grad_norm_, eval_mode, train_mode
from neuralab.random import generator as global_generator
from neuralab.tensor import Tensor
from neuralab.train.callbacks import Callback, CallbackList, LearningRateScheduler
from neuralab.train.checkpoint import (
    TrainingCheckpoint,
    restore_model,
    rng_state,
    set_rng_state,
    snapshot_model,
)
from neuralab.train.data import align_target, as_loader, length, scalar_loss, split_batch
from neuralab.train.divergence import DivergenceDetector, DivergenceWarning, TrainingDiverged
from neuralab.train.history import History
from neuralab.train.metrics import MetricNotApplicable, from_outputs
from neuralab.train.parallel import data_parallel, is_main_process
from neuralab.train.progress import ProgressLogger

__all__ = ["DEFAULT_METRICS", "EpochTotals", "MetricSet", "Trainer", "evaluate_batches"]

DEFAULT_METRICS = ("accuracy",)
Loss = Callable[[Any, Any], Tensor]
MetricSpec = Sequence[str | Callable] | Mapping[str, str | Callable]
StepFn = Callable[["Trainer", Any], "dict[str, float] | None"]


# ----------------------------------------------------------------------------- metrics


def _takes_logits(loss: Any) -> bool:
    """Whether the loss reads single outputs as logits (threshold 0 for {0, 1} targets)."""
    return isinstance(loss, BCEWithLogitsLoss) or loss is F.binary_cross_entropy_with_logits


class MetricSet:
    """The named metric functions of a run, each ``fn(target, output) -> float`` on arrays.

    Metrics that do not fit the data raise, except the default ``('accuracy',)``, which is
    dropped (and listed in ``skipped``) for targets that are not class labels.
    """

    def __init__(self, metrics: MetricSpec | None, loss: Any) -> None:
        self.optional = metrics is DEFAULT_METRICS
        logits = _takes_logits(loss)
        if metrics is None or isinstance(metrics, str):
            metrics = () if metrics is None else (metrics,)
        if not isinstance(metrics, Mapping):
            metrics = {getattr(m, "__name__", m): m for m in metrics}
        self.fns: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
            name: from_outputs(spec, logits) if isinstance(spec, str) else spec
            for name, spec in metrics.items()
        }
        self.skipped: list[str] = []

    def __call__(self, target: np.ndarray, output: Any) -> dict[str, float]:
        values = {}
        for name, fn in list(self.fns.items()):
            try:
                if not isinstance(output, np.ndarray):
                    raise MetricNotApplicable(
                        f"the model returned a {type(output).__name__}, not a Tensor"
                    )
                values[name] = float(fn(target, output))
            except MetricNotApplicable as e:
                if not self.optional:
                    raise ValueError(f"metric {name!r}: {e}") from e
                del self.fns[name]
                self.skipped.append(f"{name!r} ({e})")
        return values


class EpochTotals:
    """One pass over data: each logged value averaged over samples, outputs kept for metrics.

    A batch weighs its number of samples (its target's length), or the weight its step gave.
    With ``running`` each batch's metrics are computed too, for the live running averages in
    the batch logs; epoch values are computed once over all outputs of the pass.
    """

    def __init__(self, metrics: MetricSet, running: bool) -> None:
        self.metrics, self.running = metrics, running
        self.n: float = 0
        self.sums: dict[str, float] = {}
        self.metric_sums: dict[str, float] = {}
        self.outputs: list[np.ndarray] = []
        self.targets: list[np.ndarray] = []

    def add(
        self, logs: Mapping[str, float], output: Any = None, target: Any = None, weight: Any = None
    ) -> None:
        """Count one batch's ``logs`` (and its outputs and targets, for the metrics)."""
        t = None
        if target is not None:
            t = target.numpy() if isinstance(target, Tensor) else np.asarray(target)
        n = weight if weight is not None else (len(t) if t is not None and t.ndim else 1)
        self.n += n
        for key, value in logs.items():
            self.sums[key] = self.sums.get(key, 0.0) + value * n
        if t is None or output is None or not self.metrics.fns:
            return
        out = output.numpy() if isinstance(output, Tensor) else output
        if self.running or not self.outputs:  # the first batch checks that the metrics apply
            for name, value in self.metrics(t, out).items():
                self.metric_sums[name] = self.metric_sums.get(name, 0.0) + value * n
        if self.metrics.fns:
            self.outputs.append(out)
            self.targets.append(t)

    def running_logs(self) -> dict[str, float]:
        """The pass's means so far (metrics averaged over the batches' values)."""
        logs = {key: value / self.n for key, value in self.sums.items()}
        fns = self.metrics.fns
        return {**logs, **{k: v / self.n for k, v in self.metric_sums.items() if k in fns}}

    def logs(self) -> dict[str, float]:
        """The pass's means, metrics computed once over all its outputs."""
        logs = {key: value / self.n for key, value in self.sums.items()}
        if self.outputs and self.metrics.fns:
            logs.update(self.metrics(np.concatenate(self.targets), np.concatenate(self.outputs)))
        return logs


def evaluate_batches(
    name: str, model: Module, loss: Loss, loader: Iterable, metrics: MetricSet, regularizers: Any
) -> dict[str, float]:
    """Loss (with penalties) and metrics of ``model`` on ``loader``, in evaluation mode."""
    with eval_mode(model):
        penalty = sum(scalar_loss(name, reg(model)) for reg in regularizers)
        totals = EpochTotals(metrics, running=False)
        for batch in loader:
            inputs, target = split_batch(batch)
            if target is None:
                raise ValueError(f"{name}: batches must be (inputs, target); got no target")
            output = model(*inputs)
            target = align_target(output, target)
            totals.add({"loss": scalar_loss(name, loss(output, target)) + penalty}, output, target)
    if totals.n == 0:
        raise ValueError(f"{name}: the data gave no batches")
    return totals.logs()


def _lr(optimizer: Any) -> float | None:
    groups = getattr(optimizer, "param_groups", None)
    return float(groups[0]["lr"]) if groups else None


def _params(optimizer: Any) -> list[Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"]]


# ----------------------------------------------------------------------------- the trainer


class Trainer:
    """Trains ``model``: the epoch and batch loop, callbacks, metrics, progress, divergence
    detection, validation, Ctrl-C and checkpoints with exact resume, in one place.

    ``trainer.fit(data, epochs)`` runs the loop and returns the :class:`History`;
    ``trainer.step(batch)`` runs one training step (callbacks and divergence check included)
    for code that drives the loop itself. The step is :meth:`train_step`: by default ``loss(
    model(x), y)`` plus ``regularizers`` descended with ``optimizer``; pass ``train_step=fn``
    (``fn(trainer, batch) -> logs``) or override the method for any other step.
    ``name`` starts error messages and notices (``fit`` passes ``"fit"``).
    """

    def __init__(
        self,
        model: Module,
        loss: Loss | None = None,
        optimizer: Any = None,
        *,
        train_step: StepFn | None = None,
        metrics: MetricSpec | None = DEFAULT_METRICS,
        callbacks: Iterable[Callback] = (),
        regularizers: Sequence[Callable[[Module], Tensor]] = (),
        clip_grad_norm: float | None = None,
        verbose: int = 1,
        divergence_threshold: float | None = 1e6,
        name: str = "Trainer",
    ) -> None:
        if verbose not in (0, 1, 2):
            raise ValueError(f"{name}: verbose must be 0, 1 or 2, got {verbose!r}")
        self.model, self.loss, self.optimizer, self.name = model, loss, optimizer, name
        self._step_fn = train_step
        self.metrics = MetricSet(metrics, loss)
        self.callbacks = list(callbacks)
        self.regularizers = tuple(regularizers)
        self.clip_grad_norm, self.verbose = clip_grad_norm, verbose
        self.divergence_threshold = divergence_threshold
        self.divergence: dict[str, DivergenceDetector] = {}
        self.history: History | None = None
        self.train_loader: Iterable | None = None
        self.val_loader: Iterable | None = None
        self.checkpoint: TrainingCheckpoint | None = None
        self.params: dict[str, Any] = {}
        self.epoch = self.batch = self.done = 0  # current epoch and batch; finished epochs
        self.step_logs: dict[str, float] = {}  # the last step's own logs
        self._cbs: CallbackList | None = None
        self._totals: EpochTotals | None = None
        self._record: tuple[Any, Any, Any] = (None, None, None)
        self._skip_noted = False
        self.parallel: Any = None  # the data-parallel side of a fit, in a process group

    # --- the step ------------------------------------------------------------------------
    def train_step(self, batch: Any) -> dict[str, float] | None:
        """One training step on ``batch``; returns its logs (None: batch skipped).

        The default: ``loss(model(*inputs), target)`` plus each regularizer's ``reg(model)``,
        descended by :meth:`optimize`; outputs and targets go to the metrics via :meth:`record`.
        """
        if self._step_fn is not None:
            return self._step_fn(self, batch)
        if self.loss is None or self.optimizer is None:
            raise ValueError(
                f"{self.name}: the default train_step needs a loss and an optimizer; pass them, "
                "or pass train_step=fn for a step of your own"
            )
        inputs, target = split_batch(batch)
        if target is None:
            raise ValueError(
                f"{self.name}: training batches must be (inputs, target); got no target"
            )
        output = self.model(*inputs)
        target = align_target(output, target)
        objective = self.loss(output, target)
        for reg in self.regularizers:
            objective = objective + reg(self.model)
        value = self.optimize(objective)
        self.record(output, target)
        return {"loss": value}

    def optimize(self, loss: Tensor, optimizer: Any = None, name: str = "loss") -> float:
        """Descend ``loss`` one step with ``optimizer`` (default: the trainer's); its value.

        Checks the value for divergence first (per ``name``: each loss of a step has its own
        scale), then zero_grad, backward, the callbacks' ``on_after_backward``, clipping to
        ``clip_grad_norm``, and the optimizer's step.
        """
        value = scalar_loss(self.name, loss)
        detector = self.divergence.get(name)
        if detector is None:
            detector = self.divergence[name] = DivergenceDetector(self.divergence_threshold)
        what = detector.check(value)
        if what is not None:
            raise TrainingDiverged(what if name == "loss" else f"{name}: {what}")
        optimizer = self.optimizer if optimizer is None else optimizer
        optimizer.zero_grad()
        loss.backward()
        self._callback_list().call("on_after_backward", self.batch, {})
        if self.clip_grad_norm is not None:
            main = optimizer is self.optimizer
            clip_grad_norm_(self.model.parameters() if main else _params(optimizer),
                            self.clip_grad_norm)  # fmt: skip
        optimizer.step()
        return value

    def record(self, output: Any = None, target: Any = None, weight: float | None = None) -> None:
        """Give the step's outputs and targets to the metrics, and its weight in the epoch's
        means (default: the number of targets, or 1)."""
        self._record = (output, target, weight)

    def step(self, batch: Any) -> dict[str, float] | None:
        """Run one training step with the batch callbacks; its logs (None if it was skipped).

        Raises :class:`TrainingDiverged` (with ``epoch`` and ``step``) when the loss diverges;
        ``fit`` turns that into a stop, a caller driving the steps decides for itself.
        """
        cbs = self._callback_list()
        cbs.call("on_train_batch_begin", self.batch, {})
        self._record = (None, None, None)
        try:
            logs = self.train_step(batch)
        except TrainingDiverged as d:
            d.epoch, d.step = self.epoch, self.batch
            raise
        self.batch += 1
        if logs is None:
            return None
        self.step_logs = dict(logs)
        output, target, weight = self._record
        self._totals.add(self.step_logs, output, target, weight)
        self._note_skipped_metrics()
        cbs.call("on_train_batch_end", self.batch - 1, self._totals.running_logs())
        return self.step_logs

    def validate(self) -> dict[str, float]:
        """The validation values of the epoch (``val_`` is prefixed by the loop); {} for none."""
        if self.val_loader is None:
            return {}
        return evaluate_batches(
            f"{self.name}: val_data", self.model, self.loss, self.val_loader, self.metrics,
            self.regularizers,
        )  # fmt: skip

    def is_main_process(self) -> bool:
        """Whether this process shows progress and writes checkpoints (process 0 alone in
        data-parallel training, see neuralab.train.parallel)."""
        return is_main_process()

    def _callback_list(self) -> CallbackList:
        """The run's callbacks (for steps driven without fit: the History and ``callbacks``)."""
        if self._cbs is None:
            self.history = History()
            self.params = {"epochs": None, "steps": None, "verbose": 0, "initial_epoch": 0,
                           "optimizer": self.optimizer}  # fmt: skip
            self._cbs = CallbackList([self.history, *self.callbacks], self.model, self.params,
                                     self.history.messages, None, self)  # fmt: skip
        if self._totals is None:
            self._totals = EpochTotals(self.metrics, self._cbs.uses("on_train_batch_end"))
        return self._cbs

    def _note_skipped_metrics(self) -> None:
        if self.metrics.skipped and not self._skip_noted:
            self._skip_noted = True
            self._cbs.report(
                f"{self.name}: not computing the default metric {'; '.join(self.metrics.skipped)}"
                "; pass metrics=(...) to choose, e.g. ('mse',) for regression or () for none"
            )

    # --- fit -----------------------------------------------------------------------------
    def fit(
        self,
        train_data: Any,
        epochs: int = 1,
        val_data: Any = None,
        *,
        batch_size: int | None = 32,
        shuffle: bool = True,
        steps_per_epoch: int | None = None,
        scheduler: Any = None,
        checkpoint_dir: str | os.PathLike | None = None,
    ) -> History:
        """Train for ``epochs`` passes over ``train_data`` (each of ``steps_per_epoch`` batches,
        drawn on from a stream, when given); return the :class:`History`.

        See :func:`neuralab.train.fit` for data, validation, ``scheduler``, checkpoints and
        the ways training stops. Every module's mode is restored at the end.
        """
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"{self.name}: epochs must be an int >= 0, got {epochs!r}")
        if steps_per_epoch is not None and not (isinstance(steps_per_epoch, int) and
                                                 steps_per_epoch >= 1):  # fmt: skip
            raise ValueError(
                f"{self.name}: steps_per_epoch must be None or an int >= 1, got {steps_per_epoch!r}"
            )
        stream = steps_per_epoch is not None
        self.train_loader = as_loader(
            f"{self.name}: train_data", train_data, batch_size, shuffle, stream
        )
        self.val_loader = None
        if val_data is not None:
            self.val_loader = as_loader(f"{self.name}: val_data", val_data, batch_size, False)
        self.parallel = data_parallel(self)  # None unless a process group is initialised
        saved = self._open_checkpoint(checkpoint_dir)
        self._start(epochs, steps_per_epoch, scheduler, saved)
        self.model.stop_training = False
        try:
            with train_mode(self.model):  # each module's own mode comes back at the end
                self._run(epochs, saved)
        finally:
            if self.parallel is not None:
                self.parallel.close()
            self.model.__dict__.pop("stop_training", None)
        return self.history

    def _open_checkpoint(self, checkpoint_dir: str | os.PathLike | None) -> dict | None:
        """Set up ``checkpoint_dir``'s checkpoint; the saved state to resume from, if any."""
        self.checkpoint = None if checkpoint_dir is None else TrainingCheckpoint(checkpoint_dir)
        if self.checkpoint is not None and self.checkpoint.exists():
            return self.checkpoint.load()
        return None

    def _start(self, epochs: int, steps: int | None, scheduler: Any, saved: dict | None) -> None:
        """The run's callback chain: History, the user's callbacks, scheduler, progress."""
        history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        self.history = history = history or History()
        chain: list[Callback] = [history, *(cb for cb in self.callbacks if cb is not history)]
        if self.parallel is not None:
            chain.insert(0, self.parallel.callback)  # epoch logs averaged before anyone reads
        if scheduler is not None:
            monitor = "val_loss" if self.val_loader is not None else "loss"
            chain.append(LearningRateScheduler(scheduler, monitor=monitor))
        progress = None
        if self.verbose and self.is_main_process():
            progress = ProgressLogger(self.verbose)
            chain.append(progress)
        self.steps_per_epoch = steps
        self._stream: Iterator | None = None
        self.params = {
            "epochs": epochs,
            "steps": steps or length(self.train_loader),
            "verbose": self.verbose,
            "initial_epoch": int(saved["epoch"]) if saved is not None else 0,
            "optimizer": self.optimizer,
        }
        write = progress.write if progress is not None else None
        self._cbs = CallbackList(chain, self.model, self.params, history.messages, write, self)

    def _run(self, epochs: int, saved: dict[str, Any] | None) -> None:
        """Train up to ``epochs`` (after resuming from ``saved``); record why it stopped."""
        cbs = self._cbs
        stop_reason: str | None = None
        epoch, logs = self.done - 1, {}
        try:
            if saved is not None:
                self.load_state_dict(saved)
            cbs.call("on_train_begin", {})
            if saved is not None:
                cbs.load_state_dict(saved["callbacks"])
                stop_reason = saved["stopped_reason"]
                self._report_resume(epochs, stop_reason)
            last_good = self.snapshot()
            for epoch in range(self.done, epochs if stop_reason is None else 0):
                logs = self._run_epoch(epoch)
                self.done = epoch + 1
                last_good = self.snapshot()
                if self.model.stop_training:
                    stop_reason = cbs.stop_reason or "callback"
                if self.checkpoint is not None and self.is_main_process():
                    self.checkpoint.save(self.state_dict(stop_reason))
                if stop_reason is not None:
                    break
        except TrainingDiverged as d:
            stop_reason = "diverged"
            self.recover(d, last_good)
        except KeyboardInterrupt:
            stop_reason = "interrupted"
            self._report_interrupt(epoch, epochs)
        self.history.stopped_reason = stop_reason
        self.history.stopped_epoch = epoch if stop_reason is not None else None
        cbs.call("on_train_end", logs)

    def _run_epoch(self, epoch: int) -> dict[str, float]:
        """One epoch: its batches, the divergence check of the weights, validation, lr."""
        self._cbs.call("on_epoch_begin", epoch, {})
        self.model.train()
        self.epoch, self.batch = epoch, 0
        self._totals = EpochTotals(self.metrics, running=self._cbs.uses("on_train_batch_end"))
        for batch in self._epoch_batches():
            self.step(batch)
            if self.model.stop_training:
                break
        if self._totals.n == 0:
            raise ValueError(f"{self.name}: train_data gave no batches")
        what = DivergenceDetector.check_parameters(self.model)
        if what is not None:
            raise TrainingDiverged(what, epoch, self.batch - 1)
        logs = self._totals.logs()
        logs.update({f"val_{k}": v for k, v in self.validate().items()})
        lr = _lr(self.optimizer)
        if lr is not None:
            logs["lr"] = lr
        self._cbs.call("on_epoch_end", epoch, logs)
        return logs

    def _epoch_batches(self) -> Iterable:
        """One epoch's batches: a pass over the loader, or ``steps_per_epoch`` from a stream
        that continues across epochs (restarted when a re-iterable source runs out)."""
        if self.steps_per_epoch is None:
            return self.train_loader
        if self._stream is None:
            self._stream = iter(self.train_loader)
        return self._stream_batches(self.steps_per_epoch)

    def _stream_batches(self, steps: int) -> Iterator:
        restartable = not isinstance(self.train_loader, Iterator)
        taken = 0
        while taken < steps:
            for batch in itertools.islice(self._stream, steps - taken):
                taken += 1
                yield batch
            if taken < steps:  # the source ran out
                if not restartable:
                    return
                self._stream = iter(self.train_loader)

    # --- state ---------------------------------------------------------------------------
    def snapshot(self) -> tuple[dict[str, np.ndarray], dict[str, Any] | None, int]:
        """Weights and optimizer state now (the last good epoch), and the epochs done (a step
        with optimizers of its own keeps their states itself)."""
        optimizer = None if self.optimizer is None else self.optimizer.state_dict()
        return snapshot_model(self.model), optimizer, self.done

    def state_dict(self, stop_reason: str | None = None) -> dict[str, Any]:
        """Everything a resumed run needs (see neuralab.train.checkpoint)."""
        loss = self.divergence.get("loss")
        return {
            "epoch": self.done,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": {
                "global": rng_state(global_generator()),
                "train_loader": rng_state(getattr(self.train_loader, "generator", None)),
                "val_loader": rng_state(getattr(self.val_loader, "generator", None)),
            },
            "callbacks": self._callback_list().state_dict(),
            "divergence_reference": None if loss is None else loss.reference,
            "stopped_reason": stop_reason,
        }

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        """Load model, optimizer, random states and loss scale from :meth:`state_dict`'s output
        (the callbacks' states are loaded by ``fit`` once they have begun)."""
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        rng = saved["rng"]
        set_rng_state(global_generator(), rng["global"])
        set_rng_state(getattr(self.train_loader, "generator", None), rng["train_loader"])
        set_rng_state(getattr(self.val_loader, "generator", None), rng["val_loader"])
        self.divergence["loss"] = DivergenceDetector(
            self.divergence_threshold, saved["divergence_reference"]
        )
        self.done = int(saved["epoch"])

    # --- ends ----------------------------------------------------------------------------
    def recover(self, d: TrainingDiverged, last_good: tuple[dict, dict, int]) -> None:
        """After divergence: put back the last good epoch's weights and optimizer state and
        warn with a :class:`DivergenceWarning` (override to do otherwise, e.g. raise)."""
        weights, optimizer_state, done = last_good
        restore_model(self.model, weights)
        if optimizer_state is not None:
            self.optimizer.load_state_dict(optimizer_state)
        steps = self.params["steps"]
        where = f"step {d.step + 1}" + (f"/{steps}" if steps else "")
        kept = (
            f"kept the weights from the end of epoch {done}, the last good one"
            if done
            else "restored the initial weights (no epoch had finished)"
        )
        lr = _lr(self.optimizer)
        advice = "try a smaller learning rate" + (f" (lr is {lr:g})" if lr is not None else "")
        message = (
            f"Training diverged in epoch {d.epoch + 1}/{self.params['epochs']} at {where}: "
            f"{d.what}. Stopped and {kept}; {advice}, or clip_grad_norm"
        )
        self.history.messages.append(message)
        warnings.warn(message, DivergenceWarning, stacklevel=5)

    def _report_resume(self, epochs: int, stop_reason: str | None) -> None:
        where = f"{self.name}: resuming from {self.checkpoint.path} after epoch {self.done}"
        if stop_reason is not None:
            self._cbs.report(f"{where}: training had stopped ({stop_reason}); nothing to do")
        elif self.done >= epochs:
            self._cbs.report(f"{where}: all {epochs} epochs are done; nothing to train")
        else:
            self._cbs.report(where)

    def _report_interrupt(self, epoch: int, epochs: int) -> None:
        saved_note = (
            f"; {self.checkpoint.path} holds the {self.done} finished epoch(s): call fit "
            "again with the same checkpoint_dir to resume"
            if self.checkpoint is not None
            else ""
        )
        self._cbs.report(
            f"Training interrupted in epoch {epoch + 1}/{epochs}; the model keeps its "
            f"current weights{saved_note}"
        )
