"""fit, evaluate and predict: the training loop written once, Keras-style, for neuralab modules.

``fit`` runs the loop every PyTorch script writes by hand (zero_grad, forward, loss, backward,
step), and around it: validation, metrics, callbacks, progress bars, catching divergence,
Ctrl-C, and checkpoints that resume bit-exactly. See docs/training.md.

Data, for all three functions, is a :class:`~neuralab.data.loader.DataLoader` (used as is), a
dataset (batched with ``batch_size``; ``fit`` shuffles it with ``shuffle``), an iterable of
batches that can be iterated again, or arrays: ``(X, y)`` of NumPy arrays, Tensors or pandas
objects (anything with ``.to_numpy()``), or ``X`` alone for ``predict``. A batch is ``x``,
``(x,)``, ``(x, y)`` or ``(x1, ..., xk, y)``; the model is called as ``model(x1, ..., xk)``.
A 1-D target meets an (N, 1) output as an (N, 1) column.
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from neuralab.data.dataset import TensorDataset
from neuralab.data.loader import DataLoader
from neuralab.nn import functional as F
from neuralab.nn.layers.loss import BCEWithLogitsLoss
from neuralab.nn.module import Module
from neuralab.nn.utils import clip_grad_norm_
from neuralab.random import generator as global_generator
from neuralab.tensor import Tensor, no_grad
from neuralab.train.callbacks import Callback, CallbackList, LearningRateScheduler
from neuralab.train.checkpoint import (
    TrainingCheckpoint,
    restore_model,
    rng_state,
    set_rng_state,
    snapshot_model,
)
from neuralab.train.history import History
from neuralab.train.metrics import MetricNotApplicable, from_outputs
from neuralab.train.progress import ProgressLogger

__all__ = ["DEFAULT_METRICS", "DivergenceWarning", "evaluate", "fit", "predict"]

DEFAULT_METRICS = ("accuracy",)
Loss = Callable[[Any, Any], Tensor]
MetricSpec = Sequence[str | Callable] | Mapping[str, str | Callable]


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss became NaN/infinite or exploded."""


class _Diverged(Exception):
    """Raised inside the loop when the loss or the weights diverge; fit turns it into a stop."""

    def __init__(self, epoch: int, step: int, what: str) -> None:
        super().__init__(what)
        self.epoch, self.step, self.what = epoch, step, what


# ----------------------------------------------------------------------------- data


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray | Tensor) or (hasattr(x, "to_numpy") and hasattr(x, "shape"))


def _numpy(x: Any) -> Any:
    """pandas objects (``DataFrame``, ``Series``) as NumPy arrays; others unchanged."""
    return x.to_numpy() if hasattr(x, "to_numpy") and not isinstance(x, Tensor) else x


def as_loader(name: str, data: Any, batch_size: int | None, shuffle: bool) -> Iterable:
    """An iterable of batches, one pass per epoch, from any of the accepted forms of data."""
    if isinstance(data, DataLoader):
        return data
    if _is_array(data):
        data = (data,)
    if isinstance(data, tuple | list) and data and all(_is_array(a) for a in data):
        try:
            data = TensorDataset(*(_numpy(a) for a in data))
        except (ValueError, TypeError) as e:
            raise type(e)(f"{name}: {e}") from e
    if hasattr(data, "__getitem__") and hasattr(data, "__len__"):
        size = max(1, len(data)) if batch_size is None else batch_size  # None: one full batch
        return DataLoader(data, batch_size=size, shuffle=shuffle)
    if isinstance(data, Iterator):
        raise TypeError(
            f"{name}: got a one-shot iterator ({type(data).__name__}), which would be empty "
            "after the first epoch; pass a DataLoader, a dataset or (X, y) arrays"
        )
    if isinstance(data, Iterable):
        return data
    raise TypeError(
        f"{name}: expected a DataLoader, a dataset, (X, y) arrays or an iterable of batches, "
        f"got {type(data).__name__}"
    )


def _split(batch: Any) -> tuple[tuple[Any, ...], Any]:
    """(inputs, target) of a batch; target is None for ``x`` and ``(x,)``."""
    if isinstance(batch, tuple | list):
        if len(batch) == 1:
            return tuple(batch), None
        return tuple(batch[:-1]), batch[-1]
    return (batch,), None


