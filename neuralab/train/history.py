"""History: the per-epoch record of a ``fit`` run, shaped like Keras' ``History`` object."""

from __future__ import annotations

from typing import Any

from neuralab.train.callbacks import Callback

__all__ = ["History"]


class History(Callback):
    """Per-epoch values of a training run; ``fit`` returns it.

    ``history.history`` maps each logged name (``loss``, ``val_loss``, every metric and
    ``val_`` metric, ``lr``) to a list with one value per finished epoch, and
    ``history.epoch`` lists those epochs' indices (from 0, as in Keras). ``history["loss"]``
    is short for ``history.history["loss"]``. After training, ``stopped_reason`` says why it
    ended early (``None`` when all epochs ran): ``'early_stopping'``, ``'diverged'``,
    ``'interrupted'`` (Ctrl-C), ``'nan'`` (TerminateOnNaN) or ``'callback'`` (another callback
    set ``model.stop_training``); ``stopped_epoch`` is the epoch it ended in and ``messages``
    every notice the run printed (also with ``verbose=0``).
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.stopped_reason: str | None = None
        self.stopped_epoch: int | None = None
        self.messages: list[str] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __repr__(self) -> str:
        keys = ", ".join(self.history)
        stopped = f", stopped_reason={self.stopped_reason!r}" if self.stopped_reason else ""
        return f"History(epochs={len(self.epoch)}, keys=[{keys}]{stopped})"

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.history, "epoch": self.epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.history = {key: list(values) for key, values in state["history"].items()}
        self.epoch = [int(e) for e in state["epoch"]]
