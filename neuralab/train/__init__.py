"""Training: ``fit``/``evaluate``/``predict``, Keras-style callbacks, metrics and checkpoints.

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
    GradientStats,
    LearningRateScheduler,
    ModelCheckpoint,
    TensorBoard,
    TerminateOnNaN,
)
from neuralab.train.checkpoint import CHECKPOINT_FILE
from neuralab.train.fit import DEFAULT_METRICS, DivergenceWarning, evaluate, fit, predict
from neuralab.train.history import History
from neuralab.train.progress import ProgressLogger

__all__ = [
    "CHECKPOINT_FILE", "CSVLogger", "Callback", "CallbackList", "DEFAULT_METRICS",
    "DivergenceWarning", "EarlyStopping", "GradientStats", "History", "LearningRateScheduler",
    "ModelCheckpoint", "ProgressLogger", "TensorBoard", "TerminateOnNaN", "evaluate", "fit",
    "metrics", "predict",
]  # fmt: skip