def _align(output: Any, target: Any) -> Any:
    """Give a 1-D target of N values the (N, 1) shape of a single-column output."""
    if (
        isinstance(output, Tensor)
        and isinstance(target, Tensor)
        and target.ndim == 1
        and output.shape == (*target.shape, 1)
    ):
        return target.reshape(-1, 1)
    return target


def _scalar(name: str, value: Any) -> float:
    """The Python float of a scalar loss Tensor, or a TypeError saying what came back."""
    if not isinstance(value, Tensor) or value.numel() != 1:
        got = f"a Tensor of shape {value.shape}" if isinstance(value, Tensor) else repr(value)
        raise TypeError(f"{name}: the loss must return a scalar Tensor, got {got}")
    return float(value.item())


def _length(loader: Iterable) -> int | None:
    try:
        return len(loader)  # type: ignore[arg-type]
    except TypeError:
        return None


def _lr(optimizer: Any) -> float | None:
    groups = getattr(optimizer, "param_groups", None)
    return float(groups[0]["lr"]) if groups else None


@contextlib.contextmanager
def _eval_mode(model: Module) -> Iterator[None]:
    """Evaluation mode without graph recording; every module's own mode restored afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with no_grad():
            yield
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)


# ----------------------------------------------------------------------------- metrics


def _takes_logits(loss: Any) -> bool:
    """Whether the loss reads single outputs as logits (threshold 0 for {0, 1} targets)."""
    return isinstance(loss, BCEWithLogitsLoss) or loss is F.binary_cross_entropy_with_logits


class _Metrics:
    """The named metric functions of a run, each ``fn(target, output) -> float`` on arrays.

    Metrics that do not fit the data raise, except the default ``('accuracy',)``, which is
    dropped (and listed in ``skipped``) for targets that are not class labels.
    """

    def __init__(self, metrics: MetricSpec, loss: Any) -> None:
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


class _Pass:
    """One pass over data: the loss averaged over samples, outputs and targets for metrics.

    With ``running`` each batch's metrics are computed too, for the live running averages in
    the batch logs; epoch values are computed once over all outputs of the pass.
    """

    def __init__(self, metrics: _Metrics, running: bool) -> None:
        self.metrics, self.running = metrics, running
        self.n, self.loss_sum = 0, 0.0
        self.sums: dict[str, float] = {}
        self.outputs: list[np.ndarray] = []
        self.targets: list[np.ndarray] = []

    def add(self, loss: float, output: Any, target: Tensor) -> None:
        t = target.numpy() if isinstance(target, Tensor) else np.asarray(target)
        n = len(t) if t.ndim else 1
        self.n += n
        self.loss_sum += loss * n
        if not self.metrics.fns:
            return
        out = output.numpy() if isinstance(output, Tensor) else output
        if self.running or not self.outputs:  # the first batch checks that the metrics apply
            for name, value in self.metrics(t, out).items():
                self.sums[name] = self.sums.get(name, 0.0) + value * n
        if self.metrics.fns:
            self.outputs.append(out)
            self.targets.append(t)

    def running_logs(self) -> dict[str, float]:
        sums = {k: v / self.n for k, v in self.sums.items() if k in self.metrics.fns}
        return {"loss": self.loss_sum / self.n, **sums}

    def logs(self) -> dict[str, float]:
        logs = {"loss": self.loss_sum / self.n}
        if self.outputs and self.metrics.fns:
            logs.update(self.metrics(np.concatenate(self.targets), np.concatenate(self.outputs)))
        return logs


def _evaluate(
    name: str, model: Module, loss: Loss, loader: Iterable, metrics: _Metrics, regularizers: Any
) -> dict[str, float]:
    """Loss (with penalties) and metrics of ``model`` on ``loader``, in evaluation mode."""
    with _eval_mode(model):
        penalty = sum(_scalar(name, reg(model)) for reg in regularizers)
        totals = _Pass(metrics, running=False)
        for batch in loader:
            inputs, target = _split(batch)
            if target is None:
                raise ValueError(f"{name}: batches must be (inputs, target); got no target")
            output = model(*inputs)
            target = _align(output, target)
            totals.add(_scalar(name, loss(output, target)) + penalty, output, target)
    if totals.n == 0:
        raise ValueError(f"{name}: the data gave no batches")
    return totals.logs()


def evaluate(
    model: Module,
    loss: Loss,
    data: Any,
    metrics: MetricSpec = DEFAULT_METRICS,
    batch_size: int | None = 32,
    regularizers: Sequence[Callable[[Module], Tensor]] = (),
) -> dict[str, float]:
    """Loss and metrics of ``model`` on ``data`` in evaluation mode: ``{'loss': ..., ...}``.

    The loss is averaged over samples (batches weighted by size) plus the penalties in
    ``regularizers``; metrics are computed over all outputs at once. The model's mode is
    restored afterwards.
    """
    loader = as_loader("evaluate: data", data, batch_size, shuffle=False)
    return _evaluate("evaluate", model, loss, loader, _Metrics(metrics, loss), regularizers)


def predict(model: Module, data: Any, batch_size: int | None = 32) -> np.ndarray:
    """The model's outputs for every sample of ``data`` (targets ignored), as one ndarray."""
    loader = as_loader("predict: data", data, batch_size, shuffle=False)
    outputs = []
    with _eval_mode(model):
        for batch in loader:
            inputs, _ = _split(batch)
            output = model(*inputs)
            if not isinstance(output, Tensor):
                raise TypeError(
                    f"predict: the model returned a {type(output).__name__}; predict needs a Tensor"
                )
            outputs.append(output.numpy())
    if not outputs:
        raise ValueError("predict: the data gave no batches")
    return np.concatenate(outputs)


