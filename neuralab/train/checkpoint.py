"""Training checkpoints: everything ``fit`` needs to continue exactly where it stopped.

``fit(..., checkpoint_dir=d)`` writes ``d/checkpoint.safetensors`` (with ``nl.save``: atomic,
no pickle) after every finished epoch. It holds::

    {
        "format": 1,
        "epoch": 3,                         # finished epochs
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "rng": {"global": ..., "train_loader": ..., "val_loader": ...},  # bit-generator states
        "callbacks": {"History": {...}, "EarlyStopping": {...}, "LearningRateScheduler": ...},
        "divergence_reference": 0.69,       # the first batch's loss (see fit's divergence check)
        "stopped_reason": None,             # set when a callback ended training
    }

The random states are those of neuralab's global generator (dropout masks, random
augmentation) and of the data loaders' own generators (shuffling), so a resumed run draws the
same numbers an uninterrupted one would. Callbacks with state (the History, EarlyStopping, a
scheduler passed to fit, ...) are saved under their class names.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from neuralab.io import load, save
from neuralab.nn.module import Module

__all__ = ["CHECKPOINT_FILE", "TrainingCheckpoint", "restore_model", "snapshot_model"]

CHECKPOINT_FILE = "checkpoint.safetensors"
_FORMAT = 1


def snapshot_model(model: Module) -> dict[str, np.ndarray]:
    """A copy of the model's parameters and buffers that later training does not change."""
    return {name: t.numpy().copy() for name, t in model.state_dict().items()}


def restore_model(model: Module, snapshot: dict[str, Any]) -> None:
    """Copy a :func:`snapshot_model` (or any state dict) back into the model."""
    model.load_state_dict(snapshot)


def rng_state(generator: np.random.Generator | None) -> dict[str, Any] | None:
    """The bit-generator state of ``generator`` (None for no generator)."""
    return None if generator is None else generator.bit_generator.state


def set_rng_state(generator: np.random.Generator | None, state: dict[str, Any] | None) -> None:
    """Put ``generator`` back into a state from :func:`rng_state` (in place)."""
    if generator is not None and state is not None:
        generator.bit_generator.state = state


class TrainingCheckpoint:
    """The checkpoint file of one ``checkpoint_dir``: save after each epoch, load to resume."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = os.fspath(directory)
        self.path = os.path.join(self.directory, CHECKPOINT_FILE)

    def exists(self) -> bool:
        """Whether a checkpoint has been written in this directory."""
        return os.path.exists(self.path)

    def save(self, state: dict[str, Any]) -> None:
        """Write ``state`` atomically (a crash mid-write keeps the previous checkpoint)."""
        os.makedirs(self.directory, exist_ok=True)
        save({"format": _FORMAT, **state}, self.path)

    def load(self) -> dict[str, Any]:
        """The saved state, checked to be a training checkpoint of this format."""
        state = load(self.path)
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError(
                f"fit: '{self.path}' is not a training checkpoint of format {_FORMAT} (was it "
                f"written by fit(checkpoint_dir=...)?); use another checkpoint_dir"
            )
        return state
