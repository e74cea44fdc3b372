"""Training: the :class:`Trainer` (the one training loop), ``fit``/``evaluate``/``predict`` on it,
Keras-style callbacks, metrics, divergence detection and checkpoints.

::

    from neuralab import nn, optim, train

    history = train.fit(model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), 1e-2),
                        (X, y), epochs=50, val_data=(X_val, y_val),
                        callbacks=[train.EarlyStopping(patience=5, restore_best_weights=True)])
    history.history["val_accuracy"]

See docs/training.md.
"""

from neuralab.train import metrics
from neuralab.train.callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    ExponentialMovingAverage,
    GradientStats,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    StepHistory,
    TensorBoard,
    TerminateOnNaN,
)
from neuralab.train.checkpoint import CHECKPOINT_FILE
from neuralab.train.divergence import DivergenceDetector, DivergenceWarning, TrainingDiverged
from neuralab.train.fit import evaluate, fit, predict
from neuralab.train.history import History
from neuralab.train.progress import ProgressLogger
from neuralab.train.trainer import DEFAULT_METRICS, Trainer

__all__ = [
    "CHECKPOINT_FILE", "CSVLogger", "Callback", "CallbackList", "DEFAULT_METRICS",
    "DivergenceDetector", "DivergenceWarning", "EarlyStopping", "ExponentialMovingAverage",
    "GradientStats", "History", "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint",
    "ProgressLogger", "StepHistory", "TensorBoard", "TerminateOnNaN", "Trainer",
    "TrainingDiverged", "evaluate", "fit", "metrics", "predict",
]  # fmt: skip