# ----------------------------------------------------------------------------- fit


class _Trainer:
    """The state of one fit call and its loop (what ``fit`` documents, step by step)."""

    def __init__(self, model: Module, loss: Loss, optimizer: Any, **options: Any) -> None:
        self.model, self.loss, self.optimizer = model, loss, optimizer
        self.__dict__.update(options)
        self.reference: float | None = None  # the first batch's loss: the divergence scale
        self.done = 0  # finished epochs
        self._skip_noted = False

    # --- one epoch ----------------------------------------------------------------------
    def train_epoch(self, epoch: int) -> dict[str, float]:
        model, cbs = self.model, self.callbacks
        model.train()
        # per-batch metrics feed only the batch logs: computed when a callback reads them
        totals = _Pass(self.metrics, running=cbs.uses("on_train_batch_end"))
        step = -1
        for step, batch in enumerate(self.train_loader):
            cbs.call("on_train_batch_begin", step, {})
            inputs, target = _split(batch)
            if target is None:
                raise ValueError("fit: training batches must be (inputs, target); got no target")
            self.optimizer.zero_grad()
            output = model(*inputs)
            target = _align(output, target)
            objective = self.loss(output, target)
            for reg in self.regularizers:
                objective = objective + reg(model)
            value = _scalar("fit", objective)
            self._check_loss(value, epoch, step)
            objective.backward()
            cbs.call("on_after_backward", step, {})
            if self.clip_grad_norm is not None:
                clip_grad_norm_(model.parameters(), self.clip_grad_norm)
            self.optimizer.step()
            totals.add(value, output, target)
            self._note_skipped_metrics()
            cbs.call("on_train_batch_end", step, totals.running_logs())
            if model.stop_training:
                break
        if step < 0:
            raise ValueError("fit: train_data gave no batches")
        broken = [n for n, p in model.named_parameters() if not np.isfinite(p.numpy()).all()]
        if broken:
            raise _Diverged(epoch, step, f"parameter '{broken[0]}' holds NaN or infinite values")
        return totals.logs()

    def _check_loss(self, value: float, epoch: int, step: int) -> None:
        """Raise _Diverged for a NaN/infinite loss or one far above the first batch's."""
        if not math.isfinite(value):
            raise _Diverged(epoch, step, f"the loss is {value}")
        if self.reference is None:
            self.reference = value
        if self.divergence_threshold is None:
            return
        bound = self.divergence_threshold * max(abs(self.reference), 1.0)
        if value > bound:
            raise _Diverged(
                epoch,
                step,
                f"the loss {value:.4g} exploded past {bound:.4g} (divergence_threshold "
                f"{self.divergence_threshold:g} × max(first batch's loss {self.reference:.4g}, 1))",
            )

    def _note_skipped_metrics(self) -> None:
        if self.metrics.skipped and not self._skip_noted:
            self._skip_noted = True
            self.callbacks.report(
                f"fit: not computing the default metric {'; '.join(self.metrics.skipped)}; pass "
                "metrics=(...) to choose, e.g. ('mse',) for regression or () for none"
            )

    # --- state --------------------------------------------------------------------------
    def snapshot(self) -> tuple[dict[str, np.ndarray], dict[str, Any], int]:
        """Weights and optimizer state now (the last good epoch), and the epochs done."""
        return snapshot_model(self.model), self.optimizer.state_dict(), self.done

    def checkpoint_state(self, stop_reason: str | None) -> dict[str, Any]:
        """Everything a resumed run needs (see neuralab.train.checkpoint)."""
        return {
            "epoch": self.done,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": {
                "global": rng_state(global_generator()),
                "train_loader": rng_state(getattr(self.train_loader, "generator", None)),
                "val_loader": rng_state(getattr(self.val_loader, "generator", None)),
            },
            "callbacks": self.callbacks.state_dict(),
            "divergence_reference": self.reference,
            "stopped_reason": stop_reason,
        }

    def resume(self, saved: dict[str, Any]) -> None:
        """Load model, optimizer, random states and loss scale from a checkpoint."""
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        rng = saved["rng"]
        set_rng_state(global_generator(), rng["global"])
        set_rng_state(getattr(self.train_loader, "generator", None), rng["train_loader"])
        set_rng_state(getattr(self.val_loader, "generator", None), rng["val_loader"])
        self.reference = saved["divergence_reference"]
        self.done = int(saved["epoch"])

    # --- the loop -----------------------------------------------------------------------
    def run(self, epochs: int, saved: dict[str, Any] | None) -> None:
        """Train up to ``epochs`` (after resuming from ``saved``); record why it stopped."""
        cbs, model = self.callbacks, self.model
        stop_reason: str | None = None
        epoch, logs = self.done - 1, {}
        try:
            if saved is not None:
                self.resume(saved)
            cbs.call("on_train_begin", {})
            if saved is not None:
                cbs.load_state_dict(saved["callbacks"])
                stop_reason = saved["stopped_reason"]
                self._report_resume(epochs, stop_reason)
            last_good = self.snapshot()
            for epoch in range(self.done, epochs if stop_reason is None else 0):
                cbs.call("on_epoch_begin", epoch, {})
                logs = self.train_epoch(epoch)
                if self.val_loader is not None:
                    val = _evaluate(
                        "fit: val_data", model, self.loss, self.val_loader, self.metrics,
                        self.regularizers,
                    )  # fmt: skip
                    logs.update({f"val_{k}": v for k, v in val.items()})
                lr = _lr(self.optimizer)
                if lr is not None:
                    logs["lr"] = lr
                cbs.call("on_epoch_end", epoch, logs)
                self.done = epoch + 1
                last_good = self.snapshot()
                if model.stop_training:
                    stop_reason = cbs.stop_reason or "callback"
                if self.checkpoint is not None:
                    self.checkpoint.save(self.checkpoint_state(stop_reason))
                if stop_reason is not None:
                    break
        except _Diverged as d:
            stop_reason = "diverged"
            self._recover(d, last_good)
        except KeyboardInterrupt:
            stop_reason = "interrupted"
            saved_note = (
                f"; {self.checkpoint.path} holds the {self.done} finished epoch(s): call fit "
                "again with the same checkpoint_dir to resume"
                if self.checkpoint is not None
                else ""
            )
            cbs.report(
                f"Training interrupted in epoch {epoch + 1}/{epochs}; the model keeps its "
                f"current weights{saved_note}"
            )
        self.history.stopped_reason = stop_reason
        self.history.stopped_epoch = epoch if stop_reason is not None else None
        cbs.call("on_train_end", logs)

    def _report_resume(self, epochs: int, stop_reason: str | None) -> None:
        where = f"fit: resuming from {self.checkpoint.path} after epoch {self.done}"
        if stop_reason is not None:
            self.callbacks.report(f"{where}: training had stopped ({stop_reason}); nothing to do")
        elif self.done >= epochs:
            self.callbacks.report(f"{where}: all {epochs} epochs are done; nothing to train")
        else:
            self.callbacks.report(where)

    def _recover(self, d: _Diverged, last_good: tuple[dict, dict, int]) -> None:
        """Put back the last good epoch's weights and optimizer state, and say what happened."""
        weights, optimizer_state, done = last_good
        restore_model(self.model, weights)
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
        warnings.warn(message, DivergenceWarning, stacklevel=4)


