"""fit, evaluate and predict: Keras-style front-ends on :class:`~neuralab.train.trainer.Trainer`.

``fit`` runs the loop every PyTorch script writes by hand (zero_grad, forward, loss, backward,
step), and around it: validation, metrics, callbacks, progress bars, catching divergence,
Ctrl-C, and checkpoints that resume bit-exactly; the loop itself is the Trainer's. See
docs/training.md.

Data, for all three functions, is a :class:`~neuralab.data.loader.DataLoader` (used as is), a
dataset (batched with ``batch_size``; ``fit`` shuffles it with ``shuffle``), an iterable of
batches that can be iterated again, or arrays: ``(X, y)`` of NumPy arrays, Tensors or pandas
objects (anything with ``.to_numpy()``), or ``X`` alone for ``predict``. A batch is ``x``,
``(x,)``, ``(x, y)`` or ``(x1, ..., xk, y)``; the model is called as ``model(x1, ..., xk)``.
A 1-D target meets an (N, 1) output as an (N, 1) column.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from neuralab.nn.module import Module
from neuralab.nn.utils import eval_mode
from neuralab.tensor import Tensor
from neuralab.train.callbacks import Callback
from neuralab.train.data import as_loader, split_batch
from neuralab.train.divergence import DivergenceWarning
from neuralab.train.history import History
from neuralab.train.trainer import (
    DEFAULT_METRICS,
    Loss,
    MetricSet,
    MetricSpec,
    Trainer,
    evaluate_batches,
)

__all__ = ["DEFAULT_METRICS", "DivergenceWarning", "evaluate", "fit", "predict"]


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
    return evaluate_batches("evaluate", model, loss, loader, MetricSet(metrics, loss), regularizers)


def predict(model: Module, data: Any, batch_size: int | None = 32) -> np.ndarray:
    """The model's outputs for every sample of ``data`` (targets ignored), as one ndarray."""
    loader = as_loader("predict: data", data, batch_size, shuffle=False)
    outputs = []
    with eval_mode(model):
        for batch in loader:
            inputs, _ = split_batch(batch)
            output = model(*inputs)
            if not isinstance(output, Tensor):
                raise TypeError(
                    f"predict: the model returned a {type(output).__name__}; predict needs a Tensor"
                )
            outputs.append(output.numpy())
    if not outputs:
        raise ValueError("predict: the data gave no batches")
    return np.concatenate(outputs)


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
    trainer = Trainer(
        model, loss, optimizer,
        metrics=metrics, callbacks=callbacks, regularizers=regularizers,
        clip_grad_norm=clip_grad_norm, verbose=verbose,
        divergence_threshold=divergence_threshold, name="fit",
    )  # fmt: skip
    return trainer.fit(
        train_data, epochs, val_data, batch_size=batch_size, shuffle=shuffle,
        scheduler=scheduler, checkpoint_dir=checkpoint_dir,
    )  # fmt: skip