def fit(
    model: Module,
    loss: Loss,
    optimizer: Any,
    train_data: Any,
    epochs: int = 1,
    val_data: Any = None,
    callbacks: Iterable[Callback] = (),
    metrics: MetricSpec = DEFAULT_METRICS,
    regularizers: Sequence[Callable[[Module], Tensor]] = (),
    clip_grad_norm: float | None = None,
    verbose: int = 1,
    batch_size: int | None = 32,
    shuffle: bool = True,
    checkpoint_dir: str | os.PathLike | None = None,
    scheduler: Any = None,
    divergence_threshold: float | None = 1e6,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_data``; return the :class:`History`.

    Each step: ``optimizer.zero_grad()``, ``out = model(x)``, ``loss(out, y)`` plus
    ``reg(model)`` for each of ``regularizers`` (e.g. ``optim.L2(1e-4)``), ``backward()``,
    gradient clipping to ``clip_grad_norm`` (joint L2 norm), ``optimizer.step()``. After each
    epoch the model is evaluated on ``val_data`` (``val_`` entries in the logs), ``scheduler``
    (an ``optim.lr_scheduler``; ReduceLROnPlateau gets ``val_loss``, else ``loss``) steps, and
    with ``checkpoint_dir`` a checkpoint is written; a later call with the same
    ``checkpoint_dir`` resumes after the last finished epoch and ends with exactly the weights
    of an uninterrupted run (on the same machine; the optimizer's state, learning rate included,
    comes from the checkpoint). ``batch_size`` and ``shuffle`` apply when fit builds the loader
    (not to a DataLoader). ``metrics``: names (``'accuracy'``, ``'f1'``, ``'mse'``, ... see
    :func:`neuralab.train.metrics.from_outputs`), functions ``fn(y_true, raw_outputs)``, or a
    dict of either by name; the default ``('accuracy',)`` is skipped for regression targets.

    The model is in training mode for training and evaluation mode for validation; every
    module's mode is restored at the end. Training stops early, always running the callbacks'
    ``on_train_end`` and recording ``history.stopped_reason``, when

    * a callback asks (EarlyStopping: ``'early_stopping'``);
    * the loss diverges (``'diverged'``): it is NaN or infinite, or exceeds
      ``divergence_threshold`` × max(first batch's loss, 1) (None turns this bound off), or
      the weights stop being finite. The weights and optimizer state of the last finished
      epoch are put back and a :class:`DivergenceWarning` names the epoch and step;
    * Ctrl-C (``'interrupted'``): the model keeps its current weights and fit returns normally.
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
    if verbose not in (0, 1, 2):
        raise ValueError(f"fit: verbose must be 0, 1 or 2, got {verbose!r}")
    train_loader = as_loader("fit: train_data", train_data, batch_size, shuffle)
    val_loader = None
    if val_data is not None:
        val_loader = as_loader("fit: val_data", val_data, batch_size, shuffle=False)
    callbacks = list(callbacks)
    history = next((cb for cb in callbacks if isinstance(cb, History)), None) or History()
    chain: list[Callback] = [history, *(cb for cb in callbacks if cb is not history)]
    if scheduler is not None:
        monitor = "val_loss" if val_loader is not None else "loss"
        chain.append(LearningRateScheduler(scheduler, monitor=monitor))
    progress = ProgressLogger(verbose) if verbose else None
    if progress is not None:
        chain.append(progress)
    checkpoint = None if checkpoint_dir is None else TrainingCheckpoint(checkpoint_dir)
    saved = checkpoint.load() if checkpoint is not None and checkpoint.exists() else None
    params = {
        "epochs": epochs,
        "steps": _length(train_loader),
        "verbose": verbose,
        "initial_epoch": int(saved["epoch"]) if saved is not None else 0,
        "optimizer": optimizer,
    }
    cbs = CallbackList(chain, model, params, history.messages, progress and progress.write)
    trainer = _Trainer(
        model, loss, optimizer,
        metrics=_Metrics(metrics, loss), regularizers=tuple(regularizers),
        clip_grad_norm=clip_grad_norm, divergence_threshold=divergence_threshold,
        train_loader=train_loader, val_loader=val_loader, callbacks=cbs, history=history,
        checkpoint=checkpoint, params=params,
    )  # fmt: skip
    modes = [(m, m.training) for m in model.modules()]
    model.stop_training = False
    try:
        trainer.run(epochs, saved)
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
        model.__dict__.pop("stop_training", None)
    return history
